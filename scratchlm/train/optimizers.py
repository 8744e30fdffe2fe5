"""Optimizers: how a gradient becomes a change of the parameters.

Parameters and gradients are plain dicts of arrays with the same keys (``model.params`` and the
``grads`` that ``model.loss_and_grads`` returns). An optimizer changes the parameter arrays in
place, so the model sees the new values without being told::

    optimizer = Adam(lr=2e-3)
    loss, grads, state = model.loss_and_grads(inputs, targets)
    optimizer.step(model.params, grads)

Each optimizer keeps its running statistics (momentum buffers, squared-gradient sums, the step
count) in dicts of arrays keyed like the parameters, so :meth:`Optimizer.state_dict` can be
written into a checkpoint's ``.npz`` and :meth:`Optimizer.load_state_dict` resumes exactly.

The update rules and default constants are PyTorch's (``torch.optim.SGD``, ``Adagrad``,
``Adam``), so a run can be checked against PyTorch step by step.
"""
from __future__ import annotations

import numpy as np

from scratchlm import backend


def sgd_update(param, grad, lr) -> None:
    """The op "sgd_update": theta <- theta - eta * g, in place.

    The one op that changes an input: ``param`` is updated where it is, as every optimizer
    does. NumPy makes ``lr * grad`` as a temporary array first; a backend may do it in one pass
    (``backend.op("sgd_update")``).
    """
    param -= lr * grad


