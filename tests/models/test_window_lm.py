"""The fixed-window neural LM: gradients, windows, the LanguageModel interface, learning, bad input."""
import math

import numpy as np
import pytest

from scratchlm import metrics
from scratchlm.data import ItemBatches, load_corpus
from scratchlm.gradcheck import check_gradients
from scratchlm.lm import LanguageModel
from scratchlm.models.window_lm import WindowLM
from scratchlm.text.char import CharTokenizer
from scratchlm.train.optimizers import Adam

V = 11


def small_model(context_size=3, direct=False, seed=1):
    return WindowLM(V, context_size=context_size, embed_dim=4, hidden_size=5, direct=direct, seed=seed, dtype="float64")


@pytest.mark.parametrize("context_size", [1, 3])
@pytest.mark.parametrize("direct", [False, True])
def test_gradients_by_finite_differences(context_size, direct):
    model = small_model(context_size, direct)
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, V, (2, 5))
    inputs[0, :2] = [7, 7]                      # a repeated id: embedding gradients must add up
    targets = rng.integers(0, V, (2, 5))
    state = rng.integers(0, V, (2, context_size - 1))
    mask = rng.random((2, 5)) < 0.7
    mask[0, 0] = True
    _, grads, _ = model.loss_and_grads(inputs, targets, state, mask)
    assert set(grads) == set(model.params)
    report = check_gradients(lambda: model.loss(inputs, targets, state, mask), model.params, grads)
    assert report.passed, str(report)


def test_logits_match_a_loop_over_hand_built_windows():
    """y = b + W x + U tanh(d + H x), x the concatenated embeddings of the n tokens ending at t."""
    model = small_model(context_size=3, direct=True)
    p = model.params
    rng = np.random.default_rng(1)
    inputs = rng.integers(0, V, (2, 4))
    state = rng.integers(0, V, (2, 2))
    logits, next_state = model.forward(inputs, state)
    for b in range(2):
        history = list(state[b]) + list(inputs[b])
        for t in range(4):
            window = history[t : t + 3]          # the two tokens before inputs[b, t], then inputs[b, t]
            x = np.concatenate([p["embedding.weight"][w] for w in window])
            z = np.tanh(p["hidden.weight"] @ x + p["hidden.bias"])
            expected = p["decoder.weight"] @ z + p["decoder.bias"] + p["direct.weight"] @ x
            np.testing.assert_allclose(logits[b, t], expected, rtol=1e-12, atol=1e-12)
        assert list(next_state[b]) == history[-2:]


def test_no_state_means_windows_padded_with_bos():
    model = small_model(context_size=3)
    inputs = np.array([[5, 6, 7]])
    with_bos, _ = model.forward(inputs, np.full((1, 2), model.bos_id))
    np.testing.assert_array_equal(model.forward(inputs)[0], with_bos)


def test_state_carries_the_window_across_consecutive_batches():
    model = small_model(context_size=4)
    inputs = np.random.default_rng(2).integers(0, V, (3, 9))
    whole, _ = model.forward(inputs)
    first, state = model.forward(inputs[:, :4])
    second, _ = model.forward(inputs[:, 4:], state)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("context_size", [1, 2, 4])
def test_language_model_interface(context_size):
    model = small_model(context_size, direct=True)
    sequence = [5, 6, 5, 9, model.eos_id]
    # the one-pass override agrees with the step-by-step definition of the interface
    np.testing.assert_allclose(model.sequence_log_probs(sequence),
                               LanguageModel.sequence_log_probs(model, sequence), rtol=1e-12, atol=1e-12)
    state = model.advance(model.start(3), np.array([4, 5, 6]))
    logp = model.log_probs(state)
    assert logp.shape == (3, V) and logp.dtype == np.float64
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.log_probs(model.select(state, np.array([2, 0]))), logp[[2, 0]])


def test_state_dict_round_trip_and_config():
    model = small_model(direct=True, seed=3)
    other = WindowLM.from_config({**model.config(), "seed": 4})
    assert other.config()["direct"] and other.num_parameters() == model.num_parameters()
    other.load_state_dict(model.state_dict())
    sequence = [4, 5, 6, model.eos_id]
    np.testing.assert_array_equal(other.sequence_log_probs(sequence), model.sequence_log_probs(sequence))


