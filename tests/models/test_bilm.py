"""ELMo's bidirectional LM pair: gradients, two RNNLMs as the oracle, causality, learning, bad input."""
import math

import numpy as np
import pytest

from scratchlm.data import ItemBatches, load_corpus
from scratchlm.gradcheck import check_gradients
from scratchlm.models.bilm import BiLM
from scratchlm.models.rnnlm import RNNLM
from scratchlm.text.char import CharTokenizer
from scratchlm.train.optimizers import Adam

CELLS = ("rnn", "lstm", "gru")
V, E, H = 9, 3, 4
BOS, EOS, PAD = 2, 3, 0


def framed_batch(seed=0, lengths=(6, 3, 5)):
    """Rows <bos> w_1 .. w_n <eos> <pad>..., with random words (ids 4..8); lengths count the frame."""
    rng = np.random.default_rng(seed)
    lengths = np.array(lengths)
    sequences = np.full((len(lengths), lengths.max()), PAD)
    for row, length in enumerate(lengths):
        sequences[row, :length] = [BOS, *rng.integers(4, V, length - 2), EOS]
    return sequences, lengths


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_by_finite_differences(cell):
    model = BiLM(V, E, H, num_layers=2, cell=cell, seed=1, dtype="float64")
    for value in model.params.values():
        value *= 2.0   # larger weights: no gradient entry so small that rounding dominates its relative error
    sequences, lengths = framed_batch()
    _, grads = model.loss_and_grads(sequences, lengths)
    assert set(grads) == set(model.params)
    report = check_gradients(lambda: model.loss(sequences, lengths), model.params, grads, max_checks=12)
    assert report.passed, str(report)


@pytest.mark.parametrize("cell", CELLS)
def test_each_direction_is_an_rnnlm_reading_its_way(cell):
    """The forward LM = an RNNLM on the rows; the backward LM = an RNNLM on the rows reversed."""
    model = BiLM(V, E, H, num_layers=2, cell=cell, seed=2, dtype="float64")
    sequences, lengths = framed_batch(seed=1)

    def rnnlm(direction):
        oracle = RNNLM(V, E, H, num_layers=2, cell=cell, dtype="float64")
        shared = {name: model.params[name] for name in ("embedding.weight", "decoder.weight", "decoder.bias")}
        own = {name[len(direction) + 1:]: value for name, value in model.params.items() if name.startswith(direction + ".")}
        oracle.load_state_dict({**shared, **own})
        return oracle

    reversed_rows = np.full_like(sequences, PAD)
    for row, length in enumerate(lengths):
        reversed_rows[row, :length] = sequences[row, :length][::-1]      # <eos> w_n .. w_1 <bos>
    mask = np.arange(sequences.shape[1] - 1)[None, :] < (lengths - 1)[:, None]
    forward_nll = rnnlm("forward").loss(sequences[:, :-1], sequences[:, 1:], mask=mask)
    backward_nll = rnnlm("backward").loss(reversed_rows[:, :-1], reversed_rows[:, 1:], mask=mask)

    ours = model.direction_losses(sequences, lengths)
    np.testing.assert_allclose(ours, (forward_nll, backward_nll), rtol=1e-12)
    # both directions predict the same number of tokens, so the loss is their mean
    assert model.loss(sequences, lengths) == pytest.approx((forward_nll + backward_nll) / 2, rel=1e-12)


def test_each_direction_sees_only_its_own_side():
    model = BiLM(V, E, H, num_layers=2, cell="lstm", seed=3, dtype="float64")
    sequences, lengths = framed_batch(seed=2, lengths=(7,))
    changed = sequences.copy()
    changed[0, 3] = 4 if sequences[0, 3] != 4 else 5
    before = model.representations(sequences, lengths)
    after = model.representations(changed, lengths)
    for layer in (1, 2):
        forward, backward = slice(0, H), slice(H, 2 * H)
        np.testing.assert_array_equal(after[layer][0, :3, forward], before[layer][0, :3, forward])   # left of 3
        np.testing.assert_array_equal(after[layer][0, 4:, backward], before[layer][0, 4:, backward])  # right of 3
        assert not np.allclose(after[layer][0, 3:, forward], before[layer][0, 3:, forward])
        assert not np.allclose(after[layer][0, :4, backward], before[layer][0, :4, backward])


