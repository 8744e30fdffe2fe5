"""Backpropagation through time: over whole sequences, or truncated to a window.

Full BPTT (short items: names, sentences). Each batch of padded items is one forward pass from
the zero state and one backward pass over every step; the state is reset between batches because
every item is a sequence of its own::

    loss, grads, _ = model.loss_and_grads(inputs, targets, state=None, mask=mask)

Truncated BPTT (one long stream of text). Backpropagating through a million characters is
neither affordable nor useful, so TBPTT(k1, k2) (Williams & Peng 1990; Sutskever 2013, sec. 2.8.6)
runs the forward pass on, and on, and every k1 steps makes an update whose backward pass reaches
k2 >= k1 steps into the past, with the loss of the k1 newest steps only::

    stream:      x_0 x_1 ... x_{t-k2} ... x_{t-k1} ... x_{t-1} | x_t ...
                              |<-------- backward k2 -------->|
                                           |<- loss on k1 ->|

k1 = k2 (Zaremba et al. 2014's chunks of 35 steps) is the usual case: the stream is cut into
windows of k1 steps, every step's loss is counted once, and the last state of one window is the
first state of the next. With k2 > k1 consecutive windows overlap by k2 - k1 steps, so the early
steps of each loss term see more of the past than a chunk boundary would allow.

The cut. The state that enters a window carries the *values* of everything before it, but the
backward pass stops at the window's first step: the gradient with respect to that state
(``dstate0``) is thrown away. :func:`detach_state` is that cut as a named step: an autograd
framework spells it ``h.detach()``; here it copies the arrays so that nothing computed inside the
next window can reach back into the previous one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def detach_state(state):
    """The recurrent state as values only: no gradient will flow back through it.

    ``state`` is h (num_layers, B, H) for an RNN or GRU, the tuple (h, c) for an LSTM, or None.
    The backward pass of the window that starts from the returned arrays ends at its first step.
    """
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(part.copy() for part in state)
    return state.copy()


@dataclass(frozen=True)
class Window:
    """One TBPTT update over the stream's time steps ``[first, stop)``.

    Attributes:
        first: the step where the forward/backward window starts (its state is detached).
        loss_from: the loss counts the predictions at steps ``[loss_from, stop)`` (at most k1).
        stop: one past the window's last step; the update happens here.
        next_first: where the next window starts; the state at that step is carried to it.
    """

    first: int
    loss_from: int
    stop: int
    next_first: int


def tbptt_windows(num_steps: int, k1: int, k2: int | None = None) -> list[Window]:
    """The updates of TBPTT(k1, k2) over a stream of ``num_steps`` predictions.

    Updates happen at steps k1, 2*k1, ... and at the end of the stream (a last, shorter chunk).
    Each backpropagates over ``k2 - k1`` steps before its loss span, fewer at the very start.

    >>> [(w.first, w.loss_from, w.stop) for w in tbptt_windows(10, k1=4)]
    [(0, 0, 4), (4, 4, 8), (8, 8, 10)]
    >>> [(w.first, w.loss_from, w.stop) for w in tbptt_windows(10, k1=4, k2=6)]
    [(0, 0, 4), (2, 4, 8), (6, 8, 10)]
    """
    k2 = k1 if k2 is None else k2
    if not (isinstance(k1, int) and isinstance(k2, int) and 1 <= k1 <= k2):
        raise ValueError(f"TBPTT needs whole numbers 1 <= k1 <= k2, got k1={k1!r}, k2={k2!r}")
    if num_steps < 1:
        raise ValueError(f"a stream needs at least one prediction step, got {num_steps}")
    if k1 > num_steps:
        raise ValueError(f"bptt k1 = {k1} steps is longer than the data: each stream has only "
                         f"{num_steps} steps (use a smaller bptt or a smaller batch size)")
    overlap = k2 - k1
    windows = []
    for loss_from in range(0, num_steps, k1):
        stop = min(loss_from + k1, num_steps)
        windows.append(Window(first=max(0, loss_from - overlap), loss_from=loss_from, stop=stop,
                              next_first=max(0, stop - overlap)))
    return windows


def tbptt_update(model, streams, window: Window, state):
    """Forward and backward over one TBPTT window; the state carried to the next window.

    Args:
        model: an RNNLM (``forward`` and ``loss_and_grads``).
        streams: (B, N + 1) int token ids, B parallel streams; inputs are ``streams[:, :-1]``
            and the targets ``streams[:, 1:]``, so step t reads token t and predicts token t+1.
        window: the update, from :func:`tbptt_windows`.
        state: the recurrent state at step ``window.first`` (None at the start of the streams).

    Returns:
        loss: mean NLL (nats) over the B * (stop - loss_from) predictions of the loss span.
        grads: dict keyed like ``model.params``, backpropagated over ``[first, stop)`` only.
        next_state: the detached state at step ``window.next_first``. With k2 > k1 that step lies
            inside the window, and a forward-only pass over the window's first k1 steps computes
            it (in training mode that pass draws its own dropout masks).
        num_predictions: B * (stop - loss_from), what ``loss`` is the mean over.
    """
    inputs = streams[:, window.first:window.stop]
    targets = streams[:, window.first + 1:window.stop + 1]
    batch = inputs.shape[0]
    mask = None
    if window.loss_from > window.first:
        # the first k2 - k1 steps are context for the backward pass; their loss was counted
        # by the previous update already
        mask = _mask_from(window.loss_from - window.first, inputs.shape)
    loss, grads, end_state = model.loss_and_grads(inputs, targets, state=state, mask=mask)
    if window.next_first == window.stop:
        next_state = end_state
    elif window.next_first == window.first:
        next_state = state
    else:
        _, next_state = model.forward(inputs[:, : window.next_first - window.first], state=state)
    return loss, grads, detach_state(next_state), batch * (window.stop - window.loss_from)


def _mask_from(first_counted: int, shape):
    """(B, T) bool mask that is False before time ``first_counted`` and True from there on."""
    mask = np.ones(shape, dtype=bool)
    mask[:, :first_counted] = False
    return mask


def full_bptt_update(model, inputs, targets, mask=None):
    """Forward and backward over whole sequences, from the zero state (items: names, sentences).

    Args:
        inputs: (B, T) int, each row ``<bos> w_1 ... w_n`` padded with ``<pad>``.
        targets: (B, T) int, each row ``w_1 ... w_n <eos>`` padded.
        mask: (B, T) bool, True where a prediction counts (not padding); None = all count.

    Returns:
        loss: mean NLL over the counted predictions; grads: dict keyed like ``model.params``;
        num_predictions: how many predictions the mean is over.
    """
    loss, grads, _ = model.loss_and_grads(inputs, targets, state=None, mask=mask)
    counted = int(mask.sum()) if mask is not None else inputs.shape[0] * inputs.shape[1]
    return loss, grads, counted
