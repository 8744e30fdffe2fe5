"""Generation throughput: scratchlm's decoding loops against the same loops written with PyTorch.

    python benchmarks/bench_generation.py            # the three tasks below, 5 rounds
    python benchmarks/bench_generation.py --quick    # tiny sizes, 1 round (a smoke run)
    python benchmarks/bench_generation.py --backend numba   # scratchlm on another backend

What is measured
----------------
Three tasks on character LSTMs with random weights (the decoding cost does not depend on
training; the ``<eos>`` bias is raised so that names end after about 7 characters, as trained
names do):

* ``names``: 1000 fresh names (empty prompt, T = 1, at most 20 characters) from the main job's
  model size: V = 34, embed 32, hidden 128, one LSTM layer;
* ``stream``: 8 continuations of 200 characters after a 20-character prompt from a
  tiny-Shakespeare-sized model: V = 65, embed 64, hidden 256, two LSTM layers, no ``<eos>``;
* ``beam``: beam search (5 beams, at most 20 characters, length_penalty 1, early_stopping
  False) for 10 one-letter prompts of the names model.

scratchlm runs ``scratchlm.sampling.generate`` / ``scratchlm.beam.beam_search`` on ``RNNLM``
(its interface methods ``start``, ``log_probs``, ``advance``, ``select``); all n samples are
one batch, one forward step per token. The reference is the same decoding loop written with
PyTorch modules (``nn.Embedding -> nn.LSTM -> nn.Linear`` holding the same weights), the same
float64 log-softmax, special tokens masked, ``torch.multinomial`` for the draw, rows that end
removed, ``torch.topk`` for the beam. Both sides run one thread (``threadpoolctl`` for NumPy's
BLAS, ``torch.set_num_threads(1)``, ``numba.set_num_threads(1)``). Rounds are interleaved so a
slow spell of a shared machine hits both; the ratio (PyTorch time / scratchlm time, > 1: scratchlm
faster) is taken within each round and the median reported.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scratchlm import backend  # noqa: E402
from scratchlm.beam import beam_search  # noqa: E402
from scratchlm.models import RNNLM  # noqa: E402
from scratchlm.sampling import generate  # noqa: E402
from scratchlm.text.vocab import Vocabulary  # noqa: E402

EOS_BIAS = 1.5  # added to the decoder bias of <eos>: with V = 34, P(<eos>) is about 0.12


def build_models(vocab_size, embed, hidden, layers, with_eos, seed=0):
    """An RNNLM with random weights and a PyTorch module with the same weights."""
    import torch
    from torch import nn

    vocab = Vocabulary([chr(ord("!") + i) for i in range(vocab_size - 4)])
    model = RNNLM(vocab_size, embed_dim=embed, hidden_size=hidden, num_layers=layers, cell="lstm", seed=seed,
                  bos_id=vocab.bos_id if with_eos else None, eos_id=vocab.eos_id if with_eos else None).eval()
    model.vocab = vocab
    state = model.state_dict()
    if with_eos:
        state["decoder.bias"] = state["decoder.bias"].copy()
        state["decoder.bias"][vocab.eos_id] += EOS_BIAS
        model.load_state_dict(state)

    class TorchLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab_size, embed)
            self.rnn = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
            self.decoder = nn.Linear(hidden, vocab_size)

        def step(self, tokens, hidden_state):
            """tokens (B,) -> float64 log-probabilities (B, V) and the new (h, c)."""
            output, hidden_state = self.rnn(self.embedding(tokens[:, None]), hidden_state)
            return torch.log_softmax(self.decoder(output[:, 0]).double(), dim=-1), hidden_state

    reference = TorchLM().eval()
    reference.load_state_dict({name: torch.from_numpy(np.asarray(value)) for name, value in state.items()})
    return model, reference, vocab


def torch_warm_up(reference, vocab, prompt, with_eos, rows):
    """log-probs (rows, V) and state after <bos> and the prompt, copied to ``rows`` rows."""
    import torch

    hidden_state, logp = None, None
    tokens = ([vocab.bos_id] if with_eos else []) + list(prompt)
    for token in tokens:
        logp, hidden_state = reference.step(torch.tensor([token]), hidden_state)
    if logp is None:  # a stream model without <bos>: zero state, uniform first token
        logp = torch.full((1, len(vocab)), -np.log(len(vocab)), dtype=torch.float64)
    if hidden_state is not None:
        hidden_state = tuple(h.expand(-1, rows, -1).contiguous() for h in hidden_state)
    return logp.expand(rows, -1), hidden_state


def torch_sample(reference, vocab, prompt, n, max_len, with_eos, seed):
    """The sampling loop of scratchlm.sampling.generate, with PyTorch tensors."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    banned = [vocab.pad_id, vocab.unk_id, vocab.bos_id]
    with torch.no_grad():
        logp, hidden_state = torch_warm_up(reference, vocab, prompt, with_eos, n)
        going = torch.arange(n)
        sequences = torch.zeros((n, 0), dtype=torch.int64)
        results = [None] * n
        for step in range(max_len):
            scores = logp.clone()
            scores[:, banned] = -torch.inf
            tokens = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=generator)[:, 0]
            sequences = torch.cat([sequences, tokens[:, None]], dim=1)
            ended = tokens == vocab.eos_id if with_eos else torch.zeros(len(tokens), dtype=torch.bool)
            if step + 1 == max_len:
                ended[:] = True
            for row in torch.nonzero(ended)[:, 0].tolist():
                results[going[row]] = sequences[row].tolist()
            if bool(ended.all()):
                break
            keep = torch.nonzero(~ended)[:, 0]
            going, tokens, sequences = going[keep], tokens[keep], sequences[keep]
            if hidden_state is not None:
                hidden_state = tuple(h[:, keep] for h in hidden_state)
            logp, hidden_state = reference.step(tokens, hidden_state)
    return results


