"""RNNLM: the public contract (shapes, names, state, modes, config), the LanguageModel interface,
and consistency properties checked against independent computations. Gradient checks of every
configuration are in test_gradcheck.py (the registered cases) and PyTorch parity in
test_torch_parity.py."""
import json
import math

import numpy as np
import pytest

from scratchlm import backend
from scratchlm.gradcheck.cases import check_rnnlm
from scratchlm.lm import LanguageModel
from scratchlm.models import RNNLM
from scratchlm.train.optimizers import SGD

V, E, H, B, T = 11, 5, 6, 3, 7
CELLS = ["rnn", "lstm", "gru"]


def make(cell="lstm", **kwargs):
    options = dict(num_layers=2, cell=cell, dtype="float64", seed=3)
    options.update(kwargs)
    return RNNLM(V, kwargs.pop("embed_dim", E), H, **{k: v for k, v in options.items() if k != "embed_dim"})


def batch(seed=0, batch_size=B, time=T):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, size=(batch_size, time)), rng.integers(0, V, size=(batch_size, time))


def reference_log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("cell", CELLS)
def test_shapes_of_logits_state_and_grads(cell):
    model = make(cell)
    inputs, targets = batch()
    logits, state = model.forward(inputs)
    assert logits.shape == (B, T, V) and logits.dtype == np.float64
    parts = state if cell == "lstm" else (state,)
    assert len(parts) == (2 if cell == "lstm" else 1)
    for part in parts:
        assert part.shape == (2, B, H)
    loss, grads, _ = model.loss_and_grads(inputs, targets)
    assert isinstance(loss, float)
    assert list(grads) == list(model.params)
    for name in grads:
        assert grads[name].shape == model.params[name].shape


def test_float32_is_the_default_dtype():
    model = RNNLM(V, E, H)
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert model.forward(batch()[0])[0].dtype == np.float32


def test_state_dict_uses_pytorch_names_in_pytorch_order():
    model = make("gru")
    assert list(model.state_dict()) == [
        "embedding.weight",
        "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
        "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
        "decoder.weight", "decoder.bias",
    ]  # fmt: skip
    shapes = {name: value.shape for name, value in model.state_dict().items()}
    assert shapes["rnn.weight_ih_l0"] == (3 * H, E) and shapes["rnn.weight_ih_l1"] == (3 * H, H)
    assert shapes["decoder.weight"] == (V, H)


def test_tied_weights_share_one_matrix():
    model = make("lstm", embed_dim=H, tie_weights=True)
    assert "decoder.weight" not in model.params
    state = model.state_dict()
    assert state["decoder.weight"] is state["embedding.weight"] is model.params["embedding.weight"]
    assert model.num_parameters() == sum(p.size for p in model.params.values())


def test_load_state_dict_copies_in_place_and_reproduces_outputs():
    source, target = make("lstm", seed=1), make("lstm", seed=2)
    inputs, _ = batch()
    held = target.params["rnn.weight_hh_l1"]
    target.load_state_dict({name: value.copy() for name, value in source.state_dict().items()})
    assert target.params["rnn.weight_hh_l1"] is held  # an optimizer's references stay valid
    np.testing.assert_array_equal(target.forward(inputs)[0], source.forward(inputs)[0])


def test_config_round_trips_through_json():
    model = make("gru", dropout=0.2, init_range=0.1, bos_id=2, eos_id=3)
    config = json.loads(json.dumps(model.config()))
    rebuilt = RNNLM.from_config(config)
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    inputs, _ = batch()
    np.testing.assert_array_equal(rebuilt.forward(inputs)[0], model.forward(inputs)[0])


def test_same_seed_same_parameters():
    a, b, c = make(seed=5), make(seed=5), make(seed=6)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert not np.array_equal(a.params["decoder.weight"], c.params["decoder.weight"])


def test_initialisation_ranges():
    r = 0.05
    zaremba = RNNLM(50, 20, 30, num_layers=2, init_range=r, dtype="float64")
    for value in zaremba.params.values():
        assert np.abs(value).max() <= r
        assert np.abs(value).max() > 0.8 * r  # really uniform over the whole range, not all zeros
    default = RNNLM(50, 20, 30, num_layers=2, dtype="float64")
    # nn.Embedding: N(0, 1); 1000 draws have a standard deviation within 0.1 of 1 with overwhelming probability.
    assert abs(default.params["embedding.weight"].std() - 1.0) < 0.1
    bound = 1 / math.sqrt(30)  # nn.LSTM and nn.Linear(30, V): U(-1/sqrt(H), 1/sqrt(H))
    for name, value in default.params.items():
        if name != "embedding.weight":
            assert np.abs(value).max() <= bound


