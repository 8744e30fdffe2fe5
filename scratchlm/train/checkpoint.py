"""Checkpoints: everything needed to use a trained model, or to resume its training exactly.

A checkpoint is one ``.npz`` file (NumPy's zip of ``.npy`` arrays, readable without scratchlm)::

    model/<name>        the model's parameters, named like PyTorch (model.state_dict())
    optimizer/<name>    the optimizer's running state (momentum, Adam's m and v, ..., "steps")
    carry/<name>        the recurrent state carried between TBPTT windows, when saved mid-epoch
    meta.json           one JSON document, stored as UTF-8 bytes (a uint8 array):
                          tokenizer   the tokenizer (and so the vocabulary) as its own JSON
                          config      model and training settings
                          rng         numpy Generator states, bit_generator.state as JSON
                          progress    epoch, step, schedule and early-stopping state, history

Why not pickle: a pickle can run arbitrary code when loaded, and it breaks when classes move.
Here everything is an array or JSON, and loading uses ``numpy.load(..., allow_pickle=False)``.

Why one file: the arrays and their JSON description must change together. Writing is atomic -
the new checkpoint goes to a temporary file in the same folder, is flushed to disk (fsync), and
only then renamed over the old one with ``os.replace`` (an atomic rename on POSIX and Windows).
A crash at any moment leaves either the old checkpoint or the new one, never half of one.
A process killed while writing leaves its temporary file (``.model.npz.<pid>.<random>.tmp``)
behind; the next save or load in that folder deletes the temporaries of processes that no
longer run (:func:`remove_stale_temporaries`).
"""
from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from scratchlm.models.rnnlm import RNNLM
from scratchlm.text.base import Tokenizer

FORMAT = "scratchlm-checkpoint"
FORMAT_VERSION = 1
ARRAY_GROUPS = ("model", "optimizer", "carry")


@dataclass
class Checkpoint:
    """The contents of a checkpoint file, as plain arrays and JSON-ready values.

    Attributes:
        model: dict name -> array, the model's ``state_dict()``.
        tokenizer: the tokenizer's JSON text (``tokenizer.to_json()``).
        config: dict of settings (model sizes, training options); JSON-ready.
        optimizer: dict name -> array, ``optimizer.state_dict()``; empty when not saved.
        carry: dict name -> array, the recurrent state between TBPTT windows; empty when none.
        rng: dict name -> ``bit_generator.state`` of each numpy Generator the run uses.
        progress: dict, where the run stands (epoch, step, history, ...); JSON-ready.
    """

    model: dict
    tokenizer: str
    config: dict
    optimizer: dict = field(default_factory=dict)
    carry: dict = field(default_factory=dict)
    rng: dict = field(default_factory=dict)
    progress: dict = field(default_factory=dict)


def rng_state(generator: np.random.Generator) -> dict:
    """A Generator's state as a JSON-ready dict (``generator.bit_generator.state``)."""
    return generator.bit_generator.state


def rng_from_state(state: dict) -> np.random.Generator:
    """A new Generator that continues exactly where the one whose ``state`` was saved stopped."""
    try:
        bit_generator = getattr(np.random, state["bit_generator"])()
        bit_generator.state = state
    except (KeyError, TypeError, AttributeError, ValueError) as err:
        raise ValueError(f"not a numpy bit_generator state: {err}") from err
    return np.random.Generator(bit_generator)


def save_checkpoint(path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (temporary file, fsync, os.replace)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "tokenizer": checkpoint.tokenizer,
        "config": checkpoint.config,
        "rng": checkpoint.rng,
        "progress": checkpoint.progress,
    }
    arrays = {"meta.json": np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)}
    for group in ARRAY_GROUPS:
        for name, array in getattr(checkpoint, group).items():
            arrays[f"{group}/{name}"] = np.asarray(array)

    remove_stale_temporaries(folder)
    # the writer's process id in the name tells a later save whether this file is still being written
    handle, tmp_path = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as tmp:
            np.savez(tmp, **arrays)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_path, 0o666 & ~_current_umask())  # mkstemp makes it private; give it a normal file's mode
        os.replace(tmp_path, path)
    except BaseException:
        # an error or Ctrl-C while writing: drop the partial file, keep the old checkpoint
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise
    _fsync_folder(folder)


# .<name>.<pid>.<mkstemp's 8 random characters>.tmp, and the form without the pid of older versions
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]{8}\.tmp$")
_OLD_TEMPORARY = re.compile(r"^\..+\.npz\.[A-Za-z0-9_]{8}\.tmp$")
# a temporary file without a process id is taken as abandoned when it has not changed for this long
OLD_TEMPORARY_SECONDS = 600


