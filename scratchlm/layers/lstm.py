"""LSTM: a cell state c carried by gates, PyTorch's nn.LSTM layout and gate order (i, f, g, o).

Forward, for t = 1 .. T (sigma is the logistic sigmoid, * is elementwise):

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (B, 4H), split into [a_i, a_f, a_g, a_o]
    i_t = sigma(a_i)    f_t = sigma(a_f)    g_t = tanh(a_g)    o_t = sigma(a_o)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Backward through time, with dh_t and dc_t the total gradients reaching h_t and c_t:

    do_t  = dh_t * tanh(c_t)
    dc_t += dh_t * o_t * (1 - tanh(c_t)^2)
    di_t  = dc_t * g_t      df_t = dc_t * c_{t-1}      dg_t = dc_t * i_t
    dc_{t-1} = dc_t * f_t
    da_t  = [di_t i_t (1 - i_t), df_t f_t (1 - f_t), dg_t (1 - g_t^2), do_t o_t (1 - o_t)]
    dx_t  = da_t W_ih       dh_{t-1} += da_t W_hh
    dW_ih = sum_t da_t^T x_t      dW_hh = sum_t da_t^T h_{t-1}      db_ih = db_hh = sum_t sum_b da_t

Shapes: B batch, T time, E input size, H hidden size. The state is the pair (h, c), each (B, H).
params = {"weight_ih": (4H, E), "weight_hh": (4H, H), "bias_ih": (4H,), "bias_hh": (4H,)}.
"""
from __future__ import annotations

from scratchlm import backend
from scratchlm.layers.activations import sigmoid
from scratchlm.layers.results import write_results
from scratchlm.layers.step_matmul import step_matmul, step_matmul_prepare
from scratchlm.validation import check_cell_input, check_cell_params, check_hidden_state, check_upstream_gradient

NUM_GATES = 4


def lstm_gates_forward(a, c_prev, out=None):
    """Kernel seam "lstm_gates_forward": the pointwise part of one LSTM step.

    Args:
        a: (B, 4H) gate pre-activations [a_i, a_f, a_g, a_o].
        c_prev: (B, H) previous cell state.
        out: optional tuple (h, c, gates, tanh_c) of arrays shaped like the results, to write
            them into (the sequence loop passes slices of its time-major buffers, which saves
            a copy of every result at every step). They must not overlap ``a`` or ``c_prev``.

    Returns:
        h: (B, H), c: (B, H),
        gates: (B, 4H) the activated gates [i, f, g, o],
        tanh_c: (B, H) tanh(c), kept for the backward pass.
        When ``out`` is given, it is returned, filled.
    """
    xp = backend.xp()
    hidden = c_prev.shape[1]
    gates = sigmoid(a)  # i, f and o are sigmoids; g is overwritten with tanh below
    gates[:, 2 * hidden : 3 * hidden] = xp.tanh(a[:, 2 * hidden : 3 * hidden])
    i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
    c = f * c_prev + i * g
    tanh_c = xp.tanh(c)
    return write_results(out, (o * tanh_c, c, gates, tanh_c))


def lstm_gates_backward(dh, dc, c_prev, gates, tanh_c, out=None):
    """Kernel seam "lstm_gates_backward": backward of lstm_gates_forward.

    Args:
        dh: (B, H) gradient reaching h_t.  dc: (B, H) gradient reaching c_t from step t+1.
        c_prev: (B, H).  gates: (B, 4H) [i, f, g, o].  tanh_c: (B, H).
        out: optional tuple (da, dc_prev) of arrays to write the results into, as in
            lstm_gates_forward; they must not overlap the inputs.

    Returns:
        da: (B, 4H) gradient of the pre-activations.
        dc_prev: (B, H) gradient reaching c_{t-1}.
        When ``out`` is given, it is returned, filled.
    """
    xp = backend.xp()
    hidden = c_prev.shape[1]
    i, f, g, o = (gates[:, k * hidden : (k + 1) * hidden] for k in range(4))
    dc_total = dc + dh * o * (1.0 - tanh_c * tanh_c)
    da = xp.empty_like(gates)
    da[:, :hidden] = dc_total * g * i * (1.0 - i)
    da[:, hidden : 2 * hidden] = dc_total * c_prev * f * (1.0 - f)
    da[:, 2 * hidden : 3 * hidden] = dc_total * i * (1.0 - g * g)
    da[:, 3 * hidden :] = dh * tanh_c * o * (1.0 - o)
    return write_results(out, (da, dc_total * f))


def _check_state(state, name, batch, hidden, dtype):
    if state is None:
        return check_hidden_state(None, name, batch, hidden, dtype), check_hidden_state(None, name, batch, hidden, dtype)
    if not isinstance(state, (tuple, list)) or len(state) != 2:
        raise TypeError(f"{name} must be the pair (h, c) of (batch, hidden_size) arrays, or None, got {type(state).__name__}")
    return (
        check_hidden_state(state[0], f"{name} h", batch, hidden, dtype),
        check_hidden_state(state[1], f"{name} c", batch, hidden, dtype),
    )


def lstm_step_forward(x, state_prev, params):
    """One LSTM step.

    Args:
        x: (B, E) input at this step.
        state_prev: (h_prev, c_prev), each (B, H), or None for zeros.
        params: the cell's parameter dict.

    Returns:
        state: (h, c), each (B, H).
        cache: for lstm_step_backward.
    """
    hidden, input_size = check_cell_params(params, NUM_GATES, "lstm")
    x = check_cell_input(x, "lstm step input", input_size, ndim=2)
    h_prev, c_prev = _check_state(state_prev, "lstm state_prev", x.shape[0], hidden, x.dtype)
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    h, c, gates, tanh_c = backend.kernel("lstm_gates_forward", lstm_gates_forward)(a, c_prev)
    return (h, c), (x, h_prev, c_prev, gates, tanh_c, params)


