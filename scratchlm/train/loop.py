"""The training loop: epochs of updates, validation after each, checkpoints, Ctrl-C.

One update, whatever the data::

    loss, grads = forward and backward       full BPTT over a batch of items, or one TBPTT window
    n = clip_grad_norm(grads, clip)          the norm *before* clipping is recorded at every step
    optimizer.step(model.params, grads)

One epoch is one pass over the training data: every item once (in a new seeded order each
epoch), or every window of the parallel streams once (the recurrent state carried from window to
window and reset at the start of the streams). After each epoch the model is measured on the
validation data (dropout off)::

    validation loss  = total NLL / N            nats per predicted token
    perplexity       = exp(loss)
    bits per token   = loss / ln 2              bits per character for a character model

and the learning-rate schedule and early stopping see the validation perplexity.

Checkpoints (when the trainer has an output folder, see :mod:`scratchlm.train.checkpoint`):
``last.npz`` after every epoch and on Ctrl-C, from which ``Trainer.from_checkpoint`` resumes
exactly; ``model.npz`` whenever the validation perplexity is the best so far. Ctrl-C does not
stop a step half way: it asks the loop to stop after the current step, which then saves
``last.npz`` and returns with ``history["interrupted"] = True``.
"""
from __future__ import annotations

import itertools
import math
import os
import signal
import threading
import time
from dataclasses import asdict, dataclass, fields
from typing import Callable, Sequence, Union

import numpy as np
from tqdm import tqdm

from scratchlm import backend
from scratchlm.data.batching import ItemBatches, batchify
from scratchlm.layers.softmax_cross_entropy import log_softmax
from scratchlm.metrics import LARGEST_EXPONENT
from scratchlm.models.rnnlm import RNNLM
from scratchlm.train.checkpoint import Checkpoint, load_checkpoint, rng_from_state, rng_state, save_checkpoint
from scratchlm.train.clipping import clip_grad_norm, clip_grad_value, global_norm
from scratchlm.train.optimizers import OPTIMIZERS, make_optimizer
from scratchlm.train.progress import progress_bar
from scratchlm.train.schedules import EarlyStopping, PlateauDecay, StepDecay
from scratchlm.train.tbptt import full_bptt_update, tbptt_update, tbptt_windows

KINDS = ("lines", "stream")
# Token ids as the trainer takes them: a list of items (each a sequence of ids) for kind "lines",
# one 1-D sequence of ids for kind "stream".
TokenIds = Union[Sequence[Sequence[int]], Sequence[int], np.ndarray]
LR_SCHEDULES = ("none", "step", "plateau")
LAST_CHECKPOINT = "last.npz"
BEST_CHECKPOINT = "model.npz"
# what may change when a run resumes; everything else (the model, the data, the batches) may not
RESUME_OVERRIDABLE = ("epochs", "lr", "patience", "clip_norm", "clip_value")
# validation of a stream reads it as this many pieces side by side, as scratchlm.metrics.evaluate_stream does
STREAM_PIECES = 16
# steps per forward pass when validating a stream (the state is carried, so only the speed depends on it)
VALIDATION_STEPS = 64


class TrainingDiverged(ValueError):
    """The loss or the gradient stopped being a finite number; the run stops without saving."""


