"""scratchlm's n-gram models on Mikolov's Penn Treebank: KenLM parity, speed, and every method.

    python benchmarks/ngram_ptb.py                         # reads ../shared/datasets/ptb
    python benchmarks/ngram_ptb.py PATH/TO/ptb --kenlm-bin ~/kenlm/build/bin --nltk-sentences 8
    python benchmarks/ngram_ptb.py --table-only wb,kn         # part 3 only, for some methods

What it prints (markdown, also written to --out):

1. **KenLM parity** of ``mkn`` (interpolated modified Kneser-Ney) for orders 2-5: validation and
   test perplexities next to KenLM lmplz's (reference numbers measured with lmplz, and live lmplz +
   query when --kenlm-bin has them), their relative differences, and the discounts.
   PTB's literal ``<unk>`` is an ordinary word of its closed 10k vocabulary, and one ``</s>`` is
   scored per line. KenLM 0.3.0 refuses a literal ``<unk>`` in its input, so the live run renames
   it; lmplz then also keeps its own zero-count ``<unk>``: one outcome more (10,001) in its uniform
   floor than ours (10,000). lmplz also feeds one n-gram per lower order into its counts of counts
   with its raw count instead of its adjusted count (the last n-gram flushed by AdjustCounts),
   which moves that order's D3+ slightly. The "lmplz conventions" column reproduces both (its
   extra outcome and its counting) and shows what is left: float rounding.
2. **Speed**, one thread (threadpoolctl): KN5 fit (vocabulary, counting, probabilities) plus
   test-set evaluation, and test scoring alone, best of 3; lmplz + query on the same data in the
   same run; NLTK's ``KneserNeyInterpolated(3)`` fit, and its per-word time and perplexity on
   the first few test sentences (next to ours on the same sentences).
3. **Every method's test perplexity for orders 1-5** (``interp`` takes its EM held-out data
   from the validation split).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratchlm.ngram import METHOD_NAMES, METHODS, build_vocabulary, fit_ngram  # noqa: E402
from scratchlm.ngram.counting import NGramCounts, pad_sentences  # noqa: E402
from scratchlm.ngram.fit import encode_sentences  # noqa: E402
from scratchlm.ngram.kneser_ney import adjusted_counts, modified_discounts  # noqa: E402
from scratchlm.text.vocab import Vocabulary  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "ptb"
# KenLM lmplz (-S 1G, no pruning) + query on PTB, <unk> an ordinary word, as measured with KenLM 0.3.0.
KENLM_REFERENCE = {2: (199.02, 185.70), 3: (157.77, 148.28), 4: (149.90, 142.72), 5: (148.01, 141.19)}
KENLM_REFERENCE_DISCOUNTS = {1: (0.2566, 0.8289, 1.2649), 5: (0.9597, 1.3879, 1.2417)}  # of the 5-gram model


def read_ptb(folder: Path) -> dict:
    splits = {}
    for split in ("train", "valid", "test"):
        path = folder / f"ptb.{split}.txt"
        if not path.exists():
            raise SystemExit(f"{path} not found: give the PTB folder as the first argument")
        with open(path, encoding="utf-8") as f:
            splits[split] = [line.split() for line in f if line.strip()]
    return splits


def best_of(repeats: int, function):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def perplexities(model, data) -> tuple[float, float]:
    return tuple(model.perplexity([model.encode(s) for s in data[split]]) for split in ("valid", "test"))


# --------------------------------------------------------------------- lmplz's conventions
def lmplz_discounts(train, order: int, vocab: Vocabulary) -> list[tuple]:
    """Modified-KN discounts counted the way lmplz 0.3.0 counts them.

    lmplz numbers words by first appearance (<unk> 0, <s> 1, </s> 2), pads each sentence with
    N-1 <s>, sorts the N-grams by their last word first, and, after its loop over them, flushes
    the suffixes of the last N-gram into the counts of counts with their raw counts (its
    ``actual_counts``) where every other lower-order n-gram enters with its adjusted count.
    """
    ids, _ = encode_sentences(train, vocab, None)
    counts = NGramCounts(ids, order, len(vocab), vocab.bos_id, vocab.eos_id, never_predicted=[vocab.pad_id])
    adjusted = adjusted_counts(counts)
    # lmplz's word numbers: by first appearance in the training text
    flat = np.concatenate([np.asarray(s) for s in ids])
    words, first = np.unique(flat, return_index=True)
    kenlm_id = np.zeros(len(vocab), dtype=np.int64)
    kenlm_id[words[np.argsort(first)]] = 3 + np.arange(len(words))
    kenlm_id[vocab.bos_id], kenlm_id[vocab.eos_id] = 1, 2
    # every N-gram window ending at a predicted token, <s>-padded on the left
    tokens, depth = pad_sentences(ids, vocab.bos_id, vocab.eos_id)
    ends = np.flatnonzero(depth > 0)
    windows = np.full((len(ends), order), vocab.bos_id, dtype=np.int64)
    for back in range(order):
        inside = depth[ends] >= back
        windows[inside, order - 1 - back] = tokens[ends[inside] - back]
    as_kenlm = kenlm_id[windows]
    last = windows[np.lexsort(tuple(as_kenlm[:, j] for j in range(order)))[-1]]  # last key sorts first
    discounts = []
    for n in range(1, order + 1):
        a = adjusted[n - 1].copy()
        suffix = last[order - n:]
        if n < order and suffix[0] != vocab.bos_id:
            row = _find(counts, suffix)
            a[row] = counts.table(n).counts[row]  # the flushed n-gram's raw count
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            discounts.append(tuple(modified_discounts(a, n)[0][1:]))
    return discounts


def _find(counts, ngram) -> int:
    row = int(ngram[0])
    for n, word in enumerate(ngram[1:], start=2):
        row = int(np.searchsorted(counts.table(n).keys, row * counts.vocab_size + int(word)))
    return row


def lmplz_vocabulary(train) -> Vocabulary:
    """Our closed PTB vocabulary plus one never-seen type: lmplz's own zero-count <unk>."""
    return Vocabulary(build_vocabulary(train).itos[4:] + ["<lmplz-unk>"])


