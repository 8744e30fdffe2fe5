"""The encoder-decoder: gradients, PyTorch parity, decoding through the LM interface, learning."""
import numpy as np
import pytest

from scratchlm import beam, sampling
from scratchlm.data import tasks
from scratchlm.gradcheck import check_gradients
from scratchlm.layers.softmax_cross_entropy import log_softmax
from scratchlm.lm import LanguageModel
from scratchlm.models.seq2seq import Seq2Seq
from scratchlm.text.vocab import Vocabulary
from scratchlm.train.optimizers import Adam

CELLS = ("rnn", "lstm", "gru")
V_SRC, V_TGT, E, H = 7, 9, 4, 5


def small_model(cell, seed=1):
    return Seq2Seq(V_SRC, V_TGT, embed_dim=E, hidden_size=H, cell=cell, seed=seed, dtype="float64")


def random_batch(seed=0, batch=3, source_length=4, target_length=5):
    rng = np.random.default_rng(seed)
    source = rng.integers(0, V_SRC, (batch, source_length))
    source[0, :2] = [6, 6]                    # repeated ids: embedding gradients must add up
    target = rng.integers(0, V_TGT, (batch, target_length))
    mask = np.ones((batch, target_length), dtype=bool)
    mask[1, 3:] = False                       # a shorter, padded target
    return source, target, mask


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_by_finite_differences(cell):
    model = small_model(cell)
    for value in model.params.values():
        value *= 2.0   # larger weights: no gradient entry so small that rounding dominates its relative error
    source, target, mask = random_batch()
    loss, grads = model.loss_and_grads(source, target, mask)
    assert set(grads) == set(model.params)
    report = check_gradients(lambda: model.loss_and_grads(source, target, mask)[0], model.params, grads)
    assert report.passed, str(report)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_loss_and_gradients_match_pytorch(cell):
    torch = pytest.importorskip("torch")
    torch_class = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    model = small_model(cell, seed=2)
    source, target, mask = random_batch(seed=1)

    torch.manual_seed(0)
    modules = {
        "encoder.embedding": torch.nn.Embedding(V_SRC, E), "encoder.rnn": torch_class(E, H, batch_first=True),
        "decoder.embedding": torch.nn.Embedding(V_TGT, E), "decoder.rnn": torch_class(E, H, batch_first=True),
        "decoder.output": torch.nn.Linear(H, V_TGT),
    }
    for prefix, module in modules.items():
        module.double()
        module.load_state_dict({name: torch.tensor(model.params[f"{prefix}.{name}"]) for name in module.state_dict()})

    _, final = modules["encoder.rnn"](modules["encoder.embedding"](torch.tensor(source)))
    decoder_inputs = torch.tensor(np.concatenate([np.full((3, 1), model.bos_id), target[:, :-1]], axis=1))
    hs, _ = modules["decoder.rnn"](modules["decoder.embedding"](decoder_inputs), final)
    logits = modules["decoder.output"](hs)
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, V_TGT), torch.tensor(target).reshape(-1), reduction="none")
    weights = torch.tensor(mask.reshape(-1), dtype=torch.float64)
    reference_loss = (nll * weights).sum() / weights.sum()
    reference_loss.backward()

    loss, grads = model.loss_and_grads(source, target, mask)
    assert loss == pytest.approx(reference_loss.item(), rel=1e-12)
    for prefix, module in modules.items():
        for name, value in module.named_parameters():
            np.testing.assert_allclose(grads[f"{prefix}.{name}"], value.grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"{prefix}.{name}")


@pytest.mark.parametrize("cell", CELLS)
def test_decoder_language_model_agrees_with_teacher_forcing(cell):
    """Step-by-step through the LanguageModel interface = one teacher-forced sequence call."""
    model = small_model(cell)
    source, target, _ = random_batch(seed=2)
    decoder = model.decoder(source[1])
    stepwise = LanguageModel.sequence_log_probs(decoder, target[1])
    teacher_forced = log_softmax(model.forward(source[1:2], target[1:2]))[0]
    np.testing.assert_allclose(stepwise, teacher_forced[np.arange(target.shape[1]), target[1]], rtol=1e-12, atol=1e-12)
    logp = decoder.log_probs(decoder.start(2))
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(logp[0], logp[1])


