"""Bad input stops at the entry point with a ValueError / TypeError that says what was expected,
never deep inside NumPy with a broadcasting error."""
import numpy as np
import pytest

from scratchlm.layers import CELLS
from scratchlm.layers.embedding import embedding_forward
from scratchlm.layers.linear import linear_forward
from scratchlm.layers.softmax_cross_entropy import softmax_cross_entropy_forward
from scratchlm.models import RNNLM

V, E, H, L, B, T = 9, 4, 5, 2, 3, 4


@pytest.fixture
def model():
    return RNNLM(V, E, H, num_layers=L, cell="gru", dtype="float64")


@pytest.fixture
def lstm():
    return RNNLM(V, E, H, num_layers=L, cell="lstm", dtype="float64")


def ids(shape=(B, T), high=V):
    return np.random.default_rng(0).integers(0, high, size=shape)


# ----------------------------------------------------------------------------- token ids
def test_float_token_ids(model):
    with pytest.raises(TypeError, match="inputs must hold integer token ids, got dtype float64"):
        model.forward(ids().astype(float))
    with pytest.raises(TypeError, match="targets must hold integer token ids"):
        model.loss_and_grads(ids(), ids().astype(np.float32))


@pytest.mark.parametrize("bad", [V, -1, 1000])
def test_ids_out_of_range(model, bad):
    inputs = ids()
    inputs[1, 2] = bad
    with pytest.raises(ValueError, match=rf"token id {bad}, outside the vocabulary range \[0, {V}\)"):
        model.forward(inputs)
    targets = ids()
    targets[0, 0] = bad
    with pytest.raises(ValueError, match="outside the vocabulary range"):
        model.loss_and_grads(ids(), targets)


def test_wrong_number_of_dimensions(model):
    with pytest.raises(ValueError, match=r"inputs must have 2 dimensions, got shape \(4,\)"):
        model.forward(np.arange(4))


def test_empty_sequences(model):
    with pytest.raises(ValueError, match="inputs is empty.*at least one token"):
        model.forward(np.zeros((B, 0), dtype=int))
    with pytest.raises(ValueError, match="empty"):
        model.loss_and_grads(np.zeros((0, T), dtype=int), np.zeros((0, T), dtype=int))


# ----------------------------------------------------------------------------- shapes
def test_targets_shape_must_match_inputs(model):
    with pytest.raises(ValueError, match=r"targets has shape \(3, 3\); expected \(3, 4\) = the shape of inputs"):
        model.loss_and_grads(ids(), ids((B, T - 1)))


def test_mask_shape_and_values(model):
    with pytest.raises(ValueError, match=r"mask has shape \(3, 5\); expected \(3, 4\)"):
        model.loss_and_grads(ids(), ids(), mask=np.ones((B, T + 1), dtype=bool))
    with pytest.raises(ValueError, match="only 0/1"):
        model.loss_and_grads(ids(), ids(), mask=np.full((B, T), 0.5))
    with pytest.raises(ValueError, match="mask selects no tokens"):
        model.loss_and_grads(ids(), ids(), mask=np.zeros((B, T), dtype=bool))


def test_state_shape(model, lstm):
    with pytest.raises(ValueError, match=r"state has shape \(2, 4, 5\); expected \(2, 3, 5\) = \(num_layers, batch, hidden_size\)"):
        model.forward(ids(), np.zeros((L, B + 1, H)))
    with pytest.raises(TypeError, match=r"lstm RNNLM's state must be the pair \(h, c\)"):
        lstm.forward(ids(), np.zeros((L, B, H)))
    with pytest.raises(TypeError, match="not a tuple"):
        model.forward(ids(), (np.zeros((L, B, H)), np.zeros((L, B, H))))
    with pytest.raises(ValueError, match=r"state c has shape \(1, 3, 5\)"):
        lstm.forward(ids(), (np.zeros((L, B, H)), np.zeros((1, B, H))))


# ----------------------------------------------------------------------------- non-finite values
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # inf * 0 inside the matmul, before the check
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_parameter_is_named(model, value):
    model.params["rnn.weight_hh_l1"][3, 2] = value
    with pytest.raises(ValueError, match=r"parameter rnn.weight_hh_l1 contains NaN or infinity \(1 of 75 entries, first at index \(3, 2\)\)"):
        model.loss_and_grads(ids(), ids())
    with pytest.raises(ValueError, match="rnn.weight_hh_l1"):
        model.forward(ids())


@pytest.mark.parametrize("value", [np.nan, -np.inf])
def test_non_finite_state_is_named(lstm, value):
    h, c = np.zeros((L, B, H)), np.zeros((L, B, H))
    c[1, 0, 4] = value
    with pytest.raises(ValueError, match=r"state c contains NaN or infinity .* first at index \(1, 0, 4\)"):
        lstm.forward(ids(), (h, c))


