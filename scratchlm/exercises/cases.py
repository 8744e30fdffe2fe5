"""The problems the checker poses for the layer exercises: forward passes and backward passes.

Every check poses several problems (:data:`SIZES`), so that an answer has to be right in general,
not for one set of numbers. In each problem the sizes B, T, E, H, V (for attention B, T, S, H_q,
H_k) are pairwise different (a swapped axis cannot go unnoticed), token ids cover the whole
vocabulary including V - 1 and repeat, sources are padded and masked, biases are random and
non-zero, the upstream gradient dloss is not 1, and the data come from a seed (``scratchlm
exercise grade`` can use a secret one).

A :class:`Problem` holds what one check needs:

- ``arguments()``: fresh copies of what the student's function is called with;
- ``interpret(returned)``: the named outputs ("dx", "dweight_ih", "hs", ...) of what the
  function returned, or :class:`AnswerShapeError` saying what was expected;
- ``reference()``: the right outputs, from scratchlm's own layers (:mod:`.library`); computed
  only after the student's function has run;
- for a backward pass, ``inputs`` and ``objective(values)``: the arrays whose gradients are
  asked for (``inputs["dweight_ih"]`` is W_ih itself) and the scalar J = sum(upstream * outputs)
  as a function of them, so that finite differences can check every gradient;
- ``context``: the cache and upstream gradients, for the models of usual mistakes.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from scratchlm.exercises import forward, library

PARAM_NAMES = library.PARAM_NAMES

# Pairwise different within each problem, and different between problems.
SIZES = (
    {"B": 3, "T": 5, "E": 4, "H": 6, "V": 7},
    {"B": 4, "T": 3, "E": 5, "H": 2, "V": 9},
    {"B": 2, "T": 6, "E": 3, "H": 4, "V": 11},
)
DLOSS = (0.7, 1.3, 0.45)
# Attention's own sizes: S source positions, H_q query size, H_k key size (pairwise different too).
ATTENTION_SIZES = (
    {"B": 3, "T": 4, "S": 6, "H_q": 5, "H_k": 7},
    {"B": 2, "T": 5, "S": 7, "H_q": 4, "H_k": 3},
    {"B": 4, "T": 2, "S": 5, "H_q": 6, "H_k": 8},
)


class AnswerShapeError(ValueError):
    """The student's function returned something of the wrong structure (not wrong numbers)."""


@dataclass
class Problem:
    """One posed problem (see the module docstring for what each field holds)."""

    exercise: str
    sizes: dict
    arguments: Callable[[], tuple]
    interpret: Callable[[object], dict]
    reference: Callable[[], dict]
    inputs: dict = field(default_factory=dict)
    objective: Callable | None = None
    context: dict = field(default_factory=dict)
    num_gates: int = 1  # rows of the weight and bias gradients come in this many gate blocks
    gate_names: tuple = ()
    time_axes: dict = field(default_factory=dict)  # output name -> its time axis

    def describe(self) -> str:
        return ", ".join(f"{k} = {v}" for k, v in self.sizes.items())


def expect_tuple(returned, length: int, description: str):
    if not isinstance(returned, (tuple, list)) or len(returned) != length:
        got = f"a {type(returned).__name__}" + (f" of length {len(returned)}" if isinstance(returned, (tuple, list)) else "")
        raise AnswerShapeError(f"expected your function to return {description}, got {got}")
    return returned


def expect_param_dict(dparams) -> dict:
    if not isinstance(dparams, dict):
        raise AnswerShapeError(f"expected dparams to be a dict with keys {', '.join(PARAM_NAMES)}, "
                               f"got a {type(dparams).__name__}")
    missing = [name for name in PARAM_NAMES if name not in dparams]
    if missing:
        raise AnswerShapeError(f"dparams lacks the key(s) {', '.join(missing)}; every parameter needs a "
                               f"gradient (both biases enter the pre-activation a, so both get one)")
    return {"d" + name: dparams[name] for name in PARAM_NAMES}


def token_ids(rng: np.random.Generator, shape: tuple, vocab: int, *, leave_out: int | None = None) -> np.ndarray:
    """Ids of ``shape`` that hold every id of 0..V-1 (V - 1 included), except ``leave_out``, and repeat."""
    every = np.array([v for v in range(vocab) if v != leave_out])
    size = int(np.prod(shape))
    if size < len(every):
        raise ValueError(f"{shape} cannot hold all {len(every)} ids")
    extra = rng.choice(every, size - len(every))
    return rng.permutation(np.concatenate([every, extra])).reshape(shape)


