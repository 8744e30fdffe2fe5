"""The registry of gradient-check cases run by ``scratchlm gradcheck`` and by the tests.

Each case builds small float64 inputs, runs a forward and a backward pass, and returns the
:class:`~scratchlm.gradcheck.GradCheckReport` comparing the analytic gradients with centred
differences. This is the one list of gradient checks: ``scratchlm gradcheck`` prints it and
tests/gradcheck runs it. Adding a case takes a decorated function of a :class:`CaseData` (the
case's own seeded random draws) and the tolerance::

    @gradcheck_case("my layer (with mask)")
    def _my_layer(data, tolerance):
        x, w = data.array((2, 3, 4)), data.array((5, 4))
        ...                                   # forward + backward -> dx, dw
        return check_gradients(lambda: my_loss(x, w), {"x": x, "w": w}, {"x": dx, "w": dw}, tolerance=tolerance)

Layer outputs that are arrays are turned into a scalar loss by :func:`projected_sum`, the sum of
the outputs weighted by fixed random arrays; the same random arrays are then the upstream
gradients fed to the backward pass.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratchlm import backend
from scratchlm.gradcheck.finite_differences import DEFAULT_TOLERANCE, GradCheckReport, check_gradients
from scratchlm.layers import CELLS
from scratchlm.layers.dropout import dropout_backward, dropout_forward
from scratchlm.layers.embedding import embedding_backward, embedding_forward
from scratchlm.layers.linear import linear_backward, linear_forward
from scratchlm.layers.softmax_cross_entropy import softmax_cross_entropy_backward, softmax_cross_entropy_forward
from scratchlm.models.rnnlm import RNNLM


@dataclass
class GradCheckCase:
    """A named check: ``run(data, tolerance)`` returns a GradCheckReport."""

    name: str
    run: Callable[["CaseData", float], GradCheckReport]
    tolerance: float = DEFAULT_TOLERANCE


CASES: list[GradCheckCase] = []


def gradcheck_case(name: str, tolerance: float = DEFAULT_TOLERANCE):
    """Decorator: register ``function(data, tolerance) -> GradCheckReport`` as a case called ``name``."""

    def register(function):
        if any(case.name == name for case in CASES):
            raise ValueError(f"a gradient-check case named {name!r} is already registered")
        CASES.append(GradCheckCase(name, function, tolerance))
        return function

    return register


def run_case(case: GradCheckCase) -> GradCheckReport:
    """Run one case at its own tolerance, on random data seeded by the case's name."""
    return case.run(CaseData(zlib.crc32(case.name.encode())), case.tolerance)  # same data whichever cases ran before