# ----------------------------------------------------------------------------- load_state_dict
def test_load_state_dict_errors(model):
    good = {name: value.copy() for name, value in model.state_dict().items()}
    missing = dict(good)
    del missing["rnn.bias_hh_l1"]
    with pytest.raises(ValueError, match="missing keys: rnn.bias_hh_l1"):
        model.load_state_dict(missing)
    with pytest.raises(ValueError, match="unexpected keys: rnn.weight_ih_l2"):
        model.load_state_dict({**good, "rnn.weight_ih_l2": np.zeros((3 * H, H))})
    with pytest.raises(ValueError, match=r"decoder.weight has shape \(9, 4\); expected \(9, 5\)"):
        model.load_state_dict({**good, "decoder.weight": np.zeros((V, E))})
    with pytest.raises(ValueError, match="embedding.weight contains NaN"):
        model.load_state_dict({**good, "embedding.weight": np.full((V, E), np.nan)})
    with pytest.raises(TypeError, match="must be a dict"):
        model.load_state_dict([1, 2])


def test_tied_state_dict_must_agree():
    tied = RNNLM(V, H, H, tie_weights=True, dtype="float64")
    state = {name: value.copy() for name, value in tied.state_dict().items()}
    state["decoder.weight"] = state["decoder.weight"] + 1.0
    with pytest.raises(ValueError, match="decoder.weight differs from embedding.weight"):
        tied.load_state_dict(state)


# ----------------------------------------------------------------------------- constructor and interface
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(cell="transformer"), ValueError, "cell must be one of rnn, lstm, gru"),
        (dict(tie_weights=True), ValueError, "tie_weights needs embed_dim == hidden_size"),
        (dict(dropout=1.0), ValueError, r"dropout must be a probability in \[0, 1\)"),
        (dict(num_layers=0), ValueError, "num_layers must be a positive integer"),
        (dict(dtype="int32"), TypeError, "dtype must be a floating-point type"),
        (dict(init_range=-0.1), ValueError, "init_range must be None"),
    ],
)
def test_constructor_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        RNNLM(V, E, H, **kwargs)


def test_language_model_interface_errors(lstm):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        lstm.start(0)
    state = lstm.start(2)
    with pytest.raises(ValueError, match=r"tokens has shape \(3,\); expected \(2,\)"):
        lstm.advance(state, np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="integer token ids"):
        lstm.advance(state, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="outside the vocabulary range"):
        lstm.sequence_log_probs([1, V])
    with pytest.raises(ValueError, match=r"rows must index the 2 rows of the state, i.e. lie in \[0, 2\)"):
        lstm.select(state, [0, 2])
    with pytest.raises(TypeError, match="integer row indices"):
        lstm.select(state, [0.0])


# ----------------------------------------------------------------------------- layers
def test_layer_entry_points():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="token ids must hold integer token ids"):
        embedding_forward(np.array([[0.0, 1.0]]), rng.normal(size=(4, 3)))
    with pytest.raises(ValueError, match="outside the vocabulary range"):
        embedding_forward(np.array([[0, 4]]), rng.normal(size=(4, 3)))
    with pytest.raises(ValueError, match=r"expected x of shape \(\.\.\., 3\)"):
        linear_forward(rng.normal(size=(2, 5, 4)), rng.normal(size=(6, 3)), rng.normal(size=6))
    with pytest.raises(ValueError, match=r"targets has shape \(2, 3\); expected \(2, 4\)"):
        softmax_cross_entropy_forward(rng.normal(size=(2, 4, 5)), np.zeros((2, 3), dtype=int))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cell_entry_points(cell):
    rng = np.random.default_rng(1)
    G = CELLS[cell].num_gates
    params = {"weight_ih": rng.normal(size=(G * H, E)), "weight_hh": rng.normal(size=(G * H, H)), "bias_ih": np.zeros(G * H), "bias_hh": np.zeros(G * H)}
    forward = CELLS[cell].forward
    with pytest.raises(ValueError, match=rf"{cell} input has shape \(3, 4, 6\); expected \(batch, time, input_size\) with input_size = 4"):
        forward(rng.normal(size=(B, T, E + 2)), None, params)
    with pytest.raises(ValueError, match=rf"{cell} weight_hh has shape"):
        forward(rng.normal(size=(B, T, E)), None, {**params, "weight_hh": rng.normal(size=(G * H, H + 1))})
    with pytest.raises(ValueError, match="missing bias_hh"):
        forward(rng.normal(size=(B, T, E)), None, {k: v for k, v in params.items() if k != "bias_hh"})
    with pytest.raises(ValueError, match="empty"):
        forward(np.zeros((B, 0, E)), None, params)
    h = rng.normal(size=(B + 1, H))
    state = (h, h) if cell == "lstm" else h
    with pytest.raises(ValueError, match=r"has shape \(4, 5\); expected \(3, 5\) = \(batch, hidden_size\)"):
        forward(rng.normal(size=(B, T, E)), state, params)
    hs, _, cache = forward(rng.normal(size=(B, T, E)), None, params)
    with pytest.raises(ValueError, match=rf"{cell} dhs has shape \(3, 3, 5\); expected \(3, 4, 5\)"):
        CELLS[cell].backward(hs[:, 1:], None, cache)
