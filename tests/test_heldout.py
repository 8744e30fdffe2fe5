"""The main job's data and scoring: the calendar as one text with every k-th name held out in place,
and every model scored on the same held-out characters in the same context."""
import math

import numpy as np
import pytest

from scratchlm.commands.names_report import heldout_scores
from scratchlm.data import load_corpus, read_lines
from scratchlm.data.heldout import NameStream, name_stream, split_of
from scratchlm.lm import LanguageModel
from scratchlm.metrics import evaluate_counted
from scratchlm.models import RNNLM
from scratchlm.ngram.fit import fit_ngram
from scratchlm.text import CharTokenizer

LETTERS = ["Ab", "Cd", "Ef", "Gh", "Ij", "Kl", "Mn", "Op", "Qr", "St", "Uv", "Wx"]


def test_every_kth_name_is_held_out_and_the_one_half_way_is_test():
    stream = name_stream(LETTERS, every=4)
    # every = 4: index % 4 == 3 is validation, index % 4 == 1 is test
    assert stream.split_names("valid") == ["Gh", "Op", "Wx"]
    assert stream.split_names("test") == ["Cd", "Kl", "St"]
    assert stream.split_names("train") == ["Ab", "Ef", "Ij", "Mn", "Qr", "Uv"]
    assert stream.text == "Ab Cd Ef Gh Ij Kl Mn Op Qr St Uv Wx "
    assert stream.train == "Ab Ef Ij Mn Qr Uv "
    assert [split_of(i, 10) for i in (0, 4, 9, 14, 19)] == ["train", "test", "valid", "test", "valid"]


def test_counted_marks_each_held_out_name_and_the_space_after_it():
    stream = name_stream(LETTERS, every=4)
    text = stream.text
    valid = stream.counted("valid")
    assert valid.shape == (len(text),) and valid.dtype == bool
    # the counted characters, read off the text, are the held-out names each followed by a space
    assert "".join(np.array(list(text))[valid]) == "Gh Op Wx "
    assert [i for i in np.flatnonzero(valid)] == [9, 10, 11, 21, 22, 23, 33, 34, 35]
    # the space before a held-out name ends the name before it: not counted
    assert not valid[8]
    assert not (stream.counted("valid") & stream.counted("test")).any()
    assert not (stream.counted("valid") | stream.counted("test"))[: len("Ab ")].any()


def test_the_finnish_training_stream_holds_no_held_out_name():
    stream = load_corpus("finnish-names", kind="stream")
    names = read_lines(stream.source)
    assert isinstance(stream, NameStream) and list(stream.names) == names
    assert names[:5] == ["Aadolf", "Aamu", "Aapeli", "Aapo", "Aappo"]        # the calendar's order
    held_out = stream.split_names("valid") + stream.split_names("test")
    assert len(stream.split_names("train")) == 600 and len(held_out) == 150
    training_words = stream.train.split(" ")[:-1]
    assert training_words == [name for name in names if name not in set(held_out)]
    assert not set(held_out) & set(training_words)
    assert stream.train.endswith(" ") and "  " not in stream.train
    # every counted character belongs to a held-out name or the space after it
    for split in ("valid", "test"):
        counted = stream.counted(split)
        assert int(counted.sum()) == sum(len(name) + 1 for name in stream.split_names(split))
        assert "".join(np.array(list(stream.text))[counted]).split(" ")[:-1] == stream.split_names(split)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="every must be"):
        name_stream(LETTERS, every=3)
    with pytest.raises(ValueError, match="no held-out name"):
        name_stream(LETTERS[:3], every=4)
    with pytest.raises(ValueError, match="hold no"):
        name_stream(["Anna Liisa"] + LETTERS, every=4)
    with pytest.raises(ValueError, match="split must be"):
        name_stream(LETTERS, every=4).counted("dev")


def _step_by_step_nll(model, ids, counted):
    """- sum of log P(w_t | w_<t) over counted t, through start / log_probs / advance only."""
    state, total = model.start(1), 0.0
    for t, token in enumerate(ids):
        if counted[t]:
            total -= float(model.log_probs(state)[0, token])
        state = model.advance(state, np.array([token]))
    return total


@pytest.fixture(scope="module")
def small_models():
    stream = name_stream(LETTERS * 2, every=4)
    tokenizer = CharTokenizer.fit(stream.whole())
    train_ids = np.array(tokenizer.encode(stream.train))
    lstm = RNNLM(len(tokenizer), 6, 10, cell="lstm", dropout=0.0, seed=3, dtype="float64").eval()
    bigram = fit_ngram([train_ids], 2, "laplace", vocab_size=len(tokenizer), bos_id=None, eos_id=None)
    return stream, tokenizer, train_ids, {"lstm": lstm, "bigram": bigram}


@pytest.mark.parametrize("which", ["lstm", "bigram"])
def test_evaluate_counted_charges_exactly_the_counted_positions(small_models, which):
    stream, tokenizer, _, models = small_models
    model = models[which]
    ids = np.array(tokenizer.encode(stream.text))
    counted = stream.counted("valid")
    result = evaluate_counted(model, ids, counted)
    assert result.num_tokens == int(counted.sum())
    # the model's fast whole-sequence scoring against the interface's one step at a time
    assert result.total_nll == pytest.approx(_step_by_step_nll(model, ids, counted), rel=1e-10)


def test_every_model_of_the_table_scores_the_same_characters(small_models):
    stream, tokenizer, train_ids, models = small_models
    rows = heldout_scores(models["lstm"], tokenizer, stream, train_ids)
    expected = {split: sum(len(name) + 1 for name in stream.split_names(split)) for split in ("valid", "test")}
    assert [label for label, _ in rows][-1] == "LSTM" and len(rows) == 4
    for _, results in rows:
        assert {split: results[split].num_tokens for split in expected} == expected
    # the add-one bigram row is the bigram fitted here on exactly the training stream
    bigram = models["bigram"]
    ids = np.array(tokenizer.encode(stream.text))
    assert rows[0][0] == "add-one bigram"
    assert rows[0][1]["valid"].total_nll == pytest.approx(_step_by_step_nll(bigram, ids, stream.counted("valid")))


def test_a_uniform_model_has_the_vocabulary_size_as_perplexity():
    class Uniform(LanguageModel):
        vocab_size = 7

        def start(self, batch_size):
            return np.zeros(batch_size)

        def log_probs(self, state):
            return np.full((len(state), self.vocab_size), -math.log(self.vocab_size))

        def advance(self, state, tokens):
            return state

        def select(self, state, rows):
            return state[rows]

    counted = np.array([False, True, True, False, True])
    assert evaluate_counted(Uniform(), [1, 2, 3, 4, 5], counted).perplexity == pytest.approx(7.0)
    with pytest.raises(ValueError, match="bool array"):
        evaluate_counted(Uniform(), [1, 2, 3], counted)
    with pytest.raises(ValueError, match="no position"):
        evaluate_counted(Uniform(), [1, 2, 3], np.zeros(3, dtype=bool))