def test_carrying_the_state_equals_one_long_pass():
    for cell in CELLS:
        model = make(cell)
        inputs, _ = batch()
        whole, whole_state = model.forward(inputs)
        first, state = model.forward(inputs[:, :3])
        second, final_state = model.forward(inputs[:, 3:], state)
        np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12, atol=1e-14)
        if cell != "lstm":
            final_state, whole_state = (final_state,), (whole_state,)
        for got, want in zip(final_state, whole_state):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_loss_is_mean_masked_nll_of_the_logits():
    model = make("rnn")
    inputs, targets = batch(1)
    mask = np.random.default_rng(2).random((B, T)) < 0.6
    mask[0, 0] = True
    logits, _ = model.forward(inputs)
    log_p = reference_log_softmax(logits)
    nll = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    expected = nll[mask].sum() / mask.sum()
    assert abs(model.loss(inputs, targets, mask=mask) - expected) < 1e-12
    assert abs(model.loss_and_grads(inputs, targets, mask=mask)[0] - expected) < 1e-12


def test_masked_targets_do_not_matter():
    model = make("gru")
    inputs, targets = batch(3)
    mask = np.ones((B, T), dtype=bool)
    mask[:, -2:] = False
    other = targets.copy()
    other[:, -2:] = (other[:, -2:] + 1) % V
    loss_a, grads_a, _ = model.loss_and_grads(inputs, targets, mask=mask)
    loss_b, grads_b, _ = model.loss_and_grads(inputs, other, mask=mask)
    assert loss_a == loss_b
    for name in grads_a:
        np.testing.assert_array_equal(grads_a[name], grads_b[name])


def test_dropout_modes_and_seeded_stream():
    model = make("lstm", dropout=0.5)
    inputs, targets = batch()
    model.eval()
    a, b = model.forward(inputs)[0], model.forward(inputs)[0]
    np.testing.assert_array_equal(a, b)  # no dropout in evaluation
    model.train()
    model.seed_dropout(1)
    c = model.forward(inputs)[0]
    model.seed_dropout(1)
    d = model.forward(inputs)[0]
    e = model.forward(inputs)[0]
    np.testing.assert_array_equal(c, d)  # the same seed gives the same masks
    assert not np.allclose(c, a) and not np.allclose(d, e)  # training draws fresh masks
    no_dropout = make("lstm")
    np.testing.assert_array_equal(no_dropout.train().forward(inputs)[0], no_dropout.eval().forward(inputs)[0])


def test_dropout_model_gradient_check_with_fixed_masks():
    model = make("gru", dropout=0.4, num_layers=2, init_range=0.5)
    inputs, targets = batch(4, batch_size=2, time=3)
    report = check_rnnlm(model, inputs, targets)
    assert report.passed and report.max_error < 1e-6, str(report)


@pytest.mark.parametrize("cell", CELLS)
def test_state_gradient_has_the_state_layout(cell):
    model = make(cell)
    inputs, targets = batch()
    state = model.forward(inputs)[1]
    _, _, _, dstate = model.loss_and_grads(inputs, targets, state=state, state_grad=True)
    got = dstate if cell == "lstm" else (dstate,)
    want = state if cell == "lstm" else (state,)
    assert [g.shape for g in got] == [w.shape for w in want]
    assert all(np.abs(g).max() > 0 for g in got)


