"""The usual mistakes, each with the hint that fixes it.

A mistake is recognised by what it does to the numbers, not by reading the student's code: most
come with a *model*, the computation with exactly this one mistake. The model is taken as the
explanation only when

- on every part the student got wrong, the model gives the student's numbers (to the tolerance
  of the student's dtype), and at every wrong entry the model differs from the right answer; and
- on every part the student got right, the model is right too.

So a mistake that does not touch the wrong entries (or a float32 answer that is merely rounded)
is never named. A few mistakes are recognised by a pattern instead (rows of repeated token ids
wrong, the others right).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratchlm.exercises import forward
from scratchlm.exercises.forward import sigmoid
from scratchlm.exercises.cases import Problem


@dataclass(frozen=True)
class Mistake:
    """A usual mistake: a short name, the hint, and either a model or a pattern test.

    ``model(problem)`` returns the parts the mistaken computation changes (the others are taken
    to be right); ``pattern(problem, answer, reference, results)`` decides by itself.
    """

    name: str
    hint: str
    model: Callable[[Problem], dict] | None = None
    pattern: Callable | None = None


def _tolerance(array) -> float:
    from scratchlm.exercises.checker import tolerance

    return tolerance(np.asarray(array).dtype)


def explains(prediction: dict, answer: dict, reference: dict, results: dict) -> bool:
    from scratchlm.exercises.checker import relative_errors

    wrong = {name for name, r in results.items() if not r.right}
    if not wrong:
        return False
    for name, want in reference.items():
        predicted = np.asarray(prediction.get(name, want), dtype=np.float64)
        model_errors = relative_errors(predicted, np.asarray(want, dtype=np.float64))
        if name not in wrong:
            if name in prediction and model_errors.max() > 1e-6:
                return False
            continue
        if name not in prediction:
            return False
        yours = np.asarray(answer[name])
        tol = _tolerance(yours)
        yours = yours.astype(np.float64)
        wrong_entries = relative_errors(yours, want) > tol
        if relative_errors(yours, predicted).max() > tol or not np.all(model_errors[wrong_entries] > tol):
            return False
    return True


def find_mistake(problem: Problem, answer: dict, reference: dict, results: dict) -> Mistake | None:
    for mistake in MISTAKES.get(problem.exercise, []):
        if mistake.pattern is not None:
            if mistake.pattern(problem, answer, reference, results):
                return mistake
        elif explains(mistake.model(problem), answer, reference, results):
            return mistake
    return None


# --- embedding ---------------------------------------------------------------------------------------

def _repeated_ids_lost(problem, answer, reference, results) -> bool:
    """Rows of ids that occur once are right; rows of ids that occur more than once are wrong."""
    if {n for n, r in results.items() if not r.right} != {"dweight"}:
        return False
    ids, counts = np.unique(problem.context["ids"], return_counts=True)
    got, want = np.asarray(answer["dweight"], dtype=np.float64), reference["dweight"]
    close = [np.allclose(got[i], want[i], rtol=1e-6, atol=1e-9) for i in range(len(want))]
    return all(close[i] for i in ids[counts == 1]) and not all(close[i] for i in ids[counts > 1])


def _last_row_missing(problem) -> dict:
    dweight = np.zeros_like(problem.inputs["dweight"])
    np.add.at(dweight, problem.context["ids"].reshape(-1), problem.context["dout"].reshape(-1, dweight.shape[1]))
    dweight[-1] = 0.0
    return {"dweight": dweight}


EMBEDDING = [
    Mistake("repeated ids not accumulated",
            "rows of ids that occur once are right, rows of ids that occur several times are wrong: "
            "when an id appears at two positions its row must receive both gradients. "
            "dweight[ids] += dout does not accumulate repeated indices (the last write wins); "
            "use np.add.at(dweight, ids.reshape(-1), dout.reshape(-1, E)).",
            pattern=_repeated_ids_lost),
    Mistake("last id left out",
            "the row of the last id, V - 1, got no gradient: a loop over range(V - 1) stops one short; "
            "ids run 0 .. V-1, so loop over range(V) (or scatter-add over the ids themselves).",
            model=_last_row_missing),
]


# --- softmax cross-entropy ---------------------------------------------------------------------------

def _onehot(cache):
    onehot = np.zeros_like(cache.probs)
    np.put_along_axis(onehot, cache.targets[..., None], 1.0, axis=-1)
    return onehot


def _softmax(problem, *, onehot=True, mask="both", divisor="count", dloss=True):
    cache = problem.context["cache"]
    m = cache.mask[..., None]
    ones = _onehot(cache) if onehot else 0.0
    if mask == "both":
        core = (cache.probs - ones) * m
    elif mask == "onehot only":
        core = cache.probs - ones * m
    else:
        core = cache.probs - ones
    scale = {"count": cache.count, "none": 1.0, "batch": cache.probs.shape[0],
             "all": cache.probs.shape[0] * cache.probs.shape[1]}[divisor]
    return {"dlogits": core / scale * (problem.context["dloss"] if dloss else 1.0)}


SOFTMAX_CROSS_ENTROPY = [
    Mistake("not divided by the token count",
            "your gradient is N times too large (N = the number of unmasked tokens): the loss is the "
            "MEAN over the N counted tokens, so every position's (p - onehot) is divided by N = cache.count.",
            model=lambda p: _softmax(p, divisor="none")),
    Mistake("divided by the batch size",
            "you divided by the batch size B; the loss is the mean per predicted token, so divide by the "
            "number of unmasked tokens N = cache.count (not B, not B*T).",
            model=lambda p: _softmax(p, divisor="batch")),
    Mistake("divided by all positions",
            "you divided by B*T, all positions, but padding positions are not counted in the mean: "
            "divide by N = cache.count, the number of unmasked tokens.",
            model=lambda p: _softmax(p, divisor="all")),
    Mistake("dloss ignored",
            "your gradient is right for dloss = 1 but ignores dloss: by the chain rule, multiply by dloss.",
            model=lambda p: _softmax(p, dloss=False)),
    Mistake("sign flipped",
            "your gradient has the wrong sign: d(-log p_y)/dz = p - onehot(y), not onehot(y) - p.",
            model=lambda p: {"dlogits": -_softmax(p)["dlogits"]}),
    Mistake("one-hot not subtracted",
            "you return the softmax probabilities without subtracting 1 at the target: "
            "d(-log p_y)/dz_v = p_v - [v == y].",
            model=lambda p: _softmax(p, onehot=False)),
    Mistake("mask applied to the one-hot only",
            "you multiplied only the one-hot by the mask: at a padding position the whole gradient "
            "(p - onehot) must be zero, so multiply (p - onehot) by the mask, not just onehot.",
            model=lambda p: _softmax(p, mask="onehot only")),
    Mistake("mask ignored",
            "padding positions (mask 0) got a gradient: multiply each position's gradient by its mask "
            "value so that tokens that are not counted in the loss get zero gradient.",
            model=lambda p: _softmax(p, mask="none")),
    Mistake("mask ignored, divided by all positions",
            "padding positions (mask 0) got a gradient and you divided by B*T: multiply by the mask and "
            "divide by N = cache.count.",
            model=lambda p: _softmax(p, mask="none", divisor="all")),
]


# --- Elman RNN ----------------------------------------------------------------------------------------

def rnn_step_model(cache, dh, *, derivative="tanh", dh_prev_transposed=False, h_for_h_prev=False) -> dict:
    """The Elman step backward, with one of the usual mistakes switched on."""
    h, params = cache.h, cache.params
    a = cache.x @ params["weight_ih"].T + params["bias_ih"] + cache.h_prev @ params["weight_hh"].T + params["bias_hh"]
    local = {"tanh": 1.0 - h**2, "none": 1.0, "one_minus_h": 1.0 - h, "tanh_of_h": 1.0 - np.tanh(h) ** 2,
             "h_one_minus_h": h * (1.0 - h), "one_minus_a_squared": 1.0 - a**2}
    da = dh * local[derivative]
    weight_hh = params["weight_hh"].T if dh_prev_transposed else params["weight_hh"]
    return {
        "dx": da @ params["weight_ih"],
        "dh_prev": da @ weight_hh,
        "dweight_ih": da.T @ cache.x,
        "dweight_hh": da.T @ (h if h_for_h_prev else cache.h_prev),
        "dbias_ih": da.sum(axis=0),
        "dbias_hh": da.sum(axis=0),
    }


def _rnn_step(problem, **mistake):
    return rnn_step_model(problem.context["cache"], problem.context["dh"], **mistake)


def _bias_hh_missing(problem, answer, reference, results) -> bool:
    return {n for n, r in results.items() if not r.right} == {"dbias_hh"} and not np.any(answer["dbias_hh"])


TANH_DERIVATIVE_HINT = ("forgot the tanh derivative: h = tanh(a), so da = dh * (1 - h**2) "
                        "before da goes on to x, h_prev and the parameters.")

RNN_STEP = [
    Mistake("tanh derivative forgotten", TANH_DERIVATIVE_HINT, model=lambda p: _rnn_step(p, derivative="none")),
    Mistake("tanh derivative written 1 - h",
            "the tanh derivative is 1 - tanh(a)**2 = 1 - h**2 (h is already tanh(a)), not 1 - h.",
            model=lambda p: _rnn_step(p, derivative="one_minus_h")),
    Mistake("tanh derivative written h(1 - h)",
            "h * (1 - h) is the derivative of the sigmoid, written with its output; for h = tanh(a) the "
            "derivative is 1 - h**2.",
            model=lambda p: _rnn_step(p, derivative="h_one_minus_h")),
    Mistake("tanh derivative written 1 - a**2",
            "1 - a**2 uses the pre-activation; the derivative of tanh at a is 1 - tanh(a)**2 = 1 - h**2, "
            "the square of the OUTPUT h.",
            model=lambda p: _rnn_step(p, derivative="one_minus_a_squared")),
    Mistake("tanh applied twice",
            "the cache holds h = tanh(a) already; the derivative is 1 - h**2, not 1 - tanh(h)**2.",
            model=lambda p: _rnn_step(p, derivative="tanh_of_h")),
    Mistake("h_t used for h_{t-1}",
            "dweight_hh uses the new state h where the previous state belongs: a = ... + h_prev W_hh^T, so "
            "dW_hh = da.T @ h_prev (cache.h_prev), not da.T @ h.",
            model=lambda p: _rnn_step(p, h_for_h_prev=True)),
    Mistake("wrong transpose in dh_prev",
            "wrong transpose in dh_prev: the forward pass uses h_prev @ W_hh.T, so dh_prev = da @ W_hh "
            "(no transpose). The transpose in the forward pass goes away in the backward pass.",
            model=lambda p: _rnn_step(p, dh_prev_transposed=True)),
    Mistake("bias_hh gradient missing",
            "bias_hh's gradient is zero: both biases are added into a, so both get the same gradient "
            "da.sum(axis=0).",
            pattern=_bias_hh_missing),
]


def sequence_model(problem, step_model, *, accumulate=True, carry=True, use_dhs=True, use_dh_last=True,
                   reverse_dx=False, forwards=False, dh_last_every_step=False, carry_c=True, **step_mistake) -> dict:
    """BPTT over the step caches (Elman or LSTM), with one of the usual mistakes switched on."""
    context = problem.context
    steps, dhs = context["cache"].steps, context["dhs"]
    lstm = "dc_last" in context
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:])
    grads = {name: np.zeros_like(value) for name, value in steps[0].params.items()}
    zero = np.zeros_like(context["dh_last"])
    carried = context["dh_last"] if use_dh_last else zero
    carried_c = context["dc_last"] if lstm else None
    order = range(len(steps)) if forwards else reversed(range(len(steps)))
    for t in order:
        dh = (dhs[:, t] if use_dhs else 0.0) + (carried if carry or t == len(steps) - 1 else 0.0)
        if dh_last_every_step and t < len(steps) - 1:
            dh = dh + context["dh_last"]
        if lstm:
            step = step_model(steps[t], dh, carried_c if (carry_c or t == len(steps) - 1) else zero, **step_mistake)
            carried_c = step["dc_prev"]
        else:
            step = step_model(steps[t], dh, **step_mistake)
        dx[:, t] = step["dx"]
        carried = step["dh_prev"]
        for name in grads:
            grads[name] = grads[name] + step["d" + name] if accumulate else step["d" + name]
    if reverse_dx:
        dx = dx[:, ::-1]
    out = {"dx": dx, "dh0": carried, **{"d" + name: grad for name, grad in grads.items()}}
    if lstm:
        out["dc0"] = carried_c
    return out


def _bptt(problem, **mistake):
    return sequence_model(problem, rnn_step_model, **mistake)


FORWARDS_HINT = ("the loop runs forwards in time: the gradient of h_t needs the gradient carried back from "
                 "step t + 1, so walk t = T, T-1, ..., 1 (for t in reversed(range(T))).")
DH_LAST_EVERY_STEP_HINT = ("dh_last was added at every step: it is the gradient of the LAST state h_T only, so it "
                           "starts the carried gradient once (at t = T); earlier steps get theirs through the carry.")

RNN_BPTT = [
    Mistake("parameter gradients not accumulated over time",
            "forgot to accumulate over time: the same W_ih, W_hh and biases are used at every step, so "
            "their gradient is the SUM of every step's contribution (dparams[name] += step_grads[name]); "
            "yours equals the contribution of the step the loop visited last.",
            model=lambda p: _bptt(p, accumulate=False)),
    Mistake("gradient not carried back through time",
            "the gradient is not carried back through time: dh_prev of step t+1 must be added to dhs[:, t] "
            "before step t is backpropagated (h_t feeds both the output at t and step t+1).",
            model=lambda p: _bptt(p, carry=False)),
    Mistake("loop run forwards in time", FORWARDS_HINT, model=lambda p: _bptt(p, forwards=True)),
    Mistake("dh_last added at every step", DH_LAST_EVERY_STEP_HINT, model=lambda p: _bptt(p, dh_last_every_step=True)),
    Mistake("upstream dhs ignored",
            "dhs is ignored: the loss reads every h_t, so the gradient reaching step t is dhs[:, t] plus the "
            "gradient carried from step t+1.",
            model=lambda p: _bptt(p, use_dhs=False)),
    Mistake("dh_last ignored",
            "dh_last is ignored: the returned last state has its own upstream gradient; start the carried "
            "gradient at dh_last (it adds to dhs[:, -1]) instead of at zero.",
            model=lambda p: _bptt(p, use_dh_last=False)),
    Mistake("dx in reversed time order",
            "dx is in reversed time order: the loop runs t = T .. 1, so store step t's gradient at "
            "dx[:, t], not append it to a list that you then stack as is.",
            model=lambda p: _bptt(p, reverse_dx=True)),
    Mistake("tanh derivative forgotten in the step", "inside each step: " + TANH_DERIVATIVE_HINT,
            model=lambda p: _bptt(p, derivative="none")),
]


# --- LSTM ---------------------------------------------------------------------------------------------

def lstm_step_model(cache, dh, dc_next, *, tanh_c_derivative=True, path_through_h=True, carried_dc=True,
                    dc_prev_times_f=True, do_times_tanh_c=True, gate_derivative="s(1-s)", g_derivative="tanh",
                    gate_order="ifgo") -> dict:
    """The LSTM step backward, with one of the usual mistakes switched on."""
    i, f, g, o, tanh_c, params = cache.i, cache.f, cache.g, cache.o, cache.tanh_c, cache.params
    through_h = dh * o * ((1.0 - tanh_c**2) if tanh_c_derivative else 1.0)
    dc = (dc_next if carried_dc else 0.0) + (through_h if path_through_h else 0.0)
    do = dh * tanh_c if do_times_tanh_c else dh
    di, dg, df = dc * g, dc * i, dc * cache.c_prev
    dc_prev = dc * f if dc_prev_times_f else dc

    def sigmoid_local(s):
        return {"s(1-s)": s * (1.0 - s), "none": 1.0, "of activated": sigmoid(s) * (1.0 - sigmoid(s))}[gate_derivative]

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


def _lstm(problem, **mistake):
    return lstm_step_model(problem.context["cache"], problem.context["dh"], problem.context["dc"], **mistake)


def _permutation_mistakes(gates: str, model: Callable, what: str) -> list[Mistake]:
    out = []
    for order in itertools.permutations(gates):
        order = "".join(order)
        if order != gates:
            out.append(Mistake(
                f"gate blocks in the order {', '.join(order)}",
                f"the gate blocks are in the wrong order: the rows of W_ih, W_hh and the biases are in the order "
                f"{', '.join(gates)} ({what}); you put the blocks of da together as [{', '.join(order)}].",
                model=lambda p, order=order: model(p, gate_order=order)))
    return out


LSTM_STEP = [
    Mistake("tanh derivative of c forgotten",
            "forgot the tanh derivative on the path h -> c: h = o * tanh(c), so the gradient reaching c "
            "through h is dh * o * (1 - tanh(c)**2) (cache.tanh_c holds tanh(c)).",
            model=lambda p: _lstm(p, tanh_c_derivative=False)),
    Mistake("tanh derivative of g forgotten",
            "forgot the tanh derivative of the candidate g: g = tanh(a_g), so da_g = dg * (1 - g**2) "
            "(gate g's rows are the ones that are wrong).",
            model=lambda p: _lstm(p, g_derivative="none")),
    Mistake("sigmoid derivative used for g",
            "g is a tanh, not a sigmoid: da_g = dg * (1 - g**2), not dg * g * (1 - g).",
            model=lambda p: _lstm(p, g_derivative="sigmoid")),
    Mistake("sigmoid derivatives forgotten",
            "forgot the sigmoid derivative of the gates i, f and o: for s = sigmoid(a), ds/da = s * (1 - s), "
            "so da_i = di * i * (1 - i), and the same for f and o.",
            model=lambda p: _lstm(p, gate_derivative="none")),
    Mistake("sigmoid derivative of an activated gate",
            "the cache holds the gates after the sigmoid (i = sigmoid(a_i)); its derivative is i * (1 - i). "
            "You applied sigmoid'(.) to i itself, i.e. sigmoid(i) * (1 - sigmoid(i)): the sigmoid twice.",
            model=lambda p: _lstm(p, gate_derivative="of activated")),
    Mistake("carried cell gradient forgotten",
            "the cell state's own upstream gradient is missing: c flows on to the next step, so "
            "dc = dc_next + dh * o * (1 - tanh(c)**2); you only used the path through h.",
            model=lambda p: _lstm(p, carried_dc=False)),
    Mistake("path through h forgotten",
            "c reaches the loss two ways, through h = o * tanh(c) and directly to the next step: "
            "dc = dc_next + dh * o * (1 - tanh(c)**2); you only used dc_next.",
            model=lambda p: _lstm(p, path_through_h=False)),
    Mistake("dc_prev not multiplied by f",
            "c = f * c_prev + i * g, so dc_prev = dc * f (the forget gate scales what flows back).",
            model=lambda p: _lstm(p, dc_prev_times_f=False)),
    Mistake("do missing tanh(c)",
            "h = o * tanh(c), so do = dh * tanh(c), not dh.",
            model=lambda p: _lstm(p, do_times_tanh_c=False)),
] + _permutation_mistakes("ifgo", _lstm, "PyTorch's order, as this engine uses; CS231n uses i, f, o, g")


def _lstm_bptt(problem, **mistake):
    return sequence_model(problem, lstm_step_model, **mistake)


LSTM_BPTT = [
    Mistake("cell gradient not carried back",
            "only dh is carried back through time: the cell state c_t also flows into step t + 1, so carry "
            "dc_prev from step t + 1 into step t as its dc (start it at dc_last).",
            model=lambda p: _lstm_bptt(p, carry_c=False)),
    Mistake("parameter gradients not accumulated over time",
            "forgot to accumulate over time: the same weights are used at every step, so their gradient is "
            "the SUM of every step's contribution.",
            model=lambda p: _lstm_bptt(p, accumulate=False)),
    Mistake("gradient not carried back through time",
            "dh is not carried back through time: dh_prev of step t+1 must be added to dhs[:, t].",
            model=lambda p: _lstm_bptt(p, carry=False)),
    Mistake("loop run forwards in time", FORWARDS_HINT, model=lambda p: _lstm_bptt(p, forwards=True)),
    Mistake("dh_last added at every step", DH_LAST_EVERY_STEP_HINT,
            model=lambda p: _lstm_bptt(p, dh_last_every_step=True)),
    Mistake("dh_last ignored",
            "dh_last is ignored: start the carried dh at dh_last (and the carried dc at dc_last).",
            model=lambda p: _lstm_bptt(p, use_dh_last=False)),
    Mistake("tanh derivative of c forgotten in the step",
            "inside each step: h = o * tanh(c), so the gradient reaching c through h is dh * o * (1 - tanh(c)**2).",
            model=lambda p: _lstm_bptt(p, tanh_c_derivative=False)),
]


# --- GRU ----------------------------------------------------------------------------------------------

def gru_step_model(cache, dh, *, gate_order="rzn", z_convention=True, reset_on_hn=True, direct_path=True) -> dict:
    """The GRU step backward, with one of the usual mistakes switched on."""
    r, z, n, ah_n, params = cache.r, cache.z, cache.n, cache.ah_n, cache.params
    if z_convention:
        dn, dz = dh * (1.0 - z), dh * (cache.h_prev - n)
    else:  # h = z * n + (1 - z) * h_prev, the other textbook convention
        dn, dz = dh * z, dh * (n - cache.h_prev)
    dan = dn * (1.0 - n**2)
    dar = dan * ah_n * r * (1.0 - r)
    daz = dz * z * (1.0 - z)
    dax_blocks = {"r": dar, "z": daz, "n": dan}
    dah_blocks = {"r": dar, "z": daz, "n": dan * r if reset_on_hn else dan}
    dax = np.concatenate([dax_blocks[g] for g in gate_order], axis=1)
    dah = np.concatenate([dah_blocks[g] for g in gate_order], axis=1)
    return {
        "dx": dax @ params["weight_ih"],
        "dh_prev": (dh * z if direct_path else 0.0) + dah @ params["weight_hh"],
        "dweight_ih": dax.T @ cache.x,
        "dweight_hh": dah.T @ cache.h_prev,
        "dbias_ih": dax.sum(axis=0),
        "dbias_hh": dah.sum(axis=0),
    }


def _gru(problem, **mistake):
    return gru_step_model(problem.context["cache"], problem.context["dh"], **mistake)


GRU_STEP = [
    Mistake("direct path to h_prev forgotten",
            "h = (1 - z) * n + z * h_prev, so h_prev reaches h directly too: dh_prev = dh * z + dah @ W_hh.",
            model=lambda p: _gru(p, direct_path=False)),
    Mistake("z and 1 - z swapped",
            "PyTorch's GRU (and this one) is h = (1 - z) * n + z * h_prev: z keeps the OLD state. You used "
            "h = z * n + (1 - z) * h_prev, so dn = dh * (1 - z) and dz = dh * (h_prev - n).",
            model=lambda p: _gru(p, z_convention=False)),
    Mistake("reset gate not applied to the recurrent part",
            "n = tanh(x W_in^T + b_in + r * (h_prev W_hn^T + b_hn)): the recurrent part of n is scaled by r, "
            "so its gradient (the n block of dah) is dan * r.",
            model=lambda p: _gru(p, reset_on_hn=False)),
] + _permutation_mistakes("rzn", _gru, "PyTorch's order r, z, n")


# --- attention ----------------------------------------------------------------------------------------

def attention_backward_model(cache, dcontext, *, jacobian="full", sum_axis=-1, values_path=True,
                             scores_path=True) -> dict:
    """The "general" attention backward, with one of the usual mistakes switched on.

    jacobian: "full" (right), "diagonal" (de = alpha dalpha: the softmax's sum term left out) or
    "none" (alpha treated as a constant: no gradient through the scores at all).
    """
    queries, keys, weights, weight = cache.queries, cache.keys, cache.weights, cache.params["weight"]
    dweights = dcontext @ keys.transpose(0, 2, 1)
    if jacobian == "full":
        dscores = weights * (dweights - (weights * dweights).sum(axis=sum_axis, keepdims=True))
    elif jacobian == "diagonal":
        dscores = weights * dweights
    else:
        dscores = np.zeros_like(weights)
    dprojected = dscores.transpose(0, 2, 1) @ queries
    dkeys = np.zeros_like(keys)
    if values_path:
        dkeys = dkeys + weights.transpose(0, 2, 1) @ dcontext
    if scores_path:
        dkeys = dkeys + dprojected @ weight
    return {"dqueries": dscores @ (keys @ weight.T), "dkeys": dkeys,
            "dweight": dprojected.reshape(-1, dprojected.shape[-1]).T @ keys.reshape(-1, keys.shape[-1])}


def _attention_backward(problem, **mistake):
    return attention_backward_model(problem.context["cache"], problem.context["dcontext"], **mistake)


ATTENTION_BACKWARD = [
    Mistake("alpha treated as a constant",
            "alpha depends on the scores, which depend on q, k and W: only dkeys' value term alpha^T dc is there. "
            "Go on through the softmax: dalpha = dc k^T, de = alpha * (dalpha - sum_j alpha dalpha), then "
            "dq = de (k W^T), dk += (de^T q) W and dW = sum (de^T q)^T k.",
            model=lambda p: _attention_backward(p, jacobian="none")),
    Mistake("softmax Jacobian's sum term left out",
            "de = alpha * dalpha is only the diagonal of the softmax's Jacobian: every alpha_tj' depends on "
            "every e_tj (they share the denominator), so de = alpha * (dalpha - sum_j' alpha_tj' dalpha_tj').",
            model=lambda p: _attention_backward(p, jacobian="diagonal")),
    Mistake("softmax backward summed over the wrong axis",
            "the softmax runs over the source positions S (the last axis of alpha), so the sum in "
            "de = alpha * (dalpha - sum_j alpha dalpha) is over j, axis=-1 with keepdims=True, not over t.",
            model=lambda p: _attention_backward(p, sum_axis=1)),
    Mistake("keys as values forgotten",
            "the keys are also the values averaged into c_t = sum_j alpha_tj k_j, so dkeys has a second term: "
            "dk_j += sum_t alpha_tj dc_t (alpha^T @ dcontext).",
            model=lambda p: _attention_backward(p, values_path=False)),
    Mistake("score path to the keys forgotten",
            "the keys also enter the scores e_tj = q_t W k_j^T, so dkeys has a second term: "
            "dk_j += W^T sum_t de_tj q_t ((de^T @ q) @ W).",
            model=lambda p: _attention_backward(p, scores_path=False)),
]


def attention_forward_model(problem, *, padding="-inf") -> dict:
    """The "general" attention forward with the mask handled as ``padding`` says.

    "-inf" (right), "ignored" (no mask), "zero" (padded scores set to 0) or "after" (the softmax
    over every position, then the padded weights set to 0 and not renormalised).
    """
    queries, keys, mask, params = (problem.context[name] for name in ("queries", "keys", "mask", "params"))
    scores = queries @ (keys @ params["weight"].T).transpose(0, 2, 1)
    real = mask[:, None, :]
    if padding == "-inf":
        scores = np.where(real, scores, -np.inf)
    elif padding == "zero":
        scores = np.where(real, scores, 0.0)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    if padding == "after":
        weights = np.where(real, weights, 0.0)
    return {"context": weights @ keys, "weights": weights}


def _softmax_over_decoder_steps(problem, answer, reference, results) -> bool:
    """The weights sum to 1 over the decoder steps t (axis 1) at the real positions, not over j."""
    weights = np.asarray(answer["weights"], dtype=np.float64)
    real = np.broadcast_to(problem.context["mask"][:, None, :], weights.shape)
    if results["weights"].right or weights.shape[1] == 1:
        return False
    over_t = weights.sum(axis=1)[problem.context["mask"]]
    return bool(np.allclose(over_t, 1.0, atol=1e-3)) and not np.allclose(np.where(real, weights, 0).sum(axis=2), 1.0)


ATTENTION_FORWARD = [
    Mistake("softmax over the wrong axis",
            "your weights sum to 1 over the decoder steps t; each step's weights must sum to 1 over the source "
            "positions j: the softmax runs over the last axis, S (max and sum with axis=-1, keepdims=True).",
            pattern=_softmax_over_decoder_steps),
    Mistake("mask ignored",
            "the padded source positions got weight: set their scores to -inf before the softmax "
            "(np.where(mask[:, None, :], scores, -np.inf)), so that exp gives 0 there.",
            model=lambda p: attention_forward_model(p, padding="ignored")),
    Mistake("padding scored 0",
            "a padded position's score set to 0 still gets weight exp(0) / sum: set it to -inf instead, "
            "so that its weight is exactly 0.",
            model=lambda p: attention_forward_model(p, padding="zero")),
    Mistake("padding zeroed after the softmax",
            "the padded weights were set to 0 after the softmax, so the real ones no longer sum to 1: mask the "
            "SCORES with -inf before the softmax (or renormalise over the real positions).",
            model=lambda p: attention_forward_model(p, padding="after")),
]


MISTAKES: dict[str, list[Mistake]] = {
    "embedding_backward": EMBEDDING,
    "softmax_cross_entropy_backward": SOFTMAX_CROSS_ENTROPY,
    "rnn_step_backward": RNN_STEP,
    "rnn_backward": RNN_BPTT,
    "lstm_step_backward": LSTM_STEP,
    "lstm_backward": LSTM_BPTT,
    "gru_step_backward": GRU_STEP,
    "attention_forward": ATTENTION_FORWARD,
    "attention_backward": ATTENTION_BACKWARD,
}


# --- forward passes and value exercises ---------------------------------------------------------------

def _rnn_forward_from_h0(problem) -> dict:
    x, h0, params = problem.arguments()
    hs = np.stack([forward.rnn_step_forward(x[:, t], h0, params)[0] for t in range(x.shape[1])], axis=1)
    return {"hs": hs, "h_last": hs[:, -1]}


def _lstm_forward_c_not_carried(problem) -> dict:
    x, (h, c0), params = problem.arguments()
    hs = []
    for t in range(x.shape[1]):
        (h, c), _ = forward.lstm_step_forward(x[:, t], (h, c0), params)
        hs.append(h)
    return {"hs": np.stack(hs, axis=1), "h_last": h, "c_last": c}


STATE_NOT_CARRIED_HINT = ("every step starts from the initial state: the state a step returns is the previous state "
                          "of the next step (h = step(x[:, t], h, params) inside the loop).")

FORWARD_SEQUENCE = {
    "rnn_forward": [Mistake("state not carried", STATE_NOT_CARRIED_HINT, model=_rnn_forward_from_h0)],
    "lstm_forward": [Mistake("cell state not carried",
                             "the cell state is not carried: each step must get (h, c) of the step before, "
                             "not c_0.", model=_lstm_forward_c_not_carried)],
}


def _windows(problem, *, shift=1, column_major=False) -> dict:
    ids, B, bptt = problem.context["ids"], problem.context["B"], problem.context["bptt"]
    L = len(ids) // B
    streams = ids[: B * L].reshape(L, B).T if column_major else ids[: B * L].reshape(B, L)
    out = {}
    for k, start in enumerate(range(0, L - 1, bptt)):
        steps = min(bptt, L - 1 - start)
        out[f"inputs of window {k}"] = streams[:, start : start + steps]
        out[f"targets of window {k}"] = streams[:, start + shift : start + shift + steps]
    return out


STREAM_WINDOWS = [
    Mistake("targets not shifted",
            "the targets are the inputs themselves: the target of each input is the NEXT token, "
            "targets = streams[:, t0 + 1 : t0 + 1 + T].",
            model=lambda p: _windows(p, shift=0)),
    Mistake("streams cut column-wise",
            "stream b must be the consecutive ids[b*L : (b+1)*L] (ids[:B*L].reshape(B, L)); you dealt the ids "
            "out in turn (reshape(L, B).T), so a row jumps B tokens at every step and no row reads text in order.",
            model=lambda p: _windows(p, column_major=True)),
]


def _smoothing_counts(problem):
    return problem.context["counts"], problem.context["knob"]


def _add_k(problem, *, outcomes_extra=0, k_times_outcomes=True) -> dict:
    counts, k = _smoothing_counts(problem)
    outcomes = counts.shape[1] + outcomes_extra
    denominator = counts.sum(axis=1, keepdims=True) + (k * outcomes if k_times_outcomes else k)
    return {"probs": (counts + k) / denominator}


ADD_K = [
    Mistake("k added once to the denominator",
            "k is added to every one of the |O| counts of a row, so the row total grows by k |O|: "
            "p = (c(h w) + k) / (c(h) + k |O|).",
            model=lambda p: _add_k(p, k_times_outcomes=False)),
    Mistake("<s> counted as an outcome",
            "|O| counts the outcomes, the columns (the words and </s>); <s> is never predicted, so it is not one.",
            model=lambda p: _add_k(p, outcomes_extra=1)),
]


def _unigram_level(counts, lambda1):
    unigram = counts.sum(axis=0)
    return lambda1 * unigram / unigram.sum() + (1 - lambda1) / counts.shape[1]


def _interpolated(problem, *, unseen="p1") -> dict:
    counts, (lambda1, lambda2) = _smoothing_counts(problem)
    p1 = _unigram_level(counts, lambda1)
    totals = counts.sum(axis=1, keepdims=True)
    seen = totals > 0
    p2 = lambda2 * counts / np.where(seen, totals, 1.0) + (1 - lambda2) * p1
    fallback = {"p1": p1, "uniform": np.full_like(p1, 1.0 / counts.shape[1]), "mixture": p2}[unseen]
    return {"probs": np.where(seen, p2, fallback)}


INTERPOLATED = [
    Mistake("unseen context: uniform",
            "a context never seen (c(h) = 0) has no bigram estimate: its distribution is the lower order p1(w), "
            "not the uniform one.",
            model=lambda p: _interpolated(p, unseen="uniform")),
    Mistake("unseen context: lambda mixture kept",
            "for a context never seen (c(h) = 0) the bigram term is missing, so its weight is not lost: use "
            "p1(w) itself, not (1 - l2) p1(w).",
            model=lambda p: _interpolated(p, unseen="mixture")),
]


def _kneser_ney(problem, *, raw_lower=False) -> dict:
    counts, discount = _smoothing_counts(problem)
    outcomes = counts.shape[1]
    lower = counts.sum(axis=0) if raw_lower else (counts > 0).sum(axis=0).astype(np.float64)
    total = lower.sum()
    p1 = np.maximum(lower - discount, 0.0) / total + discount * (lower > 0).sum() / total / outcomes
    totals = counts.sum(axis=1, keepdims=True)
    seen = totals > 0
    safe = np.where(seen, totals, 1.0)
    p2 = np.maximum(counts - discount, 0.0) / safe + discount * (counts > 0).sum(axis=1, keepdims=True) / safe * p1
    return {"probs": np.where(seen, p2, p1)}


KNESER_NEY = [
    Mistake("raw counts at the lower order",
            "the unigram level of Kneser-Ney counts CONTEXTS, not occurrences: N1+(. w) = the number of different "
            "h with c(h w) > 0 (the number of non-zero entries of column w), not the column sum.",
            model=lambda p: _kneser_ney(p, raw_lower=True)),
]


def _perplexity(problem, *, count_bos=False, score_eos=True, base=np.e) -> dict:
    model, sentences = problem.context["model"], problem.context["sentences"]
    total, count = 0.0, 0
    for sentence in sentences:
        state = model.start(1)
        tokens = list(sentence) + ([model.eos_id] if score_eos else [])
        for token in tokens:
            total -= float(model.log_probs(state)[0, token])
            state = model.advance(state, [token])
        count += len(tokens) + int(count_bos)
    return {"perplexity": np.float64(base ** (total / count / np.log(base)))}


PERPLEXITY = [
    Mistake("<bos> counted", "<bos> is fed, never predicted: do not count it in N.",
            model=lambda p: _perplexity(p, count_bos=True)),
    Mistake("<eos> not scored",
            "the end of each sentence is predicted too: score model.eos_id after the last word and count it.",
            model=lambda p: _perplexity(p, score_eos=False)),
]


def _filter(problem, *, temperature_times=False, exactly_k=False) -> dict:
    from scratchlm.exercises.values import hf_filtered_probs

    logits = problem.context["logits"]
    out = {}
    for name, (t, k, p) in problem.context["settings"].items():
        scores = logits * t if temperature_times else logits / t
        probs = hf_filtered_probs(scores, 1.0, None, None)
        if k is not None:
            if exactly_k:
                dropped = np.argsort(-probs, axis=1, kind="stable")[:, k:]
                np.put_along_axis(probs, dropped, 0.0, axis=1)
                probs = probs / probs.sum(axis=1, keepdims=True)
            else:
                probs = hf_filtered_probs(np.log(np.maximum(probs, 1e-300)), 1.0, k, None)
        if p is not None:
            probs = hf_filtered_probs(np.log(np.maximum(probs, 1e-300)), 1.0, None, p)
        out[name] = probs
    return out


FILTER = [
    Mistake("logits multiplied by the temperature",
            "the temperature DIVIDES the logits, softmax(z / T): T < 1 sharpens the distribution, T > 1 flattens it.",
            model=lambda p: _filter(p, temperature_times=True)),
    Mistake("top-k drops tokens tied with the k-th",
            "with ties at the k-th place keep every token whose probability is >= the k-th largest (as Hugging "
            "Face does), not exactly k tokens.",
            model=lambda p: _filter(p, exactly_k=True)),
]


def _clip(problem, *, per_array=False, in_place=True) -> dict:
    grads, max_norm = problem.context["grads"], problem.context["max_norm"]
    norm = problem.context["norm"]
    out = {"norm": np.float64(norm)}
    for name, g in grads.items():
        if not in_place:
            out[f"grads[{name!r}]"] = g
            continue
        own = float(np.sqrt((g**2).sum())) if per_array else norm
        coef = max_norm / (own + 1e-6)
        out[f"grads[{name!r}]"] = g * coef if coef < 1 else g
    return out


CLIP = [
    Mistake("each array clipped by its own norm",
            "clip by the GLOBAL norm: one norm over all the arrays together, and one factor for all of them, so "
            "the direction of the whole step is kept.",
            model=lambda p: _clip(p, per_array=True)),
    Mistake("not changed in place",
            "the norm is right but grads is unchanged: scale the arrays in place (g *= coef) instead of building "
            "new ones.",
            model=lambda p: _clip(p, in_place=False)),
]

MISTAKES.update(FORWARD_SEQUENCE)
MISTAKES.update({"stream_windows": STREAM_WINDOWS, "add_k_probs": ADD_K, "interpolated_probs": INTERPOLATED,
                 "kneser_ney_probs": KNESER_NEY, "perplexity": PERPLEXITY, "filter_probs": FILTER,
                 "clip_grad_norm": CLIP})


def _run_windows(problem, *, start="carried") -> dict:
    windows, h0, params = problem.context["windows"], problem.context["h0"], problem.context["params"]
    h, hs, starts = h0, [], []
    for window in windows:
        h = {"carried": h, "h0": h0, "zeros": np.zeros_like(h0)}[start]
        starts.append(h)
        window_hs, h, _ = forward.rnn_forward(window, h, params)
        hs.append(window_hs)
    out = {"hs": np.concatenate(hs, axis=1)}
    out.update({f"start state of window {k + 1}": state for k, state in enumerate(starts)})
    return out


MISTAKES["run_windows"] = [
    Mistake("every window starts from h0",
            "each window starts again from h0: the state at the end of window k is the start state of window k + 1 "
            "(its rows continue the same streams); carry it, and only its gradient is cut.",
            model=lambda p: _run_windows(p, start="h0")),
    Mistake("every window starts from zeros",
            "each window starts from zeros: carry the last state of window k into window k + 1 (the rows continue "
            "the same streams).",
            model=lambda p: _run_windows(p, start="zeros")),
]
