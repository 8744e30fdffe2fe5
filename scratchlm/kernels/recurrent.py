"""The engine's recurrent ops: whole-sequence forward and backward passes, time-major inside.

Same contract as the textbook functions in ``scratchlm/layers/rnn.py``, ``lstm.py`` and ``gru.py``
(same arguments, same results; the cache is this module's own and goes only to the backward of
the same module), and the same equations, which are in those files' docstrings. What changes is
how the work is laid out:

* time-major buffers (T, B, .), so that each step reads and writes one contiguous (B, .) block;
* the input part W_ih x_t for every t at once, as one (T*B, E) @ (E, G*H) product before the
  loop, and the weight gradients as one product over all (t, b) rows after it; only the recurrent
  product, which truly depends on the previous step, runs inside the loop;
* buffers reused by every step and results written into them with ``out=`` (a fresh (B, G*H)
  array per step costs the allocator more than the arithmetic around it);
* the pointwise gate math and the step product are *pieces*, looked up once per call with
  :func:`scratchlm.kernels.pieces`, so the numba and cupy backends run their own kernels inside
  this same loop; a sequence of a single step (generation feeds one token at a time) multiplies
  by W_hh as it is, because preparing it for the step product costs more than one product
  (:func:`_step_product`).

The sums over time that the textbook writes as ``grads[name] += step_grads[name]`` are here the
products over the reshaped (T*B) rows. Inputs are not checked here: a model checks its inputs
once, at its entry, and the textbook functions check theirs.
"""
from __future__ import annotations

from scratchlm import backend, kernels


def _zeros_if_none(array, shape, dtype):
    return backend.xp().zeros(shape, dtype=dtype) if array is None else array


def _step_product(piece, weight, steps):
    """The product x @ ``weight`` that each of ``steps`` steps runs, and the operand to hand it.

    Over a sequence the backend's step product runs, with the weight prepared once for it
    (kernels/step_matmul.py: a contiguous copy, or the numba backend's packed panels). Preparing
    reads and writes the whole matrix, which pays off over many steps but costs several times the
    one product of a single step, and a single step is what generation runs for every token.
    (The weight is the same from token to token, but an optimizer may have updated it in place
    since the last call, so nothing prepared can be kept.) So one step multiplies by ``weight``
    as it is: BLAS reads a transposed view such as W_hh.T through its transpose flag. Measured
    with one thread (AMD EPYC, avx2): (8, 256) @ W_hh.T with W_hh (1024, 256) float32 takes
    100 us by the view or by a contiguous copy, and making the copy takes 400 us.
    """
    if steps == 1:
        return backend.xp().matmul, weight
    return piece["step_matmul"], piece["step_matmul_prepare"](weight)


def rnn_forward(x, h0, params):
    """Run an Elman RNN over a whole sequence: the engine's ``rnn_forward`` (contract: ``scratchlm.layers.rnn``).

    Args:
        x: (B, T, E) inputs.
        h0: (B, H) initial hidden state, or None for zeros.
        params: the cell's parameter dict.

    Returns:
        hs: (B, T, H) hidden state at every step.
        h_T: (B, H) the last hidden state (to carry into the next window).
        cache: for rnn_backward.
    """
    xp = backend.xp()
    hidden, input_size = params["weight_hh"].shape[1], params["weight_ih"].shape[1]
    piece = kernels.pieces(backend.name())
    batch, time, _ = x.shape
    h0 = _zeros_if_none(h0, (batch, hidden), x.dtype)
    gates_forward = piece["rnn_gates_forward"]

    # Time-major inside, so that each step reads and writes one contiguous (B, .) block.
    x_tm = xp.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, E)
    # (T, B, H): the input part of a_t for every t at once,
    # as one (T*B, E) @ (E, G*H) product (a 3-D @ would loop over t with small products)
    ax = (x_tm.reshape(time * batch, -1) @ params["weight_ih"].T).reshape(time, batch, -1)
    ax += params["bias_ih"] + params["bias_hh"]
    hs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # hs_tm[t + 1] = h_t, hs_tm[0] = h0
    hs_tm[0] = h0
    # W_hh^T, prepared once per sequence for the product that runs at every step.
    recurrent_product, weight_hh_t = _step_product(piece, params["weight_hh"].T, time)
    a = xp.empty((batch, hidden), dtype=x.dtype)  # reused by every step
    for t in range(time):
        recurrent_product(hs_tm[t], weight_hh_t, out=a)
        a += ax[t]
        hs_tm[t + 1] = gates_forward(a)

    hs = xp.ascontiguousarray(hs_tm[1:].transpose(1, 0, 2))
    return hs, hs_tm[time].copy(), (x_tm, hs_tm, params)


