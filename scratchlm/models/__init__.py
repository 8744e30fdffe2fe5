"""Models: compositions of layers, with parameters in dicts named like PyTorch's.

    rnnlm.py       RNNLM: embedding -> stacked Elman RNN / LSTM / GRU -> decoder
    window_lm.py   WindowLM: Bengio et al. (2003) fixed-window neural language model
    tagger.py      BiRNNTagger: a bidirectional RNN that labels every position of a sequence
    seq2seq.py     Seq2Seq: an RNN encoder whose final state starts an RNN decoder (optionally with attention)
    classifier.py  SequenceClassifier: many-to-one, a recurrent encoder, pooling, a softmax classifier
    bilm.py        BiLM: ELMo's pair of a forward and a backward language model
    parameters.py  what models with a parameter dict share: state_dict, load_state_dict, train/eval

Import a model from its module (``from scratchlm.models.rnnlm import RNNLM``) or from here.
"""
from scratchlm.models.bilm import BiLM
from scratchlm.models.classifier import SequenceClassifier
from scratchlm.models.rnnlm import RNNLM, RNNLMState
from scratchlm.models.seq2seq import ConditionedDecoder, Seq2Seq
from scratchlm.models.tagger import BiRNNTagger
from scratchlm.models.window_lm import WindowLM

__all__ = ["BiLM", "BiRNNTagger", "ConditionedDecoder", "RNNLM", "RNNLMState", "Seq2Seq", "SequenceClassifier", "WindowLM"]