# ----------------------------------------------------------------------------- helpers
class CaseData:
    """The random draws of one case: float64 arrays and integer ids on the active backend."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def array(self, shape, scale=1.0):
        """N(0, scale^2) draws, float64 (``backend.GRADCHECK_DTYPE``)."""
        return backend.asarray(self.rng.normal(0.0, scale, size=shape), dtype=backend.GRADCHECK_DTYPE)

    def ids(self, shape, vocab_size):
        """Integer ids in [0, vocab_size)."""
        return backend.asarray(self.rng.integers(0, vocab_size, size=shape))


def projected_sum(outputs, weights) -> float:
    """sum_k sum(outputs[k] * weights[k]): a scalar whose gradient w.r.t. outputs[k] is weights[k]."""
    return float(sum((out * w).sum() for out, w in zip(outputs, weights)))


def random_cell_params(data: CaseData, cell: str, input_size: int, hidden: int) -> dict:
    gates = CELLS[cell].num_gates
    return {
        "weight_ih": data.array((gates * hidden, input_size), 0.5),
        "weight_hh": data.array((gates * hidden, hidden), 0.5),
        "bias_ih": data.array((gates * hidden,), 0.5),
        "bias_hh": data.array((gates * hidden,), 0.5),
    }


def _state_arrays(cell: str, state) -> dict:
    """Name the arrays of a recurrent state, for inclusion in a check."""
    if cell == "lstm":
        return {"h0": state[0], "c0": state[1]}
    return {"h0": state}


def _random_state(data: CaseData, cell: str, shape):
    if cell == "lstm":
        return data.array(shape), data.array(shape)
    return data.array(shape)


# ----------------------------------------------------------------------------- layers
@gradcheck_case("embedding (repeated ids)")
def _embedding(data, tolerance):
    weight = data.array((6, 4))
    ids = backend.asarray(np.array([[1, 3, 1], [5, 1, 3]]))  # id 1 three times, id 3 twice
    dout = data.array((2, 3, 4))
    out, cache = embedding_forward(ids, weight)
    dweight = embedding_backward(dout, cache)
    return check_gradients(lambda: projected_sum([embedding_forward(ids, weight)[0]], [dout]), {"weight": weight}, {"weight": dweight}, tolerance=tolerance)


@gradcheck_case("linear (over a time axis)")
def _linear(data, tolerance):
    x, weight, bias = data.array((2, 3, 4)), data.array((5, 4)), data.array((5,))
    dy = data.array((2, 3, 5))
    _, cache = linear_forward(x, weight, bias)
    dx, dweight, dbias = linear_backward(dy, cache)
    arrays = {"x": x, "weight": weight, "bias": bias}
    return check_gradients(lambda: projected_sum([linear_forward(x, weight, bias)[0]], [dy]), arrays, {"x": dx, "weight": dweight, "bias": dbias}, tolerance=tolerance)


@gradcheck_case("linear (no bias)")
def _linear_no_bias(data, tolerance):
    x, weight, dy = data.array((3, 4)), data.array((2, 4)), data.array((3, 2))
    _, cache = linear_forward(x, weight, None)
    dx, dweight, _ = linear_backward(dy, cache)
    loss = lambda: projected_sum([linear_forward(x, weight, None)[0]], [dy])  # noqa: E731
    return check_gradients(loss, {"x": x, "weight": weight}, {"x": dx, "weight": dweight}, tolerance=tolerance)


@gradcheck_case("softmax cross-entropy (with mask)")
def _softmax_cross_entropy(data, tolerance):
    logits = data.array((2, 4, 6))
    targets = data.ids((2, 4), 6)
    mask = backend.asarray(np.array([[True, True, True, False], [True, True, False, False]]))
    _, cache = softmax_cross_entropy_forward(logits, targets, mask)
    dlogits = softmax_cross_entropy_backward(cache, dloss=1.7)
    loss = lambda: 1.7 * softmax_cross_entropy_forward(logits, targets, mask)[0]  # noqa: E731
    return check_gradients(loss, {"logits": logits}, {"logits": dlogits}, tolerance=tolerance)


@gradcheck_case("dropout (fixed mask, p=0.4)")
def _dropout(data, tolerance):
    x, dout = data.array((3, 4, 5)), data.array((3, 4, 5))

    def forward():
        return dropout_forward(x, 0.4, np.random.default_rng(7))  # same seed -> same mask every call

    _, cache = forward()
    dx = dropout_backward(dout, cache)
    return check_gradients(lambda: projected_sum([forward()[0]], [dout]), {"x": x}, {"x": dx}, tolerance=tolerance)


def _register_cell_cases(cell: str) -> None:
    batch, time, input_size, hidden = 2, 4, 3, 5  # input_size != hidden, so a swapped size shows

    @gradcheck_case(f"{cell} step")
    def _step(data, tolerance):
        params = random_cell_params(data, cell, input_size, hidden)
        x, state = data.array((batch, input_size)), _random_state(data, cell, (batch, hidden))
        dstate = _random_state(data, cell, (batch, hidden))
        step_forward, step_backward = CELLS[cell].step_forward, CELLS[cell].step_backward
        as_list = (lambda s: list(s)) if cell == "lstm" else (lambda s: [s])

        _, cache = step_forward(x, state, params)
        dx, dstate_prev, dparams = step_backward(dstate, cache)
        arrays = {"x": x, **_state_arrays(cell, state), **params}
        grads = {"x": dx, **_state_arrays(cell, dstate_prev), **dparams}
        return check_gradients(lambda: projected_sum(as_list(step_forward(x, state, params)[0]), as_list(dstate)), arrays, grads, tolerance=tolerance)

    @gradcheck_case(f"{cell} sequence (BPTT, initial and final state)")
    def _sequence(data, tolerance):
        params = random_cell_params(data, cell, input_size, hidden)
        x, state0 = data.array((batch, time, input_size)), _random_state(data, cell, (batch, hidden))
        dhs, dstate_T = data.array((batch, time, hidden)), _random_state(data, cell, (batch, hidden))
        forward, backward = CELLS[cell].forward, CELLS[cell].backward
        as_list = (lambda s: list(s)) if cell == "lstm" else (lambda s: [s])

        def loss():
            hs, state_T, _ = forward(x, state0, params)
            return projected_sum([hs, *as_list(state_T)], [dhs, *as_list(dstate_T)])

        _, _, cache = forward(x, state0, params)
        dx, dstate0, dparams = backward(dhs, dstate_T, cache)
        arrays = {"x": x, **_state_arrays(cell, state0), **params}
        grads = {"x": dx, **_state_arrays(cell, dstate0), **dparams}
        return check_gradients(loss, arrays, grads, tolerance=tolerance)


for _cell in CELLS:
    _register_cell_cases(_cell)


# ----------------------------------------------------------------------------- RNNLM
def check_rnnlm(model: RNNLM, inputs, targets, mask=None, state=None, tolerance=DEFAULT_TOLERANCE, dropout_seed=11) -> GradCheckReport:
    """Check every parameter of ``model`` (float64) and, when ``state`` is given, the initial-state gradient.

    The dropout stream is restarted from ``dropout_seed`` before every evaluation, so every
    evaluation uses the same dropout masks.
    """

    def loss():
        model.seed_dropout(dropout_seed)
        return model.loss(inputs, targets, state, mask)

    model.seed_dropout(dropout_seed)
    _, grads, _, dstate = model.loss_and_grads(inputs, targets, state, mask, state_grad=True)
    arrays, analytic = dict(model.params), dict(grads)
    if state is not None:
        arrays.update(_state_arrays(model.cell, state))
        analytic.update(_state_arrays(model.cell, dstate))
    return check_gradients(loss, arrays, analytic, tolerance=tolerance)


def _register_rnnlm_cases(cell: str) -> None:
    vocab, batch, time = 7, 2, 4

    @gradcheck_case(f"RNNLM {cell}, 1 layer")
    def _one_layer(data, tolerance):
        model = RNNLM(vocab, 3, 4, num_layers=1, cell=cell, dtype="float64", seed=1, init_range=0.5)
        return check_rnnlm(model, data.ids((batch, time), vocab), data.ids((batch, time), vocab), tolerance=tolerance)

    @gradcheck_case(f"RNNLM {cell}, 2 layers, mask, initial state")
    def _two_layers(data, tolerance):
        model = RNNLM(vocab, 3, 4, num_layers=2, cell=cell, dtype="float64", seed=2, init_range=0.5)
        mask = backend.asarray(np.array([[True, True, True, False], [True, False, False, False]]))
        state = _random_state(data, cell, (2, batch, 4))
        return check_rnnlm(model, data.ids((batch, time), vocab), data.ids((batch, time), vocab), mask, state, tolerance)

    @gradcheck_case(f"RNNLM {cell}, tied weights")
    def _tied(data, tolerance):
        model = RNNLM(vocab, 4, 4, num_layers=1, cell=cell, tie_weights=True, dtype="float64", seed=3, init_range=0.5)
        return check_rnnlm(model, data.ids((batch, time), vocab), data.ids((batch, time), vocab), tolerance=tolerance)

    @gradcheck_case(f"RNNLM {cell}, 2 layers, dropout 0.3 (fixed masks)")
    def _dropout(data, tolerance):
        model = RNNLM(vocab, 3, 4, num_layers=2, cell=cell, dropout=0.3, dtype="float64", seed=4, init_range=0.5)
        return check_rnnlm(model, data.ids((batch, time), vocab), data.ids((batch, time), vocab), tolerance=tolerance)


for _cell in CELLS:
    _register_rnnlm_cases(_cell)


# ----------------------------------------------------------------------------- bidirectional layer, window LM, tagger, seq2seq
from scratchlm.layers.bidirectional import bidirectional_backward, bidirectional_forward  # noqa: E402
from scratchlm.models.seq2seq import Seq2Seq  # noqa: E402
from scratchlm.models.tagger import BiRNNTagger  # noqa: E402
from scratchlm.models.window_lm import WindowLM  # noqa: E402


def _bidirectional_params(data: CaseData, cell: str, input_size: int, hidden: int, layer: int = 0) -> dict:
    params = {}
    for suffix in (f"_l{layer}", f"_l{layer}_reverse"):
        params.update({name + suffix: value for name, value in random_cell_params(data, cell, input_size, hidden).items()})
    return params


def _register_bidirectional_cases(cell: str) -> None:
    batch, time, input_size, hidden = 2, 4, 3, 5
    as_list = (lambda s: list(s)) if cell == "lstm" else (lambda s: [s])

    @gradcheck_case(f"bidirectional {cell} (initial and final states)")
    def _both_states(data, tolerance):
        params = _bidirectional_params(data, cell, input_size, hidden)
        x = data.array((batch, time, input_size))
        state0 = (_random_state(data, cell, (batch, hidden)), _random_state(data, cell, (batch, hidden)))
        dhs = data.array((batch, time, 2 * hidden))
        dstate_T = (_random_state(data, cell, (batch, hidden)), _random_state(data, cell, (batch, hidden)))

        def loss():
            hs, (forward_T, backward_T), _ = bidirectional_forward(x, state0, params, cell)
            return projected_sum([hs, *as_list(forward_T), *as_list(backward_T)],
                                 [dhs, *as_list(dstate_T[0]), *as_list(dstate_T[1])])

        _, _, cache = bidirectional_forward(x, state0, params, cell)
        dx, (dforward0, dbackward0), dparams = bidirectional_backward(dhs, dstate_T, cache)
        arrays = {"x": x, **params}
        grads = {"x": dx, **dparams}
        for direction, state, dstate in (("forward", state0[0], dforward0), ("backward", state0[1], dbackward0)):
            arrays.update({f"{direction} {name}": v for name, v in _state_arrays(cell, state).items()})
            grads.update({f"{direction} {name}": v for name, v in _state_arrays(cell, dstate).items()})
        return check_gradients(loss, arrays, grads, tolerance=tolerance)


for _cell in CELLS:
    _register_bidirectional_cases(_cell)


def _register_bidirectional_padded_case(cell: str) -> None:
    @gradcheck_case(f"bidirectional {cell}, padded rows (lengths)")
    def _padded(data, tolerance):
        params = _bidirectional_params(data, cell, 3, 4)
        x, dhs = data.array((3, 5, 3)), data.array((3, 5, 8))
        lengths = np.array([5, 2, 3])
        _, _, cache = bidirectional_forward(x, None, params, cell, lengths=lengths)
        dx, _, dparams = bidirectional_backward(dhs, None, cache)
        loss = lambda: projected_sum([bidirectional_forward(x, None, params, cell, lengths=lengths)[0]], [dhs])  # noqa: E731
        return check_gradients(loss, {"x": x, **params}, {"x": dx, **dparams}, tolerance=tolerance)


for _cell in CELLS:
    _register_bidirectional_padded_case(_cell)


@gradcheck_case("WindowLM (window 3, direct connections, mask, carried state)")
def _window_lm(data, tolerance):
    vocab = 9
    model = WindowLM(vocab, context_size=3, embed_dim=3, hidden_size=4, direct=True, seed=1, dtype="float64")
    inputs, targets = data.ids((2, 5), vocab), data.ids((2, 5), vocab)
    state = data.ids((2, 2), vocab)
    mask = backend.asarray(np.array([[True, True, True, True, False], [True, True, False, False, False]]))
    _, grads, _ = model.loss_and_grads(inputs, targets, state, mask)
    return check_gradients(lambda: model.loss(inputs, targets, state, mask), model.params, grads, tolerance=tolerance)


@gradcheck_case("BiRNNTagger lstm, 2 layers, padded rows")
def _tagger(data, tolerance):
    vocab, tags = 7, 3
    model = BiRNNTagger(vocab, tags, embed_dim=3, hidden_size=4, num_layers=2, cell="lstm", seed=2, dtype="float64")
    inputs, targets = data.ids((3, 5), vocab), data.ids((3, 5), tags)
    lengths = np.array([5, 2, 4])
    _, grads = model.loss_and_grads(inputs, targets, lengths)
    loss = lambda: model.loss_and_grads(inputs, targets, lengths)[0]  # noqa: E731
    return check_gradients(loss, model.params, grads, tolerance=tolerance, max_checks=10)


def _register_seq2seq_case(cell: str) -> None:
    @gradcheck_case(f"Seq2Seq {cell} (teacher forcing, padded targets)")
    def _seq2seq(data, tolerance):
        model = Seq2Seq(6, 7, embed_dim=3, hidden_size=4, cell=cell, seed=3, dtype="float64")
        source, target = data.ids((2, 4), 6), data.ids((2, 5), 7)
        mask = backend.asarray(np.array([[True] * 5, [True, True, True, False, False]]))
        _, grads = model.loss_and_grads(source, target, mask)
        loss = lambda: model.loss_and_grads(source, target, mask)[0]  # noqa: E731
        return check_gradients(loss, model.params, grads, tolerance=tolerance)


for _cell in CELLS:
    _register_seq2seq_case(_cell)


from scratchlm.models.bilm import BiLM  # noqa: E402


@gradcheck_case("BiLM (ELMo pair) lstm, 2 layers per direction, padded rows")
def _bilm(data, tolerance):
    model = BiLM(8, embed_dim=3, hidden_size=4, num_layers=2, cell="lstm", seed=4, dtype="float64")
    for value in model.params.values():
        value *= 2.0  # larger weights, so that no gradient entry is small enough for rounding to dominate it
    sequences = backend.asarray(np.array([[2, 5, 6, 7, 3], [2, 4, 3, 0, 0]]))
    lengths = np.array([5, 3])
    _, grads = model.loss_and_grads(sequences, lengths)
    return check_gradients(lambda: model.loss(sequences, lengths), model.params, grads, tolerance=tolerance, max_checks=10)