def cell_params(rng: np.random.Generator, sizes: dict, num_gates: int) -> dict:
    rows = num_gates * sizes["H"]
    return {
        "weight_ih": rng.normal(0.0, 0.6, (rows, sizes["E"])),
        "weight_hh": rng.normal(0.0, 0.6, (rows, sizes["H"])),
        "bias_ih": rng.normal(0.0, 0.5, rows),
        "bias_hh": rng.normal(0.0, 0.5, rows),
    }


def _params_of(values: dict) -> dict:
    return {name: values["d" + name] for name in PARAM_NAMES}


def _dparams(params: dict) -> dict:
    return {"d" + name: value for name, value in params.items()}


def _pick(names):
    return lambda answers: {name: answers[name] for name in names}


# --- embedding --------------------------------------------------------------------------------------

def embedding_data(rng, sizes, index):
    B, T, E, V = sizes["B"], sizes["T"], sizes["E"], sizes["V"]
    # One problem leaves a middle id out, so that a row that gets no gradient must stay zero.
    ids = token_ids(rng, (B, T), V, leave_out=V // 2 if index == 1 else None)
    return ids, rng.normal(0.0, 1.0, (V, E)), rng.normal(0.0, 1.0, (B, T, E))


def embedding_forward_problem(rng, sizes, index):
    ids, weight, dout = embedding_data(rng, sizes, index)
    return Problem("embedding_forward", sizes, lambda: (ids.copy(), weight.copy()),
                   lambda out: {"out": out},
                   lambda: _pick(["out"])(library.embedding(ids, weight, dout)), time_axes={"out": 1})


def embedding_backward_problem(rng, sizes, index):
    ids, weight, dout = embedding_data(rng, sizes, index)

    def objective(values):
        return float((values["dweight"][ids] * dout).sum())

    return Problem("embedding_backward", sizes,
                   lambda: (dout.copy(), forward.EmbeddingCache(ids.copy(), sizes["V"])),
                   lambda dweight: {"dweight": dweight},
                   lambda: _pick(["dweight"])(library.embedding(ids, weight, dout)),
                   inputs={"dweight": weight}, objective=objective,
                   context={"ids": ids, "dout": dout})


# --- temporal affine --------------------------------------------------------------------------------

def affine_data(rng, sizes):
    B, T, E, V = sizes["B"], sizes["T"], sizes["E"], sizes["V"]
    return (rng.normal(0.0, 1.0, (B, T, E)), rng.normal(0.0, 0.5, (V, E)), rng.normal(0.0, 0.5, V),
            rng.normal(0.0, 1.0, (B, T, V)))


def affine_forward_problem(rng, sizes, index):
    x, weight, bias, dy = affine_data(rng, sizes)
    return Problem("affine_forward", sizes, lambda: (x.copy(), weight.copy(), bias.copy()),
                   lambda y: {"y": y}, lambda: _pick(["y"])(library.affine(x, weight, bias, dy)),
                   time_axes={"y": 1})


def affine_backward_problem(rng, sizes, index):
    x, weight, bias, dy = affine_data(rng, sizes)

    def objective(values):
        return float(((values["dx"] @ values["dweight"].T + values["dbias"]) * dy).sum())

    def interpret(returned):
        dx, dweight, dbias = expect_tuple(returned, 3, "(dx, dweight, dbias)")
        return {"dx": dx, "dweight": dweight, "dbias": dbias}

    return Problem("affine_backward", sizes, lambda: (dy.copy(), forward.AffineCache(x.copy(), weight.copy())),
                   interpret, lambda: _pick(["dx", "dweight", "dbias"])(library.affine(x, weight, bias, dy)),
                   inputs={"dx": x, "dweight": weight, "dbias": bias}, objective=objective,
                   context={"x": x, "weight": weight, "dy": dy}, time_axes={"dx": 1})


# --- softmax cross-entropy --------------------------------------------------------------------------

def softmax_data(rng, sizes, index):
    B, T, V = sizes["B"], sizes["T"], sizes["V"]
    padding = min(3, B * T - V)
    mask = np.ones(B * T, dtype=bool)
    mask[rng.choice(B * T, padding, replace=False)] = False
    targets = np.empty(B * T, dtype=np.int64)
    targets[mask] = token_ids(rng, (int(mask.sum()),), V)
    targets[~mask] = rng.integers(0, V, padding)
    logits = rng.normal(0.0, 1.5, (B, T, V))
    return logits, targets.reshape(B, T), mask.reshape(B, T), DLOSS[index % len(DLOSS)]


def softmax_forward_problem(rng, sizes, index):
    logits, targets, mask, dloss = softmax_data(rng, sizes, index)
    # Large scores: exp(z) overflows unless the maximum is subtracted first.
    logits = logits + rng.choice([-900.0, 800.0], (sizes["B"], sizes["T"], 1))

    def interpret(loss):
        if isinstance(loss, np.ndarray) and loss.size != 1:
            raise AnswerShapeError(f"expected the loss as one number (a float), got an array of shape {loss.shape}")
        return {"loss": np.asarray(loss)}

    return Problem("softmax_cross_entropy_forward", sizes, lambda: (logits.copy(), targets.copy(), mask.copy()),
                   interpret, lambda: _pick(["loss"])(library.softmax_cross_entropy(logits, targets, mask, dloss)),
                   context={"mask": mask})


def softmax_backward_problem(rng, sizes, index):
    logits, targets, mask, dloss = softmax_data(rng, sizes, index)

    def objective(values):
        return dloss * forward.softmax_cross_entropy_forward(values["dlogits"], targets, mask)[0]

    _, cache = forward.softmax_cross_entropy_forward(logits, targets, mask)
    return Problem("softmax_cross_entropy_backward", sizes,
                   lambda: (copy.deepcopy(cache), dloss), lambda dlogits: {"dlogits": dlogits},
                   lambda: _pick(["dlogits"])(library.softmax_cross_entropy(logits, targets, mask, dloss)),
                   inputs={"dlogits": logits}, objective=objective, context={"cache": cache, "dloss": dloss},
                   time_axes={"dlogits": 1})


# --- Elman RNN --------------------------------------------------------------------------------------

def rnn_step_data(rng, sizes):
    B, E, H = sizes["B"], sizes["E"], sizes["H"]
    return (rng.normal(0.0, 1.0, (B, E)), rng.normal(0.0, 0.5, (B, H)), cell_params(rng, sizes, 1),
            rng.normal(0.0, 1.0, (B, H)))


def rnn_step_forward_problem(rng, sizes, index):
    x, h_prev, params, dh = rnn_step_data(rng, sizes)
    return Problem("rnn_step_forward", sizes, lambda: (x.copy(), h_prev.copy(), copy.deepcopy(params)),
                   lambda h: {"h": h}, lambda: _pick(["h"])(library.rnn_step(x, h_prev, params, dh)))


def _step_grads(returned, description):
    dx, dh_prev, dparams = expect_tuple(returned, 3, description)
    return {"dx": dx, "dh_prev": dh_prev, **expect_param_dict(dparams)}


STEP_GRADS = ("dx", "dh_prev") + tuple("d" + name for name in PARAM_NAMES)


def rnn_step_backward_problem(rng, sizes, index):
    x, h_prev, params, dh = rnn_step_data(rng, sizes)

    def objective(values):
        return float((forward.rnn_step_forward(values["dx"], values["dh_prev"], _params_of(values))[0] * dh).sum())

    _, cache = forward.rnn_step_forward(x, h_prev, params)
    return Problem("rnn_step_backward", sizes, lambda: (dh.copy(), copy.deepcopy(cache)),
                   lambda returned: _step_grads(returned, "(dx, dh_prev, dparams)"),
                   lambda: _pick(STEP_GRADS)(library.rnn_step(x, h_prev, params, dh)),
                   inputs={"dx": x, "dh_prev": h_prev, **_dparams(params)}, objective=objective,
                   context={"cache": cache, "dh": dh})


def rnn_sequence_data(rng, sizes):
    B, T, E, H = sizes["B"], sizes["T"], sizes["E"], sizes["H"]
    return (rng.normal(0.0, 1.0, (B, T, E)), rng.normal(0.0, 0.5, (B, H)), cell_params(rng, sizes, 1),
            rng.normal(0.0, 1.0, (B, T, H)), rng.normal(0.0, 1.0, (B, H)))


def rnn_forward_problem(rng, sizes, index):
    x, h0, params, dhs, dh_last = rnn_sequence_data(rng, sizes)

    def interpret(returned):
        hs, h_last = expect_tuple(returned, 2, "(hs, h_last)")
        return {"hs": hs, "h_last": h_last}

    return Problem("rnn_forward", sizes, lambda: (x.copy(), h0.copy(), copy.deepcopy(params)), interpret,
                   lambda: _pick(["hs", "h_last"])(library.rnn_sequence(x, h0, params, dhs, dh_last)),
                   time_axes={"hs": 1})


def rnn_backward_problem(rng, sizes, index):
    x, h0, params, dhs, dh_last = rnn_sequence_data(rng, sizes)

    def objective(values):
        hs, h_last, _ = forward.rnn_forward(values["dx"], values["dh0"], _params_of(values))
        return float((hs * dhs).sum() + (h_last * dh_last).sum())

    def interpret(returned):
        dx, dh0, dparams = expect_tuple(returned, 3, "(dx, dh0, dparams)")
        return {"dx": dx, "dh0": dh0, **expect_param_dict(dparams)}

    _, _, cache = forward.rnn_forward(x, h0, params)
    return Problem("rnn_backward", sizes, lambda: (dhs.copy(), dh_last.copy(), copy.deepcopy(cache)), interpret,
                   lambda: _pick(("dx", "dh0") + STEP_GRADS[2:])(library.rnn_sequence(x, h0, params, dhs, dh_last)),
                   inputs={"dx": x, "dh0": h0, **_dparams(params)}, objective=objective,
                   context={"cache": cache, "dhs": dhs, "dh_last": dh_last}, time_axes={"dx": 1})


# --- LSTM -------------------------------------------------------------------------------------------

LSTM_GATES = ("i", "f", "g", "o")


def lstm_step_data(rng, sizes):
    B, E, H = sizes["B"], sizes["E"], sizes["H"]
    return (rng.normal(0.0, 1.0, (B, E)), rng.normal(0.0, 0.5, (B, H)), rng.normal(0.0, 1.0, (B, H)),
            cell_params(rng, sizes, 4), rng.normal(0.0, 1.0, (B, H)), rng.normal(0.0, 1.0, (B, H)))


def lstm_step_forward_problem(rng, sizes, index):
    x, h_prev, c_prev, params, dh, dc = lstm_step_data(rng, sizes)

    def interpret(returned):
        h, c = expect_tuple(returned, 2, "the new state (h, c)")
        return {"h": h, "c": c}

    return Problem("lstm_step_forward", sizes,
                   lambda: (x.copy(), (h_prev.copy(), c_prev.copy()), copy.deepcopy(params)), interpret,
                   lambda: _pick(["h", "c"])(library.lstm_step(x, h_prev, c_prev, params, dh, dc)),
                   num_gates=4, gate_names=LSTM_GATES)


def lstm_step_backward_problem(rng, sizes, index):
    x, h_prev, c_prev, params, dh, dc = lstm_step_data(rng, sizes)

    def objective(values):
        (h, c), _ = forward.lstm_step_forward(values["dx"], (values["dh_prev"], values["dc_prev"]), _params_of(values))
        return float((h * dh).sum() + (c * dc).sum())

    def interpret(returned):
        dx, dstate_prev, dparams = expect_tuple(returned, 3, "(dx, (dh_prev, dc_prev), dparams)")
        dh_prev, dc_prev = expect_tuple(dstate_prev, 2, "dstate_prev as the pair (dh_prev, dc_prev)")
        return {"dx": dx, "dh_prev": dh_prev, "dc_prev": dc_prev, **expect_param_dict(dparams)}

    _, cache = forward.lstm_step_forward(x, (h_prev, c_prev), params)
    names = ("dx", "dh_prev", "dc_prev") + STEP_GRADS[2:]
    return Problem("lstm_step_backward", sizes, lambda: ((dh.copy(), dc.copy()), copy.deepcopy(cache)), interpret,
                   lambda: _pick(names)(library.lstm_step(x, h_prev, c_prev, params, dh, dc)),
                   inputs={"dx": x, "dh_prev": h_prev, "dc_prev": c_prev, **_dparams(params)},
                   objective=objective, context={"cache": cache, "dh": dh, "dc": dc},
                   num_gates=4, gate_names=LSTM_GATES)


def lstm_sequence_data(rng, sizes):
    B, T, E, H = sizes["B"], sizes["T"], sizes["E"], sizes["H"]
    return (rng.normal(0.0, 1.0, (B, T, E)), rng.normal(0.0, 0.5, (B, H)), rng.normal(0.0, 1.0, (B, H)),
            cell_params(rng, sizes, 4), rng.normal(0.0, 1.0, (B, T, H)), rng.normal(0.0, 1.0, (B, H)),
            rng.normal(0.0, 1.0, (B, H)))


def lstm_forward_problem(rng, sizes, index):
    x, h0, c0, params, dhs, dh_last, dc_last = lstm_sequence_data(rng, sizes)

    def interpret(returned):
        hs, state = expect_tuple(returned, 2, "(hs, (h_last, c_last))")
        h_last, c_last = expect_tuple(state, 2, "the last state as the pair (h_last, c_last)")
        return {"hs": hs, "h_last": h_last, "c_last": c_last}

    return Problem("lstm_forward", sizes, lambda: (x.copy(), (h0.copy(), c0.copy()), copy.deepcopy(params)),
                   interpret,
                   lambda: _pick(["hs", "h_last", "c_last"])(
                       library.lstm_sequence(x, h0, c0, params, dhs, dh_last, dc_last)),
                   time_axes={"hs": 1})


def lstm_backward_problem(rng, sizes, index):
    x, h0, c0, params, dhs, dh_last, dc_last = lstm_sequence_data(rng, sizes)

    def objective(values):
        hs, (h, c), _ = forward.lstm_forward(values["dx"], (values["dh0"], values["dc0"]), _params_of(values))
        return float((hs * dhs).sum() + (h * dh_last).sum() + (c * dc_last).sum())

    def interpret(returned):
        dx, dstate0, dparams = expect_tuple(returned, 3, "(dx, (dh0, dc0), dparams)")
        dh0, dc0 = expect_tuple(dstate0, 2, "the initial state's gradient as the pair (dh0, dc0)")
        return {"dx": dx, "dh0": dh0, "dc0": dc0, **expect_param_dict(dparams)}

    _, _, cache = forward.lstm_forward(x, (h0, c0), params)
    names = ("dx", "dh0", "dc0") + STEP_GRADS[2:]
    return Problem("lstm_backward", sizes,
                   lambda: (dhs.copy(), (dh_last.copy(), dc_last.copy()), copy.deepcopy(cache)), interpret,
                   lambda: _pick(names)(library.lstm_sequence(x, h0, c0, params, dhs, dh_last, dc_last)),
                   inputs={"dx": x, "dh0": h0, "dc0": c0, **_dparams(params)}, objective=objective,
                   context={"cache": cache, "dhs": dhs, "dh_last": dh_last, "dc_last": dc_last},
                   num_gates=4, gate_names=LSTM_GATES, time_axes={"dx": 1})


# --- GRU --------------------------------------------------------------------------------------------

GRU_GATES = ("r", "z", "n")


def gru_step_data(rng, sizes):
    B, E, H = sizes["B"], sizes["E"], sizes["H"]
    return (rng.normal(0.0, 1.0, (B, E)), rng.normal(0.0, 0.8, (B, H)), cell_params(rng, sizes, 3),
            rng.normal(0.0, 1.0, (B, H)))


def gru_step_forward_problem(rng, sizes, index):
    x, h_prev, params, dh = gru_step_data(rng, sizes)
    return Problem("gru_step_forward", sizes, lambda: (x.copy(), h_prev.copy(), copy.deepcopy(params)),
                   lambda h: {"h": h}, lambda: _pick(["h"])(library.gru_step(x, h_prev, params, dh)),
                   num_gates=3, gate_names=GRU_GATES)


def gru_step_backward_problem(rng, sizes, index):
    x, h_prev, params, dh = gru_step_data(rng, sizes)

    def objective(values):
        return float((forward.gru_step_forward(values["dx"], values["dh_prev"], _params_of(values))[0] * dh).sum())

    _, cache = forward.gru_step_forward(x, h_prev, params)
    return Problem("gru_step_backward", sizes, lambda: (dh.copy(), copy.deepcopy(cache)),
                   lambda returned: _step_grads(returned, "(dx, dh_prev, dparams)"),
                   lambda: _pick(STEP_GRADS)(library.gru_step(x, h_prev, params, dh)),
                   inputs={"dx": x, "dh_prev": h_prev, **_dparams(params)}, objective=objective,
                   context={"cache": cache, "dh": dh}, num_gates=3, gate_names=GRU_GATES)


# --- attention ---------------------------------------------------------------------------------------

def source_mask(rng, batch, source_length):
    """Right-padded sources: row 0 is full, every other row has 2 .. S - 1 real positions."""
    lengths = np.concatenate([[source_length], rng.integers(2, source_length, batch - 1)])
    return np.arange(source_length)[None, :] < lengths[:, None]


def attention_data(rng, sizes):
    B, T, S, H_q, H_k = sizes["B"], sizes["T"], sizes["S"], sizes["H_q"], sizes["H_k"]
    # The padded keys hold numbers like the real ones, so that a mask left out changes the answer.
    return (rng.normal(0.0, 1.0, (B, T, H_q)), rng.normal(0.0, 1.0, (B, S, H_k)), source_mask(rng, B, S),
            {"weight": rng.normal(0.0, 0.4, (H_q, H_k))}, rng.normal(0.0, 1.0, (B, T, H_k)))


def attention_forward_problem(rng, sizes, index):
    queries, keys, mask, params, dcontext = attention_data(rng, sizes)

    def interpret(returned):
        context, weights = expect_tuple(returned, 2, "(context, weights)")
        return {"context": context, "weights": weights}

    return Problem("attention_forward", sizes,
                   lambda: (queries.copy(), keys.copy(), mask.copy(), copy.deepcopy(params)), interpret,
                   lambda: _pick(["context", "weights"])(
                       library.attention(queries, keys, mask, params["weight"], dcontext)),
                   context={"queries": queries, "keys": keys, "mask": mask, "params": params})


def attention_backward_problem(rng, sizes, index):
    queries, keys, mask, params, dcontext = attention_data(rng, sizes)

    def objective(values):
        context = forward.attention_forward(values["dqueries"], values["dkeys"], mask,
                                            {"weight": values["dweight"]}, "general")[0]
        return float((context * dcontext).sum())

    def interpret(returned):
        dqueries, dkeys, dparams = expect_tuple(returned, 3, "(dqueries, dkeys, dparams)")
        if not isinstance(dparams, dict) or "weight" not in dparams:
            raise AnswerShapeError(f"expected dparams to be a dict with the key 'weight' (W's gradient), "
                                   f"got {dparams if isinstance(dparams, dict) else type(dparams).__name__}")
        return {"dqueries": dqueries, "dkeys": dkeys, "dweight": dparams["weight"]}

    _, _, cache = forward.attention_forward(queries, keys, mask, params, "general")
    return Problem("attention_backward", sizes, lambda: (dcontext.copy(), copy.deepcopy(cache)), interpret,
                   lambda: _pick(["dqueries", "dkeys", "dweight"])(
                       library.attention(queries, keys, mask, params["weight"], dcontext)),
                   inputs={"dqueries": queries, "dkeys": keys, "dweight": params["weight"]}, objective=objective,
                   context={"cache": cache, "dcontext": dcontext, "mask": mask})


BUILDERS = {
    "embedding_forward": embedding_forward_problem,
    "embedding_backward": embedding_backward_problem,
    "affine_forward": affine_forward_problem,
    "affine_backward": affine_backward_problem,
    "softmax_cross_entropy_forward": softmax_forward_problem,
    "softmax_cross_entropy_backward": softmax_backward_problem,
    "rnn_step_forward": rnn_step_forward_problem,
    "rnn_step_backward": rnn_step_backward_problem,
    "rnn_forward": rnn_forward_problem,
    "rnn_backward": rnn_backward_problem,
    "lstm_step_forward": lstm_step_forward_problem,
    "lstm_step_backward": lstm_step_backward_problem,
    "lstm_forward": lstm_forward_problem,
    "lstm_backward": lstm_backward_problem,
    "gru_step_forward": gru_step_forward_problem,
    "gru_step_backward": gru_step_backward_problem,
    "attention_forward": attention_forward_problem,
    "attention_backward": attention_backward_problem,
}


def problems(exercise: str, seed: int = 0) -> list[Problem]:
    """The problems of a layer exercise for ``seed``: one per entry of :data:`SIZES`
    (:data:`ATTENTION_SIZES` for attention)."""
    sizes_of = ATTENTION_SIZES if exercise.startswith("attention") else SIZES
    return [BUILDERS[exercise](np.random.default_rng([seed, index]), sizes, index)
            for index, sizes in enumerate(sizes_of)]
