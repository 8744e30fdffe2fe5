"""Finnish or English first name? Sequence classifiers against naive Bayes, and ELMo's layer mix.

    python benchmarks/names_classifier.py            # about 5 minutes on one core
    python benchmarks/names_classifier.py --quick    # a smoke run (seconds; numbers meaningless)

Data: ``scratchlm.tasks.name_origin_splits`` (Finnish name-day names against as many US baby
names, names on both lists dropped; 70/15/15 per class). Every model is chosen and stopped on the
validation split and scored once on the test split.

1. **Naive Bayes** over character n-grams of orders 1..N (N chosen on validation; add-one).
2. **SequenceClassifier** on characters: LSTM, one or two directions, pooling last / mean / max
   (E = 16, H = 32, Adam 5e-3, batches of 32, the epoch with the best validation accuracy).
3. **ELMo features**: a BiLM (2 LSTM layers per direction, E = H = 32) is trained on *unlabelled*
   names (every US name not in the classification sets, plus the training split's names); the
   classifier (bidirectional LSTM, mean pooling) then reads its frozen layers through a scalar
   mix: all three layers, the embedding layer alone, the top layer alone. The learned softmax
   weights s_j and gamma are printed.

Prints markdown (accuracy, confusion table). One thread (threadpoolctl).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratchlm import tasks  # noqa: E402
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--bilm-steps", type=int, default=600)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.bilm_steps = 1, 5

    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    train, valid, test = tasks.name_origin_splits(seed=0)
    test_names, test_labels = [n for n, _ in test], [y for _, y in test]
    lines = [f"_Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, one thread, {cpu_description()}. "
             f"{len(train)} / {len(valid)} / {len(test)} names (train / valid / test), half of each split Finnish._", ""]
    results = []          # (label, valid accuracy, test accuracy, test predictions, seconds)

    # 1. naive Bayes
    start = time.perf_counter()
    best_order = max(range(1, 6), key=lambda n: accuracy(
        NaiveBayesClassifier(n).fit([a for a, _ in train], [b for _, b in train]).predict([a for a, _ in valid]),
        [b for _, b in valid]))
    nb = NaiveBayesClassifier(best_order).fit([a for a, _ in train], [b for _, b in train])
    nb_valid = accuracy(nb.predict([a for a, _ in valid]), [b for _, b in valid])
    nb_test = nb.predict(test_names)
    results.append((f"naive Bayes, character 1..{best_order}-grams", nb_valid, accuracy(nb_test, test_labels), nb_test,
                    time.perf_counter() - start))

    # 2. character classifiers
    letters = sorted({c for name, _ in train + valid + test for c in name})
    vocab = Vocabulary(letters)
    make_ids = lambda names: encode(names, vocab)  # noqa: E731
    for bidirectional in (False, True):
        for pooling in ("last", "mean", "max"):
            start = time.perf_counter()
            model = SequenceClassifier(len(vocab), 2, embed_dim=16, hidden_size=32, cell="lstm",
                                       bidirectional=bidirectional, pooling=pooling, seed=0)
            valid_accuracy, _ = train_classifier(model, train, valid, make_ids, args.epochs, seed=1)
            predicted = model.predict(*make_ids(test_names))
            label = f"{'bidirectional ' if bidirectional else ''}LSTM, {pooling} pooling"
            results.append((label, valid_accuracy, accuracy(predicted, test_labels), predicted, time.perf_counter() - start))
            print(f"{label}: {results[-1][1:3]}", file=sys.stderr, flush=True)

    # 3. ELMo: a BiLM on unlabelled names, its frozen layers through a scalar mix
    start = time.perf_counter()
    held = {name for name, _ in valid + test}
    unlabelled = sorted({name.lower() for name in read_lines(datasets_dir() / "makemore-names" / "names.txt")}
                        | {name for name, _ in train})
    unlabelled = [name for name in unlabelled if name not in held and set(name) <= set(letters)]
    bilm = BiLM(len(vocab), embed_dim=32, hidden_size=32, num_layers=2, cell="lstm", seed=0)
    optimizer = Adam(lr=5e-3)
    rng = np.random.default_rng(2)
    for step in range(args.bilm_steps):
        batch = [unlabelled[i] for i in rng.integers(0, len(unlabelled), 64)]
        _, grads = bilm.loss_and_grads(*encode(batch, vocab, frame=True))
        clip_grad_norm(grads, 5.0)
        optimizer.step(bilm.params, grads)
    valid_framed = encode([n for n, _ in valid], vocab, frame=True)
    forward_loss, backward_loss = bilm.direction_losses(*valid_framed)
    bilm_seconds = time.perf_counter() - start
    lines_bilm = (f"BiLM: {len(unlabelled):,} unlabelled names, {args.bilm_steps} steps of 64 names ({bilm_seconds:.0f} s); "
                  f"perplexity per character on the validation names: forward {np.exp(forward_loss):.2f}, "
                  f"backward {np.exp(backward_loss):.2f}.")

    def features(which):
        def make(names):
            framed, lengths = encode(names, vocab, frame=True)
            layers = elmo_layers(bilm, framed, lengths)
            return [np.asarray(layers[j], dtype=np.float32) for j in which], lengths
        return make

    mixes = {"ELMo mix of layers 0, 1, 2": (0, 1, 2), "ELMo layer 0 alone (token embedding)": (0,),
             "ELMo top layer alone (layer 2)": (2,)}
    learned = {}
    for label, which in mixes.items():
        start = time.perf_counter()
        model = SequenceClassifier(None, 2, hidden_size=32, cell="lstm", bidirectional=True, pooling="mean",
                                   feature_layers=len(which), feature_size=64, seed=0)
        valid_accuracy, _ = train_classifier(model, train, valid, features(which), args.epochs, seed=1)
        predicted = model.predict(*features(which)(test_names))
        results.append((label, valid_accuracy, accuracy(predicted, test_labels), predicted, time.perf_counter() - start))
        learned[label] = model.mix_weights()
        print(f"{label}: {results[-1][1:3]}", file=sys.stderr, flush=True)

    lines += ["| model | valid accuracy | test accuracy | seconds |", "| --- | ---: | ---: | ---: |"]
    for label, valid_accuracy, test_accuracy, _, seconds in results:
        lines.append(f"| {label} | {valid_accuracy:.3f} | {test_accuracy:.3f} | {seconds:.0f} |")
    best = max(results[1:7], key=lambda r: r[1])
    lines += ["", f"Confusion on the test split (rows: true class; columns: predicted), for naive Bayes and for the "
              f"character classifier with the best validation accuracy ({best[0]}):", "",
              "| true \\ predicted | NB Finnish | NB English | RNN Finnish | RNN English |", "| --- | ---: | ---: | ---: | ---: |"]
    nb_table, rnn_table = confusion(nb_test, test_labels), confusion(best[3], test_labels)
    for row, name in enumerate(tasks.NAME_ORIGINS):
        lines.append(f"| {name} | {nb_table[row, 0]} | {nb_table[row, 1]} | {rnn_table[row, 0]} | {rnn_table[row, 1]} |")
    s, gamma = learned["ELMo mix of layers 0, 1, 2"]
    lines += ["", lines_bilm, "",
              f"Learned scalar mix (layers 0, 1, 2): s = {', '.join(f'{x:.3f}' for x in s)}; gamma = {gamma:.3f}."]
    wrong = [(name, tasks.NAME_ORIGINS[y]) for name, y, p in zip(test_names, test_labels, best[3]) if p != y]
    lines += ["", f"Test names the best character classifier gets wrong ({len(wrong)}): "
              + ", ".join(f"{name} ({origin})" for name, origin in wrong[:20])]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
