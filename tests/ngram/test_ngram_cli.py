"""The scratchlm ngram command, end to end on files."""
import math

import pytest

from scratchlm.cli import main


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_laplace_bigram_perplexity_by_hand(tmp_path, capsys):
    train = write(tmp_path, "train.txt", ["a b", "a c", "", "b a"])  # blank lines are skipped
    evaluation = write(tmp_path, "eval.txt", ["a b"])
    arpa = str(tmp_path / "lm.arpa")
    assert main(["ngram", "--order", "2", "--method", "laplace", "--train", train, "--eval", evaluation,
                 "--arpa", arpa]) == 0
    out = capsys.readouterr().out
    # p(a | <s>) = 3/8, p(b | a) = 2/8, p(</s> | b) = 2/7 (test_ngram_worked_examples), 3 predicted tokens
    expected = (3 / 8 * 2 / 8 * 2 / 7) ** (-1 / 3)
    last = out.strip().splitlines()[-1]
    assert last.startswith("perplexity: ") and float(last.split()[1]) == pytest.approx(expected, rel=1e-5)
    assert "3 predicted tokens" in out and "2-grams 8" in out
    assert open(arpa).readline().strip() == "\\data\\"


def test_character_model(tmp_path, capsys):
    names = write(tmp_path, "names.txt", ["anna", "anni", "onni"])
    assert main(["ngram", "--order", "3", "--method", "mkn", "--char", "--train", names, "--eval", names]) == 0
    out = capsys.readouterr().out
    assert "15 predicted tokens" in out and math.isfinite(float(out.strip().splitlines()[-1].split()[1]))


def test_bad_options_exit_with_status_2(tmp_path, capsys):
    train = write(tmp_path, "train.txt", ["a b"])
    assert main(["ngram", "--method", "kn", "--alpha", "0.3", "--train", train, "--eval", train]) == 2
    assert "--alpha applies" in capsys.readouterr().err
    assert main(["ngram", "--train", str(tmp_path / "missing.txt"), "--eval", train]) == 2
