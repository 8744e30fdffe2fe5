"""Every piece of a faster backend against the NumPy piece it replaces, and whole models across backends.

The engine's sequence ops call *pieces* for their inner parts (scratchlm/kernels/__init__.py):
the gate math of one step, the step product, the row-wise parts of the embedding and softmax
ops, the SGD update. For each piece of scratchlm/kernels/numba_ops.py and cupy_ops.py, the piece
and the NumPy piece in scratchlm/kernels/numpy_pieces.py get the same random inputs, over several
random shapes, contiguous and strided, float32 and float64; their results must agree to 1e-12
relative in float64 and 1e-5 in float32 ("relative" against the largest entry of the NumPy
result, added as an absolute tolerance). The scatter-add is also checked against a plain Python
loop, because repeated token ids are exactly where a scatter-add goes wrong.

Then the whole model: RNNLM's loss and every gradient under each engine backend equal those of
the textbook ("reference" backend). The ops one by one are in test_conformance.py.

"cupy-emulated" runs the piece cases on scratchlm/kernels/cupy_ops.py executed on the CPU
(tests/kernels/cupy_emulator.py: NumPy arrays, each kernel's CUDA C body compiled as C++ with
g++), so that the CuPy module's wrappers and kernel arithmetic are checked on machines without a
GPU too. The CuPy cases skip without CuPy or a GPU.
"""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest

from scratchlm import backend
from scratchlm.kernels import numpy_pieces as reference_pieces
from scratchlm.kernels import step_matmul

import cupy_emulator

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-12}
SHAPE_SEEDS = range(4)


def _available(name: str) -> bool:
    return name in backend.available()


MODEL_BACKEND_PARAMS = [  # backends a whole model can run under
    pytest.param("numpy"),
    pytest.param("numba", marks=pytest.mark.skipif(not _available("numba"), reason="numba is not installed")),
    pytest.param("cupy", marks=pytest.mark.skipif(not _available("cupy"), reason="CuPy or a CUDA GPU is missing")),
]
BACKEND_PARAMS = MODEL_BACKEND_PARAMS[1:] + [  # piece tables other than NumPy's
    pytest.param("cupy-emulated", marks=pytest.mark.skipif(not cupy_emulator.compiler_available(),
                                                            reason="g++ is not installed")),
]


@pytest.fixture(autouse=True)
def numpy_backend():
    """References run under the numpy backend; whatever was active is restored afterwards."""
    previous = backend.name()
    backend.use("numpy")
    yield
    backend.use(previous)


def kernels_of(backend_name: str) -> dict:
    if backend_name == "cupy-emulated":
        return cupy_emulator.load_cupy_ops().PIECES
    return importlib.import_module(f"scratchlm.kernels.{backend_name}_ops").PIECES


def to_device(value, backend_name):
    if backend_name == "cupy" and isinstance(value, np.ndarray):
        import cupy

        return cupy.asarray(value)
    return value


# --------------------------------------------------------------------------------------------
# Random inputs for each op. Each maker returns the positional arguments of the reference.
# ``strided`` hands the gate ops non-contiguous views (every other column of a wider array), the
# way a caller slicing a bigger buffer would.
# --------------------------------------------------------------------------------------------


def random_shape(seed):
    rng = np.random.default_rng(1000 + seed)
    return {"B": int(rng.integers(1, 6)), "H": int(rng.integers(1, 9)), "N": int(rng.integers(5, 40)),
            "V": int(rng.integers(2, 12)), "E": int(rng.integers(1, 7))}


class Inputs:
    def __init__(self, seed, dtype, strided):
        self.rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.strided = strided

    def normal(self, *shape, scale=1.0):
        if self.strided:
            wide = self.rng.normal(scale=scale, size=shape[:-1] + (2 * shape[-1],)).astype(self.dtype)
            return wide[..., ::2]
        return self.rng.normal(scale=scale, size=shape).astype(self.dtype)

    def uniform(self, low, high, *shape):
        return self.rng.uniform(low, high, size=shape).astype(self.dtype)

    def ids(self, high, size, dtype=np.int64):
        return self.rng.integers(0, high, size=size).astype(dtype)


def lstm_forward_args(make, s):
    # Pre-activations up to +-8 so that some gates saturate, as in training.
    return make.normal(s["B"], 4 * s["H"], scale=3.0), make.normal(s["B"], s["H"])


