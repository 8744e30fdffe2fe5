"""Parity with Hugging Face transformers: its logits processors and its generate().

Runs only where both ``torch`` and ``transformers`` can be imported; neither is a dependency of
scratchlm. The model is table-driven: :class:`toy_lms.HistoryLM` gives every history its own
distribution, and a transformers model wraps the same tables, so both libraries decode exactly
the same model. Hugging Face's beam search sums float32 scores, hence the 1e-5 tolerance there;
the processors are compared in float64.
"""
import numpy as np
import pytest

from scratchlm.beam import beam_search
from scratchlm.processors import ScoreRules
from scratchlm.sampling import apply_temperature, generate, keep_top_k, keep_top_p
from toy_lms import HistoryLM

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from transformers import GenerationMixin, PretrainedConfig, PreTrainedModel  # noqa: E402
from transformers import generation as hf  # noqa: E402
from transformers.modeling_outputs import CausalLMOutput  # noqa: E402


class TableConfig(PretrainedConfig):
    model_type = "scratchlm-table"


class TableLM(PreTrainedModel, GenerationMixin):
    """A transformers causal LM whose next-token logits are log HistoryLM.distribution(history)."""

    config_class = TableConfig

    def __init__(self, config, lm):
        super().__init__(config)
        self.lm = lm
        self.unused = torch.nn.Parameter(torch.zeros(1))  # transformers expects a parameter

    def forward(self, input_ids, attention_mask=None, **kwargs):
        batch, length = input_ids.shape
        logits = torch.zeros((batch, length, self.lm.vocab_size), dtype=torch.float64)
        for row in range(batch):
            with np.errstate(divide="ignore"):
                probs = self.lm.distribution(tuple(input_ids[row].tolist()))
            logits[row, -1] = torch.from_numpy(np.log(probs))
        return CausalLMOutput(logits=logits)

    def prepare_inputs_for_generation(self, input_ids, **kwargs):
        return {"input_ids": input_ids}


def hf_model(lm):
    config = TableConfig(vocab_size=lm.vocab_size, eos_token_id=lm.eos_id, pad_token_id=lm.eos_id)
    return TableLM(config, lm).eval()


def continuation(sequence, prompt, eos_id):
    ids = sequence[len(prompt):].tolist()
    return ids[: ids.index(eos_id)] if eos_id in ids else ids


def random_scores(rng, batch, vocab_size):
    scores = rng.normal(scale=2.0, size=(batch, vocab_size))
    scores[rng.random(scores.shape) < 0.1] = -np.inf
    scores[:, 0] = rng.normal(size=batch)  # never a whole row of -inf
    return scores


@pytest.mark.parametrize("seed", range(10))
def test_processors_and_warpers_match_hugging_face(seed):
    rng = np.random.default_rng(seed)
    batch, vocab_size, eos = 4, 12, 3
    scores = random_scores(rng, batch, vocab_size)
    sequences = rng.integers(0, vocab_size, size=(batch, 7))
    sequences[:, -3:-1] = sequences[0, 1:3]  # make repeated n-grams and bad-word prefixes occur
    prompt_len, num_generated = 3, 4
    options = dict(repetition_penalty=float(rng.choice([0.7, 1.3, 2.0])), no_repeat_ngram_size=int(rng.integers(1, 4)),
                   bad_words_ids=[[int(rng.integers(vocab_size))], sequences[0, 1:4].tolist()],
                   min_new_tokens=int(rng.integers(3, 6)), suppress_tokens=[int(rng.integers(vocab_size))])
    ours = ScoreRules.build(vocab_size, eos_id=eos, **options).apply(scores, sequences, num_generated)

    processors = hf.LogitsProcessorList([
        hf.RepetitionPenaltyLogitsProcessor(options["repetition_penalty"]),
        hf.NoRepeatNGramLogitsProcessor(options["no_repeat_ngram_size"]),
        hf.NoBadWordsLogitsProcessor(options["bad_words_ids"], eos_token_id=eos),
        hf.MinNewTokensLengthLogitsProcessor(prompt_len, options["min_new_tokens"], eos_token_id=eos),
        hf.SuppressTokensLogitsProcessor(options["suppress_tokens"]),
    ])
    theirs = processors(torch.from_numpy(sequences), torch.from_numpy(scores.copy())).numpy()
    np.testing.assert_array_equal(np.isneginf(ours), np.isneginf(theirs))
    np.testing.assert_allclose(ours[np.isfinite(ours)], theirs[np.isfinite(theirs)], rtol=1e-12)

    temperature, top_k, top_p, keep = (float(rng.choice([0.5, 1.0, 1.7])), int(rng.integers(1, 8)),
                                       float(rng.choice([0.3, 0.8, 0.95])), int(rng.integers(1, 4)))
    warped = keep_top_p(keep_top_k(apply_temperature(ours, temperature), top_k, keep), top_p, keep)
    warpers = hf.LogitsProcessorList([hf.TemperatureLogitsWarper(temperature),
                                      hf.TopKLogitsWarper(top_k, min_tokens_to_keep=keep),
                                      hf.TopPLogitsWarper(top_p, min_tokens_to_keep=keep)])
    theirs = warpers(torch.from_numpy(sequences), torch.from_numpy(ours.copy())).numpy()
    np.testing.assert_array_equal(np.isneginf(warped), np.isneginf(theirs))
    # Ours is shifted by the row maximum (see apply_temperature); the probabilities agree.
    np.testing.assert_allclose(torch.softmax(torch.from_numpy(warped), -1).numpy(),
                               torch.softmax(torch.from_numpy(theirs), -1).numpy(), atol=1e-12)


