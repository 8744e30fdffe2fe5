"""Bidirectional recurrent layer: one pass left-to-right, one right-to-left, outputs side by side.

A unidirectional RNN's output at position t summarises only the prefix x_1..x_t. A tagger that
must decide about x_t from what comes after it as well runs a second, independent RNN over the
reversed sequence and concatenates the two outputs::

    ->h_t = cell(x_t, ->h_{t-1})      t = 1 .. T       forward direction,  parameters *_l0
    <-h_t = cell(x_t, <-h_{t+1})      t = T .. 1       backward direction, parameters *_l0_reverse
    h_t   = [->h_t ; <-h_t]                            (B, T, 2H)

"cell" is any of the Elman RNN, LSTM or GRU sequence functions of ``scratchlm.layers``. The
backward direction is computed by reversing the time axis, running the ordinary sequence
function, and reversing its outputs back, so no new recurrence is written here; its backward
pass reverses the gradients the same way (a reversal is a permutation that is its own inverse,
so the gradient of "reverse" is "reverse").

Padded batches: with ``lengths`` (B,), row b has lengths[b] real positions followed by padding.
Each row is reversed only within its real positions, so the backward direction starts at the
row's last real token and the padding is read *after* every real token by both directions;
the outputs at real positions are then exactly those of the unpadded row (the outputs at padded
positions are meaningless and should be masked by the loss). The final states would have read
the padding, so with ``lengths`` none are returned.

Parameters are named as in PyTorch's ``nn.LSTM(bidirectional=True)`` (layer ``k``)::

    weight_ih_lk, weight_hh_lk, bias_ih_lk, bias_hh_lk                  forward direction
    weight_ih_lk_reverse, weight_hh_lk_reverse, ...                      backward direction

so a PyTorch bidirectional layer's ``state_dict`` entries load without renaming. A stacked
bidirectional RNN feeds layer k's (B, T, 2H) output to layer k+1 (whose weight_ih is (G*H, 2H)).
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend
from scratchlm.layers import CELLS

PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def direction_suffixes(layer: int = 0) -> tuple[str, str]:
    """The PyTorch name suffixes of layer ``layer``'s two directions: ("_l0", "_l0_reverse")."""
    return f"_l{layer}", f"_l{layer}_reverse"


def init_bidirectional_params(input_size, hidden_size, cell="lstm", layer=0, rng=None, dtype=None):
    """Parameters of one bidirectional layer, drawn as PyTorch does: U(-1/sqrt(H), 1/sqrt(H)).

    Returns a dict with the eight PyTorch names of layer ``layer`` (four per direction):
    weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih (G*H,), bias_hh (G*H,).
    """
    _check_cell(cell)
    if int(input_size) < 1 or int(hidden_size) < 1:
        raise ValueError(f"input_size and hidden_size must be positive, got {input_size} and {hidden_size}")
    rng = np.random.default_rng(rng)
    dtype = np.dtype(dtype) if dtype is not None else backend.default_dtype()
    gates = CELLS[cell].num_gates
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = {
        "weight_ih": (gates * hidden_size, input_size),
        "weight_hh": (gates * hidden_size, hidden_size),
        "bias_ih": (gates * hidden_size,),
        "bias_hh": (gates * hidden_size,),
    }
    params = {}
    for suffix in direction_suffixes(layer):
        for name in PARAM_NAMES:
            values = rng.uniform(-bound, bound, size=shapes[name]).astype(dtype)
            params[name + suffix] = backend.asarray(values)
    return params


def reverse_sequences(x, lengths=None):
    """Reverse the time axis of x (B, T, ...), each row b only within its first lengths[b] steps.

    With lengths None every row is reversed whole. Applying the function twice gives x back.
    """
    xp = backend.xp()
    if lengths is None:
        return xp.ascontiguousarray(x[:, ::-1])
    time = x.shape[1]
    t = xp.arange(time)[None, :]                                   # (1, T)
    last = lengths[:, None] - 1                                    # (B, 1)
    source = xp.where(t <= last, last - t, t)                      # (B, T): where step t reads from
    source = source.reshape(source.shape + (1,) * (x.ndim - 2))
    return xp.take_along_axis(x, source, axis=1)


