"""The main job's report: held-out perplexity against the n-gram baselines, the lecture's seven
temperatures as lines of names, and the measured statistics of each temperature.

    scores       every model reads the whole calendar text and is charged only on the held-out
                 names' characters and the space after each (scratchlm.data.heldout); the n-gram
                 baselines are fitted on exactly the training stream the LSTM was trained on
    lines        one line per temperature continuing "Aadolf", cut to about the slides' length,
                 and one line of new names starting after a space
    statistics   scratchlm.names_stats.temperature_rows: ROWS lines of LENGTH characters per prompt
                 and temperature
"""
from __future__ import annotations

import warnings

import numpy as np

from scratchlm.data.heldout import NameStream
from scratchlm.metrics import EvaluationResult, evaluate_counted
from scratchlm.names_stats import LECTURE_TEMPERATURES, LENGTH, PROMPT, ROWS, TemperatureRow, temperature_rows
from scratchlm.ngram.baselines import baseline_models


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


def print_names_report(model, tokenizer, stream: NameStream, train_ids, temperatures=LECTURE_TEMPERATURES,
                       prompt: str = PROMPT, seed: int = 0, best_epoch: int | None = None) -> list[TemperatureRow]:
    """Print the three parts of the report (module docstring); returns the temperature rows."""
    counted = {split: int(stream.counted(split).sum()) for split in ("valid", "test")}
    print(f"\nheld-out names scored in their place in the text ({len(stream.split_names('valid'))} validation "
          f"names, {counted['valid']} characters; {len(stream.split_names('test'))} test names, "
          f"{counted['test']} characters; each name's letters and the space after it)")
    scores = heldout_scores(model, tokenizer, stream, train_ids)
    print(f"  {'model':<28} {'valid ppl':>9} {'test ppl':>9} {'test bits/char':>15}")
    for number, (label, result) in enumerate(scores, start=1):
        if best_epoch is not None and number == len(scores):   # the last row is the trained model
            label = f"{label} (best epoch {best_epoch})"
        print(f"  {label:<28} {result['valid'].perplexity:>9.3f} {result['test'].perplexity:>9.3f} "
              f"{result['test'].bits_per_token:>15.4f}")

    rows = temperature_rows(model, tokenizer, stream, temperatures, prompt=prompt, seed=seed)
    print(f'\nsamples continuing "{prompt}" (as on the slides)')
    for row in rows:
        print(f"  T={row.temperature:<7g}{row.continuing}")
    print("\nnew names (after a space)")
    for row in rows:
        print(f"  T={row.temperature:<7g}{row.new}")
    print(f"\nper temperature, over the complete names of {2 * ROWS} lines of {LENGTH} characters "
          f'({ROWS} continuing "{prompt}", {ROWS} after a space)')
    print(f"  {'T':>7} {'names':>6} {'distinct/100':>12} {'training %':>10} {'held-out %':>10} {'new %':>6} "
          f"{'misspelt %':>10} {'entropy (bits)':>14}")
    for row in rows:
        s = row.statistics
        print(f"  {s.temperature:>7g} {s.num_names:>6} {s.distinct_per_100:>12.1f} {s.training_percent:>10.1f} "
              f"{s.heldout_percent:>10.1f} {s.new_percent:>6.1f} {s.misspelt_percent:>10.1f} {s.mean_entropy_bits:>14.3f}"
              .replace("nan", "  -"))
    return rows
