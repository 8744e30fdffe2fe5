"""The bidirectional layer: PyTorch parity, padded rows, gradients, and bad input."""
import numpy as np
import pytest

from scratchlm.layers.bidirectional import (
    bidirectional_backward,
    bidirectional_forward,
    init_bidirectional_params,
    reverse_sequences,
)

CELLS = ("rnn", "lstm", "gru")
B, T, E, H = 3, 5, 4, 6   # E != H, so a swapped size cannot go unnoticed


def random_state(cell, rng, batch=B, hidden=H):
    if cell == "lstm":
        return (rng.standard_normal((batch, hidden)), rng.standard_normal((batch, hidden)))
    return rng.standard_normal((batch, hidden))


def test_reverse_sequences_reverses_each_row_within_its_length():
    x = np.arange(2 * 5).reshape(2, 5, 1)
    lengths = np.array([5, 3])
    out = reverse_sequences(x, lengths)[..., 0]
    # row 0 reversed whole; row 1 reversed over its 3 real steps, padding left where it was
    assert out.tolist() == [[4, 3, 2, 1, 0], [7, 6, 5, 8, 9]]
    assert np.array_equal(reverse_sequences(reverse_sequences(x, lengths), lengths), x)
    assert np.array_equal(reverse_sequences(x)[..., 0], x[:, ::-1, 0])


def test_output_halves_are_a_forward_and_a_reversed_run_of_the_cell():
    """Brute force: run each direction step by step over the row, forward and reversed."""
    from scratchlm.layers import CELLS as cell_functions

    rng = np.random.default_rng(0)
    params = init_bidirectional_params(E, H, "gru", rng=rng, dtype="float64")
    x = rng.standard_normal((B, T, E))
    hs, _, _ = bidirectional_forward(x, None, params, "gru")
    step = cell_functions["gru"].step_forward
    for suffix, times in (("_l0", range(T)), ("_l0_reverse", reversed(range(T)))):
        direction = {name: params[name + suffix] for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
        h = np.zeros((B, H))
        half = slice(0, H) if suffix == "_l0" else slice(H, 2 * H)
        for t in times:
            h, _ = step(x[:, t], h, direction)
            np.testing.assert_allclose(hs[:, t, half], h, rtol=0, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_matches_pytorch_bidirectional_two_layers(cell):
    torch = pytest.importorskip("torch")
    torch_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    torch.manual_seed(0)
    reference = torch_class(E, H, num_layers=2, batch_first=True, bidirectional=True).double()
    with torch.no_grad():   # PyTorch's init already draws distinct biases; make them larger too
        for name, value in reference.named_parameters():
            if name.startswith("bias"):
                value.uniform_(-0.5, 0.5)
    params = {name: value.detach().numpy().copy() for name, value in reference.state_dict().items()}

    rng = np.random.default_rng(1)
    x = rng.standard_normal((B, T, E))
    states0 = [(random_state(cell, rng), random_state(cell, rng)) for _ in range(2)]
    dhs = rng.standard_normal((B, T, 2 * H))

    # ours: layer 0 then layer 1, each with its own pair of initial states
    hs0, final0, cache0 = bidirectional_forward(x, states0[0], params, cell, layer=0)
    hs1, final1, cache1 = bidirectional_forward(hs0, states0[1], params, cell, layer=1)
    dhs0, _, dparams1 = bidirectional_backward(dhs, None, cache1)
    dx, _, dparams0 = bidirectional_backward(dhs0, None, cache0)

    # PyTorch's h0 is (num_layers * 2, B, H), ordered l0, l0_reverse, l1, l1_reverse
    def stack(index):
        return torch.tensor(np.stack([pair[d][index] if cell == "lstm" else pair[d]
                                      for pair in states0 for d in (0, 1)]))
    x_torch = torch.tensor(x, requires_grad=True)
    h0 = (stack(0), stack(1)) if cell == "lstm" else stack(None)
    out, final_torch = reference(x_torch, h0)
    (out * torch.tensor(dhs)).sum().backward()

    np.testing.assert_allclose(hs1, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    h_n = final_torch[0] if cell == "lstm" else final_torch
    ours_h = [final0[0], final0[1], final1[0], final1[1]]
    if cell == "lstm":
        ours_h = [state[0] for state in ours_h]
        ours_c = [state[1] for state in (final0[0], final0[1], final1[0], final1[1])]
        np.testing.assert_allclose(np.stack(ours_c), final_torch[1].detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.stack(ours_h), h_n.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, x_torch.grad.numpy(), rtol=1e-10, atol=1e-12)
    dparams = {**dparams0, **dparams1}
    for name, value in reference.named_parameters():
        np.testing.assert_allclose(dparams[name], value.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_padded_rows_match_pytorch_packed_sequences(cell):
    torch = pytest.importorskip("torch")
    torch_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    torch.manual_seed(1)
    reference = torch_class(E, H, batch_first=True, bidirectional=True).double()
    params = {name: value.detach().numpy().copy() for name, value in reference.state_dict().items()}
    rng = np.random.default_rng(2)
    x = rng.standard_normal((B, T, E))
    lengths = np.array([5, 2, 4])

    hs, final, cache = bidirectional_forward(x, None, params, cell, lengths=lengths)
    assert final is None
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), torch.tensor(lengths),
                                                     batch_first=True, enforce_sorted=False)
    out, _ = reference(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=T)
    real = np.arange(T)[None, :] < lengths[:, None]
    np.testing.assert_allclose(hs[real], out.detach().numpy()[real], rtol=1e-10, atol=1e-12)


def test_bad_input_is_reported():
    rng = np.random.default_rng(5)
    params = init_bidirectional_params(E, H, "lstm", rng=rng, dtype="float64")
    x = rng.standard_normal((B, T, E))
    with pytest.raises(ValueError, match="unknown cell"):
        bidirectional_forward(x, None, params, "transformer")
    with pytest.raises(ValueError, match="batch, time, features"):
        bidirectional_forward(x[0], None, params, "lstm")
    with pytest.raises(ValueError, match="missing"):
        bidirectional_forward(x, None, {k: v for k, v in params.items() if "reverse" not in k}, "lstm")
    with pytest.raises(ValueError, match="weight_ih_l0 must have shape"):
        bidirectional_forward(x[..., :3], None, params, "lstm")
    with pytest.raises(ValueError, match="weight_hh_l0 must have shape"):
        bidirectional_forward(x, None, params, "gru")            # 4*H rows read as 3*8 rows: H=8 != 6
    with pytest.raises(ValueError, match="lengths must lie in"):
        bidirectional_forward(x, None, params, "lstm", lengths=np.array([5, 6, 1]))
    with pytest.raises(ValueError, match="lengths must be an int array"):
        bidirectional_forward(x, None, params, "lstm", lengths=np.array([5.0, 2.0, 1.0]))
    with pytest.raises(TypeError, match="pair"):
        bidirectional_forward(x, np.zeros((B, H)), params, "lstm")
    with pytest.raises(ValueError, match="positive"):
        init_bidirectional_params(0, H)
    _, _, cache = bidirectional_forward(x, None, params, "lstm", lengths=np.array([5, 2, 1]))
    with pytest.raises(ValueError, match="dstate_T must be None"):
        bidirectional_backward(np.zeros((B, T, 2 * H)), (None, None), cache)