def test_the_decoder_depends_on_the_source():
    model = small_model("lstm")
    first = model.decoder(np.array([1, 2, 3])).log_probs(model.decoder(np.array([1, 2, 3])).start(1))
    second = model.decoder(np.array([3, 2, 1])).log_probs(model.decoder(np.array([3, 2, 1])).start(1))
    assert np.abs(first - second).max() > 1e-3


def test_learns_to_reverse_strings():
    """Greedy and beam decoding through scratchlm.sampling / scratchlm.beam, on held-out strings."""
    alphabet = "abcdef"
    vocab = Vocabulary(list(alphabet))
    held_out = sorted(set(tasks.seq2seq_pairs("reverse", 100, 3, 6, alphabet, rng=1)))
    held_out_sources = {source for source, _ in held_out}
    train = [pair for pair in tasks.seq2seq_pairs("reverse", 20000, 3, 6, alphabet, rng=0)
             if pair[0] not in held_out_sources]      # never trained on a held-out string

    model = Seq2Seq(len(vocab), len(vocab), embed_dim=16, hidden_size=48, cell="lstm", seed=0)
    optimizer = Adam(lr=1e-2)
    for batch in tasks.batches_by_source_length(train, 32, rng=0)[:400]:
        source, target, mask = tasks.encode_pairs(batch, vocab)
        _, grads = model.loss_and_grads(source, target, mask)
        optimizer.step(model.params, grads)

    def decode(source, beam_width):
        decoder = model.decoder(vocab.encode(list(source)))
        if beam_width == 1:
            ids = sampling.generate(decoder, greedy=True, max_len=len(source) + 2)[0]
        else:
            ids = beam.beam_search(decoder, beam_width=beam_width, max_len=len(source) + 2)[0][0]
        return "".join(vocab.decode(ids))

    greedy_accuracy = np.mean([decode(source, 1) == target for source, target in held_out])
    beam_accuracy = np.mean([decode(source, 3) == target for source, target in held_out])
    assert greedy_accuracy >= 0.9, greedy_accuracy      # exact match of the whole string
    assert beam_accuracy >= 0.9, beam_accuracy


def test_tasks_make_the_pairs_they_promise():
    for source, target in tasks.seq2seq_pairs("sort", 20, 3, 8, "abc", rng=3):
        assert 3 <= len(source) <= 8 and sorted(source) == list(target)
    vocab = Vocabulary(list("abc"))
    source, target, mask = tasks.encode_pairs([("abc", "cba"), ("bca", "ab")], vocab)
    assert source.tolist() == [[4, 5, 6], [5, 6, 4]]
    assert target.tolist() == [[6, 5, 4, 3], [4, 5, 3, 0]]      # <eos> = 3, <pad> = 0
    assert mask.tolist() == [[True] * 4, [True, True, True, False]]
    for batch in tasks.batches_by_source_length(tasks.seq2seq_pairs("reverse", 50, 2, 5, "ab", rng=4), 8, rng=0):
        assert len({len(source) for source, _ in batch}) == 1 and len(batch) <= 8


def test_bad_input_is_reported():
    model = small_model("lstm")
    source, target, mask = random_batch()
    with pytest.raises(ValueError, match="unknown cell"):
        Seq2Seq(V_SRC, V_TGT, cell="lstmm")
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        Seq2Seq(V_SRC, V_TGT, hidden_size=0)
    with pytest.raises(ValueError, match="same batch size"):
        model.loss_and_grads(source[:2], target, mask)
    with pytest.raises(ValueError, match="source holds ids outside"):
        model.loss_and_grads(source + V_SRC, target, mask)
    with pytest.raises(ValueError, match="target must be a 2-D int array"):
        model.loss_and_grads(source, target[0], mask)
    with pytest.raises(ValueError, match="one sequence"):
        model.decoder(source)
    with pytest.raises(ValueError, match="one length"):
        tasks.encode_pairs([("ab", "ba"), ("abc", "cba")], Vocabulary(list("abc")))
    with pytest.raises(ValueError, match="unknown task"):
        tasks.seq2seq_pairs("copy", 3)
