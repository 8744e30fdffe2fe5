"""Input checks shared by the layers and models: fail early, and say what was expected.

A wrong argument should stop at the entry point of a layer or model with a ValueError or
TypeError that names the argument and the expected type or shape, not three calls deeper inside
NumPy with an opaque broadcasting error. Every function here either returns (possibly converted)
input or raises; none of them runs inside a time loop.
"""
from __future__ import annotations

from scratchlm import backend


def as_array(value, name: str):
    """``value`` as an array of the active backend (lists and NumPy arrays are converted)."""
    xp = backend.xp()
    if isinstance(value, xp.ndarray):
        return value
    try:
        return backend.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array, got {type(value).__name__}") from err


def check_token_ids(ids, name: str, vocab_size: int | None = None, ndim: int | None = None, allow_empty: bool = False):
    """Check that ``ids`` holds integer token ids in ``[0, vocab_size)`` and return it as an array.

    Raises TypeError for float or boolean ids (a common slip: ids read as floats) and ValueError
    for a wrong number of dimensions, an empty array, or an id out of range.
    """
    ids = as_array(ids, name)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token ids, got dtype {ids.dtype}; convert with .astype(int)")
    if ndim is not None and ids.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(ids.shape)}")
    if ids.size == 0:
        if allow_empty:
            return ids
        raise ValueError(f"{name} is empty (shape {tuple(ids.shape)}); expected at least one token")
    if vocab_size is not None:
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= vocab_size:
            bad = low if low < 0 else high
            raise ValueError(f"{name} contains token id {bad}, outside the vocabulary range [0, {vocab_size})")
    return ids


def check_float_array(x, name: str, ndim: int | None = None):
    """Check that ``x`` is a floating-point array (with ``ndim`` dimensions) and return it."""
    x = as_array(x, name)
    if x.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    return x


def check_shape(x, name: str, expected: tuple, meaning: str = "") -> None:
    """Raise ValueError unless ``x.shape`` matches ``expected`` (``None`` matches any size).

    ``meaning`` spells out the expected shape in words, e.g. "(batch, hidden_size)".
    """
    shape = tuple(x.shape)
    fits = len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))
    if not fits:
        wanted = "(" + ", ".join("any" if e is None else str(e) for e in expected) + ("," if len(expected) == 1 else "") + ")"
        words = f" = {meaning}" if meaning else ""
        raise ValueError(f"{name} has shape {shape}; expected {wanted}{words}")


def check_finite(x, name: str) -> None:
    """Raise ValueError if ``x`` contains NaN or infinity, saying how many entries and where the first is."""
    xp = backend.xp()
    finite = xp.isfinite(x)
    if bool(finite.all()):
        return
    bad = int((~finite).sum())
    first = tuple(int(i) for i in xp.argwhere(~finite)[0])
    raise ValueError(
        f"{name} contains NaN or infinity ({bad} of {x.size} entries, first at index {first}); "
        "expected finite values (a diverged training step? try a lower learning rate or gradient clipping)"
    )


def check_mask(mask, name: str, shape: tuple):
    """Check a padding mask of the given shape and return it as a boolean array.

    Accepts booleans, or integers / floats that are all 0 or 1 (1 = the token counts).
    """
    mask = as_array(mask, name)
    check_shape(mask, name, shape, "the shape of the targets")
    if mask.dtype.kind == "b":
        return mask
    if mask.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a boolean array (True = count this token), got dtype {mask.dtype}")
    if not bool(((mask == 0) | (mask == 1)).all()):
        raise ValueError(f"{name} must hold only 0/1 or True/False values")
    return mask.astype(bool)


CELL_PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def check_cell_params(params, num_gates: int, cell: str) -> tuple[int, int]:
    """Check a recurrent cell's parameter dict and return (hidden_size H, input_size E).

    Expected, with G = num_gates (1 Elman, 4 LSTM, 3 GRU), as in PyTorch:
    weight_ih (G*H, E), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,).
    """
    if not isinstance(params, dict):
        raise TypeError(f"{cell} params must be a dict with keys {', '.join(CELL_PARAM_NAMES)}, got {type(params).__name__}")
    missing = [key for key in CELL_PARAM_NAMES if key not in params]
    if missing:
        raise ValueError(f"{cell} params are missing {', '.join(missing)}; expected keys {', '.join(CELL_PARAM_NAMES)}")
    weight_hh = check_float_array(params["weight_hh"], f"{cell} weight_hh", ndim=2)
    rows = weight_hh.shape[0]
    if rows % num_gates:
        raise ValueError(f"{cell} weight_hh has shape {tuple(weight_hh.shape)}; expected ({num_gates}*H, H)")
    hidden = rows // num_gates
    check_shape(weight_hh, f"{cell} weight_hh", (num_gates * hidden, hidden), f"({num_gates}*H, H)")
    weight_ih = check_float_array(params["weight_ih"], f"{cell} weight_ih", ndim=2)
    check_shape(weight_ih, f"{cell} weight_ih", (num_gates * hidden, None), f"({num_gates}*H, E) with H = {hidden}")
    for key in ("bias_ih", "bias_hh"):
        check_shape(params[key], f"{cell} {key}", (num_gates * hidden,), f"({num_gates}*H,) with H = {hidden}")
    return hidden, weight_ih.shape[1]


def check_cell_input(x, name: str, input_size: int, ndim: int):
    """Check the input of a recurrent cell: (B, E) for a step (ndim 2), (B, T, E) for a sequence (ndim 3)."""
    x = check_float_array(x, name, ndim=ndim)
    if x.shape[-1] != input_size:
        layout = "(batch, input_size)" if ndim == 2 else "(batch, time, input_size)"
        raise ValueError(f"{name} has shape {tuple(x.shape)}; expected {layout} with input_size = {input_size} (from weight_ih)")
    if x.size == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)}); expected at least one batch row and one time step")
    return x


def check_recurrent_call(cell: str, num_gates: int, x, state, params, dhs=None) -> None:
    """Check the arguments of a recurrent sequence function; raise ValueError/TypeError if they do not fit.

    Expected, as in PyTorch: x (B, T, E); params with weight_ih (G*H, E), weight_hh (G*H, H),
    bias_ih and bias_hh (G*H,); ``state`` None, or h (B, H) for "rnn"/"gru" and the pair (h, c) for
    "lstm"; ``dhs``, when given, (B, T, H). Only shapes and dtypes are read, never values, so
    under CuPy nothing waits for the GPU; whether the values are finite is checked once, at the
    entry of a model.
    """
    hidden, input_size = check_cell_params(params, num_gates, cell)
    x = check_cell_input(x, f"{cell} input", input_size, ndim=3)
    batch, time, _ = x.shape
    if dhs is not None:
        check_shape(dhs, f"{cell} dhs", (batch, time, hidden), "(batch, time, hidden_size) like hs")
    if state is None:
        return
    if cell == "lstm":
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"lstm state must be the pair (h, c) of (batch, hidden_size) arrays, or None, got {type(state).__name__}")
        parts = {"h": state[0], "c": state[1]}
    else:
        parts = {"h": state}
    for name, part in parts.items():
        part = check_float_array(part, f"{cell} state {name}", ndim=2)
        check_shape(part, f"{cell} state {name}", (batch, hidden), "(batch, hidden_size)")
