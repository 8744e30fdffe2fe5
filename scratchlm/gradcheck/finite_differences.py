"""Gradient checking: compare a hand-written backward pass with centred finite differences.

For a scalar function f of an array x, the centred differences at coordinate i are

    order 2:  df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)                                 error O(h^2)
    order 4:  df/dx_i ~ (-f(x + 2h e_i) + 8 f(x + h e_i) - 8 f(x - h e_i) + f(x - 2h e_i)) / (12h)   error O(h^4)

(the one-sided difference (f(x + h e_i) - f(x)) / h is only O(h)). Two errors compete: truncation,
which shrinks with h, and rounding, about 1e-16 |f| / h in float64, which grows as h shrinks. The
order-2 formula bottoms out near 1e-11 (h ~ 1e-5); the order-4 formula allows h = 1e-3 and gets
near 1e-13, which is what lets small gradients be checked to 1e-6 relative error. Order 4 is the
default; order 2 is the textbook formula and is available.

Analytic gradient a and numeric gradient n of one array are compared element by element by the
relative error

    rel_i = |a_i - n_i| / max(|a_i| + |n_i|, s),    s = 1e-3 * max_j (|a_j| + |n_j|)

which is scale-free. The floor s matters only for elements a thousand times smaller than the
largest gradient in the same array: their derivative is below what finite differences resolve
(the rounding error is the same for every element), so they are measured on the array's scale
instead of their own, and exact zeros compare as 0. In float64 a correct backward pass gives
errors around 1e-10 .. 1e-8; 1e-6 is the pass mark. Use float64 (``backend.GRADCHECK_DTYPE``):
in float32 rounding alone gives errors around 1e-3.

The pieces, smallest first:

    numerical_gradient(f, x, eps, indices)      centred differences of f() w.r.t. the array x (perturbed in place)
    relative_error(a, n)                        the elementwise error above
    check_gradients(f, params, grads, ...)      every array of a parameter dict -> GradCheckReport
    check_directional(f, params, grads, ...)    one random direction per array (cheap for huge tensors)

``f`` is always a function of no arguments that reads the arrays in ``params`` and returns the
scalar loss; the checker changes one element at a time in place and restores it. Nothing raises
on a failed check: the report says ``.passed`` and ``str(report)`` explains, for each array,
where the worst disagreement is and what kind of bug it suggests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from scratchlm import backend

DEFAULT_EPS = 1e-3  # for the default order-4 stencil; with order=2 use about 1e-5
DEFAULT_ORDER = 4
DEFAULT_TOLERANCE = 1e-6
SCALE_FLOOR = 1e-3
# (offset in steps of h, weight) of each stencil; the derivative is sum(weight * f(x + offset h)) / h
STENCILS = {
    2: ((1, 1 / 2), (-1, -1 / 2)),
    4: ((2, -1 / 12), (1, 8 / 12), (-1, -8 / 12), (-2, 1 / 12)),
}


def relative_error(analytic, numeric, scale_floor: float = SCALE_FLOOR) -> np.ndarray:
    """Elementwise |a - n| / max(|a| + |n|, scale_floor * max(|a| + |n|)), as a NumPy float64 array.

    Both arguments have the same shape (scalars work too); where a and n are both exactly zero
    the error is 0.
    """
    a = np.asarray(backend.asnumpy(analytic), dtype=np.float64)
    n = np.asarray(backend.asnumpy(numeric), dtype=np.float64)
    magnitude = np.abs(a) + np.abs(n)
    floor = max(scale_floor * float(magnitude.max(initial=0.0)), np.finfo(np.float64).tiny)
    return np.abs(a - n) / np.maximum(magnitude, floor)


def numerical_gradient(f: Callable[[], float], x, eps: float = DEFAULT_EPS, indices=None, order: int = DEFAULT_ORDER) -> np.ndarray:
    """Centred finite-difference gradient of ``f()`` with respect to the array ``x``.

    Args:
        f: no-argument function returning a scalar; it must read ``x`` (which is modified in place).
        x: the array to differentiate with respect to (any shape, float64 recommended).
        eps: the step h (see the module docstring for how to choose it).
        indices: None for every element (returns an array shaped like x), or a list of index
            tuples (returns a (len(indices),) array, one derivative per index).
        order: 2 or 4, the accuracy order of the centred stencil.

    Returns:
        NumPy float64 array of derivatives; ``x`` is restored exactly afterwards.
    """
    if order not in STENCILS:
        raise ValueError(f"order must be one of {sorted(STENCILS)}, got {order!r}")
    full = indices is None
    if full:
        indices = list(np.ndindex(*x.shape))
    derivatives = np.empty(len(indices), dtype=np.float64)
    for k, index in enumerate(indices):
        original = float(x[index])
        total = 0.0
        for offset, weight in STENCILS[order]:
            x[index] = original + offset * eps
            total += weight * float(f())
        x[index] = original
        derivatives[k] = total / eps
    return derivatives.reshape(x.shape) if full else derivatives


def sample_indices(shape: tuple, count: int, rng: np.random.Generator) -> list[tuple]:
    """``count`` distinct random index tuples of an array of ``shape`` (all of them if it has fewer)."""
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= count else rng.choice(size, size=count, replace=False)
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in np.sort(flat)]


@dataclass
class ParameterCheck:
    """The comparison for one array: its worst element and a diagnosis."""

    name: str
    shape: tuple
    checked: int  # how many elements were compared
    max_error: float  # largest relative error among them
    worst_index: tuple
    analytic: float  # the two gradients at worst_index
    numeric: float
    tolerance: float
    diagnosis: str = ""  # what kind of bug the pattern suggests (failures only)

    @property
    def passed(self) -> bool:
        return bool(self.max_error <= self.tolerance)

    def explain(self) -> str:
        """A sentence a student can act on."""
        size = int(np.prod(self.shape))
        sampled = "" if self.checked == size else f" ({self.checked} of {size} elements sampled)"
        head = (
            f"{self.name} {self.shape}{sampled}: worst relative error {self.max_error:.2e} "
            f"at index {self.worst_index}: analytic {self.analytic:.6e}, numeric {self.numeric:.6e}"
        )
        if self.passed:
            return head + f" -- ok (tolerance {self.tolerance:.0e})"
        return head + f" -- FAILS (tolerance {self.tolerance:.0e}). {self.diagnosis}"


def _diagnose(name: str, analytic: np.ndarray, numeric: np.ndarray, errors: np.ndarray, tolerance: float) -> str:
    """Guess the kind of bug from the pattern of disagreement (analytic and numeric are 1-D)."""
    if not np.all(np.isfinite(analytic)):
        return f"The analytic gradient of {name} contains NaN or infinity: look for a division by zero or an overflow in the backward pass."
    if not np.all(np.isfinite(numeric)):
        return f"The loss itself is NaN or infinite near the current {name}: check the forward pass (e.g. log of 0) before the gradient."
    scale = max(float(np.abs(numeric).max()), float(np.abs(analytic).max()), 1e-300)
    significant = np.abs(numeric) > 1e-3 * scale
    bad = errors > tolerance
    if np.all(np.abs(analytic) <= 1e-12 * scale):
        return f"The analytic gradient of {name} is zero but the loss does change: is its gradient computed and returned at all?"
    if np.all(np.abs(numeric) <= 1e-12 * scale):
        return f"The loss does not depend on {name}, yet its analytic gradient is not zero: is the gradient sent to the wrong array?"
    if np.any(significant):
        ratios = analytic[significant] / numeric[significant]
        median = float(np.median(ratios))
        if np.allclose(ratios, median, rtol=1e-3):
            if abs(median + 1.0) < 1e-3:
                return f"The analytic gradient of {name} has the wrong sign everywhere: check the sign of the backward pass."
            return (
                f"The analytic gradient of {name} is {median:.4g} times the numeric one everywhere: a missing or extra "
                "factor (mean vs. sum over the batch or tokens, a factor 2, a scaling by 1/(1-p))."
            )
    zero_where_bad = np.abs(analytic[bad]) <= 1e-12 * scale
    if np.any(zero_where_bad) and np.mean(zero_where_bad) > 0.5:
        return (
            f"Most wrong elements of {name} have analytic gradient 0: a contribution is lost, e.g. repeated ids written "
            "with dW[ids] = ... instead of accumulated (scatter-add), or a time step skipped in the backward loop."
        )
    fraction = float(np.mean(bad))
    return (
        f"{fraction:.0%} of the checked elements of {name} disagree. Compare the backward pass of {name} with its "
        "forward equations term by term (a transposed weight, a wrong gate, or a missing path through time)."
    )


@dataclass
class GradCheckReport:
    """The result of :func:`check_gradients`: one :class:`ParameterCheck` per array."""

    checks: list[ParameterCheck]
    tolerance: float
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def max_error(self) -> float:
        return max((check.max_error for check in self.checks), default=0.0)

    @property
    def failures(self) -> list[ParameterCheck]:
        return [check for check in self.checks if not check.passed]

    def __str__(self) -> str:
        verdict = "PASSED" if self.passed else f"FAILED ({len(self.failures)} of {len(self.checks)} arrays)"
        lines = [f"gradient check {verdict}: max relative error {self.max_error:.2e}, tolerance {self.tolerance:.0e}"]
        lines += ["  " + check.explain() for check in self.checks]
        lines += ["  note: " + note for note in self.notes]
        return "\n".join(lines)


def _check_arguments(params: dict, grads: dict, names) -> list[str]:
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise TypeError("params and grads must be dicts of name -> array")
    names = list(params) if names is None else list(names)
    for name in names:
        if name not in params:
            raise ValueError(f"no parameter named {name!r}; params has {', '.join(params)}")
        if name not in grads:
            raise ValueError(f"grads has no entry {name!r}; expected the same keys as params ({', '.join(params)})")
        if tuple(grads[name].shape) != tuple(params[name].shape):
            raise ValueError(
                f"grads[{name!r}] has shape {tuple(grads[name].shape)} but params[{name!r}] has shape "
                f"{tuple(params[name].shape)}; a gradient must have its parameter's shape"
            )
    return names


def _precision_notes(params: dict, names: list[str]) -> list[str]:
    low = [name for name in names if np.dtype(params[name].dtype) != np.float64]
    if not low:
        return []
    return [
        f"{', '.join(low)} not float64: finite differences in lower precision are dominated by rounding; "
        "rebuild the inputs with dtype=float64 (backend.GRADCHECK_DTYPE) before trusting this check"
    ]


def check_gradients(
    f: Callable[[], float],
    params: dict,
    grads: dict,
    eps: float = DEFAULT_EPS,
    tolerance: float = DEFAULT_TOLERANCE,
    max_checks: int | None = None,
    seed: int = 0,
    names=None,
    order: int = DEFAULT_ORDER,
) -> GradCheckReport:
    """Compare the analytic ``grads`` of ``f`` with centred differences, array by array.

    Args:
        f: no-argument function returning the scalar loss computed from the arrays in ``params``.
        params: name -> array; perturbed in place one element at a time and restored.
        grads: name -> analytic gradient, same keys and shapes as ``params``.
        eps: finite-difference step.
        tolerance: the largest acceptable relative error.
        max_checks: None compares every element; an integer k compares k randomly sampled elements
            per array (sampled-coordinate mode, for large tensors).
        seed: seeds the sample of coordinates.
        names: the subset of ``params`` to check (default: all).
        order: 2 or 4, the stencil of :func:`numerical_gradient`.

    Returns:
        GradCheckReport; ``report.passed`` is False if any array exceeds the tolerance.
    """
    names = _check_arguments(params, grads, names)
    rng = np.random.default_rng(seed)
    checks = []
    for name in names:
        x = params[name]
        shape = tuple(x.shape)
        indices = sample_indices(shape, max_checks, rng) if max_checks is not None else list(np.ndindex(*shape))
        numeric = numerical_gradient(f, x, eps, indices, order)
        analytic_all = backend.asnumpy(grads[name]).astype(np.float64)
        analytic = np.array([analytic_all[index] for index in indices], dtype=np.float64)
        errors = relative_error(analytic, numeric)
        worst = int(np.argmax(errors))
        check = ParameterCheck(
            name=name,
            shape=shape,
            checked=len(indices),
            max_error=float(errors[worst]),
            worst_index=indices[worst],
            analytic=float(analytic[worst]),
            numeric=float(numeric[worst]),
            tolerance=tolerance,
        )
        if not check.passed:
            check.diagnosis = _diagnose(name, analytic, numeric, errors, tolerance)
        checks.append(check)
    return GradCheckReport(checks, tolerance, _precision_notes(params, names))


def check_directional(
    f: Callable[[], float],
    params: dict,
    grads: dict,
    eps: float = DEFAULT_EPS,
    tolerance: float = DEFAULT_TOLERANCE,
    seed: int = 0,
    names=None,
    order: int = DEFAULT_ORDER,
) -> GradCheckReport:
    """Check each array along one random unit direction d: grads[name] . d against the centred
    difference of f along d (the stencil of :func:`numerical_gradient` with x_i replaced by x + t d).

    A handful of evaluations of f per array, whatever its size, so this suits tensors too large
    for element-wise checks; it catches a wrong gradient anywhere in the array but cannot say
    where (the report's index is that of the largest component of d).
    """
    if order not in STENCILS:
        raise ValueError(f"order must be one of {sorted(STENCILS)}, got {order!r}")
    names = _check_arguments(params, grads, names)
    rng = np.random.default_rng(seed)
    checks = []
    for name in names:
        x = params[name]
        direction_np = rng.standard_normal(x.shape)
        direction_np /= np.linalg.norm(direction_np)
        direction = backend.asarray(direction_np, dtype=x.dtype)
        original = x.copy()
        total = 0.0
        for offset, weight in STENCILS[order]:
            x[...] = original + (offset * eps) * direction
            total += weight * float(f())
        x[...] = original
        numeric = total / eps
        analytic = float(np.sum(backend.asnumpy(grads[name]).astype(np.float64) * direction_np))
        check = ParameterCheck(
            name=name,
            shape=tuple(x.shape),
            checked=int(x.size),
            max_error=float(relative_error(analytic, numeric)),
            worst_index=tuple(int(i) for i in np.unravel_index(int(np.argmax(np.abs(direction_np))), x.shape)),
            analytic=analytic,
            numeric=numeric,
            tolerance=tolerance,
        )
        if not check.passed:
            check.diagnosis = (
                f"The derivative of the loss along a random direction d disagrees with grads[{name!r}] . d; "
                "run check_gradients on a smaller instance to locate the wrong elements."
            )
        checks.append(check)
    return GradCheckReport(checks, tolerance, _precision_notes(params, names))
