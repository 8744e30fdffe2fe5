"""Learning-rate schedules and early stopping, decided once per epoch.

* :class:`StepDecay` - Zaremba, Sutskever & Vinyals (2014): keep the learning rate for the first
  ``k`` epochs, then multiply it by a factor (0.5) at the start of every later epoch.
* :class:`PlateauDecay` - multiply the learning rate by a factor whenever the validation
  perplexity stops improving (what PyTorch's word-language-model example does, with factor 1/4).
* :class:`EarlyStopping` - stop when the validation perplexity has not improved for
  ``patience`` epochs, and remember which epoch was best.

Each keeps its state in plain numbers (``state_dict`` / ``load_state_dict``) so a checkpoint can
store it as JSON and a resumed run decides exactly as an uninterrupted one would.
"""
from __future__ import annotations

import math


class StepDecay:
    """lr(epoch) = lr0 * factor ** max(0, epoch - after)   (epochs counted from 1).

    Zaremba et al.'s small PTB model: lr0 = 1, factor = 0.5, after = 4, so epochs 1-4 use 1,
    epoch 5 uses 0.5, epoch 6 uses 0.25, ...
    """

    def __init__(self, lr0: float, factor: float = 0.5, after: int = 4):
        if not 0 < factor <= 1:
            raise ValueError(f"decay factor must be in (0, 1], got {factor!r}")
        if after < 0:
            raise ValueError(f"'after' must be a number of epochs >= 0, got {after!r}")
        self.lr0, self.factor, self.after = float(lr0), float(factor), int(after)

    def lr_for_epoch(self, epoch: int, val_perplexity: float | None = None) -> float:
        """The learning rate to use during ``epoch`` (1-based)."""
        return self.lr0 * self.factor ** max(0, epoch - self.after)

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


class PlateauDecay:
    """Multiply the learning rate by ``factor`` after an epoch whose validation perplexity is not
    at least ``threshold`` (relative) better than the best so far."""

    def __init__(self, lr0: float, factor: float = 0.25, threshold: float = 0.0):
        if not 0 < factor < 1:
            raise ValueError(f"decay factor must be in (0, 1), got {factor!r}")
        self.lr = float(lr0)
        self.factor, self.threshold = float(factor), float(threshold)
        self.best = math.inf

    def lr_for_epoch(self, epoch: int, val_perplexity: float | None = None) -> float:
        """The learning rate for ``epoch``, given the validation perplexity after the epoch
        before it (None before the first epoch)."""
        if val_perplexity is not None:
            if val_perplexity < self.best * (1.0 - self.threshold):
                self.best = val_perplexity
            else:
                self.lr *= self.factor
        return self.lr

    def state_dict(self) -> dict:
        return {"lr": self.lr, "best": self.best}

    def load_state_dict(self, state: dict) -> None:
        self.lr, self.best = float(state["lr"]), float(state["best"])


class EarlyStopping:
    """Stop when validation perplexity has not improved for ``patience`` epochs in a row.

    >>> stop = EarlyStopping(patience=2)
    >>> [stop.update(epoch, ppl) for epoch, ppl in enumerate([10.0, 9.0, 9.5, 9.2], start=1)]
    [False, False, False, True]
    >>> stop.best_epoch, stop.best
    (2, 9.0)
    """

    def __init__(self, patience: int):
        if not (isinstance(patience, int) and patience >= 1):
            raise ValueError(f"patience must be a whole number of epochs >= 1, got {patience!r}")
        self.patience = patience
        self.best = math.inf
        self.best_epoch = 0
        self.bad_epochs = 0

    def update(self, epoch: int, val_perplexity: float) -> bool:
        """Record an epoch's validation perplexity; True when training should stop."""
        if val_perplexity < self.best:
            self.best, self.best_epoch, self.bad_epochs = float(val_perplexity), int(epoch), 0
        else:
            self.bad_epochs += 1
        return self.bad_epochs >= self.patience

    def improved_at(self, epoch: int) -> bool:
        """Whether ``epoch`` is the best one so far (the trainer keeps that epoch's parameters)."""
        return self.best_epoch == epoch

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.bad_epochs = int(state["bad_epochs"])
