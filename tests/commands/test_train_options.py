"""The command line as a newcomer meets it: every option checked before any work, runs never lost,
resume that says what it does, no tracebacks. One test (or parametrised case) per failure mode."""
import math
import os
import subprocess
import sys
import urllib.error

import numpy as np
import pytest

from scratchlm.cli import main
from scratchlm.train.checkpoint import load_checkpoint

NAMES = ["Aino", "Aarni", "Eino", "Eero", "Ilona", "Irma", "Oona", "Onni", "Ukko", "Ulla", "Veera", "Venla",
         "Sara", "Sami", "Kalle", "Kaisa", "Lotta", "Leo", "Mika", "Maija"]
TINY = ["--hidden-size", "8", "--embed-dim", "4", "--batch-size", "4", "--no-progress",
        "--num-samples", "1", "--temperatures", "1.0"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def names(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("\n".join(NAMES * 2) + "\n", encoding="utf-8")
    return path


def train(names, out, *extra, epochs="1"):
    return main(["train", str(names), "--kind", "lines", "--out", str(out), "--epochs", epochs, *TINY, *extra])


def error_of(args, capsys, status=2):
    capsys.readouterr()
    assert main(args) == status
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


# ------------------------------------------------------------------ 1. every option, before any work
@pytest.mark.parametrize("flag, value, expected", [
    ("--epochs", "0", "integer >= 1"),
    ("--clip", "-5", "finite number >= 0"),
    ("--patience", "-1", "integer >= 0"),
    ("--sample-length", "0", "integer >= 1"),
    ("--temperatures", "0", "> 0"),
    ("--lr", "0", "> 0"),
    ("--lr", "nan", "finite number > 0"),
    ("--hidden-size", "0", "integer >= 1"),
    ("--embed-dim", "-3", "integer >= 1"),
    ("--layers", "0", "integer >= 1"),
    ("--dropout", "1", "< 1"),
    ("--batch-size", "0", "integer >= 1"),
    ("--bptt", "0", "integer >= 1"),
    ("--bptt-k2", "0", "integer >= 1"),
    ("--momentum", "1.5", "< 1"),
    ("--clip-value", "0", "> 0"),
    ("--decay-factor", "1.5", "< 1"),
    ("--decay-after", "0", "integer >= 1"),
    ("--seed", "-1", "integer >= 0"),
    ("--num-samples", "0", "integer >= 1"),
    ("--init-range", "0", "> 0"),
    ("--max-vocab", "0", "integer >= 1"),
    ("--min-count", "0", "integer >= 1"),
    ("--bpe-merges", "-1", "integer >= 0"),
    ("--epochs", "two", "integer >= 1"),
])
def test_a_value_that_cannot_mean_anything_names_the_flag_and_the_range(tmp_path, names, capsys, flag, value, expected):
    err = error_of(["train", str(names), "--out", str(tmp_path / "o"), flag, value], capsys)
    assert f"argument {flag}: expected" in err and expected in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, expected", [
    (["eval", "CKPT", "--unknown", "sometimes"], "argument --unknown: invalid choice"),
    (["eval", "MISSING"], "argument checkpoint: expected an existing file"),
    (["sample", "CKPT", "--unknown", "maybe"], "argument --unknown: invalid choice"),
    (["ngram", "--order", "0", "--train", "NAMES", "--eval", "NAMES"], "argument --order: expected an integer >= 1"),
    (["ngram", "--train", "DIR", "--eval", "NAMES"], "argument --train: expected a file, but"),
    (["ngram", "--train", "NAMES", "--eval", "NAMES", "--method", "lidstone", "--alpha", "0"], "argument --alpha: expected a finite number > 0"),
    (["ngram", "--train", "NAMES", "--eval", "NAMES", "--method", "kn", "--discount", "2"], "argument --discount: expected a finite number > 0 and <= 1"),
    (["ngram", "--train", "NAMES", "--eval", "NAMES", "--arpa", "DIR"], "argument --arpa: expected a file name, but"),
    (["gradcheck", "--case", ""], "argument --case: expected a non-empty text"),
    (["exercise", "check", "lstm_step_backward", "NAMES", "--seed", "-2"], "argument --seed: expected an integer >= 0"),
])
def test_the_other_commands_check_their_options_while_parsing(tmp_path, names, capsys, args, expected):
    paths = {"CKPT": str(names), "MISSING": str(tmp_path / "missing.npz"), "NAMES": str(names), "DIR": str(tmp_path)}
    assert expected in error_of([paths.get(a, a) for a in args], capsys)


