"""Exercise 4: the backward pass of one LSTM step.

The forward pass (``scratchlm.exercises.forward.lstm_step_forward``), gates in PyTorch's order:

    a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh      (B, 4H): blocks i | f | g | o of H columns each
    i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
    c = f * c_prev + i * g
    h = o * tanh(c)

Your task: given dL/dh and dL/dc (the cell state also flows on to the next step, so it has its
own upstream gradient), compute dL/dx, dL/dh_prev, dL/dc_prev and the four parameter gradients.

Work from the output back: h -> (o, c); then c collects two gradients (through h and from the
next step); c -> (f, c_prev, i, g); each gate -> its block of a (sigmoid'(a) = s (1 - s),
tanh'(a) = 1 - t^2); finally a -> x, h_prev and the parameters, as in the Elman step. Put the
four blocks of da back together in the order i, f, g, o.

Check your answer with
    scratchlm.exercises.check("lstm_step_backward", lstm_step_backward)
The checker tells you which gate's rows of W_ih, W_hh and the biases are wrong.
"""
import numpy as np


def lstm_step_backward(dstate, cache):
    """Backward pass of one LSTM step.

    Args:
        dstate: (dh, dc), each (B, H): upstream gradients of h and c.
        cache: an LSTMStepCache from lstm_step_forward: cache.x (B, E); cache.h_prev, .c_prev,
            .i, .f, .g, .o, .tanh_c each (B, H); cache.params {"weight_ih": (4H, E),
            "weight_hh": (4H, H), "bias_ih": (4H,), "bias_hh": (4H,)}.

    Returns:
        dx: (B, E).
        dstate_prev: (dh_prev, dc_prev), each (B, H).
        dparams: dict with the keys and shapes of cache.params.
    """
    raise NotImplementedError(
        "write this: dc = dc_next + (gradient through h = o * tanh(c)); then the four gate "
        "gradients, da = [da_i, da_f, da_g, da_o], and from da the rest as in the Elman step"
    )