def rnn_backward(dhs, dh_T, cache):
    """Backpropagation through time for this module's rnn_forward (contract: ``scratchlm.layers.rnn``).

    Args:
        dhs: (B, T, H) gradient with respect to every hidden state output hs.
        dh_T: (B, H) gradient with respect to the returned last state, or None for zeros.
        cache: from rnn_forward.

    Returns:
        dx: (B, T, E), dh0: (B, H), dparams: dict keyed like params.
    """
    xp = backend.xp()
    piece = kernels.pieces(backend.name())
    x_tm, hs_tm, params = cache
    time, batch, input_size = x_tm.shape
    hidden = hs_tm.shape[2]
    gates_backward = piece["rnn_gates_backward"]

    dhs_tm = dhs.transpose(1, 0, 2)  # (T, B, H) view
    da_tm = xp.empty((time, batch, hidden), dtype=x_tm.dtype)
    dh_next = xp.zeros((batch, hidden), dtype=x_tm.dtype) if dh_T is None else dh_T
    recurrent_product, weight_hh = _step_product(piece, params["weight_hh"], time)
    dh_prev = xp.empty((batch, hidden), dtype=x_tm.dtype)  # reused by every step
    for t in reversed(range(time)):
        dh = dhs_tm[t] + dh_next
        da_tm[t] = gates_backward(dh, hs_tm[t + 1])
        dh_next = recurrent_product(da_tm[t], weight_hh, out=dh_prev)

    # All steps' weight gradients in one product each: rows are the (t, b) pairs.
    da_rows = da_tm.reshape(time * batch, hidden)
    dbias = da_rows.sum(axis=0)
    dparams = {
        "weight_ih": da_rows.T @ x_tm.reshape(time * batch, input_size),
        "weight_hh": da_rows.T @ hs_tm[:time].reshape(time * batch, hidden),
        "bias_ih": dbias,
        "bias_hh": dbias.copy(),
    }
    dx_tm = (da_rows @ params["weight_ih"]).reshape(time, batch, input_size)
    dx = xp.ascontiguousarray(dx_tm.transpose(1, 0, 2))
    return dx, dh_next, dparams


def lstm_forward(x, state0, params):
    """Run an LSTM over a whole sequence: the engine's ``lstm_forward`` (contract: ``scratchlm.layers.lstm``).

    Args:
        x: (B, T, E) inputs.
        state0: (h0, c0), each (B, H), or None for zeros.
        params: the cell's parameter dict.

    Returns:
        hs: (B, T, H) the output h_t at every step.
        state_T: (h_T, c_T), each (B, H), to carry into the next window.
        cache: for lstm_backward.
    """
    xp = backend.xp()
    hidden, input_size = params["weight_hh"].shape[1], params["weight_ih"].shape[1]
    piece = kernels.pieces(backend.name())
    batch, time, _ = x.shape
    h0, c0 = (None, None) if state0 is None else state0
    h0, c0 = _zeros_if_none(h0, (batch, hidden), x.dtype), _zeros_if_none(c0, (batch, hidden), x.dtype)
    gates_forward = piece["lstm_gates_forward"]

    # Time-major inside, so that each step reads and writes one contiguous (B, .) block.
    x_tm = xp.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, E)
    hs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # hs_tm[t + 1] = h_t, hs_tm[0] = h0
    cs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # likewise for c
    gates_tm = xp.empty((time, batch, 4 * hidden), dtype=x.dtype)
    tanh_cs_tm = xp.empty((time, batch, hidden), dtype=x.dtype)
    hs_tm[0], cs_tm[0] = h0, c0
    # The input part W_ih x_t of a_t for every t at once, as one (T*B, E) @ (E, 4H) product (a
    # 3-D @ would loop over t with small products). It is written into the buffer that will
    # hold the gates: step t reads its part before overwriting it with the activated gates, so
    # no second (T, B, 4H) array is needed.
    xp.matmul(x_tm.reshape(time * batch, input_size), params["weight_ih"].T,
              out=gates_tm.reshape(time * batch, 4 * hidden))
    bias = params["bias_ih"] + params["bias_hh"]
    # W_hh^T, prepared once per sequence for the product that runs at every step.
    recurrent_product, weight_hh_t = _step_product(piece, params["weight_hh"].T, time)
    # One buffer for every step's a_t: a fresh (B, 4H) array per step costs the allocator (and,
    # for large blocks, the kernel's page faults) more than the arithmetic around it.
    a = xp.empty((batch, 4 * hidden), dtype=x.dtype)
    for t in range(time):
        recurrent_product(hs_tm[t], weight_hh_t, out=a)
        a += gates_tm[t]  # W_ih x_t
        a += bias
        gates_forward(a, cs_tm[t], out=(hs_tm[t + 1], cs_tm[t + 1], gates_tm[t], tanh_cs_tm[t]))

    hs = xp.ascontiguousarray(hs_tm[1:].transpose(1, 0, 2))
    state_T = (hs_tm[time].copy(), cs_tm[time].copy())
    return hs, state_T, (x_tm, hs_tm, cs_tm, gates_tm, tanh_cs_tm, params)


