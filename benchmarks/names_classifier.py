"""Finnish or English first name? Sequence classifiers against naive Bayes, and ELMo's layer mix.

    python benchmarks/names_classifier.py            # about 6 minutes on one core
    python benchmarks/names_classifier.py --quick    # a smoke run (seconds; numbers meaningless)

Data: ``scratchlm.tasks.name_origin_splits`` (Finnish name-day names against as many US baby
names, names on both lists dropped; 70/15/15 per class). Every model is chosen and stopped on the
validation split and scored once on the test split.

1. **Naive Bayes** over character n-grams of orders 1..N (N chosen on validation; add-one).
2. **SequenceClassifier** on characters: LSTM, one or two directions, pooling last / mean / max
   (E = 16, H = 32, Adam 5e-3, batches of 32, the epoch with the best validation accuracy).
3. **ELMo features**: a BiLM (2 LSTM layers per direction, E = H = 32, 2000 steps) is trained on *unlabelled*
   names (every US name not in the classification sets, plus the training split's names); the
   classifier (bidirectional LSTM, mean pooling) then reads its frozen layers through a scalar
   mix: all three layers, the embedding layer alone, the top layer alone. The learned softmax
   weights s_j and gamma are printed.

Everything is repeated on ``--splits`` random splits (the test split holds 164 names, so one
split's accuracy moves by a few points with the draw). Prints markdown (accuracy, confusion
table, learned mix weights). One thread (threadpoolctl).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratchlm.data import tasks  # noqa: E402
from scratchlm.data.corpora import datasets_dir, read_lines  # noqa: E402
from scratchlm.models.bilm import BiLM  # noqa: E402
from scratchlm.models.classifier import SequenceClassifier, elmo_layers  # noqa: E402
from scratchlm.ngram.naive_bayes import NaiveBayesClassifier  # noqa: E402
from scratchlm.text.vocab import Vocabulary  # noqa: E402
from scratchlm.train.clipping import clip_grad_norm  # noqa: E402
from scratchlm.train.optimizers import Adam  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attention_bottleneck import cpu_description  # noqa: E402


def encode(names, vocab, frame=False):
    """Padded ids (B, T) and lengths (B,); with frame, <bos> name <eos> as the BiLM reads it."""
    rows = [([vocab.bos_id] if frame else []) + vocab.encode(list(name)) + ([vocab.eos_id] if frame else []) for name in names]
    lengths = np.array([len(row) for row in rows])
    ids = np.full((len(rows), lengths.max()), vocab.pad_id, dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids, lengths


def accuracy(predicted, labels):
    return float(np.mean(np.asarray(predicted) == np.asarray(labels)))


def train_classifier(model, train, valid, make_inputs, epochs, seed):
    """Adam, clipping at 5; returns (the best validation accuracy, its epoch); the model keeps those params."""
    optimizer = Adam(lr=5e-3)
    rng = np.random.default_rng(seed)
    valid_inputs, valid_lengths = make_inputs([name for name, _ in valid])
    valid_labels = [label for _, label in valid]
    best = (-1.0, 0, None)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(train))
        for start in range(0, len(train), 32):
            batch = [train[i] for i in order[start:start + 32]]
            inputs, lengths = make_inputs([name for name, _ in batch])
            _, grads = model.loss_and_grads(inputs, np.array([label for _, label in batch]), lengths)
            clip_grad_norm(grads, 5.0)
            optimizer.step(model.params, grads)
        valid_accuracy = accuracy(model.predict(valid_inputs, valid_lengths), valid_labels)
        if valid_accuracy > best[0]:
            best = (valid_accuracy, epoch, {name: value.copy() for name, value in model.params.items()})
    for name, value in best[2].items():
        model.params[name][...] = value
    return best[0], best[1]


def confusion(predicted, labels):
    table = np.zeros((2, 2), dtype=int)
    for p, y in zip(predicted, labels):
        table[y, p] += 1
    return table


def run_split(seed, args, vocab):
    """Every model on the split drawn with ``seed``: [(label, valid acc, test acc, test predictions, seconds)],
    the test (names, labels), the BiLM line and the learned mix."""
    train, valid, test = tasks.name_origin_splits(seed=seed)
    test_names, test_labels = [n for n, _ in test], [y for _, y in test]
    results = []

    # 1. naive Bayes, its n-gram order chosen on validation
    start = time.perf_counter()
    train_texts, train_labels = [a for a, _ in train], [b for _, b in train]
    best_order = max(range(1, 6), key=lambda n: accuracy(
        NaiveBayesClassifier(n).fit(train_texts, train_labels).predict([a for a, _ in valid]), [b for _, b in valid]))
    nb = NaiveBayesClassifier(best_order).fit(train_texts, train_labels)
    nb_test = nb.predict(test_names)
    results.append(("naive Bayes, character n-grams (n chosen on validation)",
                    accuracy(nb.predict([a for a, _ in valid]), [b for _, b in valid]),
                    accuracy(nb_test, test_labels), nb_test, time.perf_counter() - start))

    # 2. character classifiers
    make_ids = lambda names: encode(names, vocab)  # noqa: E731
    for bidirectional in (False, True):
        for pooling in ("last", "mean", "max"):
            start = time.perf_counter()
            model = SequenceClassifier(len(vocab), 2, embed_dim=16, hidden_size=32, cell="lstm",
                                       bidirectional=bidirectional, pooling=pooling, seed=seed)
            valid_accuracy, _ = train_classifier(model, train, valid, make_ids, args.epochs, seed=seed + 1)
            predicted = model.predict(*make_ids(test_names))
            label = f"{'bidirectional ' if bidirectional else ''}LSTM, {pooling} pooling"
            results.append((label, valid_accuracy, accuracy(predicted, test_labels), predicted, time.perf_counter() - start))
            print(f"split {seed} {label}: {results[-1][1:3]}", file=sys.stderr, flush=True)

    # 3. ELMo: a BiLM on unlabelled names (never the validation or test names), its frozen layers mixed
    start = time.perf_counter()
    held = {name for name, _ in valid + test}
    unlabelled = sorted({name.lower() for name in read_lines(datasets_dir() / "makemore-names" / "names.txt")}
                        | {name for name, _ in train})
    unlabelled = [name for name in unlabelled if name not in held and set(name) <= set(vocab.itos)]
    bilm = BiLM(len(vocab), embed_dim=32, hidden_size=32, num_layers=2, cell="lstm", seed=seed)
    optimizer = Adam(lr=5e-3)
    rng = np.random.default_rng(seed + 2)
    for step in range(args.bilm_steps):
        batch = [unlabelled[i] for i in rng.integers(0, len(unlabelled), 64)]
        _, grads = bilm.loss_and_grads(*encode(batch, vocab, frame=True))
        clip_grad_norm(grads, 5.0)
        optimizer.step(bilm.params, grads)
    forward_loss, backward_loss = bilm.direction_losses(*encode([n for n, _ in valid], vocab, frame=True))
    bilm_line = (f"split {seed}: BiLM on {len(unlabelled):,} unlabelled names, {args.bilm_steps} steps of 64 "
                 f"({time.perf_counter() - start:.0f} s); validation perplexity per character forward "
                 f"{np.exp(forward_loss):.2f}, backward {np.exp(backward_loss):.2f}")

    def features(which):
        def make(names):
            framed, lengths = encode(names, vocab, frame=True)
            layers = elmo_layers(bilm, framed, lengths)
            return [np.asarray(layers[j], dtype=np.float32) for j in which], lengths
        return make

    mix = None
    for label, which in MIXES.items():
        start = time.perf_counter()
        model = SequenceClassifier(None, 2, hidden_size=32, cell="lstm", bidirectional=True, pooling="mean",
                                   feature_layers=len(which), feature_size=64, seed=seed)
        valid_accuracy, _ = train_classifier(model, train, valid, features(which), args.epochs, seed=seed + 1)
        predicted = model.predict(*features(which)(test_names))
        results.append((label, valid_accuracy, accuracy(predicted, test_labels), predicted, time.perf_counter() - start))
        if len(which) == 3:
            mix = model.mix_weights()
        print(f"split {seed} {label}: {results[-1][1:3]}", file=sys.stderr, flush=True)
    return results, (test_names, test_labels), bilm_line, mix


MIXES = {"ELMo features: mix of layers 0, 1, 2": (0, 1, 2), "ELMo features: layer 0 alone (token embedding)": (0,),
         "ELMo features: top layer alone (layer 2)": (2,)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--bilm-steps", type=int, default=2000)
    parser.add_argument("--splits", type=int, default=3, help="random splits to average over (seeds 0, 1, ...)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.bilm_steps, args.splits = 1, 5, 1

    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    train, valid, test = tasks.name_origin_splits(seed=0)
    vocab = Vocabulary(sorted({c for seed in range(args.splits) for split in tasks.name_origin_splits(seed=seed)
                               for name, _ in split for c in name}))
    runs = [run_split(seed, args, vocab) for seed in range(args.splits)]
    lines = [f"_Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, one thread, {cpu_description()}. "
             f"{len(train)} / {len(valid)} / {len(test)} names (train / valid / test) per split, half of each split "
             f"Finnish; {args.splits} random splits, mean and range over them._", "",
             "| model | valid accuracy | test accuracy (mean) | test accuracy (min - max) | seconds per split |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for index, (label, *_rest) in enumerate(runs[0][0]):
        valid_acc = [run[0][index][1] for run in runs]
        test_acc = [run[0][index][2] for run in runs]
        seconds = np.mean([run[0][index][4] for run in runs])
        lines.append(f"| {label} | {np.mean(valid_acc):.3f} | {np.mean(test_acc):.3f} | "
                     f"{min(test_acc):.3f} - {max(test_acc):.3f} | {seconds:.0f} |")
    results, (test_names, test_labels), _, _ = runs[0]
    best = max(results[1:7], key=lambda r: r[1])
    lines += ["", f"Confusion on split 0's test names (rows: true class; columns: predicted), naive Bayes and the "
              f"character classifier with the best validation accuracy on that split ({best[0]}):", "",
              "| true \\ predicted | NB Finnish | NB English | RNN Finnish | RNN English |", "| --- | ---: | ---: | ---: | ---: |"]
    nb_table, rnn_table = confusion(results[0][3], test_labels), confusion(best[3], test_labels)
    for row, name in enumerate(tasks.NAME_ORIGINS):
        lines.append(f"| {name} | {nb_table[row, 0]} | {nb_table[row, 1]} | {rnn_table[row, 0]} | {rnn_table[row, 1]} |")
    lines += [""] + [run[2] + "." for run in runs] + [""]
    lines += [f"split {seed}: learned mix of layers 0, 1, 2: s = {', '.join(f'{x:.3f}' for x in run[3][0])}; "
              f"gamma = {run[3][1]:.3f}." for seed, run in enumerate(runs)]
    wrong = [(name, tasks.NAME_ORIGINS[y]) for name, y, p in zip(test_names, test_labels, best[3]) if p != y]
    lines += ["", f"Split 0's test names that classifier gets wrong ({len(wrong)}): "
              + ", ".join(f"{name} ({origin})" for name, origin in wrong[:20])]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