def test_learns_finnish_names_better_than_a_unigram_model():
    corpus = load_corpus("finnish-names")
    tokenizer = CharTokenizer.fit(corpus.train)
    vocab = tokenizer.vocab
    train = [tokenizer.encode(name, unknown="unk") for name in corpus.train]
    valid = [tokenizer.encode(name, unknown="unk") + [vocab.eos_id] for name in corpus.valid]

    model = WindowLM(len(vocab), context_size=3, embed_dim=8, hidden_size=32, seed=0)
    optimizer = Adam(lr=1e-2)
    batches = ItemBatches(train, batch_size=32, shuffle=True, seed=0)
    for epoch in range(12):
        batches.set_epoch(epoch)
        for inputs, targets, mask in batches:
            _, grads, _ = model.loss_and_grads(inputs, targets, mask=mask)
            optimizer.step(model.params, grads)

    # add-one unigram over the training tokens (each name's characters and its <eos>)
    counts = np.ones(len(vocab))
    for ids in train:
        np.add.at(counts, ids + [vocab.eos_id], 1)
    unigram_logp = np.log(counts / counts.sum())
    valid_tokens = np.concatenate(valid)
    unigram_perplexity = math.exp(-unigram_logp[valid_tokens].mean())

    window_perplexity = metrics.perplexity(model, valid)   # about 7.8 against the unigram's 21.8
    assert window_perplexity < 0.6 * unigram_perplexity, (window_perplexity, unigram_perplexity)


def test_bad_input_is_reported():
    model = small_model(context_size=3)
    with pytest.raises(ValueError, match="context_size must be a positive int"):
        WindowLM(V, context_size=0)
    with pytest.raises(ValueError, match="bos_id"):
        WindowLM(V, bos_id=V)
    with pytest.raises(ValueError, match="vocabulary range"):
        model.forward(np.array([[1, V]]))
    with pytest.raises(TypeError, match="integer token ids"):
        model.forward(np.array([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="dimensions"):
        model.forward(np.array([1, 2]))
    with pytest.raises(ValueError, match="state has shape"):
        model.forward(np.array([[1, 2]]), state=np.array([[2, 2, 2]]))
    with pytest.raises(ValueError, match="targets has shape"):
        model.loss_and_grads(np.array([[1, 2]]), np.array([[1, 2, 3]]))
    with pytest.raises(ValueError, match="mask has shape"):
        model.loss_and_grads(np.array([[1, 2]]), np.array([[1, 2]]), mask=np.ones((1, 3), bool))
    with pytest.raises(ValueError, match="missing|expected"):
        model.load_state_dict({"embedding.weight": np.zeros((V, 4))})


@pytest.mark.parametrize("kind", ["lines", "stream"])
def test_the_rnn_training_loop_trains_it(kind):
    """scratchlm.train's Trainer (full BPTT on items; TBPTT with k2 > k1 on a stream) needs only
    loss_and_grads / forward / params, and its validation perplexity is the metrics' one."""
    from scratchlm.train.loop import TrainConfig, Trainer

    corpus = load_corpus("finnish-names")
    tokenizer = CharTokenizer.fit(corpus.train)
    train = [tokenizer.encode(name, unknown="unk") for name in corpus.train]
    valid = [tokenizer.encode(name, unknown="unk") for name in corpus.valid]
    if kind == "stream":
        train = [i for ids in train for i in ids + [tokenizer.vocab.eos_id]]
        valid = [i for ids in valid for i in ids + [tokenizer.vocab.eos_id]]
    model = WindowLM(len(tokenizer.vocab), context_size=3, embed_dim=8, hidden_size=32, seed=0)
    config = TrainConfig(epochs=3, batch_size=16, bptt=20, bptt_k2=30, lr=1e-2)
    history = Trainer(model, tokenizer.to_json(), train, valid, kind, config, progress=False).fit()
    assert history["val_ppl"][-1] < history["val_ppl"][0] < len(tokenizer.vocab)
    if kind == "lines":
        measured = metrics.perplexity(model, [ids + [tokenizer.vocab.eos_id] for ids in valid])
        assert history["val_ppl"][-1] == pytest.approx(measured, rel=1e-4)
