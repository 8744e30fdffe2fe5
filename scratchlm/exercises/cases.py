"""The test problems the checker poses: small float64 inputs, the exercise's forward pass, and
the answer of the reference layers in ``scratchlm/layers``.

A :class:`Case` holds everything one check needs:

- ``inputs``: the arrays whose gradients the exercise asks for, keyed by the gradient's name
  ("dx", "dweight_ih", ...), i.e. ``inputs["dweight_ih"]`` is W_ih itself;
- ``objective(values)``: the scalar J = sum(upstream * forward outputs) as a function of those
  arrays, so that dJ/d(array) is exactly what the backward pass returns and finite differences
  can check it;
- ``call(fn)``: runs the student's function on a freshly computed cache and upstream gradient
  and maps what it returns to the same names (or raises :class:`AnswerShapeError` saying what
  was expected);
- ``reference``: the same gradients from the reference layers;
- ``context``: the cache and upstream gradients, for the models of usual mistakes.

Sizes are small and all different (B=3, T=4, E=3, H=4, V=8), biases random and non-zero, so
that a swapped dimension or a missing bias shows. Token ids repeat on purpose.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from scratchlm import backend
from scratchlm.exercises import forward
from scratchlm.layers import embedding as embedding_layer
from scratchlm.layers import lstm as lstm_layer
from scratchlm.layers import rnn as rnn_layer
from scratchlm.layers import softmax_cross_entropy as softmax_layer

BATCH, TIME, INPUT, HIDDEN, VOCAB = 3, 4, 3, 4, 8
PARAM_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class AnswerShapeError(ValueError):
    """The student's function returned something of the wrong structure (not wrong numbers)."""


@dataclass
class Case:
    """One posed problem (see the module docstring for what each field holds)."""

    exercise: str
    inputs: dict[str, np.ndarray]
    objective: Callable[[dict[str, np.ndarray]], float]
    call: Callable[[Callable], dict[str, object]]
    reference: dict[str, np.ndarray]
    context: dict = field(default_factory=dict)
    num_gates: int = 1  # rows of the weight and bias gradients come in this many gate blocks
    gate_names: tuple[str, ...] = ()


def _to_reference(array):
    return backend.asarray(array)


def _from_reference(array) -> np.ndarray:
    return np.asarray(backend.asnumpy(array), dtype=np.float64)


def _cell_params(rng: np.random.Generator, num_gates: int) -> dict[str, np.ndarray]:
    rows = num_gates * HIDDEN
    return {
        "weight_ih": rng.normal(0.0, 0.6, (rows, INPUT)),
        "weight_hh": rng.normal(0.0, 0.6, (rows, HIDDEN)),
        "bias_ih": rng.normal(0.0, 0.5, rows),
        "bias_hh": rng.normal(0.0, 0.5, rows),
    }


def _param_grads(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: values["d" + name] for name in PARAM_NAMES}


def _reference_params(values: dict[str, np.ndarray]) -> dict:
    return {name: _to_reference(values["d" + name]) for name in PARAM_NAMES}


def _expect_tuple(returned, length: int, description: str):
    if not isinstance(returned, (tuple, list)) or len(returned) != length:
        got = f"a {type(returned).__name__}" + (f" of length {len(returned)}" if isinstance(returned, (tuple, list)) else "")
        raise AnswerShapeError(f"expected your function to return {description}, got {got}")
    return returned


def _expect_param_dict(dparams) -> dict[str, object]:
    if not isinstance(dparams, dict):
        raise AnswerShapeError(f"expected dparams to be a dict with keys {', '.join(PARAM_NAMES)}, "
                               f"got a {type(dparams).__name__}")
    missing = [name for name in PARAM_NAMES if name not in dparams]
    if missing:
        raise AnswerShapeError(f"dparams lacks the key(s) {', '.join(missing)}; every parameter needs a "
                               f"gradient (both biases enter the pre-activation a, so both get one)")
    return {"d" + name: dparams[name] for name in PARAM_NAMES}


