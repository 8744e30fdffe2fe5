"""Elman RNN: one tanh layer fed with the input and its own previous output.

Forward, for t = 1 .. T, with PyTorch's names and layout (nn.RNN, nonlinearity tanh):

    a_t = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (B, H)
    h_t = tanh(a_t)                                     (B, H)

Backward through time, with dh_t the total gradient reaching h_t (from the output at step t plus
what flows back from step t+1):

    da_t      = dh_t * (1 - h_t^2)
    dx_t      = da_t W_ih            dh_{t-1} += da_t W_hh
    dW_ih     = sum_t da_t^T x_t     dW_hh     = sum_t da_t^T h_{t-1}
    db_ih     = db_hh = sum_t sum_b da_t

Shapes: B batch, T time, E input size, H hidden size.
params = {"weight_ih": (H, E), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}.

The sequence functions compute the input projection W_ih x_t for all t in one matrix product
before the loop and the weight gradients in one product after it; only the recurrent part,
which truly depends on the previous step, runs inside the loop.
"""
from __future__ import annotations

from scratchlm import backend
from scratchlm.layers.step_matmul import step_matmul, step_matmul_prepare
from scratchlm.validation import check_cell_input, check_cell_params, check_hidden_state, check_upstream_gradient

NUM_GATES = 1


def rnn_gates_forward(a):
    """Kernel seam "rnn_gates_forward": h = tanh(a); a and h are (B, H)."""
    return backend.xp().tanh(a)


def rnn_gates_backward(dh, h):
    """Kernel seam "rnn_gates_backward": da = dh * (1 - h^2); all (B, H)."""
    return dh * (1.0 - h * h)


def rnn_step_forward(x, h_prev, params):
    """One Elman step.

    Args:
        x: (B, E) input at this step.
        h_prev: (B, H) previous hidden state (None = zeros).
        params: the cell's parameter dict (see the module docstring).

    Returns:
        h: (B, H) new hidden state.
        cache: for rnn_step_backward.
    """
    hidden, input_size = check_cell_params(params, NUM_GATES, "rnn")
    x = check_cell_input(x, "rnn step input", input_size, ndim=2)
    h_prev = check_hidden_state(h_prev, "rnn h_prev", x.shape[0], hidden, x.dtype)
    a = x @ params["weight_ih"].T + params["bias_ih"] + h_prev @ params["weight_hh"].T + params["bias_hh"]
    h = backend.kernel("rnn_gates_forward", rnn_gates_forward)(a)
    return h, (x, h_prev, h, params)


def rnn_step_backward(dh, cache):
    """Backward pass of one Elman step.

    Args:
        dh: (B, H) gradient of the loss with respect to h.
        cache: from rnn_step_forward.

    Returns:
        dx: (B, E), dh_prev: (B, H), dparams: dict keyed like params.
    """
    x, h_prev, h, params = cache
    da = backend.kernel("rnn_gates_backward", rnn_gates_backward)(dh, h)
    dbias = da.sum(axis=0)
    dparams = {"weight_ih": da.T @ x, "weight_hh": da.T @ h_prev, "bias_ih": dbias, "bias_hh": dbias.copy()}
    return da @ params["weight_ih"], da @ params["weight_hh"], dparams


def rnn_forward(x, h0, params):
    """Run an Elman RNN over a whole sequence.

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
    hidden, input_size = check_cell_params(params, NUM_GATES, "rnn")
    x = check_cell_input(x, "rnn input", input_size, ndim=3)
    batch, time, _ = x.shape
    h0 = check_hidden_state(h0, "rnn h0", batch, hidden, x.dtype)
    gates_forward = backend.kernel("rnn_gates_forward", rnn_gates_forward)

    # Time-major inside, so that each step reads and writes one contiguous (B, .) block.
    x_tm = xp.ascontiguousarray(x.transpose(1, 0, 2))  # (T, B, E)
    # (T, B, H): the input part of a_t for every t at once,
    # as one (T*B, E) @ (E, G*H) product (a 3-D @ would loop over t with small products)
    ax = (x_tm.reshape(time * batch, -1) @ params["weight_ih"].T).reshape(time, batch, -1)
    ax += params["bias_ih"] + params["bias_hh"]
    hs_tm = xp.empty((time + 1, batch, hidden), dtype=x.dtype)  # hs_tm[t + 1] = h_t, hs_tm[0] = h0
    hs_tm[0] = h0
    # W_hh^T, prepared once per sequence for the product that runs at every step
    # (scratchlm/layers/step_matmul.py).
    weight_hh_t = backend.kernel("step_matmul_prepare", step_matmul_prepare)(params["weight_hh"].T)
    recurrent_product = backend.kernel("step_matmul", step_matmul)
    a = xp.empty((batch, hidden), dtype=x.dtype)  # reused by every step
    for t in range(time):
        recurrent_product(hs_tm[t], weight_hh_t, out=a)
        a += ax[t]
        hs_tm[t + 1] = gates_forward(a)

    hs = xp.ascontiguousarray(hs_tm[1:].transpose(1, 0, 2))
    return hs, hs_tm[time].copy(), (x_tm, hs_tm, params)


def rnn_backward(dhs, dh_T, cache):
    """Backpropagation through time for rnn_forward.

    Args:
        dhs: (B, T, H) gradient with respect to every hidden state output hs.
        dh_T: (B, H) gradient with respect to the returned last state, or None for zeros.
        cache: from rnn_forward.

    Returns:
        dx: (B, T, E), dh0: (B, H), dparams: dict keyed like params.
    """
    xp = backend.xp()
    x_tm, hs_tm, params = cache
    time, batch, input_size = x_tm.shape
    hidden = hs_tm.shape[2]
    gates_backward = backend.kernel("rnn_gates_backward", rnn_gates_backward)

    dhs = check_upstream_gradient(dhs, "rnn dhs", (batch, time, hidden), "(batch, time, hidden_size) like hs")
    dh_T = check_upstream_gradient(dh_T, "rnn dh_T", (batch, hidden), "(batch, hidden_size)")
    dhs_tm = dhs.transpose(1, 0, 2)  # (T, B, H) view
    da_tm = xp.empty((time, batch, hidden), dtype=x_tm.dtype)
    dh_next = xp.zeros((batch, hidden), dtype=x_tm.dtype) if dh_T is None else dh_T
    weight_hh = backend.kernel("step_matmul_prepare", step_matmul_prepare)(params["weight_hh"])
    recurrent_product = backend.kernel("step_matmul", step_matmul)
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