@pytest.mark.parametrize("extra, expected", [
    (["--bptt", "10", "--bptt-k2", "5"], "--bptt-k2 must be >= --bptt"),
    (["--tie-weights"], "--tie-weights needs --embed-dim == --hidden-size"),
    (["--momentum", "0.9"], "--momentum applies only to --optimizer sgd"),
    (["--decay-after", "2"], "--decay-after applies only with --lr-schedule step"),
    (["--max-vocab", "100"], "--max-vocab applies only to --tokenizer word"),
    (["--tokenizer", "word", "--unknown", "unk"], "--unknown applies only to --tokenizer char"),
    (["--allow-changed-data"], "--allow-changed-data applies only with --resume"),
])
def test_options_that_contradict_each_other_are_refused_before_the_data_is_read(tmp_path, names, capsys, extra, expected):
    assert expected in error_of(["train", str(names), "--kind", "lines", "--out", str(tmp_path / "o"), *TINY, *extra], capsys)
    assert not (tmp_path / "o").exists()


def test_data_path_applies_only_to_ptb_and_wikitext(tmp_path, names, capsys):
    err = error_of(["train", str(names), "--data-path", str(tmp_path), "--out", str(tmp_path / "o"), *TINY], capsys)
    assert "--data-path applies only to the ptb and wikitext-2 corpora" in err
    err = error_of(["train", "tinyshakespeare", "--kind", "lines", "--out", str(tmp_path / "o"), *TINY], capsys)
    assert "--kind applies only to a text file or to finnish-names" in err


def test_a_prompt_outside_the_vocabulary_is_refused_before_training(tmp_path, names, capsys):
    err = error_of(["train", str(names), "--kind", "lines", "--out", str(tmp_path / "o"), *TINY, "--prompt", "€uro"], capsys)
    assert "--prompt '€uro'" in err and "'€' at position 0" in err and "--unknown unk" in err
    assert not (tmp_path / "o" / "model.npz").exists()
    # the way out the message names works: the unseen character becomes <unk>
    assert train(names, tmp_path / "o", "--prompt", "€uro", "--unknown", "unk") == 0


