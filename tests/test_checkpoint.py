"""Checkpoints: round trip, no pickle, atomic writes, clear errors for damaged files."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from scratchlm.train.checkpoint import (Checkpoint, check_same_vocabulary, load_checkpoint, rng_from_state,
                                        rng_state, save_checkpoint)

TOKENIZER = json.dumps({"kind": "char", "version": 1, "tokens": ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"]})


def small_checkpoint(value=1.0):
    generator = np.random.default_rng(7)
    generator.normal(size=3)  # move it off its seed so the saved state is not the initial one
    return Checkpoint(
        model={"embedding.weight": np.full((6, 2), value, dtype=np.float32), "decoder.bias": np.arange(6.0)},
        tokenizer=TOKENIZER,
        config={"hidden_size": 2, "cell": "lstm"},
        optimizer={"steps": np.array(3), "exp_avg/decoder.bias": np.ones(6)},
        carry={"h": np.zeros((1, 2, 2))},
        rng={"data": rng_state(generator)},
        progress={"epoch": 2, "history": {"train_loss": [2.5, 2.25]}},
    )


def test_round_trip(tmp_path):
    path = tmp_path / "ckpt.npz"
    original = small_checkpoint()
    save_checkpoint(path, original)
    loaded = load_checkpoint(path)
    for group in ("model", "optimizer", "carry"):
        assert set(getattr(loaded, group)) == set(getattr(original, group))
        for name, array in getattr(original, group).items():
            np.testing.assert_array_equal(getattr(loaded, group)[name], array)
            assert getattr(loaded, group)[name].dtype == np.asarray(array).dtype
    assert loaded.tokenizer == TOKENIZER
    assert loaded.config == original.config and loaded.progress == original.progress


def test_rng_state_continues_the_same_stream(tmp_path):
    generator = np.random.default_rng(123)
    generator.random(5)
    state = json.loads(json.dumps(rng_state(generator)))   # through JSON text, as in a checkpoint
    expected = generator.random(4)
    np.testing.assert_array_equal(rng_from_state(state).random(4), expected)


def test_the_file_is_a_plain_npz_without_pickles(tmp_path):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, small_checkpoint())
    with np.load(path, allow_pickle=False) as archive:       # would raise on any object array
        assert "meta.json" in archive.files and "model/embedding.weight" in archive.files


def test_a_pickled_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, **{"meta.json": np.frombuffer(b"{}", dtype=np.uint8),
                      "model/x": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(ValueError, match="not a readable scratchlm checkpoint"):
        load_checkpoint(path)


def test_truncated_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, small_checkpoint())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="corrupted or truncated"):
        load_checkpoint(path)


def test_corrupted_bytes_give_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, small_checkpoint())
    data = bytearray(path.read_bytes())
    start = data.find(b"embedding.weight")                 # flip bytes inside the first array's data
    for i in range(start + 200, start + 240):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted or truncated"):
        load_checkpoint(path)


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a readable scratchlm checkpoint"):
        load_checkpoint(text)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(2))
    with pytest.raises(ValueError, match="no meta.json"):
        load_checkpoint(other)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, small_checkpoint(value=1.0))
    before = path.read_bytes()

    def write_half_then_fail(file, **arrays):
        file.write(b"PK\x03\x04 half of a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, small_checkpoint(value=2.0))
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["ckpt.npz"]      # no half-written file left behind
    assert load_checkpoint(path).model["embedding.weight"][0, 0] == 1.0


def test_killed_process_mid_write_keeps_the_old_checkpoint(tmp_path):
    """A real crash: the writing process dies (os._exit) half way through the new file."""
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, small_checkpoint(value=1.0))
    before = path.read_bytes()
    script = textwrap.dedent(f"""
        import os, numpy as np
        import tests.test_checkpoint as t
        from scratchlm.train.checkpoint import save_checkpoint
        def die_half_way(file, **arrays):
            file.write(b"PK\\x03\\x04 half"); file.flush(); os._exit(9)
        np.savez = die_half_way
        save_checkpoint({str(path)!r}, t.small_checkpoint(value=2.0))
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True)
    assert result.returncode == 9, result.stderr.decode()
    assert path.read_bytes() == before
    assert load_checkpoint(path).model["embedding.weight"][0, 0] == 1.0
    leftovers = [name for name in os.listdir(tmp_path) if name != "ckpt.npz"]
    assert all(name.startswith(".ckpt.npz.") and name.endswith(".tmp") for name in leftovers)