def test_padding_changes_nothing():
    model = BiLM(V, E, H, num_layers=1, cell="gru", seed=4, dtype="float64")
    sequences, lengths = framed_batch(seed=3)
    other = sequences.copy()
    other[1, lengths[1]:] = 7                               # different ids beyond row 1's length
    loss, grads = model.loss_and_grads(sequences, lengths)
    other_loss, other_grads = model.loss_and_grads(other, lengths)
    assert other_loss == loss
    np.testing.assert_array_equal(other_grads["backward.rnn.weight_hh_l0"], grads["backward.rnn.weight_hh_l0"])
    alone = model.representations(sequences[1:2, : lengths[1]])
    np.testing.assert_allclose(model.representations(sequences, lengths)[1][1, : lengths[1]], alone[1][0], atol=1e-12)


def test_learns_finnish_names_in_both_directions():
    corpus = load_corpus("finnish-names")
    tokenizer = CharTokenizer.fit(corpus.train)
    vocab = tokenizer.vocab
    train = [tokenizer.encode(name, unknown="unk") for name in corpus.train]
    valid = [tokenizer.encode(name, unknown="unk") for name in corpus.valid]

    def framed(items):
        inputs, targets, mask = next(iter(ItemBatches(items, batch_size=len(items))))
        sequences = np.concatenate([inputs, np.zeros_like(inputs[:, :1])], axis=1)
        lengths = mask.sum(axis=1) + 1
        sequences[np.arange(len(items)), lengths - 1] = vocab.eos_id
        return sequences, lengths

    model = BiLM(len(vocab), embed_dim=16, hidden_size=32, num_layers=1, cell="lstm", seed=0)
    optimizer = Adam(lr=1e-2)
    batches = ItemBatches(train, batch_size=32, shuffle=True, seed=0)
    for epoch in range(6):
        batches.set_epoch(epoch)
        for indices in batches.batch_order():
            _, grads = model.loss_and_grads(*framed([train[i] for i in indices]))
            optimizer.step(model.params, grads)

    counts = np.ones(len(vocab))
    for ids in train:
        np.add.at(counts, ids + [vocab.eos_id], 1)
    unigram_perplexity = math.exp(-np.log(counts / counts.sum())[np.concatenate([v + [vocab.eos_id] for v in valid])].mean())
    forward_nll, backward_nll = model.direction_losses(*framed(valid))   # about 8.2 and 8.0 against 21.8
    assert math.exp(forward_nll) < 0.6 * unigram_perplexity, (math.exp(forward_nll), unigram_perplexity)
    assert math.exp(backward_nll) < 0.6 * unigram_perplexity, (math.exp(backward_nll), unigram_perplexity)


def test_bad_input_is_reported():
    model = BiLM(V, E, H)
    sequences, lengths = framed_batch()
    with pytest.raises(ValueError, match="unknown cell"):
        BiLM(V, cell="transformer")
    with pytest.raises(ValueError, match="num_layers must be a positive int"):
        BiLM(V, num_layers=0)
    with pytest.raises(ValueError, match="at least <bos> and <eos>"):
        model.loss_and_grads(sequences[:, :1])
    with pytest.raises(ValueError, match="lengths must lie in"):
        model.loss_and_grads(sequences, np.array([6, 1, 5]))
    with pytest.raises(ValueError, match="lengths must be an int array"):
        model.loss_and_grads(sequences, lengths[:2])
    with pytest.raises(ValueError, match="vocabulary range"):
        model.loss_and_grads(sequences + V, lengths)