# -------------------------------------------------------------------------- live KenLM
def run_kenlm(bin_dir: Path, folder: Path, order: int, workdir: Path, repeats: int):
    """(valid ppl, test ppl, discounts, lmplz seconds, query seconds) from KenLM's own binaries."""
    for split in ("train", "valid", "test"):
        target = workdir / f"{split}.txt"
        if not target.exists():  # KenLM 0.3.0 refuses a literal <unk>: rename it to an ordinary word
            text = (folder / f"ptb.{split}.txt").read_text(encoding="utf-8")
            target.write_text(text.replace("<unk>", "PTB_UNK"), encoding="utf-8")
    arpa = workdir / f"kn{order}.arpa"
    command = [str(bin_dir / "lmplz"), "-o", str(order), "-S", "1G", "-T", str(workdir)]
    lmplz_seconds, log = float("inf"), ""
    for _ in range(repeats):
        start = time.perf_counter()
        with open(workdir / "train.txt", "rb") as source, open(arpa, "wb") as sink:
            done = subprocess.run(command, stdin=source, stdout=sink, stderr=subprocess.PIPE, check=True)
        lmplz_seconds = min(lmplz_seconds, time.perf_counter() - start)
        log = done.stderr.decode()
    discounts = [tuple(float(x) for x in m) for m in re.findall(r"D1=(\S+) D2=(\S+) D3\+=(\S+)", log)]
    result, query_seconds = [], None
    for split in ("valid", "test"):
        start = time.perf_counter()
        with open(workdir / f"{split}.txt", "rb") as source:
            out = subprocess.run([str(bin_dir / "query"), "-v", "summary", str(arpa)], stdin=source,
                                 capture_output=True, check=True).stdout.decode()
        if split == "test":
            query_seconds = time.perf_counter() - start
        result.append(float(re.search(r"Perplexity including OOVs:\s*(\S+)", out).group(1)))
    return result[0], result[1], discounts, lmplz_seconds, query_seconds


def relative(a: float, b: float) -> str:
    return f"{abs(a - b) / b:.1e}"


def discount_text(triple) -> str:
    return " / ".join(f"{d:.4f}" for d in triple)


