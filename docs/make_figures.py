"""Make the figures the README shows, into docs/img/ (about a minute on one CPU core).

    python docs/make_figures.py

1. gradient_norms.png      ||dL/dh_t|| against the distance from the loss: Elman RNN vs LSTM
2. temperatures.png        a character LSTM trained on the names as items: its next letter after
                           "Ma" at T = 0.5, 1, 2
3. names_temperatures.png  the main job (``scratchlm train``, run here): a line of names
                           continuing "Aadolf" at the lecture's seven temperatures, and what each
                           temperature does to the names, measured (scratchlm.names_stats)

Everything comes from the engine itself (scratchlm.layers, models, train, sampling, plot) and the
bundled Finnish names; fixed seeds make the figures the same on every run on one machine.
"""
from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from scratchlm import plot  # noqa: E402
from scratchlm.cli import main as scratchlm_main  # noqa: E402
from scratchlm.names_stats import LECTURE_TEMPERATURES, temperature_rows  # noqa: E402
from scratchlm.data import load_corpus  # noqa: E402
from scratchlm.layers.lstm import lstm_step_backward, lstm_step_forward  # noqa: E402
from scratchlm.layers.rnn import rnn_step_backward, rnn_step_forward  # noqa: E402
from scratchlm.models import RNNLM  # noqa: E402
from scratchlm.sampling import warm_up  # noqa: E402
from scratchlm.train.checkpoint import load_trained_model  # noqa: E402
from scratchlm.train.loop import Trainer, TrainConfig  # noqa: E402
from scratchlm.train.prepare import encode_corpus, fit_tokenizer  # noqa: E402

OUT = Path(__file__).resolve().parent / "img"
DPI = 90


def gradient_norms_figure(hidden: int = 64, steps: int = 100):
    """Walk a unit gradient back from h_T through an Elman RNN and two LSTMs (layer step functions)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 1.0, (1, steps, hidden))
    q, _ = np.linalg.qr(rng.normal(size=(hidden, hidden)))
    bound = 1 / np.sqrt(hidden)
    norms = {}
    for scale in (1.0, 3.0):
        params = {"weight_ih": rng.normal(0, 0.1, (hidden, hidden)), "weight_hh": scale * q,
                  "bias_ih": np.zeros(hidden), "bias_hh": np.zeros(hidden)}
        h, caches = np.zeros((1, hidden)), []
        for t in range(steps):
            h, cache = rnn_step_forward(x[:, t], h, params)
            caches.append(cache)
        dh, curve = np.ones((1, hidden)) / np.sqrt(hidden), []
        for cache in reversed(caches):
            curve.append(np.linalg.norm(dh))
            _, dh, _ = rnn_step_backward(dh, cache)
        norms[f"Elman RNN, W_hh = {scale:g} x orthogonal"] = curve
    for forget_bias in (0.0, 3.0):
        params = {"weight_ih": rng.uniform(-bound, bound, (4 * hidden, hidden)),
                  "weight_hh": rng.uniform(-bound, bound, (4 * hidden, hidden)),
                  "bias_ih": rng.uniform(-bound, bound, 4 * hidden),
                  "bias_hh": rng.uniform(-bound, bound, 4 * hidden)}
        params["bias_ih"][hidden : 2 * hidden] += forget_bias
        state, caches = None, []
        for t in range(steps):
            state, cache = lstm_step_forward(x[:, t], state, params)
            caches.append(cache)
        dh, dc, curve = np.ones((1, hidden)) / np.sqrt(hidden), np.zeros((1, hidden)), []
        for cache in reversed(caches):
            curve.append(np.linalg.norm(dh))
            _, (dh, dc), _ = lstm_step_backward((dh, dc), cache)
        norms[f"LSTM, forget-gate bias +{forget_bias:g}"] = curve
    return plot.gradient_norm_through_time(norms, title="vanishing and exploding gradients (notebook 4)")


def train_names_model():
    corpus = load_corpus("finnish-names")
    tokenizer = fit_tokenizer(corpus, "char")
    train, valid, _ = encode_corpus(tokenizer, corpus)
    vocab = tokenizer.vocab
    model = RNNLM(len(tokenizer), embed_dim=32, hidden_size=128, cell="lstm", dropout=0.2, seed=0,
                  bos_id=vocab.bos_id, eos_id=vocab.eos_id)
    config = TrainConfig(epochs=40, batch_size=32, optimizer="adam", lr=3e-3, clip_norm=5.0,
                         lr_schedule="plateau", patience=10)
    Trainer(model, tokenizer.to_json(), train, valid, "lines", config, progress=False).fit()
    return model.eval(), tokenizer


def temperatures_figure(model, tokenizer, context: str = "Ma", letters: int = 12):
    """The model's distribution of the letter after ``context``, restricted to its top letters."""
    log_probs = model.log_probs(warm_up(model, tokenizer.encode(context)))[0]
    top = np.argsort(-log_probs)[:letters]
    labels = [tokenizer.vocab.itos[i].replace("<eos>", "end") for i in top]
    return plot.temperature_distributions(
        log_probs[top], [0.5, 1.0, 2.0], labels=labels,
        title=f"the letter after '{context}': a character LSTM cooled (T = 0.5) and warmed (T = 2)")


def main_job_model():
    """Run the main job (``scratchlm train``, quietly) and load the model it keeps."""
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(io.StringIO()):
        assert scratchlm_main(["train", "--no-progress", "--out", folder]) == 0
        model, tokenizer, _ = load_trained_model(Path(folder) / "model.npz")
    return model, tokenizer


def names_temperatures_figure(model, tokenizer):
    """The main job's seven temperatures: a line continuing "Aadolf" at each, and their statistics."""
    rows = temperature_rows(model, tokenizer, load_corpus("finnish-names", kind="stream"), LECTURE_TEMPERATURES)
    stats = [row.statistics for row in rows]
    percentages = {
        "distinct names per 100": [s.distinct_per_100 for s in stats],
        "training names %": [s.training_percent for s in stats],
        "new names %": [s.new_percent for s in stats],
        "misspelt %": [s.misspelt_percent for s in stats],
    }
    return plot.temperature_study(
        LECTURE_TEMPERATURES, [row.continuing for row in rows], percentages, [s.mean_entropy_bits for s in stats],
        title="scratchlm train: the calendar as one text; names continuing 'Aadolf' at seven temperatures")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    figures = {"gradient_norms.png": gradient_norms_figure()}
    model, tokenizer = train_names_model()
    figures["temperatures.png"] = temperatures_figure(model, tokenizer)
    figures["names_temperatures.png"] = names_temperatures_figure(*main_job_model())
    for name, figure in figures.items():
        path = OUT / name
        figure.savefig(path, dpi=DPI)
        print(f"wrote {path.relative_to(OUT.parent.parent)} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
