"""The engine's bidirectional layer: the textbook's two passes, each run by the engine's sequence op.

Same contract as ``scratchlm/layers/bidirectional.py`` (whose docstring explains the reversal
within each row's length and the PyTorch parameter names); the only difference is that each
direction runs through the engine's ``<cell>_forward`` / ``<cell>_backward`` in
``scratchlm/kernels/recurrent.py`` instead of the textbook's loop over steps.
"""
from __future__ import annotations

from scratchlm import backend
from scratchlm.kernels import recurrent
from scratchlm.layers.bidirectional import (
    PARAM_NAMES,
    _check_cell,
    _check_inputs,
    _direction_params,
    _split_state0,
    direction_suffixes,
    reverse_sequences,
)


def bidirectional_forward(x, state0, params, cell="lstm", layer=0, lengths=None):
    """hs (B, T, 2H), state_T (None with ``lengths``), cache: as the textbook's bidirectional_forward."""
    xp = backend.xp()
    _check_cell(cell)
    lengths = _check_inputs(x, params, cell, layer, lengths)
    forward_fn = getattr(recurrent, f"{cell}_forward")
    forward_state0, backward_state0 = _split_state0(state0)
    suffix_forward, suffix_backward = direction_suffixes(layer)
    hs_forward, state_forward, cache_forward = forward_fn(x, forward_state0, _direction_params(params, suffix_forward))
    hs_reversed, state_backward, cache_backward = forward_fn(
        reverse_sequences(x, lengths), backward_state0, _direction_params(params, suffix_backward))
    hs = xp.concatenate([hs_forward, reverse_sequences(hs_reversed, lengths)], axis=-1)
    state_T = None if lengths is not None else (state_forward, state_backward)
    return hs, state_T, (cell, layer, lengths, hs_forward.shape[-1], cache_forward, cache_backward)


def bidirectional_backward(dhs, dstate_T, cache):
    """dx (B, T, E), dstate0 pair, dparams (eight keys): as the textbook's bidirectional_backward."""
    cell, layer, lengths, hidden, cache_forward, cache_backward = cache
    backward_fn = getattr(recurrent, f"{cell}_backward")
    if lengths is not None and dstate_T is not None:
        raise ValueError("with lengths the forward pass returned no final state, so dstate_T must be None")
    dstate_forward, dstate_backward = (None, None) if dstate_T is None else dstate_T
    suffix_forward, suffix_backward = direction_suffixes(layer)
    dx_forward, dstate0_forward, dparams_forward = backward_fn(dhs[..., :hidden], dstate_forward, cache_forward)
    dx_reversed, dstate0_backward, dparams_backward = backward_fn(
        reverse_sequences(dhs[..., hidden:], lengths), dstate_backward, cache_backward)
    dparams = {}
    for name in PARAM_NAMES:
        dparams[name + suffix_forward] = dparams_forward[name]
        dparams[name + suffix_backward] = dparams_backward[name]
    return dx_forward + reverse_sequences(dx_reversed, lengths), (dstate0_forward, dstate0_backward), dparams
