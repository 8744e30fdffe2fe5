"""Which of several implementations of an op runs here: the fastest, measured on this machine.

Where the engine has more than one way to compute an op (the packed tile product or BLAS's, a
fused Numba kernel or NumPy's vectorised ufuncs, threaded or not), which is faster depends on
the CPU, the shape and the dtype: the packed step product beats OpenBLAS by 1.2-1.6x on one
CPU and lost to it by 2x on another before its tile was fitted to AVX2. So the engine does not
guess. At the first use of an op for a kind of input, :func:`choose` times every candidate on
that input and keeps the fastest; the choice is remembered for the process and written to a
small JSON file, as Numba keeps compiled code, so a later process on the same machine reuses it::

    product = chooser.choose("step_matmul", {"blas": blas_product, "packed": packed_product},
                             make_args=lambda: (x, prepared, out),
                             key=chooser.shape_key(x.dtype, x.shape[0], *prepared.shape))
    product(x, prepared, out)

:func:`fastest` wraps such a choice into one function that decides per kind of input at its
first call, and :func:`fastest_pieces` does that for every piece several tables share: the numba
backend's piece table is ``fastest_pieces({"numba": ..., "rational-tanh": ..., "numpy": ...})``.

The order of ``candidates`` is a preference: the first one is the default (what runs when
measuring is switched off), and a later one replaces it only when it is faster by more than
:data:`TIE_MARGIN`, so noise never swaps a plain NumPy/BLAS way for a fast path that is not.

How a choice is made, in this order:

1. **Forced.** ``SCRATCHLM_KERNELS="step_matmul=blas,lstm_gates_forward=numpy"`` names the candidate
   for an op (every key). A name the op does not have is a ValueError listing the ones it has.
2. **Remembered**, from this process or from the cache file of an earlier one. The file is
   ``$SCRATCHLM_CACHE_DIR/kernel-choices.json`` (default ``~/.cache/scratchlm``; under
   ``$XDG_CACHE_HOME/scratchlm`` when that is set). It holds :func:`machine_key` (CPU model,
   vector flags, Numba's target CPU, NumPy and Numba versions, and a digest of the engine's
   source, so that an edited or upgraded kernel is measured again); a file written under another
   key is ignored and replaced, and so is one that cannot be read.
3. **Default**, when ``SCRATCHLM_KERNELS_MEASURE=0``: the first candidate, nothing timed or written.
4. **Measured** (:func:`measure`): each candidate runs once untimed (Numba compiles or loads it,
   caches warm up), then :data:`ROUNDS` interleaved rounds, each candidate in rotating order,
   enough calls per round to last about :data:`ROUND_SECONDS`; a candidate's time is its best
   round. Best-of-rounds ignores the slow spells of a shared machine, and interleaving lets a
   lasting change hit every candidate alike. It costs a few milliseconds per op and shape.

``scratchlm backends`` prints the CPU, the cache file and every choice with its reason.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping

FORCE_VARIABLE = "SCRATCHLM_KERNELS"
MEASURE_VARIABLE = "SCRATCHLM_KERNELS_MEASURE"
CACHE_DIR_VARIABLE = "SCRATCHLM_CACHE_DIR"
CACHE_FILE_NAME = "kernel-choices.json"
ROUNDS = 5
ROUND_SECONDS = 2e-4
TIE_MARGIN = 0.02
# The CPU flags that decide which kernels can be fast, by architecture (asimd is aarch64's NEON).
VECTOR_FLAGS = {"x86": ("avx512f", "avx2", "fma"), "arm": ("asimd", "sve")}


@dataclasses.dataclass(frozen=True)
class Choice:
    """The implementation chosen for ``op`` on inputs described by ``key``, and why."""

    op: str
    key: str
    name: str
    reason: str  # "forced", "measured", "cached", "default" or "only candidate"
    seconds: dict[str, float] | None = None  # per call, when measured

    def explain(self) -> str:
        """One line: the choice and what decided it (times in microseconds when measured)."""
        text = {"forced": f"forced by {FORCE_VARIABLE}",
                "default": f"first candidate ({MEASURE_VARIABLE}=0)",
                "only candidate": "the only candidate", "cached": "measured earlier"}.get(self.reason, self.reason)
        if self.seconds:
            times = ", ".join(f"{name} {1e6 * s:.1f} us" for name, s in sorted(self.seconds.items(), key=lambda kv: kv[1]))
            text = f"{text}: {times}"
        return text


# (op, key) -> Choice, for this process.
_chosen: dict[tuple[str, str], Choice] = {}
# The per-kind look-up tables of every fastest() function, emptied by forget().
_picked_tables: list[dict] = []


def choose(op: str, candidates: Mapping[str, Callable], make_args: Callable[[], tuple], key: str) -> Callable:
    """The candidate to use for ``op`` on inputs described by ``key`` (see the module docstring).

    ``candidates`` maps names to functions taking the same arguments and returning the same
    values, the default first; ``make_args()`` returns a tuple of arguments to time them on
    (called only when measuring; the candidates may write into its arrays); ``key`` says which
    inputs share a choice, e.g. ``shape_key(dtype, B, H)``.
    """
    return candidates[choice(op, candidates, make_args, key).name]


def choice(op: str, candidates: Mapping[str, Callable], make_args: Callable[[], tuple], key: str) -> Choice:
    """Like :func:`choose`, but returns the :class:`Choice` (name and reason) instead of the function."""
    if not candidates:
        raise ValueError(f"choose({op!r}): no candidates")
    known = _chosen.get((op, key))
    if known is None or known.name not in candidates:
        known = _decide(op, candidates, make_args, key)
        _chosen[(op, key)] = known
    return known


def fastest(op: str, candidates: Mapping[str, Callable],
            copy_args: Callable[[tuple], tuple] | None = None) -> Callable:
    """One function for ``op`` that runs, for each kind of input, the candidate :func:`choose` picks.

    The kind of input is the dtype and shape of the first two arguments (in the engine's pieces
    these fix the shapes and dtypes of the rest; looking at every argument would
    cost more per call than some pieces take); the key of the choice rounds every array
    argument's shape with :func:`size_bucket`. The first call with a new kind measures the candidates on
    that call's own arguments (writing into an ``out=`` argument is fine: the call that counts
    comes last). An op that changes an input in place must pass ``copy_args(args) -> args``, so
    that measuring works on copies. Later calls cost one dictionary look-up more than calling
    the chosen candidate directly.
    """
    picked: dict[tuple, Callable] = {}
    _picked_tables.append(picked)

    def run(*args, **kwargs):
        first, second = args[0], args[1] if len(args) > 1 else None
        kind = (getattr(first, "shape", None), getattr(first, "dtype", None),
                getattr(second, "shape", None), getattr(second, "dtype", None))
        function = picked.get(kind)
        if function is None:
            bound = {name: functools.partial(candidate, **kwargs) for name, candidate in candidates.items()}
            made = choice(op, bound, lambda: copy_args(args) if copy_args else args, arguments_key(args))
            function = picked[kind] = candidates[made.name]
        return function(*args, **kwargs)

    run.__name__ = run.__qualname__ = op
    run.__doc__ = f"The fastest here of {', '.join(candidates)} for {op!r} (scratchlm.kernels.chooser.fastest)."
    return run


def _decide(op, candidates, make_args, key) -> Choice:
    names = list(candidates)
    forced_name = forced().get(op)
    if forced_name is not None:
        if forced_name not in candidates:
            raise ValueError(f"{FORCE_VARIABLE} asks for {op}={forced_name}, but {op} has: {', '.join(names)}")
        return Choice(op, key, forced_name, "forced")
    if len(names) == 1:
        return Choice(op, key, names[0], "only candidate")
    if not measuring():
        return Choice(op, key, names[0], "default")
    stored = _load_cache()["choices"].get(_entry_name(op, key))
    if stored and stored.get("name") in candidates and set(stored.get("seconds", {})) == set(names):
        return Choice(op, key, stored["name"], "cached", stored["seconds"])
    seconds = measure(candidates, make_args)
    winner = names[0]
    for name in names[1:]:
        if seconds[name] < seconds[winner] * (1.0 - TIE_MARGIN):
            winner = name
    choice = Choice(op, key, winner, "measured", seconds)
    _store(choice)
    return choice


def measure(candidates: Mapping[str, Callable], make_args: Callable[[], tuple],
            rounds: int = ROUNDS, round_seconds: float = ROUND_SECONDS) -> dict[str, float]:
    """Seconds per call of each candidate: best of ``rounds`` interleaved rounds."""
    args = make_args()
    names = list(candidates)
    calls = {}
    for name in names:
        candidates[name](*args)  # untimed: compiling or loading a kernel, first touch of memory
        one_call = _seconds_per_call(candidates[name], args, 1)
        calls[name] = max(1, math.ceil(round_seconds / max(one_call, 1e-9)))
    best = {name: math.inf for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            best[name] = min(best[name], _seconds_per_call(candidates[name], args, calls[name]))
    return best


def _seconds_per_call(function, args, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function(*args)
    return (time.perf_counter() - start) / calls


def shape_key(dtype, *sizes: int) -> str:
    """A key for :func:`choose`: the dtype and each size rounded to the nearest power of two.

    Shapes within a factor of about 1.4 of each other share a measurement (B = 20 and 16 do;
    H = 200 and 256 do), which keeps the number of first-use measurements small.
    """
    import numpy

    return f"{numpy.dtype(dtype).name} " + "x".join(str(size_bucket(size)) for size in sizes)


def fastest_pieces(tables: Mapping[str, Mapping[str, Callable]], in_place: tuple[str, ...] = (),
                   keep: tuple[str, ...] = ()) -> dict[str, Callable]:
    """One piece table from several: each piece that more than one table has is :func:`fastest` of them.

    ``tables`` maps a name ("numba", "numpy", ...) to a piece table, in order of preference (a
    later one replaces an earlier one only when faster by more than TIE_MARGIN). A piece only one
    table has, or named in ``keep``, is taken from the first table that has it (a pair whose
    halves must come from the same table, or a piece that chooses for itself). ``in_place``
    names pieces that change their first argument, measured on a copy of it.
    """
    table = {}
    for piece in dict.fromkeys(name for pieces in tables.values() for name in pieces):
        candidates = {name: pieces[piece] for name, pieces in tables.items() if piece in pieces}
        if len(candidates) == 1 or piece in keep:
            table[piece] = next(iter(candidates.values()))
            continue
        copy_first = (lambda args: (args[0].copy(),) + tuple(args[1:])) if piece in in_place else None
        table[piece] = fastest(piece, candidates, copy_args=copy_first)
    return table


def arguments_key(args) -> str:
    """A key for :func:`choose` from an op's arguments: the arrays' dtypes, every array's bucketed shape."""
    arrays = [arg for arg in args if hasattr(arg, "dtype") and hasattr(arg, "shape")]
    dtypes = "+".join(dict.fromkeys(array.dtype.name for array in arrays)) or "-"
    return f"{dtypes} " + ", ".join("x".join(str(size_bucket(size)) for size in array.shape) for array in arrays)


