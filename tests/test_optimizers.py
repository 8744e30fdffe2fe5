"""Optimizer updates against hand-computed steps, and against torch.optim in float64."""
import math

import numpy as np
import pytest

from scratchlm.train.optimizers import SGD, Adagrad, Adam, make_optimizer


def run_steps(optimizer, start, gradients):
    params = {"w": np.array([start], dtype=np.float64)}
    trajectory = []
    for g in gradients:
        optimizer.step(params, {"w": np.array([g], dtype=np.float64)})
        trajectory.append(float(params["w"][0]))
    return trajectory


def test_sgd_plain_step():
    # theta = 1 - 0.1 * 2 = 0.8, then 0.8 - 0.1 * (-1) = 0.9
    assert run_steps(SGD(lr=0.1), 1.0, [2.0, -1.0]) == pytest.approx([0.8, 0.9], abs=1e-12)


def test_sgd_momentum_by_hand():
    # b1 = g1 = 2 -> theta = 1 - 0.1 * 2 = 0.8
    # b2 = 0.9 * 2 + 1 = 2.8 -> theta = 0.8 - 0.28 = 0.52
    assert run_steps(SGD(lr=0.1, momentum=0.9), 1.0, [2.0, 1.0]) == pytest.approx([0.8, 0.52], abs=1e-12)


def test_adagrad_by_hand():
    # G1 = 4 -> theta = 1 - 0.1 * 2 / 2 = 0.9
    # G2 = 5 -> theta = 0.9 - 0.1 * 1 / sqrt(5)
    expected = [0.9, 0.9 - 0.1 / math.sqrt(5.0)]
    assert run_steps(Adagrad(lr=0.1), 1.0, [2.0, 1.0]) == pytest.approx(expected, abs=1e-9)


def test_adam_by_hand():
    # step 1: m = 0.1 * 2 = 0.2, v = 0.001 * 4 = 0.004, m_hat = 2, v_hat = 4 -> theta = 1 - 0.1 * 2 / 2 = 0.9
    # step 2: m = 0.9 * 0.2 + 0.1 * 1 = 0.28,     m_hat = 0.28 / (1 - 0.9 ** 2)    = 1.47368421...
    #         v = 0.999 * 0.004 + 0.001 * 1 = 0.004996, v_hat = 0.004996 / (1 - 0.999 ** 2) = 2.49924962...
    #         theta = 0.9 - 0.1 * 1.47368421 / sqrt(2.49924962) = 0.80678204
    assert run_steps(Adam(lr=0.1), 1.0, [2.0, 1.0]) == pytest.approx([0.9, 0.80678204], abs=1e-7)


@pytest.mark.parametrize("name, ours, theirs", [
    ("sgd", dict(lr=0.05), dict(lr=0.05)),
    ("sgd", dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9)),
    ("adagrad", dict(lr=0.1), dict(lr=0.1)),
    ("adam", dict(lr=0.01, betas=(0.8, 0.95)), dict(lr=0.01, betas=(0.8, 0.95))),
])
def test_matches_torch_optim(name, ours, theirs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = {"a": rng.normal(size=(3, 4)), "b": rng.normal(size=(5,))}
    gradients = [{k: rng.normal(size=v.shape) for k, v in start.items()} for _ in range(6)]

    params = {k: v.copy() for k, v in start.items()}
    optimizer = make_optimizer(name, **ours)
    torch_params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in start.items()}
    torch_optimizer = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad,
                       "adam": torch.optim.Adam}[name](list(torch_params.values()), **theirs)
    for grads in gradients:
        optimizer.step(params, {k: g.copy() for k, g in grads.items()})
        for k, p in torch_params.items():
            p.grad = torch.tensor(grads[k], dtype=torch.float64)
        torch_optimizer.step()
    for k in start:
        np.testing.assert_allclose(params[k], torch_params[k].detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["sgd", "adagrad", "adam"])
def test_state_dict_round_trip_continues_identically(name):
    hyper = {"lr": 0.1, "momentum": 0.9} if name == "sgd" else {"lr": 0.1}
    rng = np.random.default_rng(1)
    grads = [{"w": rng.normal(size=(4,))} for _ in range(4)]
    straight = {"w": np.ones(4)}
    first = make_optimizer(name, **hyper)
    for g in grads:
        first.step(straight, g)

    resumed = {"w": np.ones(4)}
    before = make_optimizer(name, **hyper)
    for g in grads[:2]:
        before.step(resumed, g)
    after = make_optimizer(name, **before.hyperparameters())
    after.load_state_dict(before.state_dict())
    for g in grads[2:]:
        after.step(resumed, g)
    np.testing.assert_array_equal(resumed["w"], straight["w"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="learning rate"):
        SGD(lr=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        SGD(lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="unknown optimizer"):
        make_optimizer("rmsprop", lr=0.1)
    with pytest.raises(ValueError, match="no gradient"):
        SGD(lr=0.1).step({"w": np.zeros(2)}, {})
    with pytest.raises(ValueError, match="shape"):
        SGD(lr=0.1).step({"w": np.zeros(2)}, {"w": np.zeros(3)})