@dataclass
class TrainConfig:
    """How to train (the model's own sizes are in ``RNNLM.config()``).

    epochs: passes over the training data.
    batch_size: items per batch, or parallel streams for TBPTT.
    bptt: k1, the steps per TBPTT update (stream data only).
    bptt_k2: k2 >= k1, the steps each TBPTT update backpropagates; None means k2 = k1.
    optimizer, lr, momentum: "sgd" (with momentum), "adagrad" or "adam", and its step size.
    clip_norm: bound on the global gradient norm (None: no clipping, the norm is still recorded).
    clip_value: bound on every gradient coordinate (None: none).
    lr_schedule: "none"; "step" (x decay_factor per epoch after epoch decay_after, Zaremba et al.);
        "plateau" (x decay_factor when the validation perplexity did not improve).
    patience: stop after this many epochs without a better validation perplexity (None: never).
    seed: the order of the items in each epoch.
    eval_batch_size: rows per validation batch.
    """

    epochs: int = 10
    batch_size: int = 32
    bptt: int = 35
    bptt_k2: int | None = None
    optimizer: str = "adam"
    lr: float = 2e-3
    momentum: float = 0.0
    clip_norm: float | None = 5.0
    clip_value: float | None = None
    lr_schedule: str = "none"
    decay_factor: float = 0.5
    decay_after: int = 4
    patience: int | None = None
    seed: int = 0
    eval_batch_size: int = 64

    def __post_init__(self):
        for name in ("epochs", "batch_size", "bptt", "eval_batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.patience is not None and (isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 1):
            raise ValueError(f"patience must be None (never stop early) or a whole number >= 1, got {self.patience!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not 0 < self.decay_factor < 1:
            raise ValueError(f"decay_factor must be in (0, 1), got {self.decay_factor!r}")
        if self.bptt_k2 is not None and not (isinstance(self.bptt_k2, int) and self.bptt_k2 >= self.bptt):
            raise ValueError(f"bptt_k2 must be None or a whole number >= bptt ({self.bptt}), got {self.bptt_k2!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, got {self.lr_schedule!r}")
        for name in ("clip_norm", "clip_value"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in known})


def new_history() -> dict:
    """The record of a run: per step (loss, norm before clipping) and per epoch (the rest)."""
    return {"step_loss": [], "grad_norm": [], "epoch": [], "epoch_end_step": [], "lr": [],
            "train_loss": [], "val_loss": [], "val_ppl": [], "val_bits": [],
            "epoch_seconds": [], "tokens_per_second": [], "interrupted": False, "stopped_early": False}


class _InterruptFlag:
    """While active, Ctrl-C (SIGINT) sets ``requested`` instead of raising KeyboardInterrupt, so
    the loop can finish the step it is in and save a consistent checkpoint. Outside the main
    thread Python cannot catch signals, and Ctrl-C keeps its usual effect."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _make_schedule(config: TrainConfig):
    if config.lr_schedule == "step":
        return StepDecay(config.lr, factor=config.decay_factor, after=config.decay_after)
    if config.lr_schedule == "plateau":
        return PlateauDecay(config.lr, factor=config.decay_factor)
    return None


def _state_arrays(state) -> dict:
    if state is None:
        return {}
    if isinstance(state, tuple):
        return {"h": backend.asnumpy(state[0]), "c": backend.asnumpy(state[1])}
    return {"h": backend.asnumpy(state)}


def _state_from_arrays(arrays: dict):
    if not arrays:
        return None
    if "c" in arrays:
        return backend.asarray(arrays["h"]), backend.asarray(arrays["c"])
    return backend.asarray(arrays["h"])


def perplexity_of(nll_per_token: float) -> float:
    """exp(nll_per_token), or inf when that overflows a float (a diverging model)."""
    if nll_per_token > LARGEST_EXPONENT:
        return math.inf
    return math.exp(nll_per_token)


def format_perplexity(perplexity: float) -> str:
    """3 decimals, or 4 significant digits once it is too large to read that way (1.234e+50)."""
    return f"{perplexity:.3f}" if perplexity < 1e6 else f"{perplexity:.4g}"


def _target_log_probs(logits, targets) -> np.ndarray:
    """log P(target) at every position, (B, T) float64 NumPy: the log-softmax taken in float64
    exactly as ``RNNLM.sequence_log_probs`` takes it, so both give the same numbers."""
    xp = backend.xp()
    log_probs = log_softmax(logits.astype(xp.float64))  # (B, T, V), on the backend's device
    picked = xp.take_along_axis(log_probs, backend.asarray(targets)[..., None], axis=-1)[..., 0]
    return backend.asnumpy(picked)  # only the (B, T) scores leave the device


def validation_nll(model: RNNLM, data: TokenIds, kind: str, batch_size: int = 64, bptt: int = VALIDATION_STEPS,
                   progress: bool = False) -> tuple[float, int]:
    """Total NLL (nats) and number of predicted tokens of ``data``, with dropout off.

    The same quantity as :func:`scratchlm.metrics.evaluate` / :func:`~scratchlm.metrics.evaluate_stream`
    (which go token by token through the language-model interface), computed in batches:

    lines: every item framed as ``<bos> w_1 .. w_n -> w_1 .. w_n <eos>``; padding is masked out.
    stream: the ids cut into ``min(16, N)`` contiguous pieces (``metrics.evaluate_stream``'s
    default), read side by side in windows of ``bptt`` steps with the state carried across
    windows; each piece starts from ``model.start`` and every one of the N ids is predicted.

    ``batch_size`` (items per forward pass) and ``bptt`` (steps per forward pass of a stream)
    change only the speed. The trainer, the report and ``scratchlm eval`` all call this with the
    defaults, so the epoch line's validation perplexity and the report's are one number.
    """
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    try:
        if kind == "lines":
            batches = ItemBatches(data, batch_size)
            for inputs, targets, mask in progress_bar(batches, total=len(batches), desc="validation", unit="batch",
                                                      disable=not progress, leave=False):
                logits, _ = model.forward(inputs)
                scores = _target_log_probs(logits, targets)
                total -= float(np.sum(scores[np.asarray(mask, dtype=bool)]))
                count += int(np.sum(mask))
        else:
            ids = np.asarray(data, dtype=np.int64)
            if len(ids) == 0:
                raise ValueError("the validation text is empty")
            pieces = np.array_split(ids, min(STREAM_PIECES, len(ids)))
            length = max(len(piece) for piece in pieces)
            # pieces differ in length by at most one; the short ones are padded at their end and masked
            streams = np.stack([np.pad(piece, (0, length - len(piece)), mode="edge") for piece in pieces])
            mask = np.stack([np.arange(length) < len(piece) for piece in pieces])
            if model.bos_id is None:
                # the first id of each piece is scored from the start state: uniformly
                total += math.log(model.vocab_size) * len(pieces)
                inputs, targets, mask = streams[:, :-1], streams[:, 1:], mask[:, 1:]
            else:
                bos = np.full((len(pieces), 1), model.bos_id, dtype=np.int64)
                inputs, targets = np.concatenate([bos, streams[:, :-1]], axis=1), streams
            count = len(ids)
            steps = inputs.shape[1]
            state = None
            windows = tbptt_windows(steps, min(bptt, steps)) if steps else []
            for window in progress_bar(windows, total=len(windows), desc="validation", unit="window",
                                       disable=not progress, leave=False):
                logits, state = model.forward(backend.asarray(inputs[:, window.first:window.stop]), state=state)
                scores = _target_log_probs(logits, targets[:, window.first:window.stop])
                total -= float(np.sum(scores[mask[:, window.first:window.stop]]))
    finally:
        if was_training:
            model.train()
    return total, count


class Trainer:
    """Trains an RNNLM on items (full BPTT) or on a stream (truncated BPTT).

    Args:
        model: the RNNLM to train (its ``params`` are updated in place).
        tokenizer_json: ``tokenizer.to_json()``, stored in every checkpoint.
        train, valid: token ids. ``kind="lines"``: lists of items (each a list of ids, without
            ``<bos>``/``<eos>``); ``kind="stream"``: 1-D sequences of ids.
        kind: "lines" or "stream".
        config: a :class:`TrainConfig`.
        out_dir: where ``last.npz`` and ``model.npz`` go; None writes nothing.
        data_info: JSON-ready description of the data (corpus name, tokenizer options), kept in
            the checkpoint's config so a resumed run or ``scratchlm eval`` can rebuild it.
        progress: show a tqdm progress bar per epoch.
        report_epochs: print one line per epoch (losses, validation perplexity, learning rate).
        on_step: called after every update with a dict (step, epoch, loss, grad_norm).
        validation: ``validation(model) -> (total NLL, number of counted tokens)``, the score used
            after each epoch instead of :func:`validation_nll` of ``valid`` (e.g. held-out names
            scored in their place in a stream, ``scratchlm.data.heldout``). It is called with
            dropout off.
    """

    def __init__(self, model: RNNLM, tokenizer_json: str, train: TokenIds, valid: TokenIds, kind: str,
                 config: TrainConfig, out_dir: str | os.PathLike | None = None, data_info: dict | None = None,
                 progress: bool = True, report_epochs: bool = True, on_step: Callable[[dict], None] | None = None,
                 validation: Callable[[RNNLM], tuple[float, int]] | None = None):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if len(train) == 0:
            raise ValueError("the training data is empty")
        if len(valid) == 0:
            raise ValueError("the validation data is empty (the trainer measures perplexity on it after every epoch)")
        self.model, self.tokenizer_json, self.kind, self.config = model, tokenizer_json, kind, config
        self.train_data, self.valid_data = train, valid
        self.out_dir, self.data_info = out_dir, dict(data_info or {})
        self.progress, self.report_epochs, self.on_step = progress, report_epochs, on_step
        self.validation = validation
        self.optimizer = make_optimizer(config.optimizer, **self._optimizer_arguments())
        self.schedule = _make_schedule(config)
        self.early_stopping = EarlyStopping(config.patience) if config.patience else None
        self.history = new_history()
        self.epoch, self.step_in_epoch, self.global_step = 1, 0, 0
        self.epoch_nll, self.epoch_tokens = 0.0, 0
        self.carry = None
        self.epoch_seconds, self.epoch_tokens_per_second = 0.0, 0.0

        if kind == "lines":
            self.item_batches = ItemBatches(train, config.batch_size, shuffle=True, seed=config.seed)
        else:
            self.streams = batchify(np.asarray(train), config.batch_size)  # (B, L)
            self.windows = tbptt_windows(self.streams.shape[1] - 1, config.bptt, config.bptt_k2)

    def _optimizer_arguments(self) -> dict:
        config = self.config
        if config.optimizer == "sgd":
            return {"lr": config.lr, "momentum": config.momentum}
        return {"lr": config.lr}

    def updates_per_epoch(self) -> int:
        return len(self.item_batches) if self.kind == "lines" else len(self.windows)

    # ------------------------------------------------------------------ one update
    def _remaining_work(self):
        """This epoch's batches (lines) or TBPTT windows (stream), from ``step_in_epoch`` on."""
        if self.kind == "lines":
            self.item_batches.set_epoch(self.epoch)
            return itertools.islice(self.item_batches, self.step_in_epoch, None)
        return self.windows[self.step_in_epoch:]

    def _forward_backward(self, work):
        """Loss, gradients and number of counted predictions of one batch or window."""
        if self.kind == "lines":
            inputs, targets, mask = work
            return full_bptt_update(self.model, inputs, targets, mask)
        loss, grads, self.carry, count = tbptt_update(self.model, self.streams, work, self.carry)
        return loss, grads, count

    def _diverged(self, what: str) -> "TrainingDiverged":
        kept = "nothing was saved yet"
        if self.out_dir is not None and os.path.exists(os.path.join(self.out_dir, LAST_CHECKPOINT)):
            kept = f"{os.path.join(self.out_dir, LAST_CHECKPOINT)} keeps the last finite state (end of epoch {self.epoch - 1})"
        return TrainingDiverged(f"training diverged at step {self.global_step + 1} (epoch {self.epoch}): {what}. "
                                f"It was not saved; {kept}. Lower the learning rate (it is {self.optimizer.lr:g}) "
                                f"or clip the gradient norm harder")

    def _step(self, work) -> tuple[float, float, int]:
        try:
            loss, grads, count = self._forward_backward(work)
        except ValueError as err:
            if self.global_step == 0:
                raise  # the very first step: a problem with the data or the model, not with training
            # the same data and shapes passed before, so the model's own checks caught a number gone wild
            raise self._diverged(str(err)) from err
        loss = float(loss)
        if not math.isfinite(loss):
            raise self._diverged(f"the training loss is {loss}")
        if self.config.clip_norm is not None:
            norm = clip_grad_norm(grads, self.config.clip_norm)
        else:
            norm = global_norm(grads)
        if not math.isfinite(norm):
            # no step is taken: an infinite or NaN gradient would turn the parameters to NaN
            raise self._diverged(f"the gradient norm is {norm}")
        if self.config.clip_value is not None:
            clip_grad_value(grads, self.config.clip_value)
        self.optimizer.step(self.model.params, grads)
        return loss, norm, count

    # ------------------------------------------------------------------ the loop
    def fit(self) -> dict:
        """Train until ``config.epochs`` epochs are done, early stopping says stop, or Ctrl-C.

        Returns the history dict (also ``self.history``).
        """
        self.model.train()
        with _InterruptFlag() as interrupt:
            while self.epoch <= self.config.epochs:
                if self.step_in_epoch == 0:
                    self._start_epoch()
                finished = self._run_epoch(interrupt)
                if not finished:
                    self.history["interrupted"] = True
                    self._save(LAST_CHECKPOINT)
                    return self.history
                stop = self._end_epoch()
                # recorded before saving, so that resuming a finished run knows it has finished
                self.history["stopped_early"] = stop
                self._save(LAST_CHECKPOINT)
                if stop:
                    break
                if interrupt.requested:
                    self.history["interrupted"] = True
                    return self.history
        return self.history

    def _start_epoch(self):
        if self.schedule is not None:
            previous = self.history["val_ppl"][-1] if self.history["val_ppl"] else None
            self.optimizer.lr = self.schedule.lr_for_epoch(self.epoch, previous)
        self.epoch_nll, self.epoch_tokens, self.carry = 0.0, 0, None
        self.epoch_seconds = 0.0

    def _run_epoch(self, interrupt) -> bool:
        """The remaining updates of this epoch; False when Ctrl-C stopped it early."""
        bar = progress_bar(total=self.updates_per_epoch(), initial=self.step_in_epoch, disable=not self.progress,
                           desc=f"epoch {self.epoch}/{self.config.epochs}", unit="step", leave=True)
        start, tokens_seen = time.perf_counter(), 0
        try:
            for work in self._remaining_work():
                loss, norm, count = self._step(work)
                self.step_in_epoch += 1
                self.global_step += 1
                self.epoch_nll += loss * count
                self.epoch_tokens += count
                tokens_seen += count
                self.history["step_loss"].append(loss)
                self.history["grad_norm"].append(norm)
                elapsed = time.perf_counter() - start
                running = self.epoch_nll / self.epoch_tokens
                bar.set_postfix(loss=f"{running:.3f}", ppl=f"{perplexity_of(running):.2f}",
                                tok_s=f"{tokens_seen / max(elapsed, 1e-9):.0f}", refresh=False)
                bar.update(1)
                if self.on_step is not None:
                    self.on_step({"step": self.global_step, "epoch": self.epoch, "loss": loss, "grad_norm": norm})
                if interrupt.requested:
                    return False
        finally:
            self.epoch_seconds += time.perf_counter() - start
            self.epoch_tokens_per_second = tokens_seen / max(time.perf_counter() - start, 1e-9)
            bar.close()
        return True

    def _end_epoch(self) -> bool:
        """Validate, record, keep the best model; True when early stopping says stop."""
        if self.validation is None:
            total, count = validation_nll(self.model, self.valid_data, self.kind, self.config.eval_batch_size,
                                          progress=self.progress)
        else:
            self.model.eval()
            try:
                total, count = self.validation(self.model)
            finally:
                self.model.train()
        val_loss = total / count
        if not math.isfinite(val_loss):
            raise self._diverged(f"the validation loss is {val_loss}")
        val_ppl = perplexity_of(val_loss)
        history = self.history
        history["epoch"].append(self.epoch)
        history["epoch_end_step"].append(self.global_step)
        history["lr"].append(self.optimizer.lr)
        history["train_loss"].append(self.epoch_nll / self.epoch_tokens)
        history["val_loss"].append(val_loss)
        history["val_ppl"].append(val_ppl)
        history["val_bits"].append(val_loss / math.log(2))
        history["epoch_seconds"].append(self.epoch_seconds)
        history["tokens_per_second"].append(self.epoch_tokens_per_second)
        if self.report_epochs:
            tqdm.write(f"epoch {self.epoch}: train loss {history['train_loss'][-1]:.4f}  "
                       f"val loss {val_loss:.4f}  val ppl {format_perplexity(val_ppl)}  val bits/token {val_loss / math.log(2):.4f}  "
                       f"lr {self.optimizer.lr:.4g}")
        if math.isinf(val_ppl):
            # e^709 times worse than certainty per token: far beyond a uniform guess, nothing to keep
            raise self._diverged(f"the validation loss is {val_loss:.4g} nats per token (perplexity inf)")
        best_so_far = val_ppl <= min(history["val_ppl"])
        stop = False
        if self.early_stopping is not None:
            stop = self.early_stopping.update(self.epoch, val_ppl)
        epoch = self.epoch
        self.epoch, self.step_in_epoch, self.carry = self.epoch + 1, 0, None
        if best_so_far:
            self._save(BEST_CHECKPOINT)
        return stop and epoch < self.config.epochs

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(self) -> Checkpoint:
        """Everything needed to resume this run exactly where it stands."""
        config = {"model": self.model.config(), "train": asdict(self.config), "data": self.data_info, "kind": self.kind}
        progress = {
            "epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step,
            "epoch_nll": self.epoch_nll, "epoch_tokens": self.epoch_tokens,
            "optimizer": {"name": self.optimizer.name, "hyperparameters": self.optimizer.hyperparameters()},
            "schedule": self.schedule.state_dict() if self.schedule is not None else {},
            "early_stopping": self.early_stopping.state_dict() if self.early_stopping is not None else {},
            "history": self.history,
        }
        return Checkpoint(
            model={name: backend.asnumpy(array) for name, array in self.model.state_dict().items()},
            tokenizer=self.tokenizer_json, config=config,
            optimizer=self.optimizer.state_dict(), carry=_state_arrays(self.carry),
            rng={"dropout": rng_state(self.model.dropout_rng)}, progress=progress,
        )

    def _save(self, name: str) -> None:
        if self.out_dir is not None:
            save_checkpoint(os.path.join(self.out_dir, name), self.checkpoint())

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, train: TokenIds, valid: TokenIds, epochs: int | None = None,
                        out_dir: str | os.PathLike | None = None, progress: bool = True, report_epochs: bool = True,
                        on_step: Callable[[dict], None] | None = None, overrides: dict | None = None,
                        data_info: dict | None = None,
                        validation: Callable[[RNNLM], tuple[float, int]] | None = None) -> "Trainer":
        """A trainer that continues the run saved in ``path`` exactly where it stopped.

        ``train`` and ``valid`` must be the same token ids the run was started with (the caller
        checks the vocabulary with :func:`~scratchlm.train.checkpoint.check_same_vocabulary`).
        ``epochs`` raises (or lowers) the number of epochs to train in all. ``overrides`` changes
        the :class:`TrainConfig` fields that may change mid-run (:data:`RESUME_OVERRIDABLE`:
        epochs, lr, patience, clip_norm, clip_value); with none, the run continues bit for bit.
        ``data_info`` replaces the saved description of the data (a corpus that moved).
        ``validation``: as in the constructor (the same function the run was started with).
        """
        saved = load_checkpoint(path)
        overrides = dict(overrides or {})
        if epochs is not None:
            overrides["epochs"] = epochs
        unknown = set(overrides) - set(RESUME_OVERRIDABLE)
        if unknown:
            raise ValueError(f"only {', '.join(RESUME_OVERRIDABLE)} can change when a run resumes, not {', '.join(sorted(unknown))}")
        try:
            model = RNNLM.from_config(saved.config["model"])
            config = TrainConfig.from_dict({**saved.config["train"], **overrides})
            kind = saved.config["kind"]
            progress_state = saved.progress
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path!r} is not a training checkpoint (missing {err})") from err
        model.load_state_dict(saved.model)
        model.dropout_rng = rng_from_state(saved.rng["dropout"])
        trainer = cls(model, saved.tokenizer, train, valid, kind, config, out_dir=out_dir,
                      data_info=saved.config.get("data") if data_info is None else data_info, progress=progress,
                      report_epochs=report_epochs, on_step=on_step, validation=validation)
        optimizer_state = progress_state["optimizer"]
        trainer.optimizer = make_optimizer(optimizer_state["name"], **optimizer_state["hyperparameters"])
        trainer.optimizer.load_state_dict(saved.optimizer)
        if "lr" in overrides:
            trainer.optimizer.lr = config.lr
        if trainer.schedule is not None:
            trainer.schedule.load_state_dict(progress_state["schedule"])
        history = progress_state["history"]
        if trainer.early_stopping is not None:
            if "patience" in overrides or not progress_state["early_stopping"]:
                # a new patience: replay the epochs so far, as if it had been the patience all along
                for epoch, perplexity in zip(history["epoch"], history["val_ppl"]):
                    trainer.early_stopping.update(epoch, perplexity)
            else:
                trainer.early_stopping.load_state_dict(progress_state["early_stopping"])
        trainer.history = history
        trainer.history["interrupted"] = False
        trainer.epoch = int(progress_state["epoch"])
        trainer.step_in_epoch = int(progress_state["step_in_epoch"])
        trainer.global_step = int(progress_state["global_step"])
        trainer.epoch_nll, trainer.epoch_tokens = float(progress_state["epoch_nll"]), int(progress_state["epoch_tokens"])
        trainer.carry = _state_from_arrays(saved.carry)
        return trainer