def size_bucket(size: int) -> int:
    """``size`` rounded to the nearest power of two in log scale (0 stays 0)."""
    return 0 if size <= 0 else 2 ** round(math.log2(size))


def forced() -> dict[str, str]:
    """op -> candidate name, from ``SCRATCHLM_KERNELS`` ("op=name,op=name"); {} when unset."""
    text = os.environ.get(FORCE_VARIABLE, "").strip()
    result = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        op, sep, name = item.partition("=")
        if not sep or not op.strip() or not name.strip():
            raise ValueError(f"{FORCE_VARIABLE} must look like 'op=name,op=name', got {text!r}")
        result[op.strip()] = name.strip()
    return result


def measuring() -> bool:
    """False when ``SCRATCHLM_KERNELS_MEASURE`` is 0 / off / false / no."""
    return os.environ.get(MEASURE_VARIABLE, "1").strip().lower() not in ("0", "off", "false", "no")


def decisions() -> list[Choice]:
    """Every choice made in this process, in the order made."""
    return list(_chosen.values())


def forget() -> None:
    """Forget this process's choices (the cache file stays): the next use decides again."""
    _chosen.clear()
    for picked in _picked_tables:
        picked.clear()
    _load_cache.cache_clear()


# --------------------------------------------------------------------------------------------
# The machine, and the cache file
# --------------------------------------------------------------------------------------------