def bidirectional_forward(x, state0, params, cell="lstm", layer=0, lengths=None):
    """Run ``cell`` over x in both directions and concatenate the outputs.

    Inputs:
        x: (B, T, E) input sequence.
        state0: None (zeros for both directions) or the pair (forward_state0, backward_state0),
            each h0 (B, H) for rnn/gru or (h0, c0) for lstm.
        params: dict with the eight names of layer ``layer`` (see the module docstring).
        cell: "rnn", "lstm" or "gru".
        layer: the layer index in the parameter names (``_l{layer}``).
        lengths: None, or (B,) int with 1 <= lengths[b] <= T: the real length of each row.

    Returns:
        hs: (B, T, 2H); hs[..., :H] is the forward direction, hs[..., H:] the backward one.
        state_T: the pair (forward final state after step T, backward final state after step 1),
            each shaped like state0's entries; None when ``lengths`` is given.
        cache: for :func:`bidirectional_backward`.
    """
    xp = backend.xp()
    _check_cell(cell)
    lengths = _check_inputs(x, params, cell, layer, lengths)
    forward_fn = CELLS[cell].forward
    forward_state0, backward_state0 = _split_state0(state0)
    suffix_forward, suffix_backward = direction_suffixes(layer)

    hs_forward, state_forward, cache_forward = forward_fn(
        x, forward_state0, _direction_params(params, suffix_forward))
    hs_reversed, state_backward, cache_backward = forward_fn(
        reverse_sequences(x, lengths), backward_state0, _direction_params(params, suffix_backward))
    hs_backward = reverse_sequences(hs_reversed, lengths)

    hs = xp.concatenate([hs_forward, hs_backward], axis=-1)       # (B, T, 2H)
    state_T = None if lengths is not None else (state_forward, state_backward)
    cache = (cell, layer, lengths, hs_forward.shape[-1], cache_forward, cache_backward)
    return hs, state_T, cache


def bidirectional_backward(dhs, dstate_T, cache):
    """Backward pass of :func:`bidirectional_forward`.

    Inputs:
        dhs: (B, T, 2H) gradient of the loss with respect to hs.
        dstate_T: None (zeros) or the pair of gradients with respect to the two final states
            (each entry may itself be None); must be None when the forward pass had ``lengths``.
        cache: from :func:`bidirectional_forward`.

    Returns:
        dx: (B, T, E).
        dstate0: the pair (d forward_state0, d backward_state0).
        dparams: dict with the same eight keys as params.
    """
    cell, layer, lengths, hidden, cache_forward, cache_backward = cache
    backward_fn = CELLS[cell].backward
    if lengths is not None and dstate_T is not None:
        raise ValueError("with lengths the forward pass returned no final state, so dstate_T must be None")
    dstate_forward, dstate_backward = (None, None) if dstate_T is None else dstate_T
    suffix_forward, suffix_backward = direction_suffixes(layer)

    dx_forward, dstate0_forward, dparams_forward = backward_fn(
        dhs[..., :hidden], dstate_forward, cache_forward)
    dx_reversed, dstate0_backward, dparams_backward = backward_fn(
        reverse_sequences(dhs[..., hidden:], lengths), dstate_backward, cache_backward)
    dx = dx_forward + reverse_sequences(dx_reversed, lengths)

    dparams = {}
    for name in PARAM_NAMES:
        dparams[name + suffix_forward] = dparams_forward[name]
        dparams[name + suffix_backward] = dparams_backward[name]
    return dx, (dstate0_forward, dstate0_backward), dparams


def _direction_params(params, suffix):
    return {name: params[name + suffix] for name in PARAM_NAMES}


def _split_state0(state0):
    if state0 is None:
        return None, None
    if not isinstance(state0, (tuple, list)) or len(state0) != 2:
        raise TypeError("state0 must be None or the pair (forward_state0, backward_state0)")
    return state0[0], state0[1]


def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}: expected one of {', '.join(CELLS)}")


def _check_inputs(x, params, cell, layer, lengths):
    """Validate shapes; return lengths as an int array of the active backend (or None)."""
    xp = backend.xp()
    if getattr(x, "ndim", None) != 3:
        raise ValueError(f"x must have shape (batch, time, features), got shape {getattr(x, 'shape', None)}")
    batch, time, features = x.shape
    if time < 1:
        raise ValueError("x must have at least one time step")
    gates = CELLS[cell].num_gates
    for suffix in direction_suffixes(layer):
        missing = [name + suffix for name in PARAM_NAMES if name + suffix not in params]
        if missing:
            raise ValueError(f"params is missing {', '.join(missing)} (a bidirectional layer {layer} has "
                             f"weight_ih_l{layer}, ..., bias_hh_l{layer}_reverse)")
        weight_ih = params["weight_ih" + suffix]
        if weight_ih.ndim != 2 or weight_ih.shape[1] != features or weight_ih.shape[0] % gates:
            raise ValueError(f"weight_ih{suffix} must have shape ({gates}*H, {features}) for a {cell} "
                             f"reading {features} features, got {weight_ih.shape}")
        hidden = weight_ih.shape[0] // gates
        weight_hh = params["weight_hh" + suffix]
        if weight_hh.shape != (gates * hidden, hidden):
            raise ValueError(f"weight_hh{suffix} must have shape ({gates}*H, H) = ({gates * hidden}, {hidden}) "
                             f"to match weight_ih{suffix} of a {cell}, got {weight_hh.shape}")
    if lengths is None:
        return None
    lengths = backend.asnumpy(lengths)
    if lengths.shape != (batch,) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be an int array of shape ({batch},), got {lengths.dtype} {lengths.shape}")
    if lengths.min() < 1 or lengths.max() > time:
        raise ValueError(f"lengths must lie in 1..{time} (the time steps of x), got {lengths.min()}..{lengths.max()}")
    return xp.asarray(lengths)