def lstm_backward_args(make, s):
    a, c_prev = lstm_forward_args(make, s)
    _, _, gates, tanh_c = reference_pieces.lstm_gates_forward(a, c_prev)
    return make.normal(s["B"], s["H"]), make.normal(s["B"], s["H"]), c_prev, gates, tanh_c


def gru_forward_args(make, s):
    return (make.normal(s["B"], 3 * s["H"], scale=2.0), make.normal(s["B"], 3 * s["H"], scale=2.0),
            make.normal(s["B"], s["H"]))


def gru_backward_args(make, s):
    ax, ah, h_prev = gru_forward_args(make, s)
    _, gates = reference_pieces.gru_gates_forward(ax, ah, h_prev)
    return make.normal(s["B"], s["H"]), h_prev, gates, ah[:, 2 * s["H"]:]


def scatter_add_args(make, s):
    # Far more rows than ids to draw from, so repeated ids are certain.
    ids = make.ids(min(3, s["V"]), 3 * s["N"], dtype=make.rng.choice([np.int64, np.int32]))
    return ids, make.normal(3 * s["N"], s["E"]), s["V"]


def cross_entropy_forward_args(make, s):
    return make.normal(s["N"], s["V"], scale=4.0), make.ids(s["V"], s["N"])


def cross_entropy_backward_args(make, s):
    logits, targets = cross_entropy_forward_args(make, s)
    _, probs = reference_pieces.cross_entropy_rows_forward(logits, targets)
    row_weights = make.uniform(0.0, 1.0, s["N"])
    row_weights[make.rng.random(s["N"]) < 0.2] = 0.0  # padding rows
    return probs, targets, row_weights


CASES = {
    "embedding_scatter_add": (reference_pieces.embedding_scatter_add, scatter_add_args),
    "cross_entropy_rows_forward": (reference_pieces.cross_entropy_rows_forward, cross_entropy_forward_args),
    "cross_entropy_rows_backward": (reference_pieces.cross_entropy_rows_backward, cross_entropy_backward_args),
    "rnn_gates_forward": (reference_pieces.rnn_gates_forward, lambda make, s: (make.normal(s["B"], s["H"], scale=2.0),)),
    "rnn_gates_backward": (reference_pieces.rnn_gates_backward,
                           lambda make, s: (make.normal(s["B"], s["H"]), make.uniform(-1, 1, s["B"], s["H"]))),
    "lstm_gates_forward": (reference_pieces.lstm_gates_forward, lstm_forward_args),
    "lstm_gates_backward": (reference_pieces.lstm_gates_backward, lstm_backward_args),
    "gru_gates_forward": (reference_pieces.gru_gates_forward, gru_forward_args),
    "gru_gates_backward": (reference_pieces.gru_gates_backward, gru_backward_args),
}
GATE_OPS = [op for op in CASES if "gates" in op]


def assert_close(got, want, dtype, what):
    got = backend.asnumpy(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, expected {want.dtype}"
    rtol = TOLERANCE[dtype]
    scale = float(np.max(np.abs(want))) if want.size else 0.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale, err_msg=what)


def check_op(backend_name, op, seed, dtype, strided=False):
    reference, make_args = CASES[op]
    kernel = kernels_of(backend_name)[op]
    args = make_args(Inputs(seed, dtype, strided), random_shape(seed))
    want = reference(*args)
    device_args = [to_device(a, backend_name) for a in args]
    originals = [backend.asnumpy(a).copy() if hasattr(a, "shape") else a for a in device_args]
    got = kernel(*device_args)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want), f"{op} returned {len(got)} values, the reference {len(want)}"
    for index, (g, w) in enumerate(zip(got, want)):
        assert_close(g, w, dtype, f"{backend_name} {op} output {index} ({dtype.__name__}, seed {seed})")
        for a in device_args:
            if hasattr(a, "shape") and backend_name != "cupy":
                assert not np.shares_memory(g, a), f"{op} output {index} aliases an input; kernels return new arrays"
    for before, after in zip(originals, device_args):
        if hasattr(after, "shape"):
            np.testing.assert_array_equal(backend.asnumpy(after), before, err_msg=f"{op} modified its input")


