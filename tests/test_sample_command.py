"""`scratchlm sample`: every option checked before work, the decoding options end to end, and a
word model's prompt joined to its continuation by the tokenizer's rule."""
import pytest

from scratchlm.cli import main

NAMES = ["Aino", "Aarni", "Eino", "Eero", "Ilona", "Irma", "Oona", "Onni", "Ukko", "Ulla", "Veera", "Venla"]
TINY = ["--epochs", "1", "--hidden-size", "8", "--embed-dim", "4", "--batch-size", "4", "--no-progress",
        "--num-samples", "1", "--temperatures", "1.0"]


@pytest.fixture(scope="module")
def names_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("names")
    (folder / "names.txt").write_text("\n".join(NAMES * 3) + "\n", encoding="utf-8")
    assert main(["train", str(folder / "names.txt"), "--kind", "lines", "--out", str(folder / "run"), *TINY]) == 0
    return str(folder / "run" / "model.npz")


@pytest.fixture(scope="module")
def word_model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("words")
    text = "the cat sat on the mat and the dog sat on the log . " * 30
    (folder / "words.txt").write_text(text, encoding="utf-8")
    assert main(["train", str(folder / "words.txt"), "--kind", "stream", "--tokenizer", "word", "--bptt", "8",
                 "--out", str(folder / "run"), *TINY]) == 0
    return str(folder / "run" / "model.npz")


@pytest.mark.parametrize("flag, value, expected", [
    ("--count", "0", "an integer >= 1"), ("--max-len", "-3", "an integer >= 1"),
    ("--temperature", "0", "> 0"), ("--temperature", "nan", "> 0"), ("--top-k", "0", "an integer >= 1"),
    ("--top-p", "1.5", "<= 1"), ("--top-p", "0", "> 0"), ("--num-beams", "0", "an integer >= 1"),
    ("--num-return-sequences", "0", "an integer >= 1"), ("--repetition-penalty", "-1", "> 0"),
    ("--no-repeat-ngram-size", "-1", "an integer >= 0"), ("--min-new-tokens", "two", "an integer >= 0"),
    ("--min-tokens-to-keep", "0", "an integer >= 1"), ("--length-penalty", "inf", "a finite number"),
    ("--early-stopping", "maybe", "true, false or never"), ("--seed", "-1", "an integer >= 0"),
])
def test_every_option_is_checked_before_any_work(flag, value, expected, tmp_path, capsys):
    # The checkpoint does not exist: the flag's error must come first.
    assert main(["sample", str(tmp_path / "missing.npz"), flag, value]) == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and expected in err and "no checkpoint" not in err


@pytest.mark.parametrize("args, message", [
    (["--greedy", "--num-beams", "3"], "--greedy and --num-beams"),
    (["--num-return-sequences", "2"], "--num-return-sequences needs --num-beams"),
    (["--num-beams", "2", "--num-return-sequences", "3"], "cannot exceed --num-beams"),
    (["--num-beams", "2", "--count", "3"], "--count is for sampling"),
])
def test_contradictory_options(args, message, tmp_path, capsys):
    assert main(["sample", str(tmp_path / "missing.npz"), *args]) == 2
    assert message in capsys.readouterr().err


def test_the_decoding_options_end_to_end(names_model, capsys):
    assert main(["sample", names_model, "--num-beams", "4", "--num-return-sequences", "3", "--early-stopping", "never",
                 "--length-penalty", "0.5", "--no-repeat-ngram-size", "2", "--min-new-tokens", "2"]) == 0
    beams = capsys.readouterr().out.splitlines()
    assert len(beams) == 3 and all(len(name) >= 2 for name in beams)
    assert main(["sample", names_model, "--prompt", "Ee", "--count", "20", "--seed", "3", "--temperature", "5",
                 "--top-k", "6", "--top-p", "0.9", "--min-tokens-to-keep", "2", "--repetition-penalty", "1.3",
                 "--suppress-tokens", "a", "o", "--bad-words", "nn"]) == 0
    samples = capsys.readouterr().out.splitlines()
    assert len(samples) == 20
    for sample in samples:
        assert sample.startswith("Ee") and "a" not in sample[2:] and "o" not in sample[2:] and "nn" not in sample
        assert "<unk>" not in sample and "<pad>" not in sample
    assert main(["sample", names_model, "--greedy", "--temperature", "1e-310"]) == 0
    [greedy] = capsys.readouterr().out.splitlines()
    assert main(["sample", names_model, "--temperature", "1e-310", "--count", "3", "--seed", "0"]) == 0
    assert capsys.readouterr().out.splitlines() == [greedy] * 3


def test_a_word_models_prompt_is_joined_by_the_tokenizers_rule(word_model, capsys):
    assert main(["sample", word_model, "--prompt", "the cat", "--greedy", "--max-len", "4"]) == 0
    text = capsys.readouterr().out.splitlines()[0]
    words = text.split(" ")
    assert words[:2] == ["the", "cat"] and len(words) == 6, text
