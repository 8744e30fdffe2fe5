"""GRU: PyTorch's nn.GRU layout and gate order (r, z, n).

Forward, for t = 1 .. T, with the input part ax and the recurrent part ah kept apart because
the reset gate multiplies only the recurrent part of the candidate n:

    ax_t = W_ih x_t + b_ih,   ah_t = W_hh h_{t-1} + b_hh      (B, 3H), each split into [r, z, n] parts
    r_t = sigma(ax_r + ah_r)
    z_t = sigma(ax_z + ah_z)
    n_t = tanh(ax_n + r_t * ah_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

Backward through time, with dh_t the total gradient reaching h_t:

    dn = dh_t (1 - z_t)          dz = dh_t (h_{t-1} - n_t)
    dan = dn (1 - n_t^2)         dr = dan * ah_n
    dax = [dr r (1 - r), dz z (1 - z), dan]
    dah = [dr r (1 - r), dz z (1 - z), dan * r_t]
    dx_t = dax W_ih      dh_{t-1} = dh_t z_t + dah W_hh
    dW_ih = sum_t dax^T x_t     dW_hh = sum_t dah^T h_{t-1}     db_ih = sum dax     db_hh = sum dah

Shapes: B batch, T time, E input size, H hidden size.
params = {"weight_ih": (3H, E), "weight_hh": (3H, H), "bias_ih": (3H,), "bias_hh": (3H,)}.
"""
from __future__ import annotations

from scratchlm import backend
from scratchlm.layers.activations import sigmoid
from scratchlm.layers.step_matmul import step_matmul, step_matmul_prepare
from scratchlm.validation import check_cell_input, check_cell_params, check_hidden_state, check_upstream_gradient

NUM_GATES = 3


def gru_gates_forward(ax, ah, h_prev):
    """Kernel seam "gru_gates_forward": the pointwise part of one GRU step.

    Args:
        ax: (B, 3H) input part W_ih x_t + b_ih.
        ah: (B, 3H) recurrent part W_hh h_{t-1} + b_hh.
        h_prev: (B, H).

    Returns:
        h: (B, H) new hidden state.
        gates: (B, 3H) the activated gates [r, z, n], kept for the backward pass.
    """
    xp = backend.xp()
    hidden = h_prev.shape[1]
    gates = xp.empty_like(ax)
    gates[:, : 2 * hidden] = sigmoid(ax[:, : 2 * hidden] + ah[:, : 2 * hidden])  # r and z
    r = gates[:, :hidden]
    z = gates[:, hidden : 2 * hidden]
    gates[:, 2 * hidden :] = xp.tanh(ax[:, 2 * hidden :] + r * ah[:, 2 * hidden :])
    n = gates[:, 2 * hidden :]
    return n + z * (h_prev - n), gates


def gru_gates_backward(dh, h_prev, gates, ah_n):
    """Kernel seam "gru_gates_backward": backward of gru_gates_forward.

    Args:
        dh: (B, H) gradient reaching h_t.  h_prev: (B, H).
        gates: (B, 3H) [r, z, n].  ah_n: (B, H) the n part of ah, W_hn h_{t-1} + b_hn.

    Returns:
        dax: (B, 3H), dah: (B, 3H) gradients of the two pre-activation parts,
        dh_prev_direct: (B, H) the gradient reaching h_{t-1} through z_t * h_{t-1}
            (the path through W_hh is dah @ W_hh, added by the caller).
    """
    xp = backend.xp()
    hidden = h_prev.shape[1]
    r = gates[:, :hidden]
    z = gates[:, hidden : 2 * hidden]
    n = gates[:, 2 * hidden :]
    dan = dh * (1.0 - z) * (1.0 - n * n)
    dax = xp.empty_like(gates)
    dax[:, :hidden] = dan * ah_n * r * (1.0 - r)
    dax[:, hidden : 2 * hidden] = dh * (h_prev - n) * z * (1.0 - z)
    dax[:, 2 * hidden :] = dan
    dah = dax.copy()
    dah[:, 2 * hidden :] = dan * r
    return dax, dah, dh * z


def gru_step_forward(x, h_prev, params):
    """One GRU step.

    Args:
        x: (B, E) input at this step.
        h_prev: (B, H) previous hidden state, or None for zeros.
        params: the cell's parameter dict.

    Returns:
        h: (B, H) new hidden state.
        cache: for gru_step_backward.
    """
    hidden, input_size = check_cell_params(params, NUM_GATES, "gru")
    x = check_cell_input(x, "gru step input", input_size, ndim=2)
    h_prev = check_hidden_state(h_prev, "gru h_prev", x.shape[0], hidden, x.dtype)
    ax = x @ params["weight_ih"].T + params["bias_ih"]
    ah = h_prev @ params["weight_hh"].T + params["bias_hh"]
    h, gates = backend.kernel("gru_gates_forward", gru_gates_forward)(ax, ah, h_prev)
    return h, (x, h_prev, gates, ah[:, 2 * hidden :], params)