# ----------------------------------------------------------------------------- sections
def parity_section(data, folder, bin_dir, orders, lines):
    lines += ["## Modified Kneser-Ney (`mkn`) against KenLM lmplz", "",
              "| order | split | scratchlm | KenLM (issue, to 0.01) | rel. diff | KenLM (live) | rel. diff | "
              "scratchlm, lmplz conventions | rel. diff to live |",
              "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    discount_rows = []
    workdir = Path(tempfile.mkdtemp(prefix="ngram_ptb_"))
    lmplz_vocab = lmplz_vocabulary(data["train"])
    for order in orders:
        model = fit_ngram(data["train"], order, "mkn")
        ours = perplexities(model, data)
        live = run_kenlm(bin_dir, folder, order, workdir, repeats=1) if bin_dir else None
        conventional = fit_ngram(data["train"], order, "mkn", vocab=lmplz_vocab,
                                 discounts=lmplz_discounts(data["train"], order, lmplz_vocab))
        theirs = perplexities(conventional, data)
        for index, split in enumerate(("valid", "test")):
            row = [str(order), split, f"{ours[index]:.4f}", f"{KENLM_REFERENCE[order][index]:.2f}",
                   relative(ours[index], KENLM_REFERENCE[order][index])]
            row += [f"{live[index]:.4f}", relative(ours[index], live[index])] if live else ["-", "-"]
            row += [f"{theirs[index]:.4f}", relative(theirs[index], live[index]) if live else "-"]
            lines.append("| " + " | ".join(row) + " |")
        for n, triple in enumerate(model.info["discounts"], start=1):
            kenlm_triple = live[2][n - 1] if live else KENLM_REFERENCE_DISCOUNTS.get(n) if order == 5 else None
            discount_rows.append((order, n, triple, conventional.info["discounts"][n - 1], kenlm_triple))
        print(f"  mkn order {order}: ours {ours}, lmplz conventions {theirs}, live {live and live[:2]}",
              file=sys.stderr, flush=True)
    lines += ["", "Discounts D1 / D2 / D3+ per order n of each model:", "",
              "| model order | n | scratchlm | scratchlm, lmplz counting | lmplz |", "| ---: | ---: | --- | --- | --- |"]
    for order, n, ours, conventional, kenlm in discount_rows:
        lines.append(f"| {order} | {n} | {discount_text(ours)} | {discount_text(conventional)} | "
                     f"{discount_text(kenlm) if kenlm else '-'} |")
    shutil.rmtree(workdir, ignore_errors=True)
    lines.append("")


def speed_section(data, folder, bin_dir, nltk_sentences, lines):
    num_test_tokens = sum(len(s) + 1 for s in data["test"])

    def fit_and_evaluate():
        model = fit_ngram(data["train"], 5, "mkn")
        return model, model.perplexity([model.encode(s) for s in data["test"]])

    fit_eval_seconds, (model, test_ppl) = best_of(3, fit_and_evaluate)
    fit_seconds, _ = best_of(3, lambda: fit_ngram(data["train"], 5, "mkn"))
    encode_score_seconds, _ = best_of(3, lambda: model.perplexity([model.encode(s) for s in data["test"]]))
    test_ids = [model.encode(s) for s in data["test"]]
    score_seconds, _ = best_of(3, lambda: model.perplexity(test_ids))
    per_word_ours = score_seconds / num_test_tokens
    lines += ["## Speed (one thread)", "",
              f"PTB train: {sum(map(len, data['train'])):,} words in {len(data['train']):,} sentences; "
              f"test: {num_test_tokens:,} predicted tokens (words and one </s> per line). Best of 3.", "",
              "| what | seconds | per scored token |", "| --- | ---: | ---: |",
              f"| scratchlm KN5 fit (read tokens -> vocabulary, counts, probabilities) | {fit_seconds:.2f} | |",
              f"| scratchlm KN5 fit + test evaluation (perplexity {test_ppl:.2f}) | {fit_eval_seconds:.2f} | |",
              f"| scratchlm test scoring, tokens -> ids -> perplexity | {encode_score_seconds:.3f} | "
              f"{encode_score_seconds / num_test_tokens * 1e6:.2f} us |",
              f"| scratchlm test scoring, ids -> perplexity | {score_seconds:.3f} | {per_word_ours * 1e6:.2f} us |"]
    if bin_dir:
        workdir = Path(tempfile.mkdtemp(prefix="ngram_ptb_speed_"))
        _, _, _, lmplz_seconds, query_seconds = run_kenlm(bin_dir, folder, 5, workdir, repeats=3)
        lines += [f"| KenLM lmplz -o 5 -S 1G (writes the ARPA file) | {lmplz_seconds:.2f} | |",
                  f"| KenLM query on the test set (loads the ARPA file, then scores) | {query_seconds:.2f} | |"]
        shutil.rmtree(workdir, ignore_errors=True)
    if nltk_sentences:
        try:
            from nltk.lm import KneserNeyInterpolated
            from nltk.lm.preprocessing import padded_everygram_pipeline
        except ImportError:
            lines.append("| NLTK KneserNeyInterpolated | (nltk not installed) | |")
        else:
            start = time.perf_counter()
            grams, vocabulary = padded_everygram_pipeline(3, data["train"])
            nltk_model = KneserNeyInterpolated(3)  # its default discount, 0.1
            nltk_model.fit(grams, vocabulary)
            nltk_fit = time.perf_counter() - start
            sample = data["test"][:nltk_sentences]
            start = time.perf_counter()
            log2_total, num_scored = 0.0, 0
            for sentence in sample:  # <s> <s> w_1 .. w_m </s>: the words and one </s> are scored
                padded = ["<s>", "<s>"] + sentence + ["</s>"]
                for i in range(2, len(padded)):
                    log2_total += nltk_model.logscore(padded[i], padded[i - 2:i])
                    num_scored += 1
            nltk_score = time.perf_counter() - start
            per_word_nltk = nltk_score / num_scored
            trigram = fit_ngram(data["train"], 3, "mkn")
            kn_01 = fit_ngram(data["train"], 3, "kn", discount=0.1)
            sample_ids = lambda m: [m.encode(s) for s in sample]
            lines += [f"| NLTK KneserNeyInterpolated(3) fit | {nltk_fit:.1f} | |",
                      f"| NLTK KneserNeyInterpolated(3) scoring the first {len(sample)} test sentences "
                      f"({num_scored} tokens) | {nltk_score:.1f} | {per_word_nltk * 1e3:.1f} ms |",
                      "", f"scratchlm scores a token {per_word_nltk / per_word_ours:,.0f} times faster than NLTK's "
                      "Kneser-Ney (and at order 5, not 3).", "",
                      f"Trigram perplexities on those {len(sample)} sentences: NLTK KneserNeyInterpolated(3) "
                      f"(discount 0.1) {2 ** (-log2_total / num_scored):.2f}; scratchlm `kn` with D = 0.1 "
                      f"{kn_01.perplexity(sample_ids(kn_01)):.2f}; scratchlm `mkn` (KenLM's model) "
                      f"{trigram.perplexity(sample_ids(trigram)):.2f}."]
    lines.append("")


def methods_section(data, lines, methods=METHODS):
    lines += ["## Every method's PTB test perplexity", "",
              "| method | order 1 | order 2 | order 3 | order 4 | order 5 |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for method in methods:
        cells = []
        for order in range(1, 6):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = fit_ngram(data["train"], order, method, heldout=data["valid"] if method == "interp" else None)
            ppl = model.perplexity([model.encode(s) for s in data["test"]])
            cells.append(f"{ppl:.2f}" if np.isfinite(ppl) else "inf")
        lines.append(f"| {METHOD_NAMES[method]} (`{method}`) | " + " | ".join(cells) + " |")
        print(f"  {method}: {cells}", file=sys.stderr, flush=True)
    lines.append("")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA), help="folder with ptb.{train,valid,test}.txt")
    parser.add_argument("--kenlm-bin", default=None, help="folder holding KenLM's lmplz and query (default: PATH)")
    parser.add_argument("--orders", default="2,3,4,5", help="mkn orders for the parity table")
    parser.add_argument("--nltk-sentences", type=int, default=8,
                        help="test sentences NLTK scores, for its time and perplexity (0: skip)")
    parser.add_argument("--skip-table", action="store_true", help="leave out the every-method table")
    parser.add_argument("--table-only", default=None, metavar="METHODS",
                        help="only the every-method table, for these comma-separated methods (e.g. wb,kn)")
    parser.add_argument("--out", default=None, help="also write the markdown here")
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    folder = Path(args.data)
    data = read_ptb(folder)
    lmplz = Path(args.kenlm_bin) / "lmplz" if args.kenlm_bin else Path(shutil.which("lmplz") or "/nonexistent")
    bin_dir = lmplz.parent if lmplz.exists() and (lmplz.parent / "query").exists() else None
    lines = [f"_Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
             f"KenLM binaries: {'yes' if bin_dir else 'no'}._", ""]
    if args.table_only:
        methods_section(data, lines, args.table_only.split(","))
    else:
        parity_section(data, folder, bin_dir, [int(o) for o in args.orders.split(",")], lines)
        speed_section(data, folder, bin_dir, args.nltk_sentences, lines)
        if not args.skip_table:
            methods_section(data, lines)
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
