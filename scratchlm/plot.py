"""Figures for the course: what training, gradients and sampling look like.

Every function takes plain Python lists or NumPy arrays (move CuPy arrays with
``backend.asnumpy`` first) and returns a :class:`matplotlib.figure.Figure`. The figures are made
without ``pyplot``, so nothing is kept alive in a global figure list and no display is needed:
save one with ``fig.savefig("loss.png")``; in a notebook, a figure that is the last expression
of a cell is drawn inline.

=================================  ==========================================================
function                           what it shows
=================================  ==========================================================
:func:`loss_curves`                loss (nats per token) and perplexity exp(loss) over training
:func:`gradient_norm_through_time`  ||dL/dh_t|| against the distance from the loss
:func:`singular_values`            the singular values of recurrent weight matrices
:func:`clipping_norms`             the global gradient norm per step before and after clipping
:func:`temperature_distributions`  softmax(z / T) as bar charts, one panel per temperature T
:func:`activation_heatmap`         text whose characters are coloured by one hidden unit's value
:func:`sample_table`               generated samples in a table, one row per setting
:func:`attention_heatmap`          attention weights: source along x, output along y
:func:`accuracy_by_length`         accuracy against input length, one line per model
:func:`temperature_study`          one generated line per temperature above measures of each
=================================  ==========================================================
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from scratchlm.sampling import filtered_probs

_DIVERGING = "RdBu_r"


def _as_1d(values, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty 1-D sequence of numbers, got shape {array.shape}")
    return array


def _steps_for(values: np.ndarray, steps, what: str) -> np.ndarray:
    if steps is None:
        return np.arange(1, len(values) + 1)
    steps = _as_1d(steps, f"{what} steps")
    if len(steps) != len(values):
        raise ValueError(f"{what}: {len(steps)} steps given for {len(values)} values")
    return steps


def loss_curves(
    train_loss: Sequence[float],
    valid_loss: Sequence[float] | None = None,
    *,
    train_steps: Sequence[float] | None = None,
    valid_steps: Sequence[float] | None = None,
    xlabel: str = "step",
    labels: tuple[str, str] = ("train", "valid"),
    title: str | None = None,
) -> Figure:
    """Loss and perplexity curves, side by side.

    The left panel is the mean negative log-likelihood in nats per predicted token, the right
    panel the perplexity PPL = exp(loss) on a log scale (so both panels have the same shape,
    and a perplexity of V is the uniform guess over V tokens).

    Args:
        train_loss: (N,) training losses, e.g. one per step or a running mean.
        valid_loss: (M,) held-out losses, or None.
        train_steps: (N,) x positions of ``train_loss``; default 1..N.
        valid_steps: (M,) x positions of ``valid_loss``; default 1..M.
        xlabel: label of the x axis ("step", "epoch", ...).
        labels: the legend names of the two curves (e.g. ("no clipping", "clipping") to
            compare two runs instead of a training and a held-out curve).
        title: figure title, or None.
    """
    curves = [(labels[0], _as_1d(train_loss, "train_loss"), train_steps)]
    if valid_loss is not None:
        curves.append((labels[1], _as_1d(valid_loss, "valid_loss"), valid_steps))
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_ppl = fig.subplots(1, 2)
    for name, losses, steps in curves:
        x = _steps_for(losses, steps, name)
        marker = "o" if len(losses) <= 30 else None
        ax_loss.plot(x, losses, marker=marker, label=name)
        ax_ppl.plot(x, np.exp(losses), marker=marker, label=name)
    ax_loss.set(xlabel=xlabel, ylabel="loss (nats / token)", title="loss")
    ax_ppl.set(xlabel=xlabel, ylabel="perplexity", yscale="log", title="perplexity = exp(loss)")
    for ax in (ax_loss, ax_ppl):
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def gradient_norm_through_time(
    norms: Mapping[str, Sequence[float]],
    *,
    title: str = "how far back does the gradient reach?",
) -> Figure:
    """||dL/dh_t|| against the distance k = T - t between step t and the loss at the last step T.

    For an Elman RNN, dL/dh_t = (prod_{s=t+1..T} W_hh^T diag(1 - h_s^2)) dL/dh_T, so the norm
    shrinks or grows roughly geometrically in k: a straight line on the log scale used here.

    Args:
        norms: label -> (K,) norms, element k being ||dL/dh_{T-k}|| (k = 0 is the last step).
        title: figure title.
    """
    if not norms:
        raise ValueError("norms must map at least one label to a sequence of gradient norms")
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    for label, values in norms.items():
        values = _as_1d(values, f"norms[{label!r}]")
        if np.any(values < 0):
            raise ValueError(f"norms[{label!r}] holds negative values; norms are >= 0")
        # A norm that underflowed to exactly 0 cannot be drawn on a log axis.
        ax.plot(np.arange(len(values)), np.where(values > 0, values, np.nan), label=label)
    ax.set(xlabel="distance k = T - t (steps back from the loss)", ylabel="||dL/dh_t||",
           yscale="log", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig


def singular_values(weights: Mapping[str, np.ndarray], *, title: str = "singular values of W_hh") -> Figure:
    """The singular values sigma_1 >= sigma_2 >= ... of each matrix, with the line sigma = 1.

    The largest singular value of the recurrent matrix bounds how much one step of
    backpropagation can stretch a gradient (times max tanh' = 1); far below 1 the gradient
    vanishes over time, above 1 it may explode.

    Args:
        weights: label -> (H, H) matrix (e.g. W_hh scaled by different factors).
        title: figure title.
    """
    if not weights:
        raise ValueError("weights must map at least one label to a matrix")
    fig = Figure(figsize=(6, 3.6), layout="constrained")
    ax = fig.subplots()
    for label, matrix in weights.items():
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim != 2:
            raise ValueError(f"weights[{label!r}] must be a 2-D matrix, got shape {matrix.shape}")
        sigma = np.linalg.svd(matrix, compute_uv=False)
        ax.plot(np.arange(1, len(sigma) + 1), sigma, marker=".", label=f"{label} (max {sigma[0]:.2f})")
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set(xlabel="index i", ylabel="singular value sigma_i", yscale="log", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig


def clipping_norms(
    norms_before: Sequence[float],
    norms_after: Sequence[float],
    max_norm: float,
    *,
    title: str = "gradient-norm clipping",
) -> Figure:
    """The global gradient norm ||g|| at every step, before and after clipping to ``max_norm``.

    Clipping rescales g <- g * max_norm / ||g|| whenever ||g|| > max_norm, so the "after"
    curve is min(||g||, max_norm): the direction is kept, only the step length is capped.

    Args:
        norms_before: (N,) norms before clipping.
        norms_after: (N,) norms after clipping.
        max_norm: the threshold (> 0).
        title: figure title.
    """
    before = _as_1d(norms_before, "norms_before")
    after = _as_1d(norms_after, "norms_after")
    if len(before) != len(after):
        raise ValueError(f"norms_before has {len(before)} values but norms_after has {len(after)}")
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    steps = np.arange(1, len(before) + 1)
    ax.plot(steps, before, label="before clipping", color="tab:red", alpha=0.8)
    ax.plot(steps, after, label="after clipping", color="tab:blue")
    ax.axhline(max_norm, color="black", linewidth=0.8, linestyle="--", label=f"max_norm = {max_norm:g}")
    ax.set(xlabel="step", ylabel="global gradient norm ||g||", yscale="log", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    return fig


def temperature_distributions(
    logits: Sequence[float],
    temperatures: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Bar charts of p_i(T) = exp(z_i / T) / sum_j exp(z_j / T), one panel per temperature T.

    T < 1 cools the distribution (the largest logit takes more of the mass, T -> 0 is argmax);
    T > 1 warms it (towards the uniform distribution as T -> infinity); T = 1 is the model.

    Args:
        logits: (V,) scores z.
        temperatures: the temperatures T > 0, one panel each.
        labels: (V,) names of the outcomes (tokens), or None for 0..V-1.
        title: figure title, or None.
    """
    z = _as_1d(logits, "logits")
    temperatures = [float(t) for t in temperatures]
    if not temperatures or min(temperatures) <= 0:
        raise ValueError(f"temperatures must be a non-empty list of numbers > 0, got {temperatures}")
    if labels is None:
        labels = [str(i) for i in range(len(z))]
    if len(labels) != len(z):
        raise ValueError(f"{len(labels)} labels given for {len(z)} logits")
    fig = Figure(figsize=(3.2 * len(temperatures), 3.0), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(temperatures), sharey=True))
    positions = np.arange(len(z))
    for ax, temperature in zip(axes, temperatures):
        probs = filtered_probs(z[None, :], temperature=temperature)[0]
        ax.bar(positions, probs, color="tab:blue")
        ax.set_xticks(positions, labels, rotation=90 if len(z) > 12 else 0)
        ax.set(title=f"T = {temperature:g}", ylim=(0, 1.05))
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel("probability")
    if title:
        fig.suptitle(title)
    return fig


