"""The engine: fast implementations of whole ops, with the same contract as the textbook's.

``scratchlm/layers`` is the textbook: each op written as the lecture writes it. A model does not
import those functions directly; it asks the backend for an op (``backend.op("lstm_forward")``)
and gets, through :func:`ops`, either the textbook function (backend "reference") or the
engine's (backends "numpy", "numba", "cupy"). Both take the same arguments and return the same
values (tests/kernels/test_conformance.py holds every backend to the textbook); a cache made by
one is read only by the backward pass of the same one.

The ops (contract = the textbook function of the same name in ``scratchlm/layers``):

    embedding_forward, embedding_backward          linear_forward, linear_backward
    dropout_forward, dropout_backward              softmax_cross_entropy_forward, _backward
    rnn_forward, rnn_backward                      lstm_forward, lstm_backward
    gru_forward, gru_backward                      bidirectional_forward, bidirectional_backward
    sgd_update (train/optimizers.py: param -= lr * grad, in place)

What the engine replaces, and where:

    recurrent.py        rnn/lstm/gru forward and backward: time-major buffers, the input product
                        for all t at once, weight gradients as one product over (t, b) rows
    bidirectional.py    the two directions through recurrent.py
    rows.py             embedding_forward (the lookup, without re-checking ids a model checked at
                        its entry), embedding_backward (scatter-add), softmax cross-entropy over rows
    (pieces)            sgd_update

The other ops (linear, dropout) are the textbook's under every backend: one matrix product or
one mask, which no engine beats.

Inside the engine's ops, the parts that a backend can do faster are *pieces*, each with a NumPy
version in ``numpy_pieces.py`` / ``step_matmul.py``:

    rnn_gates_forward / _backward, lstm_gates_forward / _backward, gru_gates_forward / _backward
    step_matmul_prepare, step_matmul     the per-step product h_{t-1} W_hh^T and da_t W_hh
    embedding_scatter_add, cross_entropy_rows_forward / _backward, sgd_update

:func:`pieces` is the one place that decides which implementation of each piece runs: today the
backend's own (``numba_ops.PIECES``, ``cupy_ops.PIECES``) where it has one, NumPy's otherwise.
"""
from __future__ import annotations

import importlib
from typing import Callable

OP_NAMES = (
    "embedding_forward", "embedding_backward", "linear_forward", "linear_backward",
    "dropout_forward", "dropout_backward", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
    "rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward",
    "bidirectional_forward", "bidirectional_backward", "sgd_update",
)
_PIECE_MODULES = {"numba": "scratchlm.kernels.numba_ops", "cupy": "scratchlm.kernels.cupy_ops"}
_piece_tables: dict[str, dict[str, Callable]] = {}


def reference_ops() -> dict[str, Callable]:
    """Op name -> the textbook function that defines it."""
    from scratchlm import layers
    from scratchlm.layers import bidirectional
    from scratchlm.train import optimizers

    table = {name: getattr(layers, name) for name in OP_NAMES if hasattr(layers, name)}
    table["bidirectional_forward"] = bidirectional.bidirectional_forward
    table["bidirectional_backward"] = bidirectional.bidirectional_backward
    table["sgd_update"] = optimizers.sgd_update
    return table


def engine_ops(backend_name: str) -> dict[str, Callable]:
    """Op name -> the engine's implementation; the pieces inside follow the active backend."""
    from scratchlm.kernels import bidirectional, recurrent, rows

    table = reference_ops()
    for module, names in ((recurrent, ("rnn", "lstm", "gru")), (bidirectional, ("bidirectional",))):
        for name in names:
            table[f"{name}_forward"] = getattr(module, f"{name}_forward")
            table[f"{name}_backward"] = getattr(module, f"{name}_backward")
    for name in ("embedding_forward", "embedding_backward", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward"):
        table[name] = getattr(rows, name)
    table["sgd_update"] = pieces(backend_name)["sgd_update"]
    return table


def ops(backend_name: str) -> dict[str, Callable]:
    """The op table of a backend: the textbook's under "reference", the engine's otherwise."""
    return reference_ops() if backend_name == "reference" else engine_ops(backend_name)


def pieces(backend_name: str) -> dict[str, Callable]:
    """Piece name -> the implementation the engine runs under ``backend_name``.

    The backend's own piece where it has one, NumPy's otherwise. Tables are built once per
    backend (importing numba or cupy only when that backend is asked for).
    """
    table = _piece_tables.get(backend_name)
    if table is None:
        from scratchlm.kernels import numpy_pieces

        table = dict(numpy_pieces.PIECES)
        if backend_name in _PIECE_MODULES:
            table.update(importlib.import_module(_PIECE_MODULES[backend_name]).PIECES)
        _piece_tables[backend_name] = table
    return table
