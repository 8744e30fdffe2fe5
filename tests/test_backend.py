"""The array-module switch: use / name / xp / asnumpy / kernel, the environment variable, and its errors."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchlm import backend

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def restore_backend():
    previous = backend.name()
    yield
    backend.use(previous)


def test_numpy_backend_gives_numpy(restore_backend):
    backend.use("numpy")
    assert backend.name() == "numpy"
    assert backend.xp() is np
    assert backend.default_dtype() == np.float32
    assert backend.GRADCHECK_DTYPE == np.float64


def test_names_are_case_insensitive(restore_backend):
    backend.use("NumPy")
    assert backend.name() == "numpy"


def test_numba_backend_keeps_numpy_arrays(restore_backend):
    pytest.importorskip("numba")
    backend.use("numba")
    assert backend.name() == "numba"
    assert backend.xp() is np


def test_asnumpy_and_asarray_round_trip():
    values = [[1.5, 2.0], [3.0, -4.0]]
    array = backend.asarray(values, dtype=np.float64)
    assert isinstance(backend.asnumpy(array), np.ndarray)
    np.testing.assert_array_equal(backend.asnumpy(array), np.array(values))


def test_unknown_backend_is_a_value_error_listing_the_choices():
    with pytest.raises(ValueError, match="numpy, numba, cupy"):
        backend.use("jax")
    with pytest.raises(ValueError, match="unknown backend"):
        backend.use(3)


def test_cupy_without_cupy_or_gpu_names_what_is_missing(restore_backend):
    try:
        import cupy  # noqa: F401
        if cupy.cuda.runtime.getDeviceCount() > 0:
            pytest.skip("CuPy and a GPU are present: the error path cannot be exercised here")
    except Exception:
        pass
    with pytest.raises(backend.BackendUnavailable, match="CuPy|GPU"):
        backend.use("cupy")
    assert backend.name() == "numpy"  # a failed switch leaves the old backend active


def test_reference_backend_runs_the_textbook_and_numpy_the_engine(restore_backend):
    from scratchlm.kernels import recurrent
    from scratchlm.layers import lstm

    backend.use("reference")
    assert backend.xp() is np
    assert backend.op("lstm_forward") is lstm.lstm_forward
    assert backend.op("lstm_backward") is lstm.lstm_backward
    backend.use("numpy")
    assert backend.op("lstm_forward") is recurrent.lstm_forward
    assert backend.implementations("reference")["lstm_forward"] == "scratchlm.layers.lstm.lstm_forward"


def test_unknown_op_is_a_value_error_listing_the_ops(restore_backend):
    backend.use("numpy")
    with pytest.raises(ValueError, match="unknown op 'lstm_fwd'.*lstm_forward"):
        backend.op("lstm_fwd")


def _run_python(code, **env):
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, cwd=REPO, timeout=60)


def test_environment_variable_chooses_the_backend():
    pytest.importorskip("numba")
    result = _run_python("from scratchlm import backend; print(backend.name())", SCRATCHLM_BACKEND="numba")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numba"
    result = _run_python("from scratchlm import backend; print(backend.op('rnn_forward').__module__)",
                         SCRATCHLM_BACKEND="reference")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scratchlm.layers.rnn"


def test_environment_variable_with_unknown_name_fails_at_import():
    result = _run_python("import scratchlm.backend", SCRATCHLM_BACKEND="tensorflow")
    assert result.returncode != 0
    assert "unknown backend 'tensorflow'" in result.stderr