def embedding_case(rng: np.random.Generator) -> Case:
    """out = W[ids]; ids repeat (0 three times, 1 twice, 4 four times), ids 6 and 7 never occur."""
    ids = rng.permutation(np.array([0, 0, 0, 1, 1, 2, 3, 4, 4, 4, 4, 5])).reshape(BATCH, TIME)
    weight = rng.normal(0.0, 1.0, (VOCAB, INPUT))
    dout = rng.normal(0.0, 1.0, (BATCH, TIME, INPUT))

    def objective(values):
        out, _ = forward.embedding_forward(ids, values["dweight"])
        return float((out * dout).sum())

    def call(fn):
        _, cache = forward.embedding_forward(ids.copy(), weight.copy())
        return {"dweight": fn(dout.copy(), cache)}

    _, ref_cache = embedding_layer.embedding_forward(_to_reference(ids), _to_reference(weight))
    reference = {"dweight": _from_reference(embedding_layer.embedding_backward(_to_reference(dout), ref_cache))}
    return Case("embedding_backward", {"dweight": weight}, objective, call, reference,
                context={"ids": ids, "dout": dout})


def softmax_cross_entropy_case(rng: np.random.Generator) -> Case:
    """Mean NLL over 9 of 12 positions (3 padding positions), upstream dloss = 0.7."""
    logits = rng.normal(0.0, 1.5, (BATCH, TIME, VOCAB))
    targets = rng.integers(0, VOCAB, (BATCH, TIME))
    mask = np.ones((BATCH, TIME), dtype=bool)
    mask[0, 3] = mask[1, 2:] = False
    dloss = 0.7

    def objective(values):
        loss, _ = forward.softmax_cross_entropy_forward(values["dlogits"], targets, mask)
        return dloss * loss

    def call(fn):
        _, cache = forward.softmax_cross_entropy_forward(logits.copy(), targets.copy(), mask.copy())
        return {"dlogits": fn(cache, dloss)}

    _, ref_cache = softmax_layer.softmax_cross_entropy_forward(
        _to_reference(logits), _to_reference(targets), _to_reference(mask))
    reference = {"dlogits": _from_reference(softmax_layer.softmax_cross_entropy_backward(ref_cache, dloss))}
    _, cache = forward.softmax_cross_entropy_forward(logits, targets, mask)
    return Case("softmax_cross_entropy_backward", {"dlogits": logits}, objective, call, reference,
                context={"cache": cache, "dloss": dloss})


def rnn_step_case(rng: np.random.Generator) -> Case:
    x = rng.normal(0.0, 1.0, (BATCH, INPUT))
    h_prev = rng.normal(0.0, 0.5, (BATCH, HIDDEN))
    params = _cell_params(rng, 1)
    dh = rng.normal(0.0, 1.0, (BATCH, HIDDEN))
    inputs = {"dx": x, "dh_prev": h_prev, **{"d" + k: v for k, v in params.items()}}

    def objective(values):
        h, _ = forward.rnn_step_forward(values["dx"], values["dh_prev"], _param_grads(values))
        return float((h * dh).sum())

    def call(fn):
        _, cache = forward.rnn_step_forward(x.copy(), h_prev.copy(), copy.deepcopy(params))
        dx, dh_prev, dparams = _expect_tuple(fn(dh.copy(), cache), 3, "(dx, dh_prev, dparams)")
        return {"dx": dx, "dh_prev": dh_prev, **_expect_param_dict(dparams)}

    _, ref_cache = rnn_layer.rnn_step_forward(_to_reference(x), _to_reference(h_prev), _reference_params(inputs))
    ref_dx, ref_dh_prev, ref_dparams = rnn_layer.rnn_step_backward(_to_reference(dh), ref_cache)
    reference = {"dx": ref_dx, "dh_prev": ref_dh_prev, **{"d" + k: v for k, v in ref_dparams.items()}}
    _, cache = forward.rnn_step_forward(x, h_prev, params)
    return Case("rnn_step_backward", inputs, objective, call,
                {k: _from_reference(v) for k, v in reference.items()},
                context={"cache": cache, "dh": dh})


