"""Learning-rate schedules and early stopping, on hand-worked sequences."""
import math

import pytest

from scratchlm.train.schedules import EarlyStopping, PlateauDecay, StepDecay


def test_step_decay_is_zarembas_small_schedule():
    # lr 1 for epochs 1-4, then halved every epoch: 0.5, 0.25, ... ; epoch 13 gets 0.5 ** 9
    schedule = StepDecay(1.0, factor=0.5, after=4)
    lrs = [schedule.lr_for_epoch(epoch) for epoch in range(1, 14)]
    assert lrs[:4] == [1.0, 1.0, 1.0, 1.0]
    assert lrs[4:7] == [0.5, 0.25, 0.125]
    assert lrs[12] == pytest.approx(0.5 ** 9)


def test_plateau_decay_cuts_only_after_a_bad_epoch():
    schedule = PlateauDecay(1.0, factor=0.25)
    # before epoch 1 nothing is known; 10 -> 8 improves; 9 does not (lr 0.25); 7 improves; 7 does not (0.0625)
    got = [schedule.lr_for_epoch(e, ppl) for e, ppl in enumerate([None, 10.0, 8.0, 9.0, 7.0, 7.0], start=1)]
    assert got == [1.0, 1.0, 1.0, 0.25, 0.25, 0.0625]


def test_plateau_state_round_trip():
    first = PlateauDecay(1.0, factor=0.5)
    for ppl in (None, 5.0, 6.0):
        first.lr_for_epoch(1, ppl)
    second = PlateauDecay(1.0, factor=0.5)
    second.load_state_dict(first.state_dict())
    assert second.lr_for_epoch(4, 5.5) == first.lr_for_epoch(4, 5.5) == 0.25


def test_early_stopping_patience_and_best_epoch():
    stop = EarlyStopping(patience=2)
    decisions = [stop.update(epoch, ppl) for epoch, ppl in enumerate([9.0, 8.0, 8.5, 7.9, 8.0, 8.1], start=1)]
    assert decisions == [False, False, False, False, False, True]
    assert (stop.best_epoch, stop.best) == (4, 7.9)
    restored = EarlyStopping(patience=2)
    restored.load_state_dict(stop.state_dict())
    assert restored.bad_epochs == 2 and restored.best == 7.9


def test_bad_settings():
    with pytest.raises(ValueError, match="factor"):
        StepDecay(1.0, factor=1.5)
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(0)
    assert math.isinf(EarlyStopping(1).best)
