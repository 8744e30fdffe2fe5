"""Residual connections in a deep LSTM language model: gradient reaching the bottom layer, validation loss.

    python benchmarks/residual_depth.py              # about 3 minutes on one core
    python benchmarks/residual_depth.py --quick      # a smoke run (seconds; numbers meaningless)

The same 6-layer character LSTM LM (E = H = 64) on the bundled US names (makemore), trained with
and without ``residual=True`` (h^l = cell_l(h^{l-1}) + h^{l-1} for the layers l >= 2), from the
same initial weights, on the same batches (32 names, Adam 2e-3, global-norm clipping at 5, no
dropout). Printed per model: the gradient norm of each layer's parameters at initialisation and
averaged over training (pre-clipping), the ratio bottom / top layer, and the validation loss in
nats per character after the same numbers of steps; a plain 1-layer LSTM for reference. One
thread (threadpoolctl).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scratchlm.data import load_corpus  # noqa: E402
from scratchlm.data.batching import ItemBatches  # noqa: E402
from scratchlm.metrics import evaluate  # noqa: E402
from scratchlm.models.rnnlm import RNNLM  # noqa: E402
from scratchlm.train.clipping import clip_grad_norm  # noqa: E402
from scratchlm.train.optimizers import Adam  # noqa: E402
from scratchlm.train.prepare import encode_corpus, fit_tokenizer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attention_bottleneck import cpu_description  # noqa: E402


def layer_norms(grads, num_layers):
    """||gradient|| of each recurrent layer's four arrays together, bottom layer first."""
    return np.array([np.sqrt(sum(float((grads[f"rnn.{name}_l{layer}"] ** 2).sum())
                                 for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
                     for layer in range(num_layers)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    checkpoints = [args.steps // 4, args.steps // 2, args.steps]
    if args.quick:
        args.steps, checkpoints = 6, [3, 6]

    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    corpus = load_corpus("makemore-names")
    tokenizer = fit_tokenizer(corpus, "char")
    train_ids, valid_ids, _ = encode_corpus(tokenizer, corpus)
    vocab = tokenizer.vocab
    valid_sequences = [list(ids) + [vocab.eos_id] for ids in valid_ids[:2000]]
    lines = [f"_Run on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, one thread, {cpu_description()}. "
             f"{args.layers}-layer LSTM LM, E = H = 64, {len(train_ids):,} training names, validation on "
             f"{len(valid_sequences):,} names._", "",
             "| model | grad norm per layer at init, bottom -> top | bottom / top at init | bottom / top, mean over training | "
             + " | ".join(f"valid loss after {step} steps" for step in checkpoints) + " | seconds |",
             "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in checkpoints) + " | ---: |"]
    for num_layers, residual in ((args.layers, False), (args.layers, True), (1, False)):
        model = RNNLM(len(vocab), 64, 64, num_layers=num_layers, cell="lstm", seed=0, residual=residual,
                      bos_id=vocab.bos_id, eos_id=vocab.eos_id)
        optimizer = Adam(lr=2e-3)
        batches = ItemBatches(train_ids, 32, shuffle=True, seed=0)
        ratios, losses, step, epoch, initial = [], [], 0, 0, None
        start = time.perf_counter()
        while step < args.steps:
            batches.set_epoch(epoch)
            for inputs, targets, mask in batches:
                _, grads, _ = model.loss_and_grads(inputs, targets, mask=mask)
                norms = layer_norms(grads, num_layers)
                if initial is None:
                    initial = norms
                ratios.append(norms[0] / norms[-1])
                clip_grad_norm(grads, 5.0)
                optimizer.step(model.params, grads)
                step += 1
                if step in checkpoints:
                    losses.append(np.log(evaluate(model.eval(), valid_sequences).perplexity))
                    model.train()
                if step == args.steps:
                    break
            epoch += 1
        label = f"{'residual' if residual else 'plain'} {num_layers}-layer LSTM"
        lines.append(f"| {label} | {', '.join(f'{x:.3f}' for x in initial)} | {initial[0] / initial[-1]:.3f} | "
                     f"{np.mean(ratios):.3f} | " + " | ".join(f"{x:.4f}" for x in losses)
                     + f" | {time.perf_counter() - start:.0f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