def _layout_characters(text: str, width: int) -> list[list[int]]:
    """Character positions of ``text`` split into display lines of at most ``width`` characters.

    A newline ends its line (it is shown as a coloured cell too, since the RNN read it).
    """
    lines: list[list[int]] = [[]]
    for position, char in enumerate(text):
        if len(lines[-1]) == width:
            lines.append([])
        lines[-1].append(position)
        if char == "\n":
            lines.append([])
    if not lines[-1]:
        lines.pop()
    return lines


def activation_heatmap(
    text: str,
    values: Sequence[float],
    *,
    width: int = 80,
    vmin: float = -1.0,
    vmax: float = 1.0,
    title: str | None = None,
) -> Figure:
    """``text`` drawn character by character, each cell coloured by one hidden unit's value.

    ``values[i]`` is the unit's activation after the RNN has read ``text[i]`` (for a tanh unit,
    in [-1, 1]: blue negative, red positive). This is the picture in which Karpathy, Johnson &
    Fei-Fei (2015) found cells that track quotes, line length or nesting depth.

    Args:
        text: the characters that were fed, length N.
        values: (N,) the unit's value after each character.
        width: characters per display line; a newline in the text also ends a line.
        vmin, vmax: the values mapped to the ends of the colour scale.
        title: figure title, or None.
    """
    if not isinstance(text, str) or not text:
        raise TypeError("text must be a non-empty string")
    values = _as_1d(values, "values")
    if len(values) != len(text):
        raise ValueError(f"{len(values)} values given for {len(text)} characters; need one per character")
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    lines = _layout_characters(text, width)
    columns = max(len(positions) for positions in lines)
    grid = np.full((len(lines), columns), np.nan)
    for row, positions in enumerate(lines):
        grid[row, : len(positions)] = values[positions]
    fig = Figure(figsize=(max(4.0, 0.8 + 0.13 * columns), 0.6 + 0.24 * len(lines)), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=_DIVERGING, vmin=vmin, vmax=vmax,
                      aspect="auto", interpolation="nearest")
    middle, half_range = (vmax + vmin) / 2, max((vmax - vmin) / 2, 1e-12)
    for row, positions in enumerate(lines):
        for col, position in enumerate(positions):
            char = text[position]
            shown = "\u21b5" if char == "\n" else char
            # white letters on the dark ends of the colour scale, black on the pale middle
            dark = abs(values[position] - middle) / half_range > 0.6
            ax.text(col, row, shown, ha="center", va="center", family="monospace", fontsize=8,
                    color="white" if dark else "black")
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def sample_table(
    rows: Sequence[Sequence[object]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    max_chars: int = 70,
) -> Figure:
    """A table of generated samples, e.g. one row per temperature or decoding method.

    Args:
        rows: the rows; each has one entry per column (strings or numbers). Newlines in a
            sample are shown as the return symbol, and entries longer than ``max_chars``
            are cut with an ellipsis so the table stays readable.
        columns: the column headers.
        title: figure title, or None.
        max_chars: the longest entry shown in full.
    """
    columns = [str(c) for c in columns]
    if not rows:
        raise ValueError("rows must hold at least one row")
    cells = []
    for number, row in enumerate(rows):
        if len(row) != len(columns):
            raise ValueError(f"row {number} has {len(row)} entries but there are {len(columns)} columns")
        cells.append([_table_entry(entry, max_chars) for entry in row])
    # column widths in characters, with one character of margin on each side
    longest = [2 + max(len(columns[j]), *(len(r[j]) for r in cells)) for j in range(len(columns))]
    fig = Figure(figsize=(min(16.0, 0.5 + 0.085 * sum(longest)),
                          0.5 + 0.3 * (len(cells) + 1)), layout="constrained")
    ax = fig.subplots()
    ax.set_axis_off()
    table = ax.table(cellText=cells, colLabels=columns, bbox=(0.0, 0.0, 1.0, 1.0), cellLoc="left",
                     colWidths=[n / sum(longest) for n in longest])
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    for (row, column), cell in table.get_celld().items():
        cell.PAD = 1.0 / longest[column]  # the text's inset, a fraction of the cell's width: one character
        cell.get_text().set_family("monospace")
        if row == 0:
            cell.set_facecolor("#dde6f0")
    if title:
        ax.set_title(title)
    return fig


def _table_entry(entry: object, max_chars: int) -> str:
    if isinstance(entry, float) and not math.isnan(entry):
        text = f"{entry:g}"
    else:
        text = str(entry)
    text = text.replace("\n", "\u21b5")
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "\u2026"
    return text


def attention_heatmap(
    weights,
    source_tokens: Sequence[str],
    output_tokens: Sequence[str],
    *,
    title: str | None = None,
) -> Figure:
    """Attention weights alpha_tj as a grid: source position j along x, output step t along y.

    Row t shows where output step t looked (its weights sum to 1); for string reversal a good
    model draws the anti-diagonal, for copying the diagonal.

    Args:
        weights: (T, S) the attention weights of T output steps over S source positions.
        source_tokens: S labels for the columns (the source, e.g. its characters).
        output_tokens: T labels for the rows (what was produced at each step, e.g. "<eos>" last).
        title: figure title, or None.
    """
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim != 2 or weights.size == 0:
        raise ValueError(f"weights must be a non-empty (T, S) array, got shape {weights.shape}")
    source_tokens, output_tokens = [str(t) for t in source_tokens], [str(t) for t in output_tokens]
    if (len(output_tokens), len(source_tokens)) != weights.shape:
        raise ValueError(f"weights have shape {weights.shape} but {len(output_tokens)} output and "
                         f"{len(source_tokens)} source labels were given; expected (T, S) = (outputs, sources)")
    rows, columns = weights.shape
    fig = Figure(figsize=(1.2 + 0.28 * columns, 0.9 + 0.28 * rows), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
    ax.set_xticks(range(columns), source_tokens, fontsize=8, family="monospace")
    ax.set_yticks(range(rows), output_tokens, fontsize=8, family="monospace")
    ax.xaxis.tick_top()
    ax.set_xlabel("source position j")
    ax.set_ylabel("output step t")
    fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="alpha_tj")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def accuracy_by_length(
    lengths: Sequence[float],
    accuracies: Mapping[str, Sequence[float]],
    *,
    xlabel: str = "source length",
    ylabel: str = "exact-match accuracy",
    title: str | None = None,
) -> Figure:
    """One line per model: accuracy (0..1) against the input length, e.g. the encoder-decoder bottleneck.

    Args:
        lengths: the N input lengths (x axis).
        accuracies: label -> N accuracies, one per length (NaN where a length was not measured).
    """
    lengths = _as_1d(lengths, "lengths")
    if not accuracies:
        raise ValueError("accuracies must name at least one model")
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.subplots()
    for label, values in accuracies.items():
        values = _as_1d(values, f"accuracies of {label!r}")
        if len(values) != len(lengths):
            raise ValueError(f"{label!r}: {len(values)} accuracies for {len(lengths)} lengths")
        ax.plot(lengths, values, marker="o", markersize=3, label=label)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def temperature_study(
    temperatures: Sequence[float],
    lines: Sequence[str],
    percentages: Mapping[str, Sequence[float]],
    entropy_bits: Sequence[float],
    *,
    title: str | None = None,
) -> Figure:
    """One generated line per temperature (in the given order), and below them measures of the
    samples against T (log scale): percentages on the left axis, the mean entropy of the
    distribution each character was drawn from on the right.

    Args:
        temperatures: the K temperatures.
        lines: K generated lines, one per temperature.
        percentages: name -> K values in [0, 100] (e.g. "distinct per 100", "misspelt %").
        entropy_bits: K mean entropies in bits.
        title: figure title, or None.
    """
    temps = _as_1d(temperatures, "temperatures")
    entropy = _as_1d(entropy_bits, "entropy_bits")
    if len(lines) != len(temps) or len(entropy) != len(temps):
        raise ValueError(f"need one line and one entropy per temperature ({len(temps)}), "
                         f"got {len(lines)} lines and {len(entropy)} entropies")
    if np.any(temps <= 0):
        raise ValueError("temperatures must be > 0 (they are drawn on a log scale)")
    fig = Figure(figsize=(9.5, 6.2), layout="constrained")
    text_ax, measures_ax = fig.subplots(2, 1, height_ratios=[1.0, 1.25])
    text_ax.set_axis_off()
    for row, (temperature, line) in enumerate(zip(temps, lines)):
        y = 1.0 - (row + 0.5) / len(temps)
        text_ax.text(0.0, y, f"T = {temperature:g}", family="monospace", fontsize=9, va="center")
        text_ax.text(0.13, y, line.replace("\n", "\u21b5"), family="monospace", fontsize=9, va="center")
    order = np.argsort(temps)
    for name, values in percentages.items():
        values = _as_1d(values, name)
        if len(values) != len(temps):
            raise ValueError(f"{name!r} has {len(values)} values for {len(temps)} temperatures")
        measures_ax.plot(temps[order], values[order], marker="o", label=name)
    measures_ax.set(xscale="log", xlabel="temperature T", ylabel="% of the generated names", ylim=(-3, 103))
    entropy_ax = measures_ax.twinx()
    entropy_ax.plot(temps[order], entropy[order], color="black", linestyle="--", marker="s",
                    label="entropy of p_T (bits, right)")
    entropy_ax.set(ylabel="mean entropy of the next character (bits)", ylim=(0, None))
    handles = measures_ax.get_legend_handles_labels()[0] + entropy_ax.get_legend_handles_labels()[0]
    measures_ax.legend(handles=handles, fontsize=8, loc="upper left", framealpha=0.9)
    measures_ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig
