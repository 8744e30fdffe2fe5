"""Why attention exists: an encoder-decoder with and without attention, exact match against source length.

    python benchmarks/attention_bottleneck.py                 # about 5 minutes on one core
    python benchmarks/attention_bottleneck.py --quick         # a smoke run (seconds; numbers meaningless)

Two generated tasks, no external data:

* **reverse**: strings of 4-30 letters from a 10-letter alphabet, reversed. The first output letter
  is the last input letter, so without attention the encoder's final state must hold the whole
  string: the bottleneck.
* **dates**: dates in twelve human formats ("Tuesday, 3 March 1998", "03.03.1998", ...) to ISO
  form (``scratchlm.tasks.date_pairs``).

The same LSTM encoder-decoder (E = 32, H = 64) is trained with ``attention=None`` and with
``attention="general"`` (Luong's q . W k), for the same number of Adam steps (global-norm clipping at
5), on batches that share a source length. It is then scored on held-out sources never seen in
training: the share of outputs that are exactly right, per source length, decoded greedily
(``scratchlm.sampling.generate(greedy=True)``) and by beam search (``scratchlm.beam.beam_search``,
width 5). It writes docs/img/attention_bottleneck.png (accuracy against length) and
docs/img/attention_reverse.png, docs/img/attention_dates.png (attention heat maps), and prints a
markdown table. One thread (threadpoolctl).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratchlm import beam, plot, sampling  # noqa: E402
from scratchlm.data import tasks  # noqa: E402
from scratchlm.models.seq2seq import Seq2Seq  # noqa: E402
from scratchlm.text.vocab import Vocabulary  # noqa: E402
from scratchlm.train.clipping import clip_grad_norm  # noqa: E402
from scratchlm.train.optimizers import Adam  # noqa: E402

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
ALPHABET = "abcdefghij"


def cpu_description() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    model = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines() if line.startswith("Model name")), "?")
    flags = next((line.split(":", 1)[1].split() for line in lscpu.splitlines() if line.startswith("Flags")), [])
    present = [flag for flag in ("avx512f", "avx2", "fma") if flag in flags]
    return f"{model} ({', '.join(present) or 'no avx512f/avx2/fma'})"


def train(model, pairs, vocab, steps, batch_size, seed):
    optimizer = Adam(lr=3e-3)
    losses, step, epoch = [], 0, 0
    start = time.perf_counter()
    while step < steps:
        for batch in tasks.batches_by_source_length(pairs, batch_size, rng=seed + epoch):
            source, target, mask = tasks.encode_pairs(batch, vocab)
            loss, grads = model.loss_and_grads(source, target, mask)
            clip_grad_norm(grads, 5.0)
            optimizer.step(model.params, grads)
            losses.append(loss)
            step += 1
            if step == steps:
                break
        epoch += 1
    return float(np.mean(losses[-50:])), time.perf_counter() - start


def decode(model, vocab, source, beam_width, max_len):
    decoder = model.decoder(vocab.encode(list(source)))
    if beam_width == 1:
        ids = sampling.generate(decoder, greedy=True, max_len=max_len)[0]
    else:
        ids = beam.beam_search(decoder, beam_width=beam_width, max_len=max_len)[0][0]
    return "".join(vocab.decode(ids))


def accuracy_by_length(model, vocab, held_out, beam_width, max_len):
    """length -> share of exact matches among the held-out pairs of that source length."""
    model.eval()
    by_length = {}
    for source, target in held_out:
        by_length.setdefault(len(source), []).append(decode(model, vocab, source, beam_width, max_len(source)) == target)
    model.train()
    return {length: float(np.mean(hits)) for length, hits in sorted(by_length.items())}


def heatmap(model, vocab, source, path, title):
    model.eval()
    output = decode(model, vocab, source, 1, 40)
    target = np.array([vocab.encode(list(output)) + [vocab.eos_id]])
    weights = model.attention_weights(np.array([vocab.encode(list(source))]), target)[0]
    fig = plot.attention_heatmap(weights, list(source), list(output) + ["<eos>"], title=title)
    fig.savefig(path, dpi=110)
    model.train()
    return output


def run_task(name, train_pairs, held_out, vocab, args, lines, max_len, curves):
    held_out_sources = {source for source, _ in held_out}
    train_pairs = [pair for pair in train_pairs if pair[0] not in held_out_sources]
    models = {}
    for attention in (None, "general"):
        label = "attention (general)" if attention else "no attention"
        model = Seq2Seq(len(vocab), len(vocab), embed_dim=32, hidden_size=64, cell="lstm", seed=0, attention=attention)
        final_loss, seconds = train(model, train_pairs, vocab, args.steps, args.batch_size, seed=1)
        models[attention] = model
        results = {}
        for width in (1, 5):
            start = time.perf_counter()
            results[width] = accuracy_by_length(model, vocab, held_out, width, max_len)
            print(f"{name} {label} beam {width}: {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        overall = {width: float(np.mean([hit for hit in acc.values()])) for width, acc in results.items()}
        lines.append(f"| {name} | {label} | {model.num_parameters():,} | {final_loss:.3f} | {seconds:.0f} | "
                     f"{overall[1]:.3f} | {overall[5]:.3f} |")
        for width, key in ((1, "greedy"), (5, "beam 5")):
            curves[f"{name}, {label}, {key}"] = results[width]
    return models


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2500, help="Adam steps per model (default 2500)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--per-length", type=int, default=30, help="held-out reversal strings per length")
    parser.add_argument("--quick", action="store_true", help="a smoke run: few steps, few held-out strings")
    parser.add_argument("--no-figures", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.per_length = 20, 2

    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    lines = [f"_Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, one thread, {cpu_description()}; "
             f"{args.steps} Adam steps of {args.batch_size} pairs per model._", "",
             "| task | model | parameters | final train loss | train s | greedy exact match | beam-5 exact match |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    curves = {}

    reverse_vocab = Vocabulary(list(ALPHABET))
    lengths = list(range(4, 31, 2))
    held_out = []
    rng = np.random.default_rng(123)
    for length in lengths:
        for source in tasks.random_strings(args.per_length, length, length, ALPHABET, rng):
            held_out.append((source, source[::-1]))
    train_pairs = tasks.seq2seq_pairs("reverse", 60000, 4, 30, ALPHABET, rng=0)
    reverse_models = run_task("reverse", train_pairs, held_out, reverse_vocab, args, lines,
                              lambda source: len(source) + 2, curves)

    date_train = tasks.date_pairs(60000, rng=0)
    date_held = tasks.date_pairs(600 if not args.quick else 20, rng=99)
    date_vocab = Vocabulary(sorted({c for source, target in date_train + date_held for c in source + target}))
    date_models = run_task("dates", date_train, date_held, date_vocab, args, lines, lambda source: 12, curves)

    labels = [label for label in curves if label.startswith("reverse")]
    lines += ["", "Reversal, exact match by source length (held-out strings):", "",
              "| length | " + " | ".join(label.split(", ", 1)[1] for label in labels) + " |",
              "| ---: | " + " | ".join("---:" for _ in labels) + " |"]
    for length in lengths:
        lines.append(f"| {length} | " + " | ".join(f"{curves[label][length]:.2f}" for label in labels) + " |")
    text = "\n".join(lines)
    print(text)
    if not args.no_figures:
        IMG.mkdir(parents=True, exist_ok=True)
        reverse_curves = {label.split(", ", 1)[1]: [curve[length] for length in lengths]
                          for label, curve in curves.items() if label.startswith("reverse")}
        fig = plot.accuracy_by_length(lengths, reverse_curves,
                                      title="reversing strings: LSTM encoder-decoder, H = 64, held-out strings")
        fig.savefig(IMG / "attention_bottleneck.png", dpi=110)
        example = tasks.random_strings(1, 24, 24, ALPHABET, rng=7)[0]
        out = heatmap(reverse_models["general"], reverse_vocab, example, IMG / "attention_reverse.png",
                      "attention while reversing a 24-letter string")
        print(f"\nreverse heat map: {example} -> {out}")
        source = "Saturday, 21 October 2073"
        out = heatmap(date_models["general"], date_vocab, source, IMG / "attention_dates.png",
                      "attention while writing a date in ISO form")
        print(f"dates heat map: {source} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