def test_vocabulary_mismatch_is_named(tmp_path):
    checkpoint = small_checkpoint()
    check_same_vocabulary(checkpoint, TOKENIZER)
    other = json.dumps({"kind": "char", "version": 1, "tokens": ["<pad>", "<unk>", "<bos>", "<eos>", "a", "c"]})
    with pytest.raises(ValueError, match=r"different vocabulary.*id 5: 'b' vs 'c'"):
        check_same_vocabulary(checkpoint, other)


# --- resuming a training run ------------------------------------------------------------------

def _tiny_run(kind):
    from scratchlm.models.rnnlm import RNNLM
    from scratchlm.train.loop import TrainConfig

    rng = np.random.default_rng(5)
    if kind == "lines":
        train = [list(rng.integers(4, 9, size=rng.integers(1, 6))) for _ in range(24)]
        valid = [list(rng.integers(4, 9, size=rng.integers(1, 6))) for _ in range(5)]
        config = TrainConfig(epochs=3, batch_size=5, optimizer="adam", lr=0.01, patience=2)
        model = RNNLM(9, 4, 6, cell="lstm", dropout=0.3, seed=1, bos_id=2, eos_id=3)
    else:
        train = rng.integers(4, 9, size=200)
        valid = rng.integers(4, 9, size=40)
        config = TrainConfig(epochs=3, batch_size=3, bptt=5, bptt_k2=8, optimizer="sgd", lr=0.5,
                             momentum=0.9, lr_schedule="step", decay_after=1, clip_norm=0.5)
        model = RNNLM(9, 4, 6, num_layers=2, cell="gru", dropout=0.2, seed=1)
    return model, train, valid, config


@pytest.mark.parametrize("kind", ["lines", "stream"])
def test_resume_gives_the_same_losses_bit_for_bit(tmp_path, kind):
    import signal

    from scratchlm.train.loop import Trainer

    model, train, valid, config = _tiny_run(kind)
    straight = Trainer(model, TOKENIZER, train, valid, kind, config, out_dir=tmp_path / "a", progress=False)
    expected = straight.fit()
    total_steps = straight.global_step

    def press_ctrl_c(info):
        if info["step"] == total_steps // 2 + 1:      # in the middle of an epoch
            os.kill(os.getpid(), signal.SIGINT)

    model, train, valid, config = _tiny_run(kind)
    first = Trainer(model, TOKENIZER, train, valid, kind, config, out_dir=tmp_path / "b", progress=False,
                    on_step=press_ctrl_c)
    partial = first.fit()
    assert partial["interrupted"] and len(partial["step_loss"]) == total_steps // 2 + 1
    assert os.path.exists(tmp_path / "b" / "last.npz")

    resumed = Trainer.from_checkpoint(tmp_path / "b" / "last.npz", train, valid, out_dir=tmp_path / "b", progress=False)
    history = resumed.fit()
    assert not history["interrupted"]
    assert history["step_loss"] == expected["step_loss"]          # exact float equality
    assert history["grad_norm"] == expected["grad_norm"]
    assert history["val_loss"] == expected["val_loss"]
    for name, array in straight.model.params.items():
        np.testing.assert_array_equal(resumed.model.params[name], array)


def test_checkpoint_gets_a_normal_file_mode(tmp_path):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, small_checkpoint())
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask


def test_temporaries_of_killed_saves_are_removed_at_the_next_save_and_load(tmp_path):
    """A save killed half way leaves .ckpt.npz.<pid>.<random>.tmp; the next save or load cleans it up."""
    path = tmp_path / "ckpt.npz"
    script = textwrap.dedent(f"""
        import os, numpy as np
        import tests.test_checkpoint as t
        from scratchlm.train.checkpoint import save_checkpoint
        def die_half_way(file, **arrays):
            file.write(b"PK\\x03\\x04 half"); file.flush(); os._exit(9)
        np.savez = die_half_way
        save_checkpoint({str(path)!r}, t.small_checkpoint(value=2.0))
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True).returncode == 9
    first = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(first) == 1 and first[0].startswith(".ckpt.npz.")
    # the second killed save removed the first one's file before leaving its own
    assert subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True).returncode == 9
    second = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(second) == 1 and second != first
    # a temporary of a process that is alive (this one) and an unrelated dot-file are kept
    alive = tmp_path / f".ckpt.npz.{os.getpid()}.abcd1234.tmp"
    alive.write_bytes(b"being written")
    (tmp_path / ".notes.tmp").write_text("mine")
    save_checkpoint(path, small_checkpoint(value=1.0))
    assert sorted(os.listdir(tmp_path)) == sorted([".notes.tmp", alive.name, "ckpt.npz"])

    os.remove(alive)
    assert subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True).returncode == 9
    assert load_checkpoint(path).model["embedding.weight"][0, 0] == 1.0
    assert sorted(os.listdir(tmp_path)) == [".notes.tmp", "ckpt.npz"]
