"""scratchlm: a from-scratch language-modelling engine in NumPy, written to be taught from.

Where things are (one concept per file):

    backend.py      the one array-module switch (numpy | numba | cupy)
    layers/         forward/backward pairs: embedding, linear, softmax cross-entropy, dropout,
                    Elman RNN, LSTM, GRU, ...
    kernels/        Numba and CuPy versions of layer internals, tested against layers/
    models/         RNNLM and the other models, parameters named like PyTorch's
    gradcheck.py    centred finite differences
    text/, data/    tokenizers and vocabularies; corpora and batching
    train/          BPTT / truncated BPTT, clipping, optimizers, checkpoints
    lm.py           the interface every language model implements
    metrics.py, sampling.py, beam.py   written once against that interface
    ngram/          counting and smoothing for n-gram baselines, ARPA files
    cli.py          the ``scratchlm`` command
"""

__version__ = "0.1.0"
