"""Where a training run writes its files, so that one run never overwrites another.

A folder *holds a run* when it has a checkpoint (``model.npz`` or ``last.npz``). The rules:

* no ``--out``: ``runs/<corpus>``, or the first of ``runs/<corpus>-2``, ``runs/<corpus>-3``, ...
  that holds no run yet. Training twice keeps both runs.
* ``--out DIR`` that holds a run: refused, naming the ways out (another folder, ``--resume``, or
  ``--overwrite``, which deletes that run's checkpoints and figure first so that nothing of the
  old run is mistaken for the new one).
* ``--resume CHECKPOINT``: the run continues in the checkpoint's own folder (or in an ``--out``
  that follows the same rules). Its ``model.npz`` is only ever replaced by a model with a lower
  validation perplexity than every epoch before, whatever the options changed on resume.

Everything here is checked before any data is read.
"""
from __future__ import annotations

import os
import shutil

from scratchlm.train.loop import BEST_CHECKPOINT, LAST_CHECKPOINT

RUN_FILES = (BEST_CHECKPOINT, LAST_CHECKPOINT, "loss.png")


def holds_run(folder) -> bool:
    return any(os.path.isfile(os.path.join(folder, name)) for name in (BEST_CHECKPOINT, LAST_CHECKPOINT))


def check_writable_folder(folder: str, flag: str = "--out") -> None:
    """ValueError unless ``folder`` is, or can be created as, a folder this process may write to."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise ValueError(f"{flag} {folder!r} is a file, not a folder")
    existing = os.path.abspath(folder)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"{flag} {folder!r} cannot be created: {existing!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{flag} {folder!r} is not writable (no permission to write in {existing!r})")


def first_free_run_folder(base: str) -> str:
    """``base``, or ``base-2``, ``base-3``, ... : the first that holds no run."""
    candidate, number = base, 2
    while holds_run(candidate):
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def choose_run_folder(out: str | None, default: str, overwrite: bool, resume_folder: str | None = None) -> tuple[str, bool]:
    """The folder this run writes to, by the rules of this module's docstring, and whether an
    old run in it must be cleared (:func:`clear_run`) before training starts.

    ``resume_folder`` is the folder of the checkpoint being resumed (None for a new run); the
    resumed run may of course write over its own files.
    """
    if out is None:
        folder = resume_folder or (default if overwrite else first_free_run_folder(default))
    else:
        folder = out
    check_writable_folder(folder)
    continuing_itself = resume_folder is not None and os.path.realpath(folder) == os.path.realpath(resume_folder)
    if holds_run(folder) and not continuing_itself:
        if not overwrite:
            present = ", ".join(name for name in RUN_FILES if os.path.isfile(os.path.join(folder, name)))
            raise ValueError(
                f"--out {folder!r} already holds a run ({present}); choose another --out, continue it with "
                f"--resume {os.path.join(folder, LAST_CHECKPOINT)}, or pass --overwrite to replace it")
        return folder, True
    return folder, False


def clear_run(folder: str) -> None:
    """Delete the checkpoints and figure of the run in ``folder`` (``--overwrite``), nothing else."""
    for name in RUN_FILES:
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            os.remove(path)


def copy_best_model(source_folder: str, folder: str) -> None:
    """Copy a resumed run's ``model.npz`` into the new folder it continues in (when it has one)."""
    source = os.path.join(source_folder, BEST_CHECKPOINT)
    if os.path.isfile(source):
        os.makedirs(folder, exist_ok=True)
        shutil.copy2(source, os.path.join(folder, BEST_CHECKPOINT))
