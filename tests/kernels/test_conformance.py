"""Every op of every backend against the textbook function it replaces.

For each op family (the RNN, LSTM and GRU sequence passes, the bidirectional layer, the embedding
backward, softmax cross-entropy, the SGD update) the op that ``backend.op`` returns under each
backend gets the same random inputs as the textbook function in ``scratchlm/layers`` (run under
the "reference" backend), and every result must agree to 1e-12 relative in float64 and 1e-5 in
float32. "Relative" is measured against the largest entry of the textbook's result (rtol *
max|reference| is added as an absolute tolerance), because an entry that is a difference of
nearly equal terms has no relative accuracy to speak of in either implementation.

The inputs are the ones that make a mistake show: random shapes with E != H, distinct random
biases, a random initial state and a random gradient of the final state (the carried state of
truncated BPTT and its gradient), token ids that repeat, masks with padding.

"cupy-emulated" runs the engine with the pieces of scratchlm/kernels/cupy_ops.py executed on the
CPU (tests/kernels/cupy_emulator.py), so the CuPy pieces are checked inside the whole ops on
machines without a GPU; "cupy" runs the real backend where CuPy and a GPU are present.
"""
from __future__ import annotations

import numpy as np
import pytest

import cupy_emulator
from scratchlm import backend, kernels
from scratchlm.kernels import numpy_pieces

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
SEEDS = range(3)
CELL_GATES = {"rnn": 1, "lstm": 4, "gru": 3}

BACKEND_PARAMS = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif("numba" not in backend.available(), reason="numba is not installed")),
    pytest.param("cupy-emulated", marks=pytest.mark.skipif(not cupy_emulator.compiler_available(), reason="g++ is not installed")),
    pytest.param("cupy", marks=pytest.mark.skipif("cupy" not in backend.available(), reason="CuPy or a CUDA GPU is missing")),
]


@pytest.fixture
def use_backend(monkeypatch):
    """Switch to a backend by name (and the emulated CuPy pieces in for "cupy-emulated"); restore afterwards."""
    previous = backend.name()

    def switch(name):
        if name == "cupy-emulated":
            table = dict(numpy_pieces.PIECES)
            table.update(cupy_emulator.load_cupy_ops().PIECES)
            monkeypatch.setitem(kernels._piece_tables, "numpy", table)
            name = "numpy"
        backend.use(name)

    yield switch
    backend.use(previous)


def run(backend_name, use_backend, op_calls, inputs):
    """Results of ``op_calls(op, inputs)`` under ``backend_name``, as a list of NumPy arrays."""
    use_backend(backend_name)
    device = {key: _to_device(value) for key, value in inputs.items()}
    return [np.asarray(backend.asnumpy(r)) if hasattr(r, "shape") else r for r in op_calls(backend.op, device)]


def _to_device(value):
    if isinstance(value, np.ndarray):
        return backend.asarray(value)
    if isinstance(value, dict):
        return {k: _to_device(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_to_device(v) for v in value)
    return value


def assert_conforms(backend_name, use_backend, op_calls, inputs, dtype, what):
    want = run("reference", use_backend, op_calls, inputs)
    got = run(backend_name, use_backend, op_calls, inputs)
    assert len(got) == len(want)
    rtol = TOLERANCE[dtype]
    for k, (g, w) in enumerate(zip(got, want)):
        if not hasattr(w, "shape"):
            assert g == pytest.approx(w, rel=rtol), f"{what}: result {k}"
            continue
        assert g.shape == w.shape and g.dtype == w.dtype, f"{what}: result {k} is {g.dtype} {g.shape}, expected {w.dtype} {w.shape}"
        scale = float(np.max(np.abs(w))) if w.size else 0.0
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale, err_msg=f"{what}: result {k}")


def random_sizes(seed):
    rng = np.random.default_rng(100 + seed)
    batch, time, hidden = (int(v) for v in rng.integers(1, 6, size=3))
    hidden += 1
    input_size = hidden + int(rng.integers(1, 4))  # E != H, so a swapped size shows
    return rng, batch, time, input_size, hidden


def cell_params(rng, cell, input_size, hidden, dtype):
    rows = CELL_GATES[cell] * hidden
    return {  # distinct, non-zero biases, so a bias used twice or swapped shows
        "weight_ih": rng.normal(0, 0.6, (rows, input_size)).astype(dtype),
        "weight_hh": rng.normal(0, 0.6, (rows, hidden)).astype(dtype),
        "bias_ih": rng.normal(0, 0.5, rows).astype(dtype),
        "bias_hh": rng.normal(0, 0.5, rows).astype(dtype),
    }


def random_state(rng, cell, batch, hidden, dtype):
    if cell == "lstm":
        return rng.normal(size=(batch, hidden)).astype(dtype), rng.normal(size=(batch, hidden)).astype(dtype)
    return rng.normal(size=(batch, hidden)).astype(dtype)


