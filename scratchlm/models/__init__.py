"""Models: compositions of layers, with parameters in dicts named like PyTorch's.

    rnnlm.py       RNNLM: embedding -> stacked Elman RNN / LSTM / GRU -> decoder (issue 2)

Import a model from its module (``from scratchlm.models.rnnlm import RNNLM``) or from here.
"""
from scratchlm.models.rnnlm import RNNLM, RNNLMState

__all__ = ["RNNLM", "RNNLMState"]
