"""The train / sample / eval commands end to end on tiny generated files, and bad input."""
import numpy as np
import pytest

from scratchlm.cli import main

NAMES = ["Aino", "Aarni", "Eino", "Eero", "Ilona", "Irma", "Oona", "Onni", "Ukko", "Ulla", "Veera", "Venla",
         "Sara", "Sami", "Kalle", "Kaisa", "Lotta", "Leo", "Mika", "Maija"]
TINY = ["--epochs", "2", "--hidden-size", "8", "--embed-dim", "4", "--batch-size", "4", "--no-progress",
        "--num-samples", "2", "--temperatures", "0.5", "1.0"]


def write_names(folder):
    path = folder / "names.txt"
    path.write_text("\n".join(NAMES * 2) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def names_file(tmp_path):
    return write_names(tmp_path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny run shared by the tests that only read its checkpoints."""
    folder = tmp_path_factory.mktemp("trained")
    out = folder / "run"
    assert main(["train", str(write_names(folder)), "--kind", "lines", "--out", str(out), *TINY]) == 0
    return out


def test_train_writes_checkpoints_and_curve_and_reports(tmp_path, names_file, capsys):
    run = tmp_path / "run"
    assert main(["train", str(names_file), "--kind", "lines", "--out", str(run), *TINY]) == 0
    assert (run / "model.npz").is_file() and (run / "last.npz").is_file()
    assert (run / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = capsys.readouterr().out
    assert "perplexity" in out and "LSTM (best epoch" in out and "add-one bigram" in out and "T=0.5" in out


def test_sample_and_eval_from_the_checkpoint(trained, capsys):
    capsys.readouterr()
    assert main(["sample", str(trained / "model.npz"), "--prompt", "Ai", "--count", "3", "--seed", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all(line.startswith("Ai") for line in lines)

    assert main(["eval", str(trained / "model.npz"), str(trained.parent / "names.txt")]) == 0
    out = capsys.readouterr().out
    # 40 names: their characters plus one <eos> each are predicted
    predicted = sum(len(name) + 1 for name in NAMES * 2)
    assert f"{predicted:,} predicted chars" in out
    perplexity = float(out.split("perplexity")[1].split()[0])
    bits = float(out.split("bits per char")[1].split()[0])
    assert bits == pytest.approx(np.log2(perplexity), abs=1e-3)
    assert 1.0 < perplexity < 40.0                          # better than a uniform guess over the vocabulary


def test_stream_training_with_truncated_bptt(tmp_path, capsys):
    text = tmp_path / "play.txt"
    text.write_text("to be or not to be, that is the question.\n" * 30, encoding="utf-8")
    out = tmp_path / "stream"
    assert main(["train", str(text), "--out", str(out), "--bptt", "8", "--bptt-k2", "12", *TINY]) == 0
    assert "TBPTT(k1=8, k2=12)" in capsys.readouterr().out
    assert main(["eval", str(out / "model.npz"), str(text)]) == 0


def test_resume_continues_to_more_epochs(tmp_path, names_file, capsys):
    out = tmp_path / "run"
    assert main(["train", str(names_file), "--kind", "lines", "--out", str(out), *TINY]) == 0
    assert main(["train", "--resume", str(out / "last.npz"), "--epochs", "3", "--no-progress",
                 "--num-samples", "1", "--temperatures", "1.0"]) == 0
    assert "trained 3 epochs" in capsys.readouterr().out


# --- bad input -------------------------------------------------------------------------------

def error_of(args, capsys):
    capsys.readouterr()
    assert main(args) == 2
    return capsys.readouterr().err


def test_empty_corpus(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n", encoding="utf-8")
    assert "empty" in error_of(["train", str(empty), "--out", str(tmp_path / "o"), *TINY], capsys)


def test_missing_file(tmp_path, capsys):
    assert "no such" in error_of(["train", str(tmp_path / "nothing.txt"), *TINY], capsys)


def test_file_that_is_not_utf8(tmp_path, capsys):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Väinö\nÄijä\n".encode("latin-1"))
    assert "not UTF-8" in error_of(["train", str(latin1), "--out", str(tmp_path / "o"), *TINY], capsys)


def test_prompt_outside_the_vocabulary(trained, capsys):
    err = error_of(["sample", str(trained / "model.npz"), "--prompt", "Zoë"], capsys)
    assert "not in the vocabulary" in err and "'Z'" in err


def test_bptt_longer_than_the_data(tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("a short text, ten times over. " * 10, encoding="utf-8")
    err = error_of(["train", str(short), "--bptt", "500", "--out", str(tmp_path / "o"), *TINY], capsys)
    assert "longer than the data" in err


def test_resume_with_a_different_vocabulary(tmp_path, names_file, capsys):
    out = tmp_path / "run"
    assert main(["train", str(names_file), "--kind", "lines", "--out", str(out), *TINY]) == 0
    names_file.write_text("\n".join(NAMES + ["Åsa", "Zoë"]) + "\n", encoding="utf-8")
    err = error_of(["train", "--resume", str(out / "last.npz"), "--epochs", "3", "--no-progress"], capsys)
    assert "has changed since the run started" in err and "--allow-changed-data" in err
    err = error_of(["train", "--resume", str(out / "last.npz"), "--epochs", "3", "--no-progress", "--allow-changed-data"], capsys)
    assert "different vocabulary" in err


def test_corrupted_and_truncated_checkpoints(trained, tmp_path, capsys):
    data = (trained / "model.npz").read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(data[: len(data) // 3])
    assert "corrupted or truncated" in error_of(["sample", str(truncated)], capsys)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"this is not a zip file at all")
    assert "corrupted or truncated" in error_of(["eval", str(garbage), "--split", "valid"], capsys)
    assert "no checkpoint" in error_of(["sample", str(tmp_path / "missing.npz")], capsys)


def test_eval_text_with_characters_the_model_never_saw(trained, tmp_path, capsys):
    other = tmp_path / "other.txt"
    other.write_text("Zoë\n", encoding="utf-8")
    assert "not in the vocabulary" in error_of(["eval", str(trained / "model.npz"), str(other)], capsys)