def _proc_cpuinfo() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                name, sep, value = line.partition(":")
                if sep and name.strip() not in fields:
                    fields[name.strip()] = value.strip()
    except OSError:
        pass
    return fields


@functools.lru_cache(maxsize=None)
def cpu_info() -> dict:
    """{"model": CPU model name, "machine": architecture, "flags": {flag: present}} for VECTOR_FLAGS."""
    fields = _proc_cpuinfo()
    model = fields.get("model name") or fields.get("Model") or platform.processor() or "unknown"
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    machine = platform.machine()
    family = "arm" if machine.lower().startswith(("arm", "aarch")) else "x86"
    return {"model": model, "machine": machine, "flags": {flag: flag in flags for flag in VECTOR_FLAGS[family]}}


def kernel_sources_digest(directory: Path = Path(__file__).parent) -> str:
    """SHA-256 over the engine's Python sources (file names and contents, in name order)."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=None)
def machine_key() -> dict:
    """What a cached choice is valid for: the CPU, the CPU Numba compiles for, library versions,
    and the engine's own source (a changed candidate may be faster or slower than it was)."""
    import numpy

    key = {"cpu": cpu_info()["model"], "machine": cpu_info()["machine"],
           "flags": sorted(flag for flag, present in cpu_info()["flags"].items() if present),
           "numpy": numpy.__version__, "numba": None, "numba_cpu": None,
           "kernel_sources": kernel_sources_digest()}
    try:
        import numba
        from numba.core.registry import cpu_target
    except ImportError:
        return key
    key["numba"] = numba.__version__
    key["numba_cpu"] = cpu_target.target_context.codegen().magic_tuple()[1]
    return key


