"""Numba CPU kernels for the "numba" backend (see scratchlm/kernels/__init__.py)."""

KERNELS = {}
