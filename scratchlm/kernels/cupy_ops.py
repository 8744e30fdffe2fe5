"""CuPy GPU kernels for the "cupy" backend (see scratchlm/kernels/__init__.py)."""

KERNELS = {}
