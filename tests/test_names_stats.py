"""The statistics of generated names (scratchlm.names_stats) on hand-made samples, and the main job
end to end at a tiny size."""
import math
import re

import numpy as np
import pytest

from scratchlm.cli import main
from scratchlm.models import RNNLM
from scratchlm.names_stats import (
    entropy_bits, is_well_spelt, name_statistics, names_in_line, sample_lines, spelling_alphabet,
)

CALENDAR = ["Aino", "Anni", "Kukka-Maaria", "Sari", "Sauli", "Väinö"]


def test_a_line_is_cut_into_its_complete_generated_names():
    assert names_in_line("Aadolf Anni Sari Sari Anni Anni Aari Arto") == ["Anni", "Sari", "Sari", "Anni", "Anni", "Aari"]
    assert names_in_line(" Anni Sari ") == ["Anni", "Sari"]            # starts after a space, ends whole
    assert names_in_line("Aadolfs") == []                               # only the prompt's word
    assert names_in_line("Aadolf Anni  Sari x") == ["Anni", "Sari"]      # an empty word is no name


def test_spelling_follows_the_list():
    alphabet = spelling_alphabet(CALENDAR)
    assert alphabet == set("AinoKukaMrSlVäö-")
    good = ["Sari", "Anni", "Kukka-Maaria", "Väinö", "Sakari"]
    bad = ["sari",          # no capital
           "SaRi",          # mixed case inside
           "Sari-",         # ends with a hyphen
           "-Sari",
           "Kukka-maaria",  # the part after the hyphen starts with a capital
           "Sarz",          # z is not in the list's alphabet
           "Ä",             # the list has no capital Ä
           ""]
    assert [is_well_spelt(name, alphabet | set("Sakr")) for name in good] == [True] * len(good)
    assert [is_well_spelt(name, alphabet) for name in bad] == [False] * len(bad)


def test_entropy_in_bits():
    probs = np.array([[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.5, 0.25, 0.25, 0.0]])
    assert entropy_bits(probs) == pytest.approx([2.0, 0.0, 1.5])


def test_statistics_of_a_hand_made_sample():
    # 8 names: Anni x3, Sari, Aino (training), Sauli (held out), Anja (new), SaRi (new, misspelt)
    names = ["Anni", "Anni", "Sari", "Aino", "Anni", "Sauli", "Anja", "SaRi"]
    stats = name_statistics(0.5, names, training_names=["Aino", "Anni", "Sari", "Kukka-Maaria"],
                            heldout_names=["Sauli", "Väinö"], alphabet=spelling_alphabet(CALENDAR + ["Anja"]),
                            entropies=np.array([[1.0, 2.0], [0.0, 1.0]]))
    assert stats.temperature == 0.5 and stats.num_names == 8
    assert stats.distinct_per_100 == pytest.approx(100 * 6 / 8)       # Anni Sari Aino Sauli Anja SaRi
    assert stats.training_percent == pytest.approx(100 * 5 / 8)
    assert stats.heldout_percent == pytest.approx(100 * 1 / 8)
    assert stats.new_percent == pytest.approx(100 * 2 / 8)
    assert stats.misspelt_percent == pytest.approx(100 * 1 / 8)
    assert stats.mean_entropy_bits == pytest.approx(1.0)
    none = name_statistics(1e-4, [], ["Anni"], [], set("Ani"), [0.0, 0.0])
    assert none.num_names == 0 and math.isnan(none.distinct_per_100) and math.isnan(none.new_percent)
    assert none.mean_entropy_bits == 0.0
    with pytest.raises(ValueError, match="at least one"):
        name_statistics(1.0, ["Anni"], [], [], set(), [])


