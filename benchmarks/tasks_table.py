"""Accuracy of the encoder-decoder and the bidirectional tagger on their small tasks.

    python benchmarks/tasks_table.py            # about a minute on one core
    python benchmarks/tasks_table.py --quick    # a smoke run

Seq2seq (LSTM encoder -> LSTM decoder, E=16, H=64, Adam lr 1e-2, batches of 32 bucketed by
source length): reverse and sort strings of 3-8 letters over "abcdefgh". Accuracy is the exact
match of the whole output on 300 held-out strings that never occur in training, decoded greedily
(``scratchlm.sampling.generate(greedy=True)``) and with beam search of width 4
(``scratchlm.beam.beam_search``); "per letter" compares position by position.

Tagger (1-layer bidirectional LSTM, E=16, H=32): tag every letter that equals its left or right
neighbour, on generated strings over "abcd" and on the bundled Finnish names (where a doubled
letter is a long sound). Compared with the best rule that reads only leftwards (tag a letter
when it repeats the previous one), which is the ceiling of any left-to-right tagger on the
generated task.

BiLM (ELMo's pair, 1 LSTM layer per direction, E=16, H=64, Adam lr 5e-3, 15 epochs): validation
perplexity per predicted character of Finnish names, read forwards and read backwards.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratchlm import beam, sampling  # noqa: E402
from scratchlm.data import tasks  # noqa: E402
from scratchlm.data import load_corpus  # noqa: E402
from scratchlm.models.bilm import BiLM  # noqa: E402
from scratchlm.models.seq2seq import Seq2Seq  # noqa: E402
from scratchlm.models.tagger import BiRNNTagger  # noqa: E402
from scratchlm.text.char import CharTokenizer  # noqa: E402
from scratchlm.text.vocab import Vocabulary  # noqa: E402
from scratchlm.train.optimizers import Adam  # noqa: E402

ALPHABET = "abcdefgh"


def seq2seq_row(task: str, steps: int, held_out_count: int):
    vocab = Vocabulary(list(ALPHABET))
    held_out = sorted(set(tasks.seq2seq_pairs(task, held_out_count, 3, 8, ALPHABET, rng=1)))
    held_out_sources = {source for source, _ in held_out}
    train = [p for p in tasks.seq2seq_pairs(task, 40000, 3, 8, ALPHABET, rng=0) if p[0] not in held_out_sources]
    model = Seq2Seq(len(vocab), len(vocab), embed_dim=16, hidden_size=64, cell="lstm", seed=0)
    optimizer = Adam(lr=1e-2)
    start = time.perf_counter()
    for batch in tasks.batches_by_source_length(train, 32, rng=0)[:steps]:
        source, target, mask = tasks.encode_pairs(batch, vocab)
        _, grads = model.loss_and_grads(source, target, mask)
        optimizer.step(model.params, grads)
    seconds = time.perf_counter() - start

    scores = {}
    for name, width in (("greedy", 1), ("beam 4", 4)):
        exact, letters, total_letters = 0, 0, 0
        for source, target in held_out:
            decoder = model.decoder(vocab.encode(list(source)))
            if width == 1:
                ids = sampling.generate(decoder, greedy=True, max_len=len(source) + 3)[0]
            else:
                ids = beam.beam_search(decoder, beam_width=width, max_len=len(source) + 3)[0][0]
            output = "".join(vocab.decode(ids))
            exact += output == target
            letters += sum(a == b for a, b in zip(output, target))
            total_letters += len(target)
        scores[name] = (exact / len(held_out), letters / total_letters)
    return len(held_out), seconds, scores


def tagging_accuracy(model, words, vocab):
    inputs, tags, lengths = tasks.encode_tagging(words, vocab)
    real = np.arange(inputs.shape[1])[None, :] < lengths[:, None]
    predicted = model.predict(inputs, lengths)
    lowered, _, _ = tasks.encode_tagging([word.lower() for word in words], vocab)
    repeats_left = np.zeros_like(tags)
    repeats_left[:, 1:] = lowered[:, 1:] == lowered[:, :-1]
    return (predicted == tags)[real].mean(), (repeats_left == tags)[real].mean(), tags[real].mean()


def tagger_row(train_words, test_words, epochs: int):
    vocab = Vocabulary(sorted(set("".join(train_words + test_words)) | set("".join(train_words + test_words).lower())))
    model = BiRNNTagger(len(vocab), 2, embed_dim=16, hidden_size=32, cell="lstm", seed=0)
    optimizer = Adam(lr=1e-2)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(train_words))
        for first in range(0, len(order), 32):
            inputs, tags, lengths = tasks.encode_tagging([train_words[i] for i in order[first:first + 32]], vocab)
            _, grads = model.loss_and_grads(inputs, tags, lengths)
            optimizer.step(model.params, grads)
    seconds = time.perf_counter() - start
    return seconds, tagging_accuracy(model, test_words, vocab)


def framed(items, vocab):
    """<bos> w_1 .. w_n <eos> rows, padded, and their lengths n + 2."""
    lengths = np.array([len(item) + 2 for item in items])
    rows = np.full((len(items), lengths.max()), vocab.pad_id)
    for row, item in enumerate(items):
        rows[row, : len(item) + 2] = [vocab.bos_id, *item, vocab.eos_id]
    return rows, lengths


def bilm_row(epochs: int):
    corpus = load_corpus("finnish-names")
    tokenizer = CharTokenizer.fit(corpus.train)
    train = [tokenizer.encode(name, unknown="unk") for name in corpus.train]
    valid = [tokenizer.encode(name, unknown="unk") for name in corpus.valid]
    model = BiLM(len(tokenizer.vocab), embed_dim=16, hidden_size=64, num_layers=1, cell="lstm", seed=0)
    optimizer = Adam(lr=5e-3)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(train))
        for first in range(0, len(order), 32):
            _, grads = model.loss_and_grads(*framed([train[i] for i in order[first:first + 32]], tokenizer.vocab))
            optimizer.step(model.params, grads)
    seconds = time.perf_counter() - start
    forward_nll, backward_nll = model.direction_losses(*framed(valid, tokenizer.vocab))
    return seconds, np.exp(forward_nll), np.exp(backward_nll)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    steps, held_out, epochs = (50, 30, 1) if args.quick else (1500, 300, 30)

    print("| seq2seq task | training | held-out strings | greedy exact / per letter | beam 4 exact / per letter |")
    print("| --- | --- | ---: | ---: | ---: |")
    for task in tasks.SEQ2SEQ_TASKS:
        count, seconds, scores = seq2seq_row(task, steps, held_out)
        cells = " | ".join(f"{exact:.1%} / {letters:.1%}" for exact, letters in scores.values())
        print(f"| {task} | {steps} steps of 32, {seconds:.0f} s | {count} | {cells} |", flush=True)

    print()
    print("| tagging data | training | tagger accuracy | left-only rule | share tagged 1 |")
    print("| --- | --- | ---: | ---: | ---: |")
    generated_train = tasks.random_strings(200 if args.quick else 6400, 4, 10, "abcd", rng=0)
    generated_test = tasks.random_strings(300, 4, 10, "abcd", rng=1)
    seconds, (accuracy, left_only, ones) = tagger_row(generated_train, generated_test, 1)
    print(f"| generated, 4 letters, lengths 4-10 | 1 epoch, {seconds:.0f} s | {accuracy:.1%} | {left_only:.1%} | {ones:.1%} |", flush=True)
    corpus = load_corpus("finnish-names")
    seconds, (accuracy, left_only, ones) = tagger_row(list(corpus.train), list(corpus.valid) + list(corpus.test), epochs)
    print(f"| Finnish names (train 600, test 150) | {epochs} epochs, {seconds:.0f} s | {accuracy:.1%} | {left_only:.1%} | {ones:.1%} |")

    print()
    print("| BiLM on Finnish names | training | validation perplexity, forward LM | backward LM |")
    print("| --- | --- | ---: | ---: |")
    bilm_epochs = 1 if args.quick else 15
    seconds, forward_perplexity, backward_perplexity = bilm_row(bilm_epochs)
    print(f"| 1 LSTM layer per direction, H=64 | {bilm_epochs} epochs, {seconds:.0f} s | "
          f"{forward_perplexity:.3f} | {backward_perplexity:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