def lstm_step_case(rng: np.random.Generator) -> Case:
    x = rng.normal(0.0, 1.0, (BATCH, INPUT))
    h_prev = rng.normal(0.0, 0.5, (BATCH, HIDDEN))
    c_prev = rng.normal(0.0, 1.0, (BATCH, HIDDEN))
    params = _cell_params(rng, 4)
    dh = rng.normal(0.0, 1.0, (BATCH, HIDDEN))
    dc = rng.normal(0.0, 1.0, (BATCH, HIDDEN))
    inputs = {"dx": x, "dh_prev": h_prev, "dc_prev": c_prev, **{"d" + k: v for k, v in params.items()}}

    def objective(values):
        (h, c), _ = forward.lstm_step_forward(values["dx"], (values["dh_prev"], values["dc_prev"]),
                                              _param_grads(values))
        return float((h * dh).sum() + (c * dc).sum())

    def call(fn):
        _, cache = forward.lstm_step_forward(x.copy(), (h_prev.copy(), c_prev.copy()), copy.deepcopy(params))
        dx, dstate_prev, dparams = _expect_tuple(fn((dh.copy(), dc.copy()), cache), 3,
                                                 "(dx, (dh_prev, dc_prev), dparams)")
        dh_prev, dc_prev = _expect_tuple(dstate_prev, 2, "dstate_prev as the pair (dh_prev, dc_prev)")
        return {"dx": dx, "dh_prev": dh_prev, "dc_prev": dc_prev, **_expect_param_dict(dparams)}

    _, ref_cache = lstm_layer.lstm_step_forward(
        _to_reference(x), (_to_reference(h_prev), _to_reference(c_prev)), _reference_params(inputs))
    ref_dx, (ref_dh, ref_dc), ref_dparams = lstm_layer.lstm_step_backward(
        (_to_reference(dh), _to_reference(dc)), ref_cache)
    reference = {"dx": ref_dx, "dh_prev": ref_dh, "dc_prev": ref_dc, **{"d" + k: v for k, v in ref_dparams.items()}}
    _, cache = forward.lstm_step_forward(x, (h_prev, c_prev), params)
    return Case("lstm_step_backward", inputs, objective, call,
                {k: _from_reference(v) for k, v in reference.items()},
                context={"cache": cache, "dh": dh, "dc": dc}, num_gates=4, gate_names=("i", "f", "g", "o"))


def rnn_bptt_case(rng: np.random.Generator) -> Case:
    x = rng.normal(0.0, 1.0, (BATCH, TIME, INPUT))
    h0 = rng.normal(0.0, 0.5, (BATCH, HIDDEN))
    params = _cell_params(rng, 1)
    dhs = rng.normal(0.0, 1.0, (BATCH, TIME, HIDDEN))
    dh_last = rng.normal(0.0, 1.0, (BATCH, HIDDEN))
    inputs = {"dx": x, "dh0": h0, **{"d" + k: v for k, v in params.items()}}

    def objective(values):
        hs, h_last, _ = forward.rnn_forward(values["dx"], values["dh0"], _param_grads(values))
        return float((hs * dhs).sum() + (h_last * dh_last).sum())

    def call(fn):
        _, _, cache = forward.rnn_forward(x.copy(), h0.copy(), copy.deepcopy(params))
        dx, dh0, dparams = _expect_tuple(fn(dhs.copy(), dh_last.copy(), cache), 3, "(dx, dh0, dparams)")
        return {"dx": dx, "dh0": dh0, **_expect_param_dict(dparams)}

    _, _, ref_cache = rnn_layer.rnn_forward(_to_reference(x), _to_reference(h0), _reference_params(inputs))
    ref_dx, ref_dh0, ref_dparams = rnn_layer.rnn_backward(_to_reference(dhs), _to_reference(dh_last), ref_cache)
    reference = {"dx": ref_dx, "dh0": ref_dh0, **{"d" + k: v for k, v in ref_dparams.items()}}
    _, _, cache = forward.rnn_forward(x, h0, params)
    return Case("rnn_backward", inputs, objective, call,
                {k: _from_reference(v) for k, v in reference.items()},
                context={"cache": cache, "dhs": dhs, "dh_last": dh_last})


CASES: dict[str, Callable[[np.random.Generator], Case]] = {
    "embedding_backward": embedding_case,
    "softmax_cross_entropy_backward": softmax_cross_entropy_case,
    "rnn_step_backward": rnn_step_case,
    "lstm_step_backward": lstm_step_case,
    "rnn_backward": rnn_bptt_case,
}
