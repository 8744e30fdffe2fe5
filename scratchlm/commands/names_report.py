"""The main job's report: held-out perplexity against the n-gram baselines, the lecture's seven
temperatures as lines of names, and the measured statistics of each temperature.

    scores       every model reads the whole calendar text and is charged only on the held-out
                 names' characters and the space after each (scratchlm.data.heldout); the n-gram
                 baselines are fitted on exactly the training stream the LSTM was trained on
    lines        one line per temperature continuing "Aadolf", cut to about the slides' length,
                 and one line of new names starting after a space
    statistics   scratchlm.names_stats over ROWS lines of LENGTH characters per prompt and temperature
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from scratchlm.data.heldout import SEPARATOR, NameStream
from scratchlm.metrics import EvaluationResult, evaluate_counted
from scratchlm.names_stats import NameStatistics, name_statistics, names_in_line, sample_lines, spelling_alphabet
from scratchlm.ngram.baselines import baseline_models
from scratchlm.text.vocab import SPECIALS

# the lecture's slides, in their order
LECTURE_TEMPERATURES = (1.0, 0.9, 0.5, 0.1, 0.0001, 2.0, 5.0)
LECTURE_PROMPT = "Aadolf"
LINE_WIDTH = 72     # the slides' lines hold about 60-80 characters
ROWS = 12           # lines per prompt and temperature for the statistics (about 150 names at T = 1)
LENGTH = 100        # characters per line


@dataclass(frozen=True)
class TemperatureRow:
    """One temperature: the line shown for each prompt, and the statistics of all the lines."""

    temperature: float
    continuing: str
    new: str
    statistics: NameStatistics


def heldout_scores(model, tokenizer, stream: NameStream, train_ids,
                   splits=("valid", "test")) -> list[tuple[str, dict[str, EvaluationResult]]]:
    """[(label, {split: result})]: the n-gram baselines fitted on ``train_ids`` (the training
    stream) and then ``model``, each scored on the counted characters of every split, reading the
    same whole text."""
    text_ids = np.asarray(tokenizer.encode(stream.text), dtype=np.int64)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models = baseline_models(train_ids, "stream", tokenizer.vocab)
    for message in dict.fromkeys(str(warning.message) for warning in caught):
        # too few distinct counts to estimate some Kneser-Ney discounts: one plain line
        print(f"note: {message}")
    models.append((model.cell.upper(), model))
    return [(label, {split: evaluate_counted(lm, text_ids, stream.counted(split)) for split in splits})
            for label, lm in models]


def _shown(text: str, keep: int, width: int = LINE_WIDTH) -> str:
    """``text`` cut to about ``width`` characters at the end of a name (at ``width`` when no name
    ends after the first ``keep`` characters), with "..." as on the slides."""
    if len(text) <= width:
        return text
    cut = text[:width]
    end = cut.rfind(SEPARATOR)
    return (cut[:end] if end > keep else cut) + " ..."


def temperature_rows(model, tokenizer, stream: NameStream, temperatures, prompt: str = LECTURE_PROMPT,
                     seed: int = 0, rows: int = ROWS, length: int = LENGTH) -> list[TemperatureRow]:
    """Sample ``rows`` lines of ``length`` characters continuing ``prompt`` and as many starting
    after a space, at every temperature; the first line of each is the one shown."""
    rng = np.random.default_rng(seed)
    banned = [tokenizer.vocab.stoi[token] for token in SPECIALS]
    training, heldout = stream.split_names("train"), stream.split_names("valid") + stream.split_names("test")
    alphabet = spelling_alphabet(stream.names)
    results = []
    for temperature in temperatures:
        lines, entropies = {}, []
        for key, start in (("continuing", prompt), ("new", SEPARATOR)):
            ids, entropy = sample_lines(model, tokenizer.encode(start), rows, length, temperature, rng, banned)
            lines[key] = [start + tokenizer.decode(row) for row in ids]
            entropies.append(entropy)
        names = [name for line in lines["continuing"] + lines["new"] for name in names_in_line(line)]
        statistics = name_statistics(temperature, names, training, heldout, alphabet, np.concatenate(entropies))
        results.append(TemperatureRow(temperature, _shown(lines["continuing"][0], len(prompt)),
                                      _shown(lines["new"][0].lstrip(SEPARATOR), 0), statistics))
    return results


def print_names_report(model, tokenizer, stream: NameStream, train_ids, temperatures=LECTURE_TEMPERATURES,
                       seed: int = 0, best_epoch: int | None = None) -> list[TemperatureRow]:
    """Print the three parts of the report (module docstring); returns the temperature rows."""
    counted = {split: int(stream.counted(split).sum()) for split in ("valid", "test")}
    print(f"\nheld-out names scored in their place in the text ({len(stream.split_names('valid'))} validation "
          f"names, {counted['valid']} characters; {len(stream.split_names('test'))} test names, "
          f"{counted['test']} characters; each name's letters and the space after it)")
    scores = heldout_scores(model, tokenizer, stream, train_ids)
    print(f"  {'model':<28} {'valid ppl':>9} {'test ppl':>9} {'test bits/char':>15}")
    for label, result in scores:
        if best_epoch is not None and label == scores[-1][0]:
            label = f"{label} (best epoch {best_epoch})"
        print(f"  {label:<28} {result['valid'].perplexity:>9.3f} {result['test'].perplexity:>9.3f} "
              f"{result['test'].bits_per_token:>15.4f}")

    rows = temperature_rows(model, tokenizer, stream, temperatures, seed=seed)
    print(f'\nsamples continuing "{LECTURE_PROMPT}" (as on the slides)')
    for row in rows:
        print(f"  T={row.temperature:<7g}{row.continuing}")
    print("\nnew names (after a space)")
    for row in rows:
        print(f"  T={row.temperature:<7g}{row.new}")
    print(f"\nper temperature, over the complete names of {2 * ROWS} lines of {LENGTH} characters "
          f'({ROWS} continuing "{LECTURE_PROMPT}", {ROWS} after a space)')
    print(f"  {'T':>7} {'names':>6} {'distinct/100':>12} {'training %':>10} {'held-out %':>10} {'new %':>6} "
          f"{'misspelt %':>10} {'entropy (bits)':>14}")
    for row in rows:
        s = row.statistics
        print(f"  {s.temperature:>7g} {s.num_names:>6} {s.distinct_per_100:>12.1f} {s.training_percent:>10.1f} "
              f"{s.heldout_percent:>10.1f} {s.new_percent:>6.1f} {s.misspelt_percent:>10.1f} {s.mean_entropy_bits:>14.3f}"
              .replace("nan", "  -"))
    return rows
