"""scratchlm: a from-scratch language-modelling engine in NumPy, written to be taught from.

Where things are (one concept per file):

    backend.py      the one switch: array module and op table (reference | numpy | numba | cupy)
    layers/         the textbook: forward/backward pairs with named caches: embedding, linear,
                    softmax cross-entropy, dropout, Elman RNN, LSTM, GRU, bidirectional, ...
    kernels/        the engine: fast whole-sequence ops (NumPy, Numba, CuPy pieces), tested
                    against layers/
    models/         RNNLM and the other models, parameters named like PyTorch's
    checks.py       input checks with messages that say what was expected
    gradcheck/      centred finite differences, and the registry of every layer's and model's check
    text/, data/    tokenizers and vocabularies; corpora, batching and small generated tasks
    train/          BPTT / truncated BPTT, clipping, optimizers, checkpoints
    lm.py           the interface every language model implements
    metrics.py, sampling.py, beam.py   written once against that interface
    ngram/          counting and smoothing for n-gram baselines, ARPA files
    cli.py          the ``scratchlm`` command
"""

__version__ = "0.1.0"