def test_top_p_boundary_example_matches_hugging_face():
    scores = np.log([[0.5, 0.2, 0.2, 0.1]])
    theirs = hf.TopPLogitsWarper(0.9)(None, torch.from_numpy(scores.copy())).numpy()
    np.testing.assert_array_equal(np.isneginf(keep_top_p(scores, 0.9)), np.isneginf(theirs))


@pytest.mark.parametrize("seed", range(4))
def test_greedy_generation_with_processors_matches_hugging_face(seed):
    lm = HistoryLM(vocab_size=8, eos_id=3, seed=seed)
    prompt = [1, 0, 1]
    options = dict(repetition_penalty=1.5, no_repeat_ngram_size=2, min_new_tokens=3, bad_words_ids=[[5], [2, 4]],
                   suppress_tokens=[6])
    [ours] = generate(lm, prompt, max_len=7, greedy=True, **options)
    out = hf_model(lm).generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=7, use_cache=False, **options)
    assert ours == continuation(out[0], prompt, lm.eos_id)


@pytest.mark.parametrize("early_stopping", [False, True, "never"])
@pytest.mark.parametrize("length_penalty", [0.0, 1.0, 2.0, -0.5])
@pytest.mark.parametrize("seed", range(5))
def test_beam_search_matches_hugging_face(seed, length_penalty, early_stopping):
    lm = HistoryLM(vocab_size=9, eos_id=2, seed=100 + seed)
    prompt, num_beams = [4, 1], 3
    ours = beam_search(lm, prompt, beam_width=num_beams, max_len=6, n_best=num_beams,
                       length_penalty=length_penalty, early_stopping=early_stopping)
    out = hf_model(lm).generate(torch.tensor([prompt]), do_sample=False, num_beams=num_beams,
                                num_return_sequences=num_beams, max_new_tokens=6, length_penalty=length_penalty,
                                early_stopping=early_stopping, use_cache=False, output_scores=True,
                                return_dict_in_generate=True)
    assert [ids for ids, _ in ours] == [continuation(s, prompt, lm.eos_id) for s in out.sequences]
    np.testing.assert_allclose([score for _, score in ours], out.sequences_scores.numpy(), rtol=1e-5)


def test_beam_search_with_processors_matches_hugging_face():
    lm = HistoryLM(vocab_size=9, eos_id=2, seed=7)
    prompt = [4, 1]
    options = dict(repetition_penalty=1.4, no_repeat_ngram_size=2, min_new_tokens=2, suppress_tokens=[8])
    ours = beam_search(lm, prompt, beam_width=3, max_len=6, n_best=3, length_penalty=1.0, **options)
    out = hf_model(lm).generate(torch.tensor([prompt]), do_sample=False, num_beams=3, num_return_sequences=3,
                                max_new_tokens=6, use_cache=False, output_scores=True,
                                return_dict_in_generate=True, **options)
    assert [ids for ids, _ in ours] == [continuation(s, prompt, lm.eos_id) for s in out.sequences]
    np.testing.assert_allclose([score for _, score in ours], out.sequences_scores.numpy(), rtol=1e-5)
