"""What temperature does to generated names, measured: the lecture's observations as numbers.

The lecture shows one line of names per temperature and lets the eye judge: at T = 0.0001 one
name over and over, at T = 0.1 a few common names, around T = 1 plausible new names, at T = 5
mixed-case gibberish. Here the same is counted over many generated names::

    distinct per 100   100 * |set(names)| / len(names)          low T: few; high T: all different
    training %         names that are in the training list       copied
    held-out %         names of the calendar the model never saw  invented, and real
    new %              everything else                            invented
    misspelt %         names that break the list's spelling (see is_well_spelt)
    entropy            mean over the drawn characters of H(p_T) = - sum_i p_T,i log2 p_T,i, in bits,
                       where p_T = softmax(z / T) is the distribution each character was drawn from

:func:`temperature_rows` does the whole study for a model trained on the calendar as one text
(``scratchlm train``): at every temperature it samples ROWS lines of LENGTH characters continuing
"Aadolf" and as many starting after a space, keeps the first of each to show, as on the slides,
and counts the columns above over all of them. :func:`sample_lines` draws the lines; special tokens
(``<unk>``, ``<pad>`` ...) are given probability zero, since they are never part of a name.

A generated line is cut into names at the separator. The first word of a line holds the prompt
(or is empty, for a line that starts after a space) and is not counted; the last word is not
counted unless the line ended with the separator, since it may have been cut off.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from scratchlm.data.heldout import SEPARATOR, NameStream
from scratchlm.sampling import filtered_probs, sample_categorical, warm_up
from scratchlm.text.vocab import SPECIALS

LECTURE_TEMPERATURES = (1.0, 0.9, 0.5, 0.1, 0.0001, 2.0, 5.0)   # the slides' temperatures, in their order
PROMPT = "Aadolf"   # the lecture's prompt, the first name of the calendar
LINE_WIDTH = 72     # the slides' lines hold about 60-80 characters
ROWS = 12           # lines per prompt and temperature for the statistics (about 150 names at T = 1)
LENGTH = 100        # characters per line


def names_in_line(line: str, separator: str = SEPARATOR) -> list[str]:
    """The complete generated names of ``line`` (the rule of the module docstring).

    >>> names_in_line("Aadolf Anni Sari Sa")
    ['Anni', 'Sari']
    >>> names_in_line(" Anni Sari ")
    ['Anni', 'Sari']
    """
    words = line.split(separator)
    return [word for word in words[1:-1] if word]


def spelling_alphabet(names: Iterable[str]) -> frozenset[str]:
    """The characters the list uses (for the Finnish calendar: letters without c, q, w, x, z,
    å, no capital Ä or Ö, plus ``-``)."""
    return frozenset(character for name in names for character in name)


def is_well_spelt(name: str, alphabet: frozenset[str] | set[str]) -> bool:
    """True when ``name`` is spelt as the list's names are: only characters of ``alphabet``, an
    upper-case first letter, and upper case nowhere else except right after a hyphen
    (``Kukka-Maaria``). ``-`` may not start or end the name.

    >>> alphabet = spelling_alphabet(["Kukka-Maaria", "Aadolf"])
    >>> [is_well_spelt(n, alphabet) for n in ("Maaria", "MaAria", "maaria", "Kukka-", "Marz")]
    [True, False, False, False, False]
    """
    if not name or any(character not in alphabet for character in name):
        return False
    if name[0] == "-" or name[-1] == "-" or not name[0].isupper():
        return False
    for previous, character in zip(name, name[1:]):
        if character.isupper() != (previous == "-"):
            return False
    return True


def entropy_bits(probs: np.ndarray) -> np.ndarray:
    """H(p) = - sum_i p_i log2 p_i of each row of ``probs`` (batch, V) -> (batch,); 0 log 0 = 0."""
    probs = np.asarray(probs, dtype=np.float64)
    logs = np.log2(np.where(probs > 0, probs, 1.0))
    return -np.sum(probs * logs, axis=-1)


@dataclass(frozen=True)
class NameStatistics:
    """The table row of one temperature (the module docstring defines every column)."""

    temperature: float
    num_names: int
    distinct_per_100: float
    training_percent: float
    heldout_percent: float
    new_percent: float
    misspelt_percent: float
    mean_entropy_bits: float


def name_statistics(temperature: float, names: Sequence[str], training_names: Iterable[str],
                    heldout_names: Iterable[str], alphabet, entropies) -> NameStatistics:
    """Count the columns of :class:`NameStatistics` over the generated ``names``.

    names: the complete generated names (e.g. from :func:`names_in_line`). With none (a model
        that never ends a name), every column about names is NaN.
    training_names, heldout_names: the list's names the model was trained on / never saw.
    alphabet: the list's characters (:func:`spelling_alphabet`).
    entropies: H(p_T) in bits of every drawn character, any shape, at least one.
    """
    entropies = np.asarray(entropies, dtype=np.float64)
    if entropies.size == 0:
        raise ValueError("name_statistics needs the entropy of at least one drawn character")
    training, heldout = set(training_names), set(heldout_names)
    in_training = sum(name in training for name in names)
    in_heldout = sum(name in heldout and name not in training for name in names)
    misspelt = sum(not is_well_spelt(name, alphabet) for name in names)
    n = len(names)

    def percent(count: float) -> float:
        return 100.0 * count / n if n else math.nan

    return NameStatistics(
        temperature=float(temperature), num_names=n, distinct_per_100=percent(len(set(names))),
        training_percent=percent(in_training), heldout_percent=percent(in_heldout),
        new_percent=percent(n - in_training - in_heldout), misspelt_percent=percent(misspelt),
        mean_entropy_bits=float(np.mean(entropies)),
    )


def sample_lines(model, prompt_ids: Sequence[int], rows: int, length: int, temperature: float, rng,
                 banned_ids: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Continue ``prompt_ids`` ``rows`` times for exactly ``length`` tokens at ``temperature``,
    recording the entropy of every distribution drawn from.

    Each step: p_T = softmax(z / T) with the ``banned_ids`` (special tokens, which are never part
    of a name) given probability zero first; draw from p_T; record H(p_T) in bits.

    Returns ids (rows, length) int64 and entropies (rows, length) float64 in bits.
    """
    state = model.select(warm_up(model, prompt_ids), np.zeros(rows, dtype=np.int64))
    banned = np.asarray(list(banned_ids), dtype=np.int64)
    ids = np.empty((rows, length), dtype=np.int64)
    entropies = np.empty((rows, length), dtype=np.float64)
    for step in range(length):
        log_probs = np.array(model.log_probs(state), dtype=np.float64)  # (rows, V)
        log_probs[:, banned] = -np.inf
        probs = filtered_probs(log_probs, temperature=temperature)
        entropies[:, step] = entropy_bits(probs)
        ids[:, step] = sample_categorical(probs, rng)
        if step + 1 < length:
            state = model.advance(state, ids[:, step])
    return ids, entropies


@dataclass(frozen=True)
class TemperatureRow:
    """One temperature: the line shown for each prompt, and the statistics of all the lines."""

    temperature: float
    continuing: str
    new: str
    statistics: NameStatistics


def _shown(text: str, keep: int, width: int = LINE_WIDTH) -> str:
    """``text`` cut to about ``width`` characters at the end of a name (at ``width`` when no name
    ends after the first ``keep`` characters), with "..." as on the slides."""
    if len(text) <= width:
        return text
    cut = text[:width]
    end = cut.rfind(SEPARATOR)
    return (cut[:end] if end > keep else cut) + " ..."


def temperature_rows(model, tokenizer, stream: NameStream, temperatures, prompt: str = PROMPT,
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