def test_an_out_that_is_a_file_or_under_a_file_is_refused_before_training(tmp_path, names, capsys):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    assert "is a file, not a folder" in error_of(["train", str(names), "--out", str(a_file), *TINY], capsys)
    assert "cannot be created" in error_of(["train", str(names), "--out", str(a_file / "run"), *TINY], capsys)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_out_is_refused_before_training(tmp_path, names, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert "not writable" in error_of(["train", str(names), "--out", str(locked / "run"), *TINY], capsys)


# ------------------------------------------------------------------ 2. a run never overwrites another
def test_training_twice_with_the_default_out_keeps_both_runs(tmp_path, names, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = ["train", str(names), "--kind", "lines", "--epochs", "1", *TINY]
    assert main(args) == 0
    first = (tmp_path / "runs" / "names" / "model.npz").read_bytes()
    assert main(args + ["--seed", "1"]) == 0
    assert "writing to runs/names-2" in capsys.readouterr().out
    assert (tmp_path / "runs" / "names" / "model.npz").read_bytes() == first
    assert (tmp_path / "runs" / "names-2" / "model.npz").is_file()


def test_an_out_that_holds_a_run_is_refused_unless_overwrite(tmp_path, names, capsys):
    out = tmp_path / "run"
    assert train(names, out) == 0
    before = (out / "model.npz").read_bytes()
    err = error_of(["train", str(names), "--kind", "lines", "--out", str(out), *TINY], capsys)
    assert "already holds a run" in err and "--overwrite" in err and "--resume" in err
    assert (out / "model.npz").read_bytes() == before
    assert train(names, out, "--seed", "3", "--overwrite") == 0
    assert (out / "model.npz").read_bytes() != before


def test_the_best_model_is_only_replaced_by_a_better_one_on_resume(tmp_path, names):
    out = tmp_path / "run"
    assert train(names, out, epochs="2") == 0
    best = min(load_checkpoint(out / "last.npz").progress["history"]["val_ppl"])
    # a learning rate that makes things worse: model.npz keeps the better epoch
    assert main(["train", "--resume", str(out / "last.npz"), "--epochs", "3", "--lr", "3", *TINY[-5:]]) in (0, 1)
    history = load_checkpoint(out / "last.npz").progress["history"]
    saved_best = load_checkpoint(out / "model.npz").progress["history"]["val_ppl"][-1]
    assert saved_best == pytest.approx(min(history["val_ppl"])) and saved_best <= best


# ------------------------------------------------------------------ 3. resume
@pytest.fixture
def run(tmp_path, names):
    out = tmp_path / "run"
    assert train(names, out) == 0
    return out


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One finished 1-epoch run, for the tests that only read it (names file, run folder)."""
    folder = tmp_path_factory.mktemp("shared")
    names = folder / "names.txt"
    names.write_text("\n".join(NAMES * 2) + "\n", encoding="utf-8")
    assert train(names, folder / "run") == 0
    return names, folder / "run"


def test_resume_applies_and_prints_what_may_change(run, capsys):
    capsys.readouterr()
    assert main(["train", "--resume", str(run / "last.npz"), "--epochs", "2", "--lr", "0.01", "--patience", "3",
                 "--no-progress", "--num-samples", "1", "--temperatures", "0.7"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "epochs 1 -> 2" in out and "lr 0.003 -> 0.01" in out and "patience 6 -> 3" in out
    saved = load_checkpoint(run / "last.npz")
    assert saved.config["train"]["lr"] == 0.01 and saved.config["train"]["epochs"] == 2
    assert saved.progress["history"]["lr"][-1] == 0.01                 # the optimizer really used it
    assert "T=0.7" in out


@pytest.mark.parametrize("flag, value", [("--hidden-size", "999"), ("--cell", "gru"), ("--tokenizer", "word"),
                                         ("--batch-size", "8"), ("--seed", "5"), ("--optimizer", "sgd")])
def test_resume_refuses_options_fixed_for_the_life_of_a_run(shared, capsys, flag, value):
    run = shared[1]
    err = error_of(["train", "--resume", str(run / "last.npz"), "--epochs", "2", flag, value], capsys)
    assert f"{flag} cannot change when a run resumes" in err and f"started with {flag}" in err


def test_resume_accepts_a_fixed_option_given_with_its_saved_value(run):
    assert main(["train", "--resume", str(run / "last.npz"), "--epochs", "2", "--hidden-size", "8", *TINY[4:]]) == 0


def test_resuming_a_finished_run_says_so_and_does_nothing(shared, capsys):
    run = shared[1]
    before = {name: (run / name).stat().st_mtime_ns for name in ("model.npz", "last.npz")}
    capsys.readouterr()
    assert main(["train", "--resume", str(run / "last.npz"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "this run has finished (1 epochs trained, all 1 epochs done" in out and "raise --epochs" in out
    assert "trained" not in out.split("nothing to do")[1] and "validation split" not in out
    assert before == {name: (run / name).stat().st_mtime_ns for name in ("model.npz", "last.npz")}


def test_the_checkpoint_stores_the_corpus_by_absolute_path_and_checksum(shared):
    names, run = shared
    import hashlib
    import json

    from scratchlm.data import load_corpus

    data = load_checkpoint(run / "last.npz").config["data"]
    assert data["corpus"] == str(names.resolve())
    corpus = load_corpus(str(names), kind="lines")
    expected = hashlib.sha256(json.dumps([corpus.train, corpus.valid, corpus.test], ensure_ascii=False).encode()).hexdigest()
    assert data["sha256"] == expected


def test_resume_from_another_folder_and_with_a_moved_corpus(run, names, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path / "run")                              # the path was typed relative to elsewhere
    assert main(["train", "--resume", "last.npz", "--epochs", "2", *TINY[4:]]) == 0
    moved = tmp_path / "moved.txt"
    os.replace(names, moved)
    err = error_of(["train", "--resume", "last.npz", "--epochs", "3"], capsys)
    assert "not there any more" in err and "give its new path" in err
    assert main(["train", str(moved), "--resume", "last.npz", "--epochs", "3", *TINY[4:]]) == 0
    assert load_checkpoint("last.npz").config["data"]["corpus"] == str(moved)


def test_resume_refuses_changed_data_unless_told(run, names, capsys):
    names.write_text("\n".join(reversed(NAMES * 2)) + "\n", encoding="utf-8")  # same letters, other text
    err = error_of(["train", "--resume", str(run / "last.npz"), "--epochs", "2"], capsys)
    assert "has changed since the run started" in err and "--allow-changed-data" in err
    capsys.readouterr()
    assert main(["train", "--resume", str(run / "last.npz"), "--epochs", "2", "--allow-changed-data", *TINY[4:]]) == 0
    assert "continuing on it (--allow-changed-data)" in capsys.readouterr().out


def test_resume_into_another_folder_brings_the_best_model_and_respects_runs_there(run, tmp_path, names, capsys):
    other = tmp_path / "other"
    assert train(names, other) == 0
    err = error_of(["train", "--resume", str(run / "last.npz"), "--epochs", "2", "--out", str(other)], capsys)
    assert "already holds a run" in err
    elsewhere = tmp_path / "elsewhere"
    assert main(["train", "--resume", str(run / "last.npz"), "--epochs", "2", "--out", str(elsewhere), *TINY[4:]]) == 0
    history = load_checkpoint(elsewhere / "last.npz").progress["history"]
    assert len(history["epoch"]) == 2
    best = load_checkpoint(elsewhere / "model.npz").progress["history"]["val_ppl"][-1]
    assert best == pytest.approx(min(history["val_ppl"]))


# ------------------------------------------------------------------ 4. divergence
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_diverging_run_stops_with_a_message_and_keeps_the_last_finite_checkpoint(run, capsys):
    before = (run / "last.npz").read_bytes()
    err = error_of(["train", "--resume", str(run / "last.npz"), "--epochs", "3", "--lr", "1e30", "--clip", "0",
                    "--no-progress"], capsys, status=1)
    assert "training diverged at step" in err and "keeps the last finite state (end of epoch 1)" in err
    assert "Lower the learning rate (it is 1e+30)" in err
    assert (run / "last.npz").read_bytes() == before
    params = load_checkpoint(run / "last.npz").model
    assert all(np.all(np.isfinite(array)) for array in params.values())


def test_perplexities_that_overflow_are_inf_not_an_overflow_error(tmp_path, names, capsys, monkeypatch):
    from scratchlm.train import loop

    assert loop.perplexity_of(800.0) == math.inf and loop.perplexity_of(1.0) == pytest.approx(math.e)
    # a validation loss of 800 nats per token (a model gone wild that is still finite)
    monkeypatch.setattr(loop, "validation_nll", lambda model, data, kind, batch_size, progress: (800.0 * 10, 10))
    capsys.readouterr()
    assert train(names, tmp_path / "o") == 1
    captured = capsys.readouterr()
    assert "val ppl inf" in captured.out and "training diverged" in captured.err and "perplexity inf" in captured.err
    assert "Traceback" not in captured.err and not (tmp_path / "o" / "last.npz").exists()


# ------------------------------------------------------------------ 5. no tracebacks
def test_a_missing_backend_is_an_error_line(tmp_path, names, capsys):
    pytest.importorskip("numpy")
    try:
        import cupy  # noqa: F401
        pytest.skip("CuPy is installed here")
    except ImportError:
        pass
    err = error_of(["train", str(names), "--backend", "cupy", "--out", str(tmp_path / "o"), *TINY], capsys)
    assert "backend 'cupy' needs the CuPy package" in err


def test_a_bad_backend_environment_variable_is_an_error_line(tmp_path):
    env = dict(os.environ, SCRATCHLM_BACKEND="bogus", PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-m", "scratchlm", "gradcheck", "--case", "x"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "SCRATCHLM_BACKEND='bogus'" in result.stderr and "Traceback" not in result.stderr


def test_download_while_offline_is_an_error_line(tmp_path, capsys, monkeypatch):
    from scratchlm.data import corpora

    def offline(url):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(corpora, "fetch", offline)
    monkeypatch.setenv("SCRATCHLM_CACHE", str(tmp_path / "cache"))
    err = error_of(["train", "ptb", "--download", "--tokenizer", "word", "--out", str(tmp_path / "o"), *TINY], capsys)
    assert "could not download" in err and "offline" in err and "--data-path" in err


def test_ngram_train_on_a_folder_is_an_error_line(tmp_path, capsys):
    assert "is a folder" in error_of(["ngram", "--train", str(tmp_path), "--eval", str(tmp_path)], capsys)


def test_a_model_that_cannot_fit_in_memory_is_refused_with_the_estimate(tmp_path, names, capsys):
    err = error_of(["train", str(names), "--kind", "lines", "--hidden-size", "1000000", "--out", str(tmp_path / "o"),
                    "--no-progress"], capsys)
    assert "does not fit in memory" in err and "TiB to train" in err and "available" in err and "--hidden-size" in err


def test_a_large_model_is_announced_before_it_is_allocated(monkeypatch):
    from argparse import Namespace

    from scratchlm.commands import train_options

    monkeypatch.setattr(train_options, "available_bytes", lambda: 1 << 50)
    args = Namespace(embed_dim=32, hidden_size=20000, layers=1, cell="lstm", tie_weights=False, batch_size=32)
    line = train_options.check_memory(args, vocab_size=40, steps=35)
    # by hand: embedding 40*32, LSTM 4*20000*(32 + 20000 + 2), decoder 20000*40 + 40
    parameters = 40 * 32 + 4 * 20000 * (32 + 20000 + 2) + 20000 * 40 + 40
    assert f"{parameters:,} parameters" in line
    gib = 4 * (4 * parameters + 32 * 35 * (1 * 8 * 20000 + 32 + 3 * 40)) / 2**30
    assert f"about {gib:.1f} GiB to train" in line
    assert train_options.check_memory(Namespace(**{**vars(args), "hidden_size": 128}), 40, 35) is None


# ------------------------------------------------------------------ 6. --unknown
@pytest.fixture
def trained(shared):
    return shared[1] / "model.npz"


def test_unknown_characters_in_eval_name_the_character_position_and_flag(trained, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("Aino\nZoë\n", encoding="utf-8")
    err = error_of(["eval", str(trained), str(other)], capsys)
    assert "character 'Z' at position 0" in err and "--unknown unk" in err and "--unknown skip" in err
    capsys.readouterr()
    assert main(["eval", str(trained), str(other), "--unknown", "unk", "--no-progress"]) == 0
    assert "9 predicted chars" in capsys.readouterr().out      # A i n o <eos>, <unk> o <unk> <eos>
    assert main(["eval", str(trained), str(other), "--unknown", "skip", "--no-progress"]) == 0
    assert "7 predicted chars" in capsys.readouterr().out      # A i n o <eos>, o <eos>


def test_unknown_characters_in_sample_prompts(trained, capsys):
    err = error_of(["sample", str(trained), "--prompt", "Zoë"], capsys)
    assert "--prompt 'Zoë'" in err and "position 0" in err
    capsys.readouterr()
    assert main(["sample", str(trained), "--prompt", "Zoë", "--unknown", "skip", "--count", "2", "--seed", "0"]) == 0
    assert all(line.startswith("Zoë") for line in capsys.readouterr().out.splitlines())


# ------------------------------------------------------------------ 7. progress and one validation number
def test_progress_written_to_a_file_is_one_line_per_update(tmp_path, names, capsys):
    capsys.readouterr()
    assert main(["train", str(names), "--kind", "lines", "--out", str(tmp_path / "o"), "--epochs", "1",
                 *TINY[:-5], "--num-samples", "1", "--temperatures", "1.0"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "epoch 1/1" in err and "validation" in err
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "o" / "model.npz"), str(names)]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "validation" in err


def test_the_epoch_line_and_the_report_give_the_same_validation_perplexity(tmp_path, names, capsys):
    capsys.readouterr()
    assert train(names, tmp_path / "o") == 0
    out = capsys.readouterr().out
    epoch_line = float(out.split("val ppl ")[1].split()[0])
    report = float(out.split("LSTM (best epoch 1)")[1].split()[0])
    assert report == epoch_line


@pytest.mark.parametrize("kind", ["lines", "stream"])
def test_batched_validation_equals_the_metrics_definition(kind):
    from scratchlm.metrics import evaluate, evaluate_stream
    from scratchlm.models import RNNLM
    from scratchlm.train.loop import validation_nll

    rng = np.random.default_rng(0)
    if kind == "lines":
        model = RNNLM(9, 4, 5, cell="lstm", dtype="float64", seed=1, bos_id=2, eos_id=3).eval()
        items = [list(rng.integers(4, 9, size=n)) for n in (1, 4, 7, 2, 5)]
        total, count = validation_nll(model, items, "lines", batch_size=2)
        expected = evaluate(model, [item + [3] for item in items])
    else:
        model = RNNLM(9, 4, 5, cell="gru", dtype="float64", seed=1).eval()
        stream = rng.integers(4, 9, size=203)
        total, count = validation_nll(model, stream, "stream", bptt=7)
        expected = evaluate_stream(model, stream)
    assert count == expected.num_tokens
    assert total == pytest.approx(expected.total_nll, rel=1e-12)


@pytest.mark.parametrize("field, value", [("patience", 0), ("patience", -1), ("momentum", 1.0), ("decay_factor", 0.0),
                                          ("decay_factor", 1.5), ("epochs", 0), ("lr", -1.0), ("clip_norm", -5.0)])
def test_the_python_api_refuses_the_same_values(field, value):
    from scratchlm.train.loop import TrainConfig

    with pytest.raises(ValueError, match=field):
        TrainConfig(**{field: value})