# ----------------------------------------------------------------------------- LanguageModel interface
@pytest.mark.parametrize("cell", CELLS)
def test_language_model_interface_agrees_with_forward(cell):
    model = make(cell, bos_id=2)
    assert isinstance(model, LanguageModel)
    tokens = np.array([[4, 7, 1, 9], [0, 0, 5, 3]])
    state = model.start(2)
    for t in range(tokens.shape[1]):
        state = model.advance(state, tokens[:, t])
    inputs = np.concatenate([np.full((2, 1), 2), tokens], axis=1)
    logits, _ = model.forward(inputs)
    expected = reference_log_softmax(logits[:, -1])
    np.testing.assert_allclose(model.log_probs(state), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.exp(model.log_probs(state)).sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("backend_name", ["numpy", "numba"])
@pytest.mark.parametrize("cell", CELLS)
def test_advance_sees_parameters_updated_in_place(cell, backend_name):
    # Optimizers update the parameter arrays in place, between (or during) decoding runs: a step
    # must read the weights as they are now, never a copy made at an earlier step.
    if backend_name not in backend.available():
        pytest.skip(f"{backend_name} is not installed")
    previous = backend.name()
    backend.use(backend_name)
    try:
        model = make(cell, bos_id=2)
        tokens = np.array([[4, 7, 1], [0, 5, 3]])
        state = model.advance(model.advance(model.start(2), tokens[:, 0]), tokens[:, 1])
        inputs, targets = batch(4)
        _, grads, _ = model.loss_and_grads(inputs, targets)
        SGD(lr=0.5).step(model.params, grads)
        state = model.advance(state, tokens[:, 2])

        # Independent models: the first two tokens read with the old weights, the third with the new.
        _, state_before = make(cell, bos_id=2).forward(np.concatenate([np.full((2, 1), 2), tokens[:, :2]], axis=1))
        updated = make(cell, bos_id=2)
        updated.load_state_dict({name: value.copy() for name, value in model.state_dict().items()})
        logits, _ = updated.forward(tokens[:, 2:], state=state_before)
        stale_logits, _ = make(cell, bos_id=2).forward(tokens[:, 2:], state=state_before)
        np.testing.assert_allclose(model.log_probs(state), reference_log_softmax(logits[:, -1]), rtol=1e-10, atol=1e-12)
        assert not np.allclose(model.log_probs(state), reference_log_softmax(stale_logits[:, -1]), rtol=1e-3)
    finally:
        backend.use(previous)


def test_start_without_bos_is_uniform():
    model = make("rnn")
    log_p = model.log_probs(model.start(3))
    assert log_p.shape == (3, V) and log_p.dtype == np.float64
    np.testing.assert_allclose(log_p, -math.log(V))


def test_select_reorders_and_repeats_rows():
    model = make("lstm", bos_id=2)
    state = model.advance(model.start(3), np.array([4, 5, 6]))
    picked = model.select(state, [2, 0, 2])
    np.testing.assert_array_equal(model.log_probs(picked), model.log_probs(state)[[2, 0, 2]])
    after_picked = model.advance(picked, np.array([1, 1, 1]))
    after_direct = model.advance(model.advance(model.start(1), np.array([6])), np.array([1]))
    np.testing.assert_allclose(model.log_probs(after_picked)[0], model.log_probs(after_direct)[0], rtol=1e-12)


@pytest.mark.parametrize("bos_id", [None, 2])
@pytest.mark.parametrize("cell", CELLS)
def test_sequence_log_probs_matches_the_generic_definition(cell, bos_id):
    model = make(cell, bos_id=bos_id, eos_id=3)
    sequence = [5, 9, 9, 1, 3]
    fast = model.sequence_log_probs(sequence)
    generic = LanguageModel.sequence_log_probs(model, sequence)
    np.testing.assert_allclose(fast, generic, rtol=1e-12, atol=1e-12)
    assert model.sequence_log_probs([]).shape == (0,)
    assert len(model.sequence_log_probs([4])) == 1


def test_interface_ignores_training_mode():
    model = make("gru", dropout=0.5, bos_id=2).train()
    sequence = [4, 5, 6]
    np.testing.assert_array_equal(model.sequence_log_probs(sequence), model.sequence_log_probs(sequence))


@pytest.mark.parametrize("cell", CELLS)
def test_float32_agrees_with_float64(cell):
    """The float32 training path computes the same function: loss and gradients of a float32 copy
    agree with float64 to float32 precision (relative 1e-4 of each array's largest entry)."""
    exact = make(cell)
    single = make(cell, dtype="float32")
    single.load_state_dict(exact.state_dict())
    inputs, targets = batch(5)
    loss64, grads64, _ = exact.loss_and_grads(inputs, targets)
    loss32, grads32, _ = single.loss_and_grads(inputs, targets)
    assert abs(loss32 - loss64) < 1e-5 * loss64
    for name in grads64:
        assert grads32[name].dtype == np.float32
        assert np.abs(grads32[name] - grads64[name]).max() < 1e-4 * np.abs(grads64[name]).max(), name