def _process_is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no harmless way to ask; keep the file
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def remove_stale_temporaries(folder) -> list[str]:
    """Delete the temporary files that killed saves left in ``folder``; returns their names.

    A temporary file is stale when the process named in it no longer runs (or, for a name
    without a process id, when it has not changed for ``OLD_TEMPORARY_SECONDS``). Files that
    cannot be deleted (a read-only folder) are left alone.
    """
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMPORARY.match(name)
        path = os.path.join(folder, name)
        try:
            if match:
                stale = match["name"].endswith(".npz") and not _process_is_running(int(match["pid"]))
            else:
                stale = bool(_OLD_TEMPORARY.match(name)) and time.time() - os.path.getmtime(path) > OLD_TEMPORARY_SECONDS
            if stale:
                os.remove(path)
                removed.append(name)
        except OSError:
            continue
    return removed


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open folders and does not need it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Raises FileNotFoundError when ``path`` does not exist, and ValueError when the file is not
    a complete scratchlm checkpoint (truncated, corrupted, or something else entirely).
    """
    path = os.fspath(path)
    remove_stale_temporaries(os.path.dirname(os.path.abspath(path)))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint at {path!r}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    # NotImplementedError / RuntimeError: a damaged zip header can claim an unknown zip version,
    # compression method or encryption; struct.error and zlib.error: damaged sizes or data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, KeyError, NotImplementedError,
            RuntimeError, struct.error, zlib.error) as err:
        raise ValueError(f"{path!r} is not a readable scratchlm checkpoint (corrupted or truncated?): {err}") from err
    if "meta.json" not in arrays:
        raise ValueError(f"{path!r} is an .npz file but not a scratchlm checkpoint (it has no meta.json)")
    try:
        meta = json.loads(arrays.pop("meta.json").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path!r}: the checkpoint's meta.json is damaged: {err}") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is not a scratchlm checkpoint")
    missing = [key for key in ("tokenizer", "config", "rng", "progress") if key not in meta]
    if missing:
        raise ValueError(f"{path!r}: the checkpoint's meta.json is damaged (it lacks {', '.join(missing)})")
    if not isinstance(meta["config"], dict) or not isinstance(meta["progress"], dict):
        raise ValueError(f"{path!r}: the checkpoint's meta.json is damaged (config and progress must be objects)")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path!r} is checkpoint format version {meta.get('version')!r}; "
                         f"this scratchlm reads version {FORMAT_VERSION}")
    groups = {group: {} for group in ARRAY_GROUPS}
    for key, array in arrays.items():
        group, _, name = key.partition("/")
        if group not in groups:
            raise ValueError(f"{path!r}: unexpected entry {key!r} in the checkpoint")
        groups[group][name] = array
    return Checkpoint(tokenizer=meta["tokenizer"], config=meta["config"], rng=meta["rng"],
                      progress=meta["progress"], **groups)


def check_same_vocabulary(checkpoint: Checkpoint, tokenizer_json: str, what: str = "this corpus") -> None:
    """Raise ValueError unless ``tokenizer_json`` describes the checkpoint's tokenizer.

    A model's rows of the embedding and the output layer are indexed by token id; reading them
    with another vocabulary would silently mean other tokens.
    """
    saved, given = json.loads(checkpoint.tokenizer), json.loads(tokenizer_json)
    if saved == given:
        return
    saved_tokens, given_tokens = saved.get("tokens", []), given.get("tokens", [])
    detail = f"a {saved.get('kind')} tokenizer of {len(saved_tokens)} tokens vs a {given.get('kind')} one of {len(given_tokens)}"
    for i, (a, b) in enumerate(zip(saved_tokens, given_tokens)):
        if a != b:
            detail += f"; first difference at id {i}: {a!r} vs {b!r}"
            break
    raise ValueError(f"the checkpoint was trained with a different vocabulary than {what} ({detail})")


def load_trained_model(path):
    """The model, tokenizer and checkpoint saved at ``path``, ready to sample or evaluate.

    Returns ``(model, tokenizer, checkpoint)``; the model is an RNNLM in eval mode.
    """
    checkpoint = load_checkpoint(path)
    try:
        model = RNNLM.from_config(checkpoint.config["model"])
    except (KeyError, TypeError) as err:
        raise ValueError(f"{os.fspath(path)!r} does not describe a model (its config lacks {err})") from err
    tokenizer = Tokenizer.from_json(checkpoint.tokenizer)
    if len(tokenizer.vocab) != model.vocab_size:
        raise ValueError(f"{os.fspath(path)!r}: the tokenizer has {len(tokenizer.vocab)} tokens but the model "
                         f"predicts {model.vocab_size}; the checkpoint is inconsistent")
    model.load_state_dict(checkpoint.model)
    return model.eval(), tokenizer, checkpoint
