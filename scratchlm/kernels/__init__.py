"""Fast versions of layer internals, one module per backend.

Each module exposes ``KERNELS``, a dict from an operation's name to a function with exactly the
signature and results of the NumPy reference it replaces (the reference lives in
``scratchlm/layers``). :func:`scratchlm.backend.kernel` picks the active backend's entry, and
``tests/test_kernels.py`` checks every entry against its reference.
"""