def gru_step_backward(dh, cache):
    """Backward pass of one GRU step.

    Args:
        dh: (B, H) gradient with respect to h.
        cache: from gru_step_forward.

    Returns:
        dx: (B, E), dh_prev: (B, H), dparams: dict keyed like params.
    """
    x, h_prev, gates, ah_n, params = cache
    dax, dah, dh_prev = backend.kernel("gru_gates_backward", gru_gates_backward)(dh, h_prev, gates, ah_n)
    dparams = {
        "weight_ih": dax.T @ x,
        "weight_hh": dah.T @ h_prev,
        "bias_ih": dax.sum(axis=0),
        "bias_hh": dah.sum(axis=0),
    }
    return dax @ params["weight_ih"], dh_prev + dah @ params["weight_hh"], dparams


def gru_forward(x, h0, params):
    """Run a GRU over a whole sequence.

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
    hidden, input_size = check_cell_params(params, NUM_GATES, "gru")
    x = check_cell_input(x, "gru input", input_size, ndim=3)
    batch, time, _ = x.shape
    h0 = check_hidden_state(h0, "gru h0", batch, hidden, x.dtype)
    gates_forward = backend.kernel("gru_gates_forward", gru_gates_forward)

    # Time-major inside, so that each step reads and writes one contiguous (B, .) block.
    x_tm = xp.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, E)
    # (T, B, 3H): the input part for every t at once,
    # as one (T*B, E) @ (E, G*H) product (a 3-D @ would loop over t with small products)
    ax = (x_tm.reshape(time * batch, -1) @ params["weight_ih"].T).reshape(time, batch, -1)
    ax += params["bias_ih"]
    hs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # hs_tm[t + 1] = h_t, hs_tm[0] = h0
    gates_tm = xp.empty((time, batch, NUM_GATES * hidden), dtype=x.dtype)
    ah_n_tm = xp.empty((time, batch, hidden), dtype=x.dtype)
    hs_tm[0] = h0
    # W_hh^T, prepared once per sequence for the product that runs at every step
    # (scratchlm/layers/step_matmul.py).
    weight_hh_t = backend.kernel("step_matmul_prepare", step_matmul_prepare)(params["weight_hh"].T)
    recurrent_product = backend.kernel("step_matmul", step_matmul)
    bias_hh = params["bias_hh"]
    ah = xp.empty((batch, NUM_GATES * hidden), dtype=x.dtype)  # reused by every step
    for t in range(time):
        recurrent_product(hs_tm[t], weight_hh_t, out=ah)
        ah += bias_hh
        hs_tm[t + 1], gates_tm[t] = gates_forward(ax[t], ah, hs_tm[t])
        ah_n_tm[t] = ah[:, 2 * hidden :]

    hs = xp.ascontiguousarray(hs_tm[1:].transpose(1, 0, 2))
    return hs, hs_tm[time].copy(), (x_tm, hs_tm, gates_tm, ah_n_tm, params)


def gru_backward(dhs, dh_T, cache):
    """Backpropagation through time for gru_forward.

    Args:
        dhs: (B, T, H) gradient with respect to every hidden state output hs.
        dh_T: (B, H) gradient with respect to the returned last state, or None for zeros.
        cache: from gru_forward.

    Returns:
        dx: (B, T, E), dh0: (B, H), dparams: dict keyed like params.
    """
    xp = backend.xp()
    x_tm, hs_tm, gates_tm, ah_n_tm, params = cache
    time, batch, input_size = x_tm.shape
    hidden = hs_tm.shape[2]
    gates_backward = backend.kernel("gru_gates_backward", gru_gates_backward)

    dhs = check_upstream_gradient(dhs, "gru dhs", (batch, time, hidden), "(batch, time, hidden_size) like hs")
    dh_T = check_upstream_gradient(dh_T, "gru dh_T", (batch, hidden), "(batch, hidden_size)")
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, B, H) view
    dax_tm = xp.empty((time, batch, NUM_GATES * hidden), dtype=x_tm.dtype)
    dah_tm = xp.empty((time, batch, NUM_GATES * hidden), dtype=x_tm.dtype)
    dh_next = xp.zeros((batch, hidden), dtype=x_tm.dtype) if dh_T is None else dh_T
    weight_hh = backend.kernel("step_matmul_prepare", step_matmul_prepare)(params["weight_hh"])
    recurrent_product = backend.kernel("step_matmul", step_matmul)
    dh_prev = xp.empty((batch, hidden), dtype=x_tm.dtype)  # reused by every step
    for t in reversed(range(time)):
        dh = dhs_tm[t] + dh_next
        dax_tm[t], dah_tm[t], dh_direct = gates_backward(dh, hs_tm[t], gates_tm[t], ah_n_tm[t])
        dh_next = recurrent_product(dah_tm[t], weight_hh, out=dh_prev)
        dh_next += dh_direct

    # All steps' weight gradients in one product each: rows are the (t, b) pairs.
    dax_rows = dax_tm.reshape(time * batch, NUM_GATES * hidden)
    dah_rows = dah_tm.reshape(time * batch, NUM_GATES * hidden)
    dparams = {
        "weight_ih": dax_rows.T @ x_tm.reshape(time * batch, input_size),
        "weight_hh": dah_rows.T @ hs_tm[:time].reshape(time * batch, hidden),
        "bias_ih": dax_rows.sum(axis=0),
        "bias_hh": dah_rows.sum(axis=0),
    }
    dx_tm = (dax_rows @ params["weight_ih"]).reshape(time, batch, input_size)
    dx = xp.ascontiguousarray(dx_tm.transpose(1, 0, 2))
    return dx, dh_next, dparams