def flat(values):
    """Arrays of nested results (states are tuples for the LSTM, gradients dicts) in a fixed order."""
    out = []
    for v in values:
        if isinstance(v, dict):
            out += [v[k] for k in sorted(v)]
        elif isinstance(v, (tuple, list)):
            out += flat(v)
        else:
            out.append(v)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_recurrent_sequence_ops(backend_name, cell, seed, dtype, use_backend):
    rng, batch, time, input_size, hidden = random_sizes(seed)
    check_recurrent_ops(backend_name, cell, rng, (batch, time, input_size, hidden), dtype, use_backend, f"seed {seed}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_recurrent_single_step_ops(backend_name, cell, dtype, use_backend):
    # A sequence of one step (every token of generation) multiplies by W_hh as it is, without
    # the prepared copy a longer sequence gets, so it is a path of its own.
    rng = np.random.default_rng(5)
    check_recurrent_ops(backend_name, cell, rng, (4, 1, 6, 5), dtype, use_backend, "T = 1")


def check_recurrent_ops(backend_name, cell, rng, sizes, dtype, use_backend, what):
    """The forward and backward op of ``cell`` on random inputs of ``sizes`` = (B, T, E, H) against the textbook."""
    batch, time, input_size, hidden = sizes
    inputs = {
        "x": rng.normal(size=(batch, time, input_size)).astype(dtype),
        "state0": random_state(rng, cell, batch, hidden, dtype),
        "params": cell_params(rng, cell, input_size, hidden, dtype),
        "dhs": rng.normal(size=(batch, time, hidden)).astype(dtype),
        "dstate_T": random_state(rng, cell, batch, hidden, dtype),
    }

    def calls(op, a):
        hs, state_T, cache = op(f"{cell}_forward")(a["x"], a["state0"], a["params"])
        dx, dstate0, dparams = op(f"{cell}_backward")(a["dhs"], a["dstate_T"], cache)
        # And from the zero state with no gradient reaching the last state (None for both).
        hs_zero, _, cache_zero = op(f"{cell}_forward")(a["x"], None, a["params"])
        dx_zero, dstate0_zero, _ = op(f"{cell}_backward")(a["dhs"], None, cache_zero)
        return flat([hs, state_T, dx, dstate0, dparams, hs_zero, dx_zero, dstate0_zero])

    assert_conforms(backend_name, use_backend, calls, inputs, dtype, f"{backend_name} {cell} {what}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_bidirectional_ops(backend_name, cell, padded, dtype, use_backend):
    rng, batch, time, input_size, hidden = random_sizes(7)
    params = {}
    for suffix in ("_l0", "_l0_reverse"):
        params.update({k + suffix: v for k, v in cell_params(rng, cell, input_size, hidden, dtype).items()})
    lengths = rng.integers(1, time + 1, size=batch) if padded else None
    inputs = {
        "x": rng.normal(size=(batch, time, input_size)).astype(dtype),
        "params": params,
        "state0": None if padded else (random_state(rng, cell, batch, hidden, dtype), random_state(rng, cell, batch, hidden, dtype)),
        "dstate_T": None if padded else (random_state(rng, cell, batch, hidden, dtype), random_state(rng, cell, batch, hidden, dtype)),
        "dhs": rng.normal(size=(batch, time, 2 * hidden)).astype(dtype),
    }

    def calls(op, a):
        hs, state_T, cache = op("bidirectional_forward")(a["x"], a["state0"], a["params"], cell, 0, lengths)
        dx, dstate0, dparams = op("bidirectional_backward")(a["dhs"], a["dstate_T"], cache)
        return flat([hs, dx, dparams] + ([] if padded else [state_T, dstate0]))

    assert_conforms(backend_name, use_backend, calls, inputs, dtype, f"{backend_name} bidirectional {cell}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_embedding_and_softmax_cross_entropy_ops(backend_name, seed, dtype, use_backend):
    rng, batch, time, embed, _ = random_sizes(seed)
    vocab = int(rng.integers(3, 12))
    inputs = {
        "ids": rng.integers(0, 3, size=(batch, time + 3)),  # ids 0..2 only: repeats are certain
        "weight": rng.normal(size=(vocab, embed)).astype(dtype),
        "dout": rng.normal(size=(batch, time + 3, embed)).astype(dtype),
        "logits": rng.normal(0, 4, size=(batch, time, vocab)).astype(dtype),
        "targets": rng.integers(0, vocab, size=(batch, time)),
        "mask": np.concatenate([np.ones((batch, 1), bool), rng.random((batch, time - 1)) < 0.7], axis=1),
    }

    def calls(op, a):
        out, embedding_cache = op("embedding_forward")(a["ids"], a["weight"])
        dweight = op("embedding_backward")(a["dout"], embedding_cache)
        loss, loss_cache = op("softmax_cross_entropy_forward")(a["logits"], a["targets"], a["mask"])
        dlogits = op("softmax_cross_entropy_backward")(loss_cache, dloss=1.7)
        loss_all, cache_all = op("softmax_cross_entropy_forward")(a["logits"], a["targets"])
        return [out, dweight, loss, dlogits, loss_all, op("softmax_cross_entropy_backward")(cache_all)]

    assert_conforms(backend_name, use_backend, calls, inputs, dtype, f"{backend_name} embedding/softmax seed {seed}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_sgd_update_op(backend_name, dtype, use_backend):
    rng = np.random.default_rng(3)
    inputs = {"param": rng.normal(size=(7, 5)).astype(dtype), "grad": rng.normal(size=(7, 5)).astype(dtype)}

    def calls(op, a):
        param = a["param"].copy()
        op("sgd_update")(param, a["grad"], 0.3)
        return [param]

    assert_conforms(backend_name, use_backend, calls, inputs, dtype, f"{backend_name} sgd_update")


@pytest.mark.parametrize("backend_name", ["numpy", "numba"])
def test_every_op_of_the_engine_is_covered_here(backend_name):
    """A new op added to the tables must get a conformance case in this file."""
    covered = {f"{c}_{d}" for c in ("rnn", "lstm", "gru", "bidirectional") for d in ("forward", "backward")}
    covered |= {"embedding_forward", "embedding_backward", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward", "sgd_update"}
    textbook = kernels.reference_ops()
    replaced = {name for name, fn in kernels.engine_ops(backend_name).items() if fn is not textbook[name]}
    assert replaced <= covered, f"ops without a conformance case: {sorted(replaced - covered)}"
