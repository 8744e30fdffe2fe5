"""Gradient checking: hand-written backward passes against centred finite differences.

    finite_differences.py   numerical_gradient, relative_error, check_gradients, check_directional
                            and the reports they return (what a student calls on their own code)
    cases.py                the registry of named checks of every layer and model, run by
                            ``scratchlm gradcheck`` and by the tests (imported on demand, because
                            it builds models)
"""
from scratchlm.gradcheck.finite_differences import (
    DEFAULT_EPS,
    DEFAULT_ORDER,
    DEFAULT_TOLERANCE,
    SCALE_FLOOR,
    STENCILS,
    GradCheckReport,
    ParameterCheck,
    check_directional,
    check_gradients,
    numerical_gradient,
    relative_error,
    sample_indices,
)

__all__ = [
    "DEFAULT_EPS",
    "DEFAULT_ORDER",
    "DEFAULT_TOLERANCE",
    "SCALE_FLOOR",
    "STENCILS",
    "GradCheckReport",
    "ParameterCheck",
    "check_directional",
    "check_gradients",
    "numerical_gradient",
    "relative_error",
    "sample_indices",
]
