"""Attention: gradients by finite differences, PyTorch parity, the padding mask, worked values."""
import numpy as np
import pytest

from scratchlm.gradcheck import check_gradients
from scratchlm.layers.attention import SCORES, attention_backward, attention_forward, init_attention_params

B, T, S, H_Q, H_K, A = 2, 3, 4, 5, 6, 7   # every size different, so a swapped axis shows


def random_inputs(score, seed=0):
    rng = np.random.default_rng(seed)
    key_size = H_Q if score == "dot" else H_K
    queries = rng.normal(size=(B, T, H_Q))
    keys = rng.normal(size=(B, S, key_size))
    mask = np.ones((B, S), dtype=bool)
    mask[1, 2:] = False                       # row 1 has two real source positions
    params = init_attention_params(score, H_Q, key_size, A, rng=seed + 1)
    params = {name: value * 2.0 for name, value in params.items()}   # larger scores: sharper, less uniform weights
    dcontext = rng.normal(size=(B, T, key_size))
    return queries, keys, mask, params, dcontext


@pytest.mark.parametrize("score", SCORES)
def test_gradients_by_finite_differences(score):
    queries, keys, mask, params, dcontext = random_inputs(score)
    _, _, cache = attention_forward(queries, keys, mask, params, score)
    dqueries, dkeys, dparams = attention_backward(dcontext, cache)
    arrays = {"queries": queries, "keys": keys, **params}
    grads = {"queries": dqueries, "keys": dkeys, **dparams}
    loss = lambda: float((attention_forward(queries, keys, mask, params, score)[0] * dcontext).sum())  # noqa: E731
    report = check_gradients(loss, arrays, grads, tolerance=1e-7)
    assert report.passed, str(report)


@pytest.mark.parametrize("score", SCORES)
def test_padding_gets_no_weight_and_changes_nothing(score):
    queries, keys, mask, params, _ = random_inputs(score)
    context, weights, _ = attention_forward(queries, keys, mask, params, score)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)
    assert np.all(weights[1, :, 2:] == 0.0)
    # the padded row alone, cut to its real positions, gives the same context
    alone, _, _ = attention_forward(queries[1:], keys[1:, :2], None, params, score)
    np.testing.assert_allclose(context[1], alone[0], rtol=1e-12)
    keys_changed = keys.copy()
    keys_changed[1, 2:] = 100.0
    np.testing.assert_allclose(attention_forward(queries, keys_changed, mask, params, score)[0], context, rtol=1e-12)


def test_dot_attention_worked_example():
    # q = (1, 0); keys (1, 0), (0, 1), (1, 1): scores 1, 0, 1 -> weights e/(2e + 1), 1/(2e + 1), e/(2e + 1)
    queries = np.array([[[1.0, 0.0]]])
    keys = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])
    context, weights, _ = attention_forward(queries, keys, None, {}, "dot")
    e = np.e
    np.testing.assert_allclose(weights[0, 0], [e / (2 * e + 1), 1 / (2 * e + 1), e / (2 * e + 1)], rtol=1e-12)
    np.testing.assert_allclose(context[0, 0], [2 * e / (2 * e + 1), (e + 1) / (2 * e + 1)], rtol=1e-12)


def test_bad_input_is_rejected():
    queries, keys, mask, params, _ = random_inputs("general")
    with pytest.raises(ValueError, match="unknown attention score"):
        attention_forward(queries, keys, mask, params, "cosine")
    with pytest.raises(ValueError, match="same|one size"):
        attention_forward(queries, keys, mask, {}, "dot")
    with pytest.raises(ValueError, match="weight"):
        attention_forward(queries, keys, mask, {"weight": params["weight"].T}, "general")
    empty = mask.copy()
    empty[0] = False
    with pytest.raises(ValueError, match="at least one real"):
        attention_forward(queries, keys, empty, params, "general")


@pytest.mark.parametrize("score", SCORES)
def test_matches_pytorch(score):
    torch = pytest.importorskip("torch")
    queries, keys, mask, params, dcontext = random_inputs(score, seed=3)
    q = torch.tensor(queries, requires_grad=True)
    k = torch.tensor(keys, requires_grad=True)
    t_params = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    # A small independent PyTorch implementation: scores, masked_fill, softmax, bmm.
    if score == "dot":
        scores = torch.bmm(q, k.transpose(1, 2))
    elif score == "general":
        scores = torch.bmm(q, torch.nn.functional.linear(k, t_params["weight"]).transpose(1, 2))
    else:
        hidden = torch.tanh(torch.nn.functional.linear(q, t_params["query.weight"]).unsqueeze(2)
                            + torch.nn.functional.linear(k, t_params["key.weight"]).unsqueeze(1))
        scores = torch.nn.functional.linear(hidden, t_params["v.weight"]).squeeze(-1)
    scores = scores.masked_fill(~torch.tensor(mask).unsqueeze(1), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    context = torch.bmm(weights, k)
    (context * torch.tensor(dcontext)).sum().backward()

    ours, our_weights, cache = attention_forward(queries, keys, mask, params, score)
    dqueries, dkeys, dparams = attention_backward(dcontext, cache)
    np.testing.assert_allclose(ours, context.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(our_weights, weights.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dqueries, q.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dkeys, k.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, value in t_params.items():
        np.testing.assert_allclose(dparams[name], value.grad.numpy(), rtol=1e-10, atol=1e-12)