def cache_path() -> Path:
    """Where choices are kept: $SCRATCHLM_CACHE_DIR, else $XDG_CACHE_HOME/scratchlm or ~/.cache/scratchlm."""
    directory = os.environ.get(CACHE_DIR_VARIABLE)
    if not directory:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        directory = os.path.join(base, "scratchlm")
    return Path(directory) / CACHE_FILE_NAME


def _entry_name(op: str, key: str) -> str:
    return f"{op} | {key}"


@functools.lru_cache(maxsize=None)
def _load_cache() -> dict:
    """The cache file's contents if it was written for this machine_key, else an empty cache."""
    empty = {"machine": machine_key(), "choices": {}}
    try:
        stored = json.loads(cache_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty
    if not isinstance(stored, dict) or stored.get("machine") != machine_key() or not isinstance(stored.get("choices"), dict):
        return empty
    return stored


def cached_choices() -> dict[str, dict]:
    """The cache file's choices for this machine: "op | key" -> {"name", "seconds"}."""
    return dict(_load_cache()["choices"])


def _store(choice: Choice) -> None:
    """Add a measured choice to the cache file, written atomically (a reader never sees half a file)."""
    cache = _load_cache()
    cache["choices"][_entry_name(choice.op, choice.key)] = {"name": choice.name, "seconds": choice.seconds}
    path = cache_path()
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".kernel-choices-", suffix=".json")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(cache, handle, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except OSError:
        # A read-only cache directory must not stop training: the choice still holds for this process.
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