@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_every_registered_op_has_a_conformance_case(backend_name):
    missing = sorted(set(kernels_of(backend_name)) - set(CASES) - set(OPS_WITH_OWN_TESTS))
    assert not missing, f"{backend_name} registers ops without a conformance case here: {missing}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", SHAPE_SEEDS)
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_kernels_match_reference(backend_name, seed, dtype):
    for op in sorted(set(kernels_of(backend_name)) - set(OPS_WITH_OWN_TESTS)):
        check_op(backend_name, op, seed, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_gate_kernels_accept_strided_inputs(backend_name, dtype):
    for op in GATE_OPS:
        if op in kernels_of(backend_name):
            check_op(backend_name, op, seed=7, dtype=dtype, strided=True)


# --------------------------------------------------------------------------------------------
# The recurrent step's product: a pair of ops, prepare W once, then multiply by it
# --------------------------------------------------------------------------------------------

STEP_MATMUL_OPS = ("step_matmul_prepare", "step_matmul")
OPS_WITH_OWN_TESTS = STEP_MATMUL_OPS + ("sgd_update",)  # not of the CASES form (a pair; in place)


def step_matmul_pair(implementation):
    if implementation == "reference":
        return step_matmul.step_matmul_prepare, step_matmul.step_matmul
    kernels = kernels_of(implementation)
    if not set(STEP_MATMUL_OPS) <= set(kernels):
        pytest.skip(f"{implementation} has no step_matmul kernels")
    return kernels["step_matmul_prepare"], kernels["step_matmul"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("implementation", [pytest.param("numpy")] + BACKEND_PARAMS)
def test_lstm_gates_forward_at_saturating_pre_activations(implementation, dtype):
    # The NumPy piece computes sigma(x) as 1 / (1 + e^{-x}), and e^{-x} overflows below x = -88
    # (float32) or -709 (float64): the gates must still reach their limits (sigma 0 and 1,
    # tanh -1 and 1), without a warning. Expected: the textbook's formulas, in float64.
    from scratchlm.layers.activations import sigmoid

    hidden = 8
    values = np.array([-np.inf, -1e30, -1000.0, -100.0, -90.0, -30.0, -1.5, 0.0, 1e-3, 2.0, 40.0, 100.0, 1e30, np.inf])
    a = np.resize(values, (3, 4 * hidden)).astype(dtype)
    c_prev = np.resize(values[1:-1] / 10.0, (3, hidden)).astype(dtype)
    exact_a, exact_c_prev = a.astype(np.float64), c_prev.astype(np.float64)
    gates = sigmoid(exact_a)
    gates[:, 2 * hidden : 3 * hidden] = np.tanh(exact_a[:, 2 * hidden : 3 * hidden])
    i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
    c = f * exact_c_prev + i * g
    want = (o * np.tanh(c), c, gates, np.tanh(c))
    function = reference_pieces.lstm_gates_forward if implementation == "numpy" else kernels_of(implementation)["lstm_gates_forward"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = function(to_device(a, implementation), to_device(c_prev, implementation))
    for index, (g_, w) in enumerate(zip(got, want)):
        assert_close(g_, w.astype(dtype), dtype, f"{implementation} lstm_gates_forward output {index}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("implementation", [pytest.param("reference")] + BACKEND_PARAMS)
def test_step_matmul_equals_the_matrix_product(implementation, seed, dtype):
    """out = x @ W against NumPy's float64 product, over shapes that leave partial row tiles and
    partial column panels (B up to 20, N up to 90), K = 0 included, W as a transposed view (as
    W_hh.T is passed) or contiguous, x and out contiguous or strided."""
    prepare, multiply = step_matmul_pair(implementation)
    rng = np.random.default_rng(500 + seed)
    batch, inner, columns = int(rng.integers(1, 21)), int(rng.integers(0, 71)), int(rng.integers(1, 91))
    make = Inputs(seed, dtype, strided=bool(seed % 2))
    x = make.normal(batch, inner)
    weight = make.normal(columns, inner).T if seed % 3 else make.normal(inner, columns)
    want = (x.astype(np.float64) @ weight.astype(np.float64)).astype(dtype)
    wide = to_device(np.full((batch, 2 * columns), 7.0, dtype=dtype), implementation)
    out = wide[:, ::2] if seed % 4 == 1 else wide[:, :columns]
    prepared = prepare(to_device(weight, implementation))
    returned = multiply(to_device(x, implementation), prepared, out=out)
    assert returned is out
    assert_close(out, want, dtype, f"{implementation} step_matmul {batch}x{inner}x{columns} seed {seed}")
    if seed % 4 != 1:
        assert (backend.asnumpy(wide)[:, columns:] == 7.0).all(), "step_matmul wrote outside out"


def test_numba_step_matmul_splits_large_products_over_threads_correctly():
    numba = pytest.importorskip("numba")
    from scratchlm.kernels import packed_matmul

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has one thread on this machine")
    prepare, multiply = step_matmul_pair("numba")
    rng = np.random.default_rng(9)
    x, weight = rng.standard_normal((19, 300)), rng.standard_normal((300, 777))
    assert x.shape[0] * x.shape[1] * weight.shape[1] >= packed_matmul.PARALLEL_MIN_MULTIPLY_ADDS
    previous = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        out = multiply(x, prepare(weight), out=np.empty((19, 777)))
    finally:
        numba.set_num_threads(previous)
    assert_close(out, x @ weight, np.float64, "parallel step_matmul")


def test_numba_step_matmul_rejects_mismatched_arguments():
    pytest.importorskip("numba")
    prepare, multiply = step_matmul_pair("numba")
    prepared = prepare(np.ones((4, 6)))
    with pytest.raises(ValueError, match=r"x must be a \(B, 4\) float64 array"):
        multiply(np.ones((3, 5)), prepared, out=np.empty((3, 6)))
    with pytest.raises(ValueError, match=r"out\[0\] must be an array of shape \(3, 6\)"):
        multiply(np.ones((3, 4)), prepared, out=np.empty((3, 7)))
    with pytest.raises(TypeError, match="numba step_matmul_prepare"):
        multiply(np.ones((3, 4)), np.ones((4, 6)), out=np.empty((3, 6)))
    with pytest.raises(TypeError, match="float32 and float64"):
        prepare(np.ones((4, 6), dtype=np.float16))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_sgd_update_kernel_equals_the_reference_to_the_bit(backend_name, dtype):
    sgd_update = reference_pieces.sgd_update
    kernel = kernels_of(backend_name).get("sgd_update")
    if kernel is None:
        pytest.skip(f"{backend_name} has no sgd_update kernel")
    make = Inputs(21, dtype, strided=False)
    for shape, strided in (((7, 5), False), ((13,), False), ((6, 4), True)):
        param, grad = make.normal(*shape), make.normal(*shape)
        if strided:
            param, grad = make.normal(shape[0], 2 * shape[1])[:, ::2], make.normal(shape[0], 2 * shape[1])[:, ::2]
        want = param.copy()
        sgd_update(want, grad, 0.37)
        got = to_device(param.copy(), backend_name)
        assert kernel(got, to_device(grad, backend_name), 0.37) is None
        np.testing.assert_array_equal(backend.asnumpy(got), want, err_msg=f"{backend_name} sgd_update {shape}")


OUT_OPS = ["lstm_gates_forward", "lstm_gates_backward"]  # the ops with an ``out=`` argument


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("op", OUT_OPS)
@pytest.mark.parametrize("implementation", [pytest.param("reference")] + BACKEND_PARAMS)
def test_gate_ops_write_into_out_arrays(implementation, op, dtype):
    """With ``out=``, every result lands in the caller's array, equal to the reference's result.

    The out arrays are slices of a larger time-major buffer, as in lstm_forward; the entries of
    the buffer outside the slice must stay untouched.
    """
    reference, make_args = CASES[op]
    args = make_args(Inputs(11, dtype, strided=False), {"B": 3, "H": 5})
    want = reference(*args)
    function = reference if implementation == "reference" else kernels_of(implementation)[op]
    device_args = [to_device(a, implementation) for a in args]
    buffers = [to_device(np.full((4,) + w.shape, 7.0, dtype=dtype), implementation) for w in want]
    out = tuple(buffer[2] for buffer in buffers)
    returned = function(*device_args, out=out)
    assert all(r is o for r, o in zip(returned, out)), f"{op} must return the out arrays it was given"
    for index, (buffer, w) in enumerate(zip(buffers, want)):
        assert_close(buffer[2], w, dtype, f"{implementation} {op} out[{index}]")
        untouched = backend.asnumpy(buffer)[[0, 1, 3]]
        assert (untouched == 7.0).all(), f"{op} wrote outside out[{index}]"


@pytest.mark.parametrize("op", OUT_OPS)
@pytest.mark.parametrize("implementation", [pytest.param("reference")] + BACKEND_PARAMS)
def test_gate_ops_reject_out_arrays_of_the_wrong_shape(implementation, op):
    reference, make_args = CASES[op]
    args = [to_device(a, implementation) for a in make_args(Inputs(12, np.float64, strided=False), {"B": 3, "H": 5})]
    function = reference if implementation == "reference" else kernels_of(implementation)[op]
    want = reference(*make_args(Inputs(12, np.float64, strided=False), {"B": 3, "H": 5}))
    wrong_shape = tuple(to_device(np.empty((w.shape[0] + 1,) + w.shape[1:]), implementation) for w in want)
    with pytest.raises(ValueError, match=r"out\[0\] must be an array of shape"):
        function(*args, out=wrong_shape)
    with pytest.raises(ValueError, match=f"out must be a tuple of {len(want)} arrays"):
        function(*args, out=wrong_shape[:1])
    wrong_dtype = tuple(to_device(np.empty(w.shape, dtype=np.float32), implementation) for w in want)
    with pytest.raises(ValueError, match="dtype float64"):
        function(*args, out=wrong_dtype)


@pytest.mark.parametrize("backend_name", BACKEND_PARAMS)
def test_scatter_add_accumulates_repeated_ids_like_a_loop(backend_name):
    ids = np.array([2, 0, 2, 2, 1, 0, 2])
    dout = np.arange(7 * 3, dtype=np.float64).reshape(7, 3) + 0.5
    expected = np.zeros((4, 3))
    for n, token in enumerate(ids):  # the definition, one row at a time
        expected[token] += dout[n]
    got = kernels_of(backend_name)["embedding_scatter_add"](to_device(ids, backend_name),
                                                             to_device(dout, backend_name), 4)
    np.testing.assert_array_equal(backend.asnumpy(got), expected)
    assert not backend.asnumpy(got)[3].any()  # id 3 never occurs: its row stays zero


def test_numba_kernels_reject_unsupported_dtypes():
    pytest.importorskip("numba")
    kernel = kernels_of("numba")["lstm_gates_backward"]
    half = np.zeros((2, 3), dtype=np.float16)
    with pytest.raises(TypeError, match="float32 and float64"):
        kernel(half, half, half, np.zeros((2, 12), dtype=np.float16), half)


def test_numba_scatter_add_rejects_out_of_range_ids():
    pytest.importorskip("numba")
    kernel = kernels_of("numba")["embedding_scatter_add"]
    with pytest.raises(IndexError):
        kernel(np.array([0, 5]), np.ones((2, 3)), 4)


# --------------------------------------------------------------------------------------------
# The whole model
# --------------------------------------------------------------------------------------------


def model_loss_and_grads(backend_name, cell, dtype, tie_weights):
    from scratchlm.models import RNNLM

    backend.use(backend_name)
    try:
        model = RNNLM(11, 6, 6 if tie_weights else 5, num_layers=2, cell=cell, seed=3, dtype=dtype,
                      tie_weights=tie_weights)
        rng = np.random.default_rng(5)
        inputs = backend.asarray(rng.integers(0, 11, (3, 7)))
        inputs[0, :4] = 4  # repeated ids inside one row, too
        targets = backend.asarray(rng.integers(0, 11, (3, 7)))
        mask = backend.asarray(rng.random((3, 7)) < 0.8)
        loss, grads, state = model.loss_and_grads(inputs, targets, mask=mask)
        return loss, {k: backend.asnumpy(v) for k, v in grads.items()}, state
    finally:
        backend.use("numpy")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("backend_name", MODEL_BACKEND_PARAMS)
def test_rnnlm_loss_and_grads_agree_across_backends(backend_name, cell, dtype):
    tie_weights = cell == "lstm"
    want_loss, want_grads, _ = model_loss_and_grads("reference", cell, dtype, tie_weights)
    got_loss, got_grads, _ = model_loss_and_grads(backend_name, cell, dtype, tie_weights)
    rtol = TOLERANCE[np.dtype(dtype).type]
    assert got_loss == pytest.approx(want_loss, rel=rtol)
    assert set(got_grads) == set(want_grads)
    for name in want_grads:
        assert_close(got_grads[name], want_grads[name], np.dtype(dtype).type, f"{backend_name} {cell} grad {name}")