def lstm_step_backward(dstate, cache):
    """Backward pass of one LSTM step.

    Args:
        dstate: (dh, dc), each (B, H); dc may be None (no gradient reaches c from later steps).
        cache: from lstm_step_forward.

    Returns:
        dx: (B, E), dstate_prev: (dh_prev, dc_prev), dparams: dict keyed like params.
    """
    x, h_prev, c_prev, gates, tanh_c, params = cache
    dh, dc = dstate
    if dc is None:
        dc = backend.xp().zeros_like(c_prev)
    da, dc_prev = backend.kernel("lstm_gates_backward", lstm_gates_backward)(dh, dc, c_prev, gates, tanh_c)
    dbias = da.sum(axis=0)
    dparams = {"weight_ih": da.T @ x, "weight_hh": da.T @ h_prev, "bias_ih": dbias, "bias_hh": dbias.copy()}
    return da @ params["weight_ih"], (da @ params["weight_hh"], dc_prev), dparams


def lstm_forward(x, state0, params):
    """Run an LSTM over a whole sequence.

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
    hidden, input_size = check_cell_params(params, NUM_GATES, "lstm")
    x = check_cell_input(x, "lstm input", input_size, ndim=3)
    batch, time, _ = x.shape
    h0, c0 = _check_state(state0, "lstm state0", batch, hidden, x.dtype)
    gates_forward = backend.kernel("lstm_gates_forward", lstm_gates_forward)

    # Time-major inside, so that each step reads and writes one contiguous (B, .) block.
    x_tm = xp.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, E)
    hs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # hs_tm[t + 1] = h_t, hs_tm[0] = h0
    cs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # likewise for c
    gates_tm = xp.empty((time, batch, NUM_GATES * hidden), dtype=x.dtype)
    tanh_cs_tm = xp.empty((time, batch, hidden), dtype=x.dtype)
    hs_tm[0], cs_tm[0] = h0, c0
    # The input part W_ih x_t of a_t for every t at once, as one (T*B, E) @ (E, 4H) product (a
    # 3-D @ would loop over t with small products). It is written into the buffer that will
    # hold the gates: step t reads its part before overwriting it with the activated gates, so
    # no second (T, B, 4H) array is needed.
    xp.matmul(x_tm.reshape(time * batch, input_size), params["weight_ih"].T,
              out=gates_tm.reshape(time * batch, NUM_GATES * hidden))
    bias = params["bias_ih"] + params["bias_hh"]
    # W_hh^T, prepared once per sequence for the product that runs at every step
    # (scratchlm/layers/step_matmul.py).
    weight_hh_t = backend.kernel("step_matmul_prepare", step_matmul_prepare)(params["weight_hh"].T)
    recurrent_product = backend.kernel("step_matmul", step_matmul)
    # One buffer for every step's a_t: a fresh (B, 4H) array per step costs the allocator (and,
    # for large blocks, the kernel's page faults) more than the arithmetic around it.
    a = xp.empty((batch, NUM_GATES * hidden), dtype=x.dtype)
    for t in range(time):
        recurrent_product(hs_tm[t], weight_hh_t, out=a)
        a += gates_tm[t]  # W_ih x_t
        a += bias
        gates_forward(a, cs_tm[t], out=(hs_tm[t + 1], cs_tm[t + 1], gates_tm[t], tanh_cs_tm[t]))

    hs = xp.ascontiguousarray(hs_tm[1:].transpose(1, 0, 2))
    state_T = (hs_tm[time].copy(), cs_tm[time].copy())
    return hs, state_T, (x_tm, hs_tm, cs_tm, gates_tm, tanh_cs_tm, params)


def lstm_backward(dhs, dstate_T, cache):
    """Backpropagation through time for lstm_forward.

    Args:
        dhs: (B, T, H) gradient with respect to every output h_t.
        dstate_T: (dh_T, dc_T) gradients with respect to the returned last state (either may be
            None), or None for zeros.
        cache: from lstm_forward.

    Returns:
        dx: (B, T, E), dstate0: (dh0, dc0), dparams: dict keyed like params.
    """
    xp = backend.xp()
    x_tm, hs_tm, cs_tm, gates_tm, tanh_cs_tm, params = cache
    time, batch, input_size = x_tm.shape
    hidden = hs_tm.shape[2]
    gates_backward = backend.kernel("lstm_gates_backward", lstm_gates_backward)

    dhs = check_upstream_gradient(dhs, "lstm dhs", (batch, time, hidden), "(batch, time, hidden_size) like hs")
    dh_next, dc_next = (None, None) if dstate_T is None else dstate_T
    dh_next = check_upstream_gradient(dh_next, "lstm dh_T", (batch, hidden), "(batch, hidden_size)")
    dc_next = check_upstream_gradient(dc_next, "lstm dc_T", (batch, hidden), "(batch, hidden_size)")
    if dh_next is None:
        dh_next = xp.zeros((batch, hidden), dtype=x_tm.dtype)
    if dc_next is None:
        dc_next = xp.zeros((batch, hidden), dtype=x_tm.dtype)
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, B, H) view
    da_tm = xp.empty((time, batch, NUM_GATES * hidden), dtype=x_tm.dtype)
    weight_hh = backend.kernel("step_matmul_prepare", step_matmul_prepare)(params["weight_hh"])
    recurrent_product = backend.kernel("step_matmul", step_matmul)
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
    da_rows = da_tm.reshape(time * batch, NUM_GATES * hidden)
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
