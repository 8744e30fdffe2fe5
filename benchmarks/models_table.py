"""Validation perplexity of the fixed-window neural LM, n-gram baselines and the RNN LM, on the same data.

One command reproduces the table in docs/models.md::

    python benchmarks/models_table.py                          # both corpora (about 10 minutes, one core)
    python benchmarks/models_table.py --corpus finnish-names   # one corpus
    python benchmarks/models_table.py --quick                  # a smoke run (seconds; numbers meaningless)

What is compared
----------------
Every model sees the same character vocabulary (fitted on the training split) and is measured on
the validation split by the same code, :mod:`scratchlm.metrics`, through the
:class:`~scratchlm.lm.LanguageModel` interface:

* Finnish names (items): each name is scored from ``<bos>``; its characters and its ``<eos>`` are
  predicted and counted (``metrics.evaluate``).
* Tiny Shakespeare (a stream): the validation text is cut into 16 contiguous pieces scored side by
  side, each from the start state (``metrics.evaluate_stream``), every character counted.

The neural models are trained by the same loop (:class:`scratchlm.train.loop.Trainer`: Adam, global
norm clipping at 5): full BPTT over batches of names; truncated BPTT over windows of 64 characters
of the stream, the state (for the window LM, the previous n-1 characters) carried from window to
window. The n-gram models are counted on the training split; their smoothing constants are the
library's defaults. Sizes and epochs are in ``CONFIGS`` below; wall-clock times are for one core
and are printed next to each row.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratchlm import metrics  # noqa: E402
from scratchlm.data import load_corpus  # noqa: E402
from scratchlm.models.rnnlm import RNNLM  # noqa: E402
from scratchlm.models.window_lm import WindowLM  # noqa: E402
from scratchlm.text.char import CharTokenizer  # noqa: E402
from scratchlm.text.vocab import Vocabulary  # noqa: E402
from scratchlm.train.loop import TrainConfig, Trainer  # noqa: E402

CORPORA = ("finnish-names", "tinyshakespeare")

# Names are read from <bos> and end with <eos>; an RNNLM scores from <bos> only when told its id
# (without it, its start state is the zero state, as for a stream).
NAME_MARKERS = dict(bos_id=Vocabulary.bos_id, eos_id=Vocabulary.eos_id)

# corpus -> (training settings, [(row label, model factory taking the vocabulary size)])
CONFIGS = {
    "finnish-names": (
        dict(epochs=15, batch_size=32, lr=5e-3),
        [
            ("window LM, n=3, E=16, H=64", lambda V: WindowLM(V, context_size=3, embed_dim=16, hidden_size=64)),
            ("window LM, n=5, E=16, H=64", lambda V: WindowLM(V, context_size=5, embed_dim=16, hidden_size=64)),
            ("window LM, n=5, E=16, H=64, direct", lambda V: WindowLM(V, context_size=5, embed_dim=16, hidden_size=64, direct=True)),
            ("RNN LM, LSTM, E=16, H=64", lambda V: RNNLM(V, 16, 64, cell="lstm", **NAME_MARKERS)),
            ("RNN LM, LSTM, E=32, H=128, dropout 0.3", lambda V: RNNLM(V, 32, 128, cell="lstm", dropout=0.3, **NAME_MARKERS)),
        ],
    ),
    "tinyshakespeare": (
        dict(epochs=3, batch_size=32, bptt=64, lr=2e-3),
        [
            ("window LM, n=8, E=16, H=256", lambda V: WindowLM(V, context_size=8, embed_dim=16, hidden_size=256)),
            ("window LM, n=8, E=16, H=256, direct", lambda V: WindowLM(V, context_size=8, embed_dim=16, hidden_size=256, direct=True)),
            ("window LM, n=16, E=16, H=256", lambda V: WindowLM(V, context_size=16, embed_dim=16, hidden_size=256)),
            ("RNN LM, LSTM, E=32, H=256", lambda V: RNNLM(V, 32, 256, cell="lstm")),
        ],
    ),
}


def load(corpus_name: str, quick: bool):
    """The tokenizer, the encoded train and validation splits, and the corpus kind."""
    corpus = load_corpus(corpus_name)
    tokenizer = CharTokenizer.fit(corpus.train)
    if corpus.kind == "lines":
        train = [tokenizer.encode(item, unknown="unk") for item in corpus.train]
        valid = [tokenizer.encode(item, unknown="unk") for item in corpus.valid]
    else:
        train = tokenizer.encode(corpus.train, unknown="unk")
        valid = tokenizer.encode(corpus.valid, unknown="unk")
    if quick:
        train, valid = train[: len(train) // 50 + 10], valid[: len(valid) // 20 + 5]
    return tokenizer, train, valid, corpus.kind


def measure(model, valid, kind: str, eos_id: int) -> metrics.EvaluationResult:
    """Validation NLL through the LanguageModel interface, as the module docstring describes."""
    if kind == "lines":
        return metrics.evaluate(model, [list(item) + [eos_id] for item in valid])
    return metrics.evaluate_stream(model, valid, num_pieces=16)


# corpus -> [(method, order)]: n-gram models beyond scratchlm.ngram.baselines' standard three
EXTRA_NGRAMS = {
    "finnish-names": [("mkn", 2), ("mkn", 4)],
    "tinyshakespeare": [("mkn", 7), ("mkn", 9)],
}


def ngram_rows(corpus_name: str, train, valid, kind: str, vocab):
    """(label, result, seconds to score, number of stored n-grams) for the n-gram baselines.

    The standard baselines (add-one bigram, modified Kneser-Ney 3- and 5-gram) come from
    :func:`scratchlm.ngram.baselines.baseline_models`: names are counted as sentences framed by
    <s> ... </s>, the stream as one unbroken sequence, as the neural models read them.
    """
    from scratchlm.ngram.baselines import baseline_models
    from scratchlm.ngram.fit import METHOD_NAMES, fit_ngram

    start = time.perf_counter()
    models = baseline_models(train, kind, vocab)
    for method, order in EXTRA_NGRAMS[corpus_name]:
        if kind == "lines":
            model = fit_ngram(train, order, method, vocab=vocab)
        else:
            model = fit_ngram([train], order, method, vocab_size=len(vocab), bos_id=None, eos_id=None)
        models.append((f"{METHOD_NAMES[method]} {order}-gram", model))
    print(f"  fitting {len(models)} n-gram models took {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    rows = []
    for label, model in sorted(models, key=lambda pair: (pair[1].method != "laplace", pair[1].order)):
        start = time.perf_counter()
        result = measure(model, valid, kind, vocab.eos_id)
        seconds = time.perf_counter() - start
        rows.append((label, result, seconds, sum(model.num_ngrams())))
        print(f"  {label}: val ppl {result.perplexity:.3f} in {seconds:.0f} s", file=sys.stderr, flush=True)
    return rows


def neural_rows(corpus_name: str, train, valid, kind: str, tokenizer, quick: bool):
    settings, factories = CONFIGS[corpus_name]
    if quick:
        settings = {**settings, "epochs": 1}
    rows = []
    for label, factory in factories:
        model = factory(len(tokenizer.vocab))
        start = time.perf_counter()
        Trainer(model, tokenizer.to_json(), train, valid, kind, TrainConfig(**settings),
                progress=False, report_epochs=False).fit()
        trained = time.perf_counter() - start
        model.eval()
        result = measure(model, valid, kind, tokenizer.vocab.eos_id)
        label = f"{label} ({settings['epochs']} epoch{'s' if settings['epochs'] > 1 else ''})"
        rows.append((label, result, trained, model.num_parameters()))
        print(f"  {label}: val ppl {result.perplexity:.3f} after {trained:.0f} s", file=sys.stderr, flush=True)
    return rows


def table(corpus_name: str, kind: str, rows) -> str:
    unit = "nats/char" if kind == "stream" else "nats/token"
    lines = [f"### {corpus_name}", "",
             f"| model | parameters (n-gram: stored n-grams) | validation perplexity | {unit} | bits/token | time (s): train (n-gram: score) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for label, result, seconds, parameters in rows:
        count = "-" if parameters is None else f"{parameters:,}"
        lines.append(f"| {label} | {count} | {result.perplexity:.3f} | {result.nll_per_token:.4f} | "
                     f"{result.bits_per_token:.4f} | {seconds:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=CORPORA + ("all",), default="all")
    parser.add_argument("--quick", action="store_true", help="tiny data and one epoch: a smoke run")
    parser.add_argument("--skip-ngram", action="store_true", help="leave out the n-gram baselines")
    args = parser.parse_args(argv)
    for corpus_name in CORPORA if args.corpus == "all" else (args.corpus,):
        print(f"{corpus_name} ...", file=sys.stderr, flush=True)
        tokenizer, train, valid, kind = load(corpus_name, args.quick)
        rows = [] if args.skip_ngram else ngram_rows(corpus_name, train, valid, kind, tokenizer.vocab)
        rows += neural_rows(corpus_name, train, valid, kind, tokenizer, args.quick)
        print(table(corpus_name, kind, rows) + "\n", flush=True)
    print(f"(one core: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
