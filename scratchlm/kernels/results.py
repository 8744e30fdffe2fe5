"""Results as new arrays, or written into arrays the caller already owns (``out=``).

A sequence loop runs the same pointwise step T times and keeps every step's results in
time-major buffers of shape (T, B, .). Returning fresh arrays and copying them into
``buffer[t]`` costs a copy per result per step; passing ``out=(buffer_1[t], buffer_2[t], ...)``
lets the step write there directly. The reference layers fill ``out`` with
:func:`write_results`; the kernels check it with :func:`check_out` and write into it in place.
"""
from __future__ import annotations


def check_out(out, shapes, dtype, what: str):
    """Raise ValueError unless ``out`` is a tuple of arrays with these shapes and ``dtype``.

    Args:
        out: the caller's tuple of output arrays.
        shapes: the expected shape of each, in order.
        dtype: the dtype every one must have (the dtype of the step's inputs).
        what: the operation's name, for the message.
    """
    if not isinstance(out, (tuple, list)) or len(out) != len(shapes):
        raise ValueError(f"{what}: out must be a tuple of {len(shapes)} arrays, got {type(out).__name__}")
    for k, (array, shape) in enumerate(zip(out, shapes)):
        if tuple(getattr(array, "shape", ())) != tuple(shape) or getattr(array, "dtype", None) != dtype:
            raise ValueError(
                f"{what}: out[{k}] must be an array of shape {tuple(shape)} and dtype {dtype}, got "
                f"{type(array).__name__} of shape {getattr(array, 'shape', None)} and dtype {getattr(array, 'dtype', None)}"
            )


def out_arrays(out, shapes, dtype, what: str, empty) -> tuple:
    """The arrays a kernel writes its results into: ``out`` checked, or new ones from ``empty``.

    Args:
        out: the caller's tuple, or None.
        shapes, dtype, what: as in :func:`check_out`.
        empty: the array module's ``empty`` (NumPy's or CuPy's).
    """
    if out is None:
        return tuple(empty(shape, dtype=dtype) for shape in shapes)
    check_out(out, shapes, dtype, what)
    return out


def write_results(out, results: tuple) -> tuple:
    """``results`` itself when ``out`` is None; otherwise copy each result into ``out`` and return it."""
    if out is None:
        return results
    check_out(out, [r.shape for r in results], results[0].dtype, "out")
    for buffer, value in zip(out, results):
        buffer[...] = value
    return out