class Optimizer:
    """Base class: a learning rate, per-parameter state, and ``step(params, grads)``.

    Attributes:
        lr: the learning rate eta; schedules change it between steps.
        steps: how many updates have been made (t in the update rules).
    """

    name = "optimizer"
    # names of the per-parameter state buffers, e.g. ("momentum",) for SGD
    buffers: tuple[str, ...] = ()

    def __init__(self, lr: float):
        if not (isinstance(lr, (int, float)) and lr > 0):
            raise ValueError(f"learning rate must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self.steps = 0
        self.state: dict[str, dict[str, object]] = {buffer: {} for buffer in self.buffers}

    def step(self, params: dict, grads: dict) -> None:
        """Update every array of ``params`` in place from the gradient of the same key."""
        missing = set(params) - set(grads)
        if missing:
            raise ValueError(f"no gradient for parameter(s) {sorted(missing)}")
        self.steps += 1
        for name, param in params.items():
            grad = grads[name]
            if grad.shape != param.shape:
                raise ValueError(f"gradient of {name!r} has shape {grad.shape}, expected {param.shape}")
            self._update(name, param, grad)

    def _update(self, name: str, param, grad) -> None:
        raise NotImplementedError

    def _buffer(self, buffer: str, name: str, like):
        """The state array ``buffer`` of parameter ``name``, created as zeros on first use."""
        table = self.state[buffer]
        if name not in table:
            table[name] = backend.xp().zeros_like(like)
        return table[name]

    def hyperparameters(self) -> dict:
        """The constructor's arguments, as JSON-ready numbers (for a checkpoint's config)."""
        return {"lr": self.lr}

    def state_dict(self) -> dict[str, np.ndarray]:
        """All running state as NumPy arrays, keyed ``"<buffer>/<param name>"`` plus ``"steps"``."""
        flat = {"steps": np.array(self.steps, dtype=np.int64)}
        for buffer, table in self.state.items():
            for name, array in table.items():
                flat[f"{buffer}/{name}"] = backend.asnumpy(array)
        return flat

    def load_state_dict(self, flat: dict[str, np.ndarray]) -> None:
        """Restore the state written by :meth:`state_dict` (arrays move to the active backend)."""
        if "steps" not in flat:
            raise ValueError("optimizer state has no 'steps' entry; is it from a scratchlm optimizer?")
        self.steps = int(flat["steps"])
        self.state = {buffer: {} for buffer in self.buffers}
        for key, array in flat.items():
            if key == "steps":
                continue
            buffer, _, name = key.partition("/")
            if buffer not in self.state:
                raise ValueError(f"optimizer state entry {key!r} does not belong to {self.name} "
                                 f"(its buffers are {self.buffers})")
            self.state[buffer][name] = backend.asarray(array)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (heavy-ball) momentum.

    With momentum mu = 0 this is plain gradient descent::

        theta <- theta - eta * g

    With momentum mu > 0 a velocity b accumulates past gradients (PyTorch's form, b_1 = g_1)::

        b_t     = mu * b_{t-1} + g_t
        theta_t = theta_{t-1} - eta * b_t

    Args:
        lr: eta.
        momentum: mu in [0, 1).
    """

    name = "sgd"
    buffers = ("momentum",)

    def __init__(self, lr: float = 1.0, momentum: float = 0.0):
        super().__init__(lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def _update(self, name, param, grad):
        update = backend.op("sgd_update")
        if self.momentum == 0.0:
            update(param, grad, self.lr)
            return
        velocities = self.state["momentum"]
        if name not in velocities:
            velocities[name] = grad.copy()  # b_1 = g_1
        else:
            velocities[name] *= self.momentum
            velocities[name] += grad
        update(param, velocities[name], self.lr)

    def hyperparameters(self):
        return {"lr": self.lr, "momentum": self.momentum}


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011): a learning rate per coordinate that shrinks with
    the sum of that coordinate's squared gradients::

        G_t     = G_{t-1} + g_t ** 2
        theta_t = theta_{t-1} - eta * g_t / (sqrt(G_t) + eps)

    Coordinates that have seen large gradients move less; rare ones (embedding rows of rare
    words) keep a large step.

    Args:
        lr: eta.
        eps: epsilon, guards the division while G is still 0.
    """

    name = "adagrad"
    buffers = ("sum",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-10):
        super().__init__(lr)
        self.eps = float(eps)

    def _update(self, name, param, grad):
        xp = backend.xp()
        squared_sum = self._buffer("sum", name, param)
        squared_sum += grad * grad
        param -= self.lr * grad / (xp.sqrt(squared_sum) + self.eps)

    def hyperparameters(self):
        return {"lr": self.lr, "eps": self.eps}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum on the gradient and on its square, both bias-corrected::

        m_t     = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t     = beta2 * v_{t-1} + (1 - beta2) * g_t ** 2
        m_hat   = m_t / (1 - beta1 ** t)
        v_hat   = v_t / (1 - beta2 ** t)
        theta_t = theta_{t-1} - eta * m_hat / (sqrt(v_hat) + eps)

    m and v start at 0, so without the corrections the first steps would be too small; dividing
    by (1 - beta ** t) undoes that start-up bias.

    Args:
        lr: eta.
        betas: (beta1, beta2), the decay rates of m and v.
        eps: epsilon, added to the denominator.
    """

    name = "adam"
    buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(lr)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"Adam betas must both be in [0, 1), got {betas!r}")
        self.beta1, self.beta2 = float(beta1), float(beta2)
        self.eps = float(eps)

    def _update(self, name, param, grad):
        xp = backend.xp()
        m = self._buffer("exp_avg", name, param)
        v = self._buffer("exp_avg_sq", name, param)
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        m_hat = m / (1.0 - self.beta1 ** self.steps)
        v_hat = v / (1.0 - self.beta2 ** self.steps)
        param -= self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)

    def hyperparameters(self):
        return {"lr": self.lr, "betas": [self.beta1, self.beta2], "eps": self.eps}


OPTIMIZERS = {cls.name: cls for cls in (SGD, Adagrad, Adam)}


def make_optimizer(name: str, **hyperparameters) -> Optimizer:
    """The optimizer called ``name`` ("sgd", "adagrad" or "adam") built with ``hyperparameters``."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    cls = OPTIMIZERS[name]
    if "betas" in hyperparameters:
        hyperparameters["betas"] = tuple(hyperparameters["betas"])
    return cls(**hyperparameters)
