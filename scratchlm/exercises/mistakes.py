"""The usual mistakes in backward passes, each with the hint that fixes it.

A mistake is recognised by what it does to the numbers, not by reading the student's code: most
mistakes here come with a *model*, a version of the backward pass that makes exactly this one
mistake. If the student's wrong gradients equal the model's, that is (almost certainly) the
mistake made, and its hint is shown. A few mistakes are recognised by a pattern instead (e.g.
for repeated token ids: rows of ids that occur once are right, rows of repeated ids are wrong).

The mistake models are written for recognition only; the correct backward passes are the
reference layers in ``scratchlm/layers`` and the solutions in ``scratchlm.exercises.solutions``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratchlm.exercises.cases import Case

# Two gradients are taken as equal when they agree to this relative tolerance (float64 values
# computed in different orders differ by ~1e-15; a real mistake changes them by far more).
MATCH_RTOL = 1e-7


@dataclass(frozen=True)
class Mistake:
    """One usual mistake: a short name, the hint, and a test whether the answer shows it.

    ``matches(case, answer, wrong)`` gets the case, the student's gradients by name (already
    checked to be arrays of the right shape) and the set of names that are wrong.
    """

    name: str
    hint: str
    matches: Callable[[Case, dict, set], bool]


def close(a: np.ndarray, b: np.ndarray) -> bool:
    scale = max(float(np.abs(b).max(initial=0.0)), 1e-12)
    return bool(np.all(np.abs(a - b) <= MATCH_RTOL * scale))


def predicted(model: Callable[[Case], dict[str, np.ndarray]]) -> Callable[[Case, dict, set], bool]:
    """A matcher: every wrong gradient equals what ``model`` (the mistaken backward pass) gives."""

    def matches(case: Case, answer: dict, wrong: set) -> bool:
        prediction = model(case)
        return bool(wrong) and all(name in prediction and close(answer[name], prediction[name]) for name in wrong)

    return matches


def scaled(factor: Callable[[Case], float], names: tuple[str, ...]) -> Callable[[Case, dict, set], bool]:
    """A matcher: the wrong gradients are the right ones times a known factor."""
    return predicted(lambda case: {name: factor(case) * case.reference[name] for name in names})


# --- embedding ------------------------------------------------------------------------------------

def _repeated_ids_lost(case: Case, answer: dict, wrong: set) -> bool:
    """Rows of ids that occur once are right; rows of ids that occur more than once are wrong."""
    if wrong != {"dweight"}:
        return False
    ids, counts = np.unique(case.context["ids"], return_counts=True)
    got, want = answer["dweight"], case.reference["dweight"]
    once_right = all(close(got[i], want[i]) for i in ids[counts == 1])
    repeated_wrong = any(not close(got[i], want[i]) for i in ids[counts > 1])
    return once_right and repeated_wrong


EMBEDDING = [
    Mistake(
        "repeated ids not accumulated",
        "rows of ids that occur once are right, rows of ids that occur several times are wrong: "
        "when an id appears at two positions its row must receive both gradients. "
        "dweight[ids] += dout does not accumulate repeated indices (the last write wins); "
        "use np.add.at(dweight, ids.reshape(-1), dout.reshape(-1, E)).",
        _repeated_ids_lost,
    ),
]


# --- softmax cross-entropy ------------------------------------------------------------------------

def _softmax_count(case: Case) -> float:
    return float(case.context["cache"].count)


def _softmax_without_onehot(case: Case) -> dict:
    cache, dloss = case.context["cache"], case.context["dloss"]
    return {"dlogits": cache.probs * (cache.mask * dloss / cache.count)[..., None]}


def _softmax_mask_ignored(case: Case, divide_by_all: bool) -> dict:
    cache, dloss = case.context["cache"], case.context["dloss"]
    onehot = np.zeros_like(cache.probs)
    np.put_along_axis(onehot, cache.targets[..., None], 1.0, axis=-1)
    count = cache.mask.size if divide_by_all else cache.count
    return {"dlogits": (cache.probs - onehot) * dloss / count}


def _batch_and_time(case: Case) -> tuple[int, int]:
    batch, time, _ = case.reference["dlogits"].shape
    return batch, time


SOFTMAX_CROSS_ENTROPY = [
    Mistake("not divided by the token count",
            "your gradient is N times too large (N = the number of unmasked tokens): the loss is the "
            "MEAN over the N counted tokens, so every position's (p - onehot) is divided by N = cache.count.",
            scaled(_softmax_count, ("dlogits",))),
    Mistake("divided by the batch size",
            "you divided by the batch size B; the loss is the mean per predicted token, so divide by the "
            "number of unmasked tokens N = cache.count (not B, not B*T).",
            scaled(lambda case: _softmax_count(case) / _batch_and_time(case)[0], ("dlogits",))),
    Mistake("divided by all positions",
            "you divided by B*T, all positions, but padding positions are not counted in the mean: "
            "divide by N = cache.count, the number of unmasked tokens.",
            scaled(lambda case: _softmax_count(case) / np.prod(_batch_and_time(case)), ("dlogits",))),
    Mistake("dloss ignored",
            "your gradient is right for dloss = 1 but ignores dloss: by the chain rule, multiply by dloss.",
            scaled(lambda case: 1.0 / case.context["dloss"], ("dlogits",))),
    Mistake("sign flipped",
            "your gradient has the wrong sign: d(-log p_y)/dz = p - onehot(y), not onehot(y) - p.",
            scaled(lambda case: -1.0, ("dlogits",))),
    Mistake("one-hot not subtracted",
            "you return the softmax probabilities without subtracting 1 at the target: "
            "d(-log p_y)/dz_v = p_v - [v == y].",
            predicted(_softmax_without_onehot)),
    Mistake("mask ignored",
            "padding positions (mask 0) got a gradient: multiply each position's gradient by its mask "
            "value so that tokens that are not counted in the loss get zero gradient.",
            predicted(lambda case: _softmax_mask_ignored(case, divide_by_all=False))),
    Mistake("mask ignored, divided by all positions",
            "padding positions (mask 0) got a gradient and you divided by B*T: multiply by the mask and "
            "divide by N = cache.count.",
            predicted(lambda case: _softmax_mask_ignored(case, divide_by_all=True))),
]


# --- Elman RNN step and BPTT ----------------------------------------------------------------------

def rnn_step_model(cache, dh: np.ndarray, *, derivative: str = "tanh",
                   dh_prev_transposed: bool = False) -> dict:
    """The Elman step backward, with one of the usual mistakes switched on."""
    h, params = cache.h, cache.params
    local = {"tanh": 1.0 - h**2, "none": 1.0, "one_minus_h": 1.0 - h, "tanh_of_h": 1.0 - np.tanh(h) ** 2}
    da = dh * local[derivative]
    weight_hh = params["weight_hh"].T if dh_prev_transposed else params["weight_hh"]
    return {
        "dx": da @ params["weight_ih"],
        "dh_prev": da @ weight_hh,
        "dweight_ih": da.T @ cache.x,
        "dweight_hh": da.T @ cache.h_prev,
        "dbias_ih": da.sum(axis=0),
        "dbias_hh": da.sum(axis=0),
    }


def _rnn_step(case: Case, **mistake) -> dict:
    return rnn_step_model(case.context["cache"], case.context["dh"], **mistake)


def _bias_hh_missing(case: Case, answer: dict, wrong: set) -> bool:
    return wrong == {"dbias_hh"} and not np.any(answer["dbias_hh"])


TANH_DERIVATIVE_HINT = ("forgot the tanh derivative: h = tanh(a), so da = dh * (1 - h**2) "
                        "before da goes on to x, h_prev and the parameters.")

RNN_STEP = [
    Mistake("tanh derivative forgotten", TANH_DERIVATIVE_HINT,
            predicted(lambda case: _rnn_step(case, derivative="none"))),
    Mistake("tanh derivative written 1 - h",
            "the tanh derivative is 1 - tanh(a)**2 = 1 - h**2 (h is already tanh(a)), not 1 - h.",
            predicted(lambda case: _rnn_step(case, derivative="one_minus_h"))),
    Mistake("tanh applied twice",
            "the cache holds h = tanh(a) already; the derivative is 1 - h**2, not 1 - tanh(h)**2.",
            predicted(lambda case: _rnn_step(case, derivative="tanh_of_h"))),
    Mistake("wrong transpose in dh_prev",
            "wrong transpose in dh_prev: the forward pass uses h_prev @ W_hh.T, so dh_prev = da @ W_hh "
            "(no transpose). The transpose in the forward pass goes away in the backward pass.",
            predicted(lambda case: _rnn_step(case, dh_prev_transposed=True))),
    Mistake("bias_hh gradient missing",
            "bias_hh's gradient is zero: both biases are added into a, so both get the same gradient "
            "da.sum(axis=0).",
            _bias_hh_missing),
]


def rnn_bptt_model(context: dict, *, accumulate: bool = True, carry: bool = True, use_dhs: bool = True,
                   use_dh_last: bool = True, reverse_dx: bool = False, derivative: str = "tanh") -> dict:
    """BPTT for the Elman RNN, with one of the usual mistakes switched on."""
    steps, dhs, dh_last = context["cache"].steps, context["dhs"], context["dh_last"]
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:])
    grads = {name: np.zeros_like(value) for name, value in steps[0].params.items()}
    carried = dh_last if use_dh_last else np.zeros_like(dh_last)
    for t in reversed(range(len(steps))):
        dh = carried + dhs[:, t] if use_dhs else carried
        if not carry and t < len(steps) - 1:
            dh = dhs[:, t]
        step = rnn_step_model(steps[t], dh, derivative=derivative)
        dx[:, t] = step["dx"]
        carried = step["dh_prev"]
        for name in grads:
            grads[name] = grads[name] + step["d" + name] if accumulate else step["d" + name]
    if reverse_dx:
        dx = dx[:, ::-1]
    return {"dx": dx, "dh0": carried, **{"d" + name: grad for name, grad in grads.items()}}


def _bptt(case: Case, **mistake) -> dict:
    return rnn_bptt_model(case.context, **mistake)


RNN_BPTT = [
    Mistake("parameter gradients not accumulated over time",
            "forgot to accumulate over time: the same W_ih, W_hh and biases are used at every step, so "
            "their gradient is the SUM of every step's contribution (dparams[name] += step_grads[name]); "
            "yours equals the contribution of step 0 alone, the last one the loop visited.",
            predicted(lambda case: _bptt(case, accumulate=False))),
    Mistake("gradient not carried back through time",
            "the gradient is not carried back through time: dh_prev of step t+1 must be added to dhs[:, t] "
            "before step t is backpropagated (h_t feeds both the output at t and step t+1).",
            predicted(lambda case: _bptt(case, carry=False))),
    Mistake("upstream dhs ignored",
            "dhs is ignored: the loss reads every h_t, so the gradient reaching step t is dhs[:, t] plus the "
            "gradient carried from step t+1.",
            predicted(lambda case: _bptt(case, use_dhs=False))),
    Mistake("dh_last ignored",
            "dh_last is ignored: the returned last state has its own upstream gradient; start the carried "
            "gradient at dh_last (it adds to dhs[:, -1]) instead of at zero.",
            predicted(lambda case: _bptt(case, use_dh_last=False))),
    Mistake("dx in reversed time order",
            "dx is in reversed time order: the loop runs t = T .. 1, so store step t's gradient at "
            "its own place, dx[:, t - 1], not append it to a list that you then stack as is.",
            predicted(lambda case: _bptt(case, reverse_dx=True))),
    Mistake("tanh derivative forgotten in the step", "inside each step: " + TANH_DERIVATIVE_HINT,
            predicted(lambda case: _bptt(case, derivative="none"))),
]


# --- LSTM step ------------------------------------------------------------------------------------

def lstm_step_model(cache, dh: np.ndarray, dc_next: np.ndarray, *, tanh_c_derivative: bool = True,
                    path_through_h: bool = True, carried_dc: bool = True, dc_prev_times_f: bool = True,
                    do_times_tanh_c: bool = True, gate_derivatives: bool = True, g_derivative: str = "tanh",
                    gate_order: str = "ifgo") -> dict:
    """The LSTM step backward, with one of the usual mistakes switched on."""
    i, f, g, o, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    params = cache.params
    through_h = dh * o * ((1.0 - tanh_c**2) if tanh_c_derivative else 1.0)
    dc = (dc_next if carried_dc else 0.0) + (through_h if path_through_h else 0.0)
    do = dh * tanh_c if do_times_tanh_c else dh
    di, dg, df = dc * g, dc * i, dc * cache.c_prev
    dc_prev = dc * f if dc_prev_times_f else dc

    def sigmoid_local(s):
        return s * (1.0 - s) if gate_derivatives else 1.0

    g_local = {"tanh": 1.0 - g**2, "sigmoid": g * (1.0 - g), "none": 1.0}[g_derivative]
    blocks = {"i": di * sigmoid_local(i), "f": df * sigmoid_local(f), "g": dg * g_local, "o": do * sigmoid_local(o)}
    da = np.concatenate([blocks[name] for name in gate_order], axis=1)
    return {
        "dx": da @ params["weight_ih"],
        "dh_prev": da @ params["weight_hh"],
        "dc_prev": dc_prev,
        "dweight_ih": da.T @ cache.x,
        "dweight_hh": da.T @ cache.h_prev,
        "dbias_ih": da.sum(axis=0),
        "dbias_hh": da.sum(axis=0),
    }


def _lstm(case: Case, **mistake) -> dict:
    return lstm_step_model(case.context["cache"], case.context["dh"], case.context["dc"], **mistake)


LSTM_STEP = [
    Mistake("tanh derivative of c forgotten",
            "forgot the tanh derivative on the path h -> c: h = o * tanh(c), so the gradient reaching c "
            "through h is dh * o * (1 - tanh(c)**2) (cache.tanh_c holds tanh(c)).",
            predicted(lambda case: _lstm(case, tanh_c_derivative=False))),
    Mistake("tanh derivative of g forgotten",
            "forgot the tanh derivative of the candidate g: g = tanh(a_g), so da_g = dg * (1 - g**2) "
            "(gate g's rows are the ones that are wrong).",
            predicted(lambda case: _lstm(case, g_derivative="none"))),
    Mistake("sigmoid derivative used for g",
            "g is a tanh, not a sigmoid: da_g = dg * (1 - g**2), not dg * g * (1 - g).",
            predicted(lambda case: _lstm(case, g_derivative="sigmoid"))),
    Mistake("sigmoid derivatives forgotten",
            "forgot the sigmoid derivative of the gates i, f and o: for s = sigmoid(a), ds/da = s * (1 - s), "
            "so da_i = di * i * (1 - i), and the same for f and o.",
            predicted(lambda case: _lstm(case, gate_derivatives=False))),
    Mistake("carried cell gradient forgotten",
            "the cell state's own upstream gradient is missing: c flows on to the next step, so "
            "dc = dc_next + dh * o * (1 - tanh(c)**2); you only used the path through h.",
            predicted(lambda case: _lstm(case, carried_dc=False))),
    Mistake("path through h forgotten",
            "c reaches the loss two ways, through h = o * tanh(c) and directly to the next step: "
            "dc = dc_next + dh * o * (1 - tanh(c)**2); you only used dc_next.",
            predicted(lambda case: _lstm(case, path_through_h=False))),
    Mistake("dc_prev not multiplied by f",
            "c = f * c_prev + i * g, so dc_prev = dc * f (the forget gate scales what flows back).",
            predicted(lambda case: _lstm(case, dc_prev_times_f=False))),
    Mistake("do missing tanh(c)",
            "h = o * tanh(c), so do = dh * tanh(c), not dh.",
            predicted(lambda case: _lstm(case, do_times_tanh_c=False))),
    Mistake("gate order i, f, o, g",
            "the gate blocks are in the wrong order: this engine (like PyTorch) puts the rows of W_ih, W_hh "
            "and the biases in the order i, f, g, o; you concatenated da as [i, f, o, g] (CS231n's order).",
            predicted(lambda case: _lstm(case, gate_order="ifog"))),
]


MISTAKES: dict[str, list[Mistake]] = {
    "embedding_backward": EMBEDDING,
    "softmax_cross_entropy_backward": SOFTMAX_CROSS_ENTROPY,
    "rnn_step_backward": RNN_STEP,
    "lstm_step_backward": LSTM_STEP,
    "rnn_backward": RNN_BPTT,
}
