"""Property-based tests (hypothesis): whatever the input, a clean result or a clear ValueError.

The tokenizers round-trip any text they can represent; the ARPA reader and the checkpoint loader
meet mutated files and either read them or refuse them with a ValueError, never another
exception (and a checkpoint is never unpickled); the samplers' knobs always give a distribution.
"""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchlm.ngram.arpa import read_arpa
from scratchlm.sampling import filtered_probs, sample_next
from scratchlm.text import BPETokenizer, CharTokenizer, WordTokenizer
from scratchlm.train.checkpoint import Checkpoint, load_checkpoint, load_trained_model, save_checkpoint

# derandomize: the same examples on every run, so a failure is reproducible and the suite never flickers
FAST = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])

# --------------------------------------------------------------------------- tokenizers
texts = st.text(min_size=1, max_size=40)


@FAST
@given(texts, st.text(max_size=40))
def test_char_tokenizer_round_trips_and_applies_the_unknown_policy(corpus, other):
    tokenizer = CharTokenizer.fit(corpus)
    assert tokenizer.decode(tokenizer.encode(corpus)) == corpus
    known = "".join(c for c in other if c in set(corpus))
    assert tokenizer.decode(tokenizer.encode(other, unknown="skip")) == known
    with_unk = tokenizer.encode(other, unknown="unk")
    assert len(with_unk) == len(other)
    assert [i for i in with_unk if i != tokenizer.vocab.unk_id] == tokenizer.encode(known)
    if known != other:
        first = next(i for i, c in enumerate(other) if c not in set(corpus))
        with pytest.raises(ValueError, match=f"at position {first} .*--unknown unk"):
            tokenizer.encode(other)


words = st.text(alphabet="abcdefgh", min_size=1, max_size=6)
lines_of_words = st.lists(st.lists(words, min_size=1, max_size=6).map(" ".join), min_size=1, max_size=5)


@FAST
@given(lines_of_words)
def test_word_tokenizer_round_trips_single_spaced_lines(lines):
    text = "\n".join(lines) + "\n"
    tokenizer = WordTokenizer.fit(text, split="whitespace")
    assert tokenizer.decode(tokenizer.encode(text)) == text


BPE = BPETokenizer.fit(["the cat sat on the mat", "talo talossa talostani", "hyvää päivää"], num_merges=30)


@FAST
@given(st.text(max_size=60))
def test_bpe_round_trips_every_string_with_byte_fallback(text):
    assert BPE.decode(BPE.encode(text)) == text


# --------------------------------------------------------------------------- ARPA reader
ARPA = ("\\data\\\nngram 1=5\nngram 2=3\n\n\\1-grams:\n-1.0\t<unk>\t0\n-99\t<s>\t-0.30103\n-0.5\t</s>\n"
        "-0.2\ta\t-0.1\n-0.8\tb\t-0.2\n\n\\2-grams:\n-0.1\t<s> a\n-0.3\ta </s>\n-0.4\tb a\n\n\\end\\\n").encode()


def mutate(data: bytes, edits) -> bytes:
    data = bytearray(data)
    for position, value, kind in edits:
        position %= max(len(data), 1)
        if kind == "replace" and data:
            data[position] = value
        elif kind == "insert":
            data.insert(position, value)
        elif data:
            del data[position]
    return bytes(data)


edits = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.sampled_from(["replace", "insert", "delete"])),
                 min_size=1, max_size=4)


@FAST
@given(edits)
def test_the_arpa_reader_reads_or_refuses_mutated_files(tmp_path, changes):
    path = tmp_path / "fuzz.arpa"
    path.write_bytes(mutate(ARPA, changes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model = read_arpa(path)
        except ValueError:
            return
    # what was read is a model: every log-probability finite or -inf, never above 0
    for table in model.log_prob:
        assert not np.any(np.isnan(table)) and np.all(table <= 1e-12)


def test_the_original_arpa_file_reads(tmp_path):
    """The file the fuzzing mutates is valid, so the mutations are what the reader refuses."""
    path = tmp_path / "ok.arpa"
    path.write_bytes(ARPA)
    model = read_arpa(path)
    assert model.order == 2


# --------------------------------------------------------------------------- checkpoints
TOKENIZER = CharTokenizer.fit("ab")


def tiny_checkpoint_bytes(tmp_path) -> bytes:
    from scratchlm.models import RNNLM

    model = RNNLM(len(TOKENIZER.vocab), 2, 3, cell="gru", seed=0)
    checkpoint = Checkpoint(model={k: np.asarray(v) for k, v in model.state_dict().items()},
                            tokenizer=TOKENIZER.to_json(), config={"model": model.config(), "kind": "stream"})
    path = tmp_path / "original.npz"
    save_checkpoint(path, checkpoint)
    return path.read_bytes()


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    return tiny_checkpoint_bytes(tmp_path_factory.mktemp("fuzz"))


@FAST
@given(edits)
def test_the_checkpoint_loader_reads_or_refuses_mutated_files(tmp_path, checkpoint_bytes, changes):
    path = tmp_path / "fuzz.npz"
    path.write_bytes(mutate(checkpoint_bytes, changes))
    try:
        checkpoint = load_checkpoint(path)
    except ValueError:
        return
    assert isinstance(checkpoint.config, dict)
    try:
        model, tokenizer, _ = load_trained_model(path)
    except ValueError:
        return
    assert len(tokenizer.vocab) == model.vocab_size


# --------------------------------------------------------------------------- samplers
@FAST
@given(st.integers(1, 3), st.integers(1, 12), st.floats(0.01, 50), st.floats(0.05, 20.0),
       st.one_of(st.none(), st.integers(1, 12)), st.one_of(st.none(), st.floats(0.01, 1.0)), st.integers(0, 2**31))
def test_sampler_knobs_always_give_a_distribution(batch, vocab, scale, temperature, top_k, top_p, seed):
    logits = np.random.default_rng(seed).normal(size=(batch, vocab)) * scale
    probs = filtered_probs(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    assert probs.shape == (batch, vocab)
    assert np.all(np.isfinite(probs)) and np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-9)
    if top_k is not None:
        assert np.all((probs > 0).sum(axis=1) <= top_k)
    ids = sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, rng=seed)
    assert ids.shape == (batch,) and np.all(probs[np.arange(batch), ids] > 0)
