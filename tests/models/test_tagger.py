"""The bidirectional tagger: gradients, PyTorch parity, padding, learning the doubled-letter task."""
import numpy as np
import pytest

from scratchlm.data import tasks
from scratchlm.gradcheck import check_gradients
from scratchlm.models.tagger import BiRNNTagger
from scratchlm.text.vocab import Vocabulary
from scratchlm.train.optimizers import Adam

CELLS = ("rnn", "lstm", "gru")
V, K, E, H = 7, 3, 4, 5


def small_tagger(cell, num_layers=2, seed=2):
    return BiRNNTagger(V, K, embed_dim=E, hidden_size=H, num_layers=num_layers, cell=cell, seed=seed, dtype="float64")


def random_batch(seed=0):
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, V, (3, 6))
    inputs[0, :3] = [5, 5, 5]                  # repeated ids: embedding gradients must add up
    tags = rng.integers(0, K, (3, 6))
    return inputs, tags, np.array([6, 2, 4])


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_by_finite_differences(cell):
    model = small_tagger(cell)
    inputs, tags, lengths = random_batch()
    _, grads = model.loss_and_grads(inputs, tags, lengths)
    assert set(grads) == set(model.params)
    # 12 sampled elements of every array: each of the 2 x 2 directions' arrays is still checked
    report = check_gradients(lambda: model.loss_and_grads(inputs, tags, lengths)[0], model.params, grads, max_checks=12)
    assert report.passed, str(report)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_loss_and_gradients_match_pytorch_on_packed_sequences(cell):
    torch = pytest.importorskip("torch")
    torch_class = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    model = small_tagger(cell, seed=3)
    inputs, tags, lengths = random_batch(seed=1)

    embedding, classifier = torch.nn.Embedding(V, E).double(), torch.nn.Linear(2 * H, K).double()
    rnn = torch_class(E, H, num_layers=2, batch_first=True, bidirectional=True).double()
    for prefix, module in (("embedding", embedding), ("rnn", rnn), ("classifier", classifier)):
        module.load_state_dict({name: torch.tensor(model.params[f"{prefix}.{name}"]) for name in module.state_dict()})

    packed = torch.nn.utils.rnn.pack_padded_sequence(embedding(torch.tensor(inputs)), torch.tensor(lengths),
                                                     batch_first=True, enforce_sorted=False)
    hs, _ = torch.nn.utils.rnn.pad_packed_sequence(rnn(packed)[0], batch_first=True, total_length=inputs.shape[1])
    scores = classifier(hs)
    real = torch.tensor(np.arange(inputs.shape[1])[None, :] < lengths[:, None])
    reference_loss = torch.nn.functional.cross_entropy(scores[real], torch.tensor(tags)[real])
    reference_loss.backward()

    loss, grads = model.loss_and_grads(inputs, tags, lengths)
    assert loss == pytest.approx(reference_loss.item(), rel=1e-12)
    for prefix, module in (("embedding", embedding), ("rnn", rnn), ("classifier", classifier)):
        for name, value in module.named_parameters():
            np.testing.assert_allclose(grads[f"{prefix}.{name}"], value.grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{prefix}.{name}")


def test_padding_never_reaches_a_real_position():
    model = small_tagger("lstm")
    inputs, tags, lengths = random_batch(seed=2)
    scores = model.forward(inputs, lengths)
    for row, length in enumerate(lengths):
        alone = model.forward(inputs[row : row + 1, :length])
        np.testing.assert_allclose(scores[row, :length], alone[0], rtol=1e-12, atol=1e-12)
    other_padding = inputs.copy()
    other_padding[1, 2:] = 6                   # change only what lies beyond row 1's length
    loss, grads = model.loss_and_grads(inputs, tags, lengths)
    other_loss, other_grads = model.loss_and_grads(other_padding, tags, lengths)
    assert other_loss == loss
    np.testing.assert_array_equal(other_grads["rnn.weight_hh_l1_reverse"], grads["rnn.weight_hh_l1_reverse"])


def test_doubled_letter_tags_by_hand():
    assert tasks.doubled_letter_tags("Jaakko") == [0, 1, 1, 1, 1, 0]
    assert tasks.doubled_letter_tags("Anna") == [0, 1, 1, 0]
    assert tasks.doubled_letter_tags("Aatu") == [1, 1, 0, 0]       # case-blind: A and a are one letter
    assert tasks.doubled_letter_tags("x") == [0]


def test_learns_doubled_letters_beyond_what_left_context_allows():
    """A tag needs the *next* letter too; the best tagger that only reads leftwards is beaten."""
    alphabet = "abcd"
    vocab = Vocabulary(list(alphabet))
    train = tasks.random_strings(6400, 4, 10, alphabet, rng=0)
    held_out = tasks.random_strings(300, 4, 10, alphabet, rng=1)
    model = BiRNNTagger(len(vocab), 2, embed_dim=8, hidden_size=16, cell="lstm", seed=0)
    optimizer = Adam(lr=1e-2)
    for start in range(0, len(train), 32):
        inputs, tags, lengths = tasks.encode_tagging(train[start : start + 32], vocab)
        _, grads = model.loss_and_grads(inputs, tags, lengths)
        optimizer.step(model.params, grads)

    inputs, tags, lengths = tasks.encode_tagging(held_out, vocab)
    real = np.arange(inputs.shape[1])[None, :] < lengths[:, None]
    accuracy = (model.predict(inputs, lengths) == tags)[real].mean()
    # The best left-to-right rule: tag 1 exactly when the letter repeats the previous one (the
    # next letter repeats it only with probability 1/4, so guessing 0 there is optimal).
    repeats_left = np.zeros_like(tags)
    repeats_left[:, 1:] = inputs[:, 1:] == inputs[:, :-1]
    left_only_accuracy = (repeats_left == tags)[real].mean()    # about 0.8
    assert accuracy > 0.97 and accuracy > left_only_accuracy + 0.1, (accuracy, left_only_accuracy)


def test_bad_input_is_reported():
    model = small_tagger("lstm")
    inputs, tags, lengths = random_batch()
    with pytest.raises(ValueError, match="unknown cell"):
        BiRNNTagger(V, K, cell="lsmt")
    with pytest.raises(ValueError, match="num_tags must be a positive int"):
        BiRNNTagger(V, 0)
    with pytest.raises(ValueError, match="inputs hold ids outside"):
        model.forward(inputs + V)
    with pytest.raises(ValueError, match="tags must be an int array shaped like inputs"):
        model.loss_and_grads(inputs, tags[:, :3], lengths)
    with pytest.raises(ValueError, match="tags must lie in"):
        model.loss_and_grads(inputs, tags + K, lengths)
    with pytest.raises(ValueError, match="lengths must lie in"):
        model.forward(inputs, np.array([7, 1, 1]))
    with pytest.raises(ValueError, match="at least one letter"):
        tasks.encode_tagging(["ab", ""], Vocabulary(list("ab")))