def test_special_tokens_are_never_sampled_and_entropies_are_of_the_tempered_distribution():
    model = RNNLM(8, 4, 6, cell="lstm", dropout=0.0, seed=0, dtype="float64").eval()
    model.params["decoder.bias"][:4] += 20.0      # the model all but insists on ids 0-3
    rng = np.random.default_rng(0)
    ids, entropies = sample_lines(model, [5], rows=6, length=30, temperature=5.0, rng=rng, banned_ids=[0, 1, 2, 3])
    assert ids.shape == entropies.shape == (6, 30)
    assert ids.min() >= 4
    assert (entropies <= math.log2(4) + 1e-12).all() and (entropies > 0).all()
    # T -> 0: one token has all the probability, so every entropy is 0 and every row is the same
    ids, entropies = sample_lines(model, [5], rows=3, length=10, temperature=1e-4, rng=rng, banned_ids=[0, 1, 2, 3])
    assert np.allclose(entropies, 0.0) and (ids == ids[0]).all()


def test_the_main_job_at_a_tiny_size(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "1", "--hidden-size", "8", "--embed-dim", "4", "--no-progress",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "every 10th name held out in place" in printed
    assert "75 validation names, 469 characters; 75 test names, 457 characters" in printed
    for label in ("add-one bigram", "modified Kneser-Ney 3-gram", "modified Kneser-Ney 5-gram", "LSTM (best epoch 1)"):
        assert label in printed
    lines = re.findall(r"^  T=(\S+)\s+(Aadolf.*)$", printed, flags=re.MULTILINE)
    assert [float(t) for t, _ in lines] == [1.0, 0.9, 0.5, 0.1, 0.0001, 2.0, 5.0]
    assert all(len(line) <= 80 for _, line in lines)
    number = r"\s+([\d.]+|-)"
    table = re.findall(r"^\s+([\d.e-]+)\s+(\d+)" + 5 * number + r"\s+([\d.]+)$", printed, flags=re.MULTILINE)
    assert [float(row[0]) for row in table] == [1.0, 0.9, 0.5, 0.1, 0.0001, 2.0, 5.0]
    for row in table:   # training + held-out + new = 100 % (a row without complete names prints "-")
        if int(row[1]):
            assert float(row[3]) + float(row[4]) + float(row[5]) == pytest.approx(100.0, abs=0.15)
        else:
            assert row[2:7] == ("-",) * 5
    assert not any(token in printed for token in ("<unk>", "<pad>", "<bos>", "<eos>"))
    # scratchlm eval scores the test names in their place, as the report did
    test_ppl = re.search(r"LSTM \(best epoch 1\)\s+\S+\s+(\S+)", printed).group(1)
    assert main(["eval", str(out / "model.npz"), "--split", "test"]) == 0
    evaluated = capsys.readouterr().out
    assert "457 predicted chars" in evaluated
    evaluated_ppl = float(re.search(r"perplexity\s+(\S+)", evaluated).group(1))
    assert f"{evaluated_ppl:.3f}" == test_ppl


def test_the_items_mode_stays_available(tmp_path, capsys):
    assert main(["train", "--kind", "items", "--epochs", "1", "--hidden-size", "8", "--embed-dim", "4",
                 "--no-progress", "--num-samples", "1", "--out", str(tmp_path / "items")]) == 0
    printed = capsys.readouterr().out
    assert "(lines: 600 train / 75 valid items)" in printed and "(<eos> included)" in printed


def test_the_temperature_figure_draws_and_checks_its_input():
    from scratchlm.plot import temperature_study

    figure = temperature_study([1.0, 0.1, 5.0], ["Aadolf Anni", "Aadolf Ari Ari", "Aadolf xQ"],
                               {"misspelt %": [0.0, 0.0, 100.0]}, [2.0, 0.1, 5.3])
    lines = figure.axes[1].get_lines()
    assert list(lines[0].get_xdata()) == [0.1, 1.0, 5.0] and list(lines[0].get_ydata()) == [0.0, 0.0, 100.0]
    assert list(figure.axes[2].get_lines()[0].get_ydata()) == [0.1, 2.0, 5.3]
    with pytest.raises(ValueError, match="one line and one entropy"):
        temperature_study([1.0], ["a", "b"], {}, [1.0])
    with pytest.raises(ValueError, match="3 temperatures"):
        temperature_study([1.0, 0.1, 5.0], ["a", "b", "c"], {"x": [1.0]}, [1.0, 1.0, 1.0])