def lstm_backward(dhs, dstate_T, cache):
    """Backpropagation through time for this module's lstm_forward (contract: ``scratchlm.layers.lstm``).

    Args:
        dhs: (B, T, H) gradient with respect to every output h_t.
        dstate_T: (dh_T, dc_T) gradients with respect to the returned last state (either may be
            None), or None for zeros.
        cache: from lstm_forward.

    Returns:
        dx: (B, T, E), dstate0: (dh0, dc0), dparams: dict keyed like params.
    """
    xp = backend.xp()
    piece = kernels.pieces(backend.name())
    x_tm, hs_tm, cs_tm, gates_tm, tanh_cs_tm, params = cache
    time, batch, input_size = x_tm.shape
    hidden = hs_tm.shape[2]
    gates_backward = piece["lstm_gates_backward"]

    dh_next, dc_next = (None, None) if dstate_T is None else dstate_T
    dh_next = _zeros_if_none(dh_next, (batch, hidden), x_tm.dtype)
    dc_next = _zeros_if_none(dc_next, (batch, hidden), x_tm.dtype)
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, B, H) view
    da_tm = xp.empty((time, batch, 4 * hidden), dtype=x_tm.dtype)
    recurrent_product, weight_hh = _step_product(piece, params["weight_hh"], time)
    # Buffers reused by every step, as a is in the forward pass. dc_{t-1} is written into the
    # one of the pair that does not hold dc_t (a kernel's outputs must not overlap its inputs).
    dh = xp.empty((batch, hidden), dtype=x_tm.dtype)
    dh_prev = xp.empty((batch, hidden), dtype=x_tm.dtype)
    dc_pair = (xp.empty((batch, hidden), dtype=x_tm.dtype), xp.empty((batch, hidden), dtype=x_tm.dtype))
    for t in reversed(range(time)):
        xp.add(dhs_tm[t], dh_next, out=dh)
        _, dc_next = gates_backward(dh, dc_next, cs_tm[t], gates_tm[t], tanh_cs_tm[t], out=(da_tm[t], dc_pair[t % 2]))
        dh_next = recurrent_product(da_tm[t], weight_hh, out=dh_prev)

    # All steps' weight gradients in one product each: rows are the (t, b) pairs.
    da_rows = da_tm.reshape(time * batch, 4 * hidden)
    dbias = da_rows.sum(axis=0)
    dparams = {
        "weight_ih": da_rows.T @ x_tm.reshape(time * batch, input_size),
        "weight_hh": da_rows.T @ hs_tm[:time].reshape(time * batch, hidden),
        "bias_ih": dbias,
        "bias_hh": dbias.copy(),
    }
    dx_tm = (da_rows @ params["weight_ih"]).reshape(time, batch, input_size)
    dx = xp.ascontiguousarray(dx_tm.transpose(1, 0, 2))
    return dx, (dh_next, dc_next), dparams