def torch_beam(reference, vocab, prompt, k, max_len, alpha):
    """The standard beam search of scratchlm.beam (early_stopping=False), with PyTorch tensors."""
    import torch

    banned = [vocab.pad_id, vocab.unk_id, vocab.bos_id]
    with torch.no_grad():
        logp, hidden_state = torch_warm_up(reference, vocab, prompt, True, 1)
        sequences = torch.zeros((1, 0), dtype=torch.int64)
        scores = torch.zeros(1, dtype=torch.float64)
        finished = []
        for step in range(max_len):
            logp = logp.clone()
            logp[:, banned] = -torch.inf
            candidates = (scores[:, None] + logp).reshape(-1)
            totals, flat = torch.topk(candidates, min(2 * k, candidates.numel()))
            rows, tokens = flat // len(vocab), flat % len(vocab)
            ends = (tokens == vocab.eos_id) | (step + 1 == max_len)
            for rank in range(min(k, len(flat))):
                if ends[rank]:
                    ids = sequences[rows[rank]].tolist() + ([] if tokens[rank] == vocab.eos_id else [int(tokens[rank])])
                    finished.append((ids, float(totals[rank]) / (step + 1) ** alpha))
            finished = sorted(finished, key=lambda h: -h[1])[:k]
            going = torch.nonzero(~ends)[:, 0][:k]
            if len(going) == 0:
                break
            rows, tokens, scores = rows[going], tokens[going], totals[going]
            sequences = torch.cat([sequences[rows], tokens[:, None]], dim=1)
            if len(finished) == k and float(scores[0]) / (step + 1) ** alpha <= finished[-1][1]:
                break
            hidden_state = tuple(h[:, rows] for h in hidden_state)
            logp, hidden_state = reference.step(tokens, hidden_state)
    return finished


def tasks(quick: bool):
    scale = 0.1 if quick else 1.0
    names_size = dict(vocab_size=34, embed=32, hidden=128, layers=1, with_eos=True)
    stream_size = dict(vocab_size=65, embed=64, hidden=256, layers=2, with_eos=False)
    if quick:
        names_size.update(embed=8, hidden=16)
        stream_size.update(embed=8, hidden=16)
    num_names, stream_len, prompts = int(1000 * scale), int(200 * scale), 10 if not quick else 2
    model, reference, vocab = build_models(**names_size)
    stream_model, stream_reference, stream_vocab = build_models(**stream_size)
    stream_prompt = stream_vocab.encode(list("First Citizen: Befor"))
    letters = [vocab.encode([c])[0] for c in "!#%')+-/13"[:prompts]]
    return {
        "names": (f"{num_names} names, LSTM {names_size['embed']}/{names_size['hidden']}, V 34",
                  lambda: generate(model, [], n=num_names, max_len=20, rng=0),
                  lambda: torch_sample(reference, vocab, [], num_names, 20, True, 0)),
        "stream": (f"8 x {stream_len} chars, 2-layer LSTM {stream_size['embed']}/{stream_size['hidden']}, V 65",
                   lambda: generate(stream_model, stream_prompt, n=8, max_len=stream_len, rng=0),
                   lambda: torch_sample(stream_reference, stream_vocab, stream_prompt, 8, stream_len, False, 0)),
        "beam": (f"beam 5 x {prompts} prompts, names model",
                 lambda: [beam_search(model, [p], beam_width=5, max_len=20, length_penalty=1.0) for p in letters],
                 lambda: [torch_beam(reference, vocab, [p], 5, 20, 1.0) for p in letters]),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    parser.add_argument("--backend", choices=backend.available(), default=None,
                        help="scratchlm's backend (default: the active one, SCRATCHLM_BACKEND or numpy)")
    args = parser.parse_args(argv)
    previous = backend.name()
    if args.backend is not None:
        backend.use(args.backend)
    try:
        return measure(args)
    finally:
        backend.use(previous)


def measure(args) -> int:
    """Run every task on both sides, print the table and write the JSON; the backend is already chosen."""
    import numba
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    numba.set_num_threads(1)
    rounds = 1 if args.quick else args.rounds
    results = {}
    with threadpool_limits(1):
        for name, (description, ours, theirs) in tasks(args.quick).items():
            ours(), theirs()  # warm-up: compiles and caches
            times = {"scratchlm": [], "pytorch": []}
            for round_index in range(rounds):
                order = [("scratchlm", ours), ("pytorch", theirs)][:: 1 if round_index % 2 == 0 else -1]
                for side, run in order:
                    start = time.perf_counter()
                    run()
                    times[side].append(time.perf_counter() - start)
            ratios = [t / s for s, t in zip(times["scratchlm"], times["pytorch"])]
            results[name] = dict(description=description, scratchlm_s=statistics.median(times["scratchlm"]),
                                 pytorch_s=statistics.median(times["pytorch"]), ratio=statistics.median(ratios))
    print(f"backend {backend.name()}, {platform.processor() or platform.machine()}, 1 thread, {rounds} rounds")
    print(f"{'task':<8} {'what':<46} {'scratchlm':>10} {'PyTorch':>10} {'ratio':>7}")
    for name, row in results.items():
        print(f"{name:<8} {row['description']:<46} {row['scratchlm_s']:>9.3f}s {row['pytorch_s']:>9.3f}s "
              f"{row['ratio']:>6.2f}x")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