def gru_forward(x, h0, params):
    """Run a GRU over a whole sequence: the engine's ``gru_forward`` (contract: ``scratchlm.layers.gru``).

    Args:
        x: (B, T, E) inputs.
        h0: (B, H) initial hidden state, or None for zeros.
        params: the cell's parameter dict.

    Returns:
        hs: (B, T, H) hidden state at every step.
        h_T: (B, H) the last hidden state.
        cache: for gru_backward.
    """
    xp = backend.xp()
    hidden, input_size = params["weight_hh"].shape[1], params["weight_ih"].shape[1]
    piece = kernels.pieces(backend.name())
    batch, time, _ = x.shape
    h0 = _zeros_if_none(h0, (batch, hidden), x.dtype)
    gates_forward = piece["gru_gates_forward"]

    # Time-major inside, so that each step reads and writes one contiguous (B, .) block.
    x_tm = xp.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, E)
    # (T, B, 3H): the input part for every t at once,
    # as one (T*B, E) @ (E, G*H) product (a 3-D @ would loop over t with small products)
    ax = (x_tm.reshape(time * batch, -1) @ params["weight_ih"].T).reshape(time, batch, -1)
    ax += params["bias_ih"]
    hs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # hs_tm[t + 1] = h_t, hs_tm[0] = h0
    gates_tm = xp.empty((time, batch, 3 * hidden), dtype=x.dtype)
    ah_n_tm = xp.empty((time, batch, hidden), dtype=x.dtype)
    hs_tm[0] = h0
    # W_hh^T, prepared once per sequence for the product that runs at every step.
    recurrent_product, weight_hh_t = _step_product(piece, params["weight_hh"].T, time)
    bias_hh = params["bias_hh"]
    ah = xp.empty((batch, 3 * hidden), dtype=x.dtype)  # reused by every step
    for t in range(time):
        recurrent_product(hs_tm[t], weight_hh_t, out=ah)
        ah += bias_hh
        hs_tm[t + 1], gates_tm[t] = gates_forward(ax[t], ah, hs_tm[t])
        ah_n_tm[t] = ah[:, 2 * hidden :]

    hs = xp.ascontiguousarray(hs_tm[1:].transpose(1, 0, 2))
    return hs, hs_tm[time].copy(), (x_tm, hs_tm, gates_tm, ah_n_tm, params)


def gru_backward(dhs, dh_T, cache):
    """Backpropagation through time for this module's gru_forward (contract: ``scratchlm.layers.gru``).

    Args:
        dhs: (B, T, H) gradient with respect to every hidden state output hs.
        dh_T: (B, H) gradient with respect to the returned last state, or None for zeros.
        cache: from gru_forward.

    Returns:
        dx: (B, T, E), dh0: (B, H), dparams: dict keyed like params.
    """
    xp = backend.xp()
    piece = kernels.pieces(backend.name())
    x_tm, hs_tm, gates_tm, ah_n_tm, params = cache
    time, batch, input_size = x_tm.shape
    hidden = hs_tm.shape[2]
    gates_backward = piece["gru_gates_backward"]

    dhs_tm = dhs.transpose(1, 0, 2)  # (T, B, H) view
    dax_tm = xp.empty((time, batch, 3 * hidden), dtype=x_tm.dtype)
    dah_tm = xp.empty((time, batch, 3 * hidden), dtype=x_tm.dtype)
    dh_next = xp.zeros((batch, hidden), dtype=x_tm.dtype) if dh_T is None else dh_T
    recurrent_product, weight_hh = _step_product(piece, params["weight_hh"], time)
    dh_prev = xp.empty((batch, hidden), dtype=x_tm.dtype)  # reused by every step
    for t in reversed(range(time)):
        dh = dhs_tm[t] + dh_next
        dax_tm[t], dah_tm[t], dh_direct = gates_backward(dh, hs_tm[t], gates_tm[t], ah_n_tm[t])
        dh_next = recurrent_product(dah_tm[t], weight_hh, out=dh_prev)
        dh_next += dh_direct

    # All steps' weight gradients in one product each: rows are the (t, b) pairs.
    dax_rows = dax_tm.reshape(time * batch, 3 * hidden)
    dah_rows = dah_tm.reshape(time * batch, 3 * hidden)
    dparams = {
        "weight_ih": dax_rows.T @ x_tm.reshape(time * batch, input_size),
        "weight_hh": dah_rows.T @ hs_tm[:time].reshape(time * batch, hidden),
        "bias_ih": dax_rows.sum(axis=0),
        "bias_hh": dah_rows.sum(axis=0),
    }
    dx_tm = (dax_rows @ params["weight_ih"]).reshape(time, batch, input_size)
    dx = xp.ascontiguousarray(dx_tm.transpose(1, 0, 2))
    return dx, dh_next, dparams
