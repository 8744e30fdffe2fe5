"""Every figure in scratchlm.plot renders to PNG with the Agg backend and draws the right numbers."""
import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from scratchlm import plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def render_png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    data = buffer.getvalue()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 1000
    return data


def test_loss_curves_plots_perplexity_as_exp_of_loss():
    train = [4.0, 3.0, 2.5, 2.0]
    valid = [3.5, 2.6]
    fig = plot.loss_curves(train, valid, valid_steps=[2, 4], title="run")
    render_png(fig)
    ax_loss, ax_ppl = fig.axes
    train_ppl = ax_ppl.get_lines()[0].get_ydata()
    # exp(2.0) = 7.389..., exp(4.0) = 54.598...
    assert train_ppl[0] == pytest.approx(54.59815, rel=1e-6)
    assert train_ppl[-1] == pytest.approx(7.389056, rel=1e-6)
    valid_line = ax_ppl.get_lines()[1]
    assert list(valid_line.get_xdata()) == [2, 4]
    assert valid_line.get_ydata()[1] == pytest.approx(math.exp(2.6))
    assert ax_ppl.get_yscale() == "log"
    assert [t.get_text() for t in ax_loss.get_legend().get_texts()] == ["train", "valid"]


def test_loss_curves_can_compare_two_runs():
    fig = plot.loss_curves([3.0, 2.0], [3.0, 2.5], labels=("clipped", "not clipped"))
    render_png(fig)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["clipped", "not clipped"]


def test_loss_curves_rejects_mismatched_steps():
    with pytest.raises(ValueError, match="steps"):
        plot.loss_curves([1.0, 2.0], train_steps=[1])
    with pytest.raises(ValueError, match="non-empty"):
        plot.loss_curves([])


def test_gradient_norm_through_time_drops_zero_norms_from_log_axis():
    fig = plot.gradient_norm_through_time({"rnn": [1.0, 0.1, 0.01, 0.0], "lstm": [1.0, 0.9, 0.8, 0.7]})
    render_png(fig)
    ax = fig.axes[0]
    rnn = ax.get_lines()[0].get_ydata()
    assert list(rnn[:3]) == [1.0, 0.1, 0.01] and math.isnan(rnn[3])
    assert list(ax.get_lines()[0].get_xdata()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="negative"):
        plot.gradient_norm_through_time({"bad": [1.0, -1.0]})


def test_singular_values_of_scaled_identity():
    # The singular values of c * I (4 x 4) are four copies of |c|.
    fig = plot.singular_values({"0.5 I": 0.5 * np.eye(4), "2 I": -2.0 * np.eye(4)})
    render_png(fig)
    lines = fig.axes[0].get_lines()
    assert np.allclose(lines[0].get_ydata(), 0.5)
    assert np.allclose(lines[1].get_ydata(), 2.0)
    with pytest.raises(ValueError, match="2-D"):
        plot.singular_values({"vector": np.ones(3)})


def test_clipping_norms():
    before = [0.5, 3.0, 10.0]
    fig = plot.clipping_norms(before, [0.5, 1.0, 1.0], max_norm=1.0)
    render_png(fig)
    with pytest.raises(ValueError, match="max_norm"):
        plot.clipping_norms(before, before, max_norm=0.0)
    with pytest.raises(ValueError, match="norms_after"):
        plot.clipping_norms(before, [1.0], max_norm=1.0)


def test_temperature_distributions_bar_heights():
    # logits (0, ln 2): T = 1 gives (1, 2)/3; T = 0.5 gives (1, 4)/5; T = 2 gives (1, sqrt 2)/(1 + sqrt 2).
    logits = [0.0, math.log(2.0)]
    fig = plot.temperature_distributions(logits, [0.5, 1.0, 2.0], labels=["a", "b"])
    render_png(fig)
    heights = [[bar.get_height() for bar in ax.patches] for ax in fig.axes]
    assert heights[0] == pytest.approx([1 / 5, 4 / 5])
    assert heights[1] == pytest.approx([1 / 3, 2 / 3])
    root2 = math.sqrt(2.0)
    assert heights[2] == pytest.approx([1 / (1 + root2), root2 / (1 + root2)])
    assert [ax.get_title() for ax in fig.axes] == ["T = 0.5", "T = 1", "T = 2"]


def test_temperature_distributions_near_zero_temperature_is_argmax_without_overflow():
    fig = plot.temperature_distributions([1.0, 3.0, 2.0], [1e-4])
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert heights == pytest.approx([0.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="temperatures"):
        plot.temperature_distributions([1.0, 2.0], [0.0])
    with pytest.raises(ValueError, match="labels"):
        plot.temperature_distributions([1.0, 2.0], [1.0], labels=["only one"])


def test_activation_heatmap_places_each_value_under_its_character():
    text = "ab\ncde"
    values = [0.1, 0.2, 0.3, -0.4, -0.5, 0.6]
    fig = plot.activation_heatmap(text, values, width=2)
    render_png(fig)
    image = fig.axes[0].get_images()[0].get_array()
    # lines: "ab" (full at width 2), "\n", "cd", "e"; empty cells are masked
    assert image.shape == (4, 2)
    assert list(image[0]) == [0.1, 0.2]
    assert image[1, 0] == 0.3 and image.mask[1, 1]
    assert list(image[2]) == [-0.4, -0.5]
    assert image[3, 0] == 0.6 and image.mask[3, 1]
    shown = [t.get_text() for t in fig.axes[0].texts]
    assert shown == ["a", "b", "\u21b5", "c", "d", "e"]
    # letters are white only on the dark ends of the scale (|value| > 0.6 of the range [-1, 1])
    colours = [t.get_color() for t in fig.axes[0].texts]
    assert colours == ["black"] * 6
    fig = plot.activation_heatmap("xy", [0.9, -0.1])
    assert [t.get_color() for t in fig.axes[0].texts] == ["white", "black"]


def test_activation_heatmap_rejects_bad_input():
    with pytest.raises(ValueError, match="one per character"):
        plot.activation_heatmap("abc", [0.0, 1.0])
    with pytest.raises(TypeError, match="string"):
        plot.activation_heatmap(["a"], [0.0])


def test_sample_table_cells():
    rows = [(0.5, "Aadolf"), (2.0, "x" * 100), (1.0, "two\nlines")]
    fig = plot.sample_table(rows, ["T", "sample"], title="samples", max_chars=10)
    render_png(fig)
    table = fig.axes[0].tables[0]
    cells = table.get_celld()
    assert cells[0, 0].get_text().get_text() == "T"
    assert cells[1, 0].get_text().get_text() == "0.5"
    assert cells[1, 1].get_text().get_text() == "Aadolf"
    assert cells[2, 1].get_text().get_text() == "x" * 9 + "\u2026"
    assert cells[3, 1].get_text().get_text() == "two\u21b5lines"
    with pytest.raises(ValueError, match="columns"):
        plot.sample_table([("a",)], ["T", "sample"])


def test_readme_figure_script_draws_its_figures_on_small_inputs():
    """docs/make_figures.py, run on an untrained tiny model (the real run trains one first)."""
    import importlib.util
    from pathlib import Path

    from scratchlm.data import load_corpus
    from scratchlm.models import RNNLM
    from scratchlm.train.prepare import fit_tokenizer

    path = Path(__file__).resolve().parents[1] / "docs" / "make_figures.py"
    spec = importlib.util.spec_from_file_location("make_figures", path)
    make_figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_figures)

    render_png(make_figures.gradient_norms_figure(hidden=6, steps=8))
    tokenizer = fit_tokenizer(load_corpus("finnish-names"), "char")
    vocab = tokenizer.vocab
    model = RNNLM(len(tokenizer), 4, 8, cell="lstm", bos_id=vocab.bos_id, eos_id=vocab.eos_id).eval()
    render_png(make_figures.temperatures_figure(model, tokenizer))
    stream_tokenizer = fit_tokenizer(load_corpus("finnish-names", kind="stream"), "char")
    stream_model = RNNLM(len(stream_tokenizer), 4, 8, cell="lstm").eval()
    render_png(make_figures.names_temperatures_figure(stream_model, stream_tokenizer))


def test_attention_heatmap_puts_sources_on_x_and_outputs_on_y():
    weights = np.array([[0.0, 0.2, 0.8], [0.7, 0.3, 0.0]])       # 2 output steps over 3 source positions
    fig = plot.attention_heatmap(weights, list("abc"), ["x", "<eos>"], title="alpha")
    render_png(fig)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), weights)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x", "<eos>"]
    with pytest.raises(ValueError, match="expected \\(T, S\\)"):
        plot.attention_heatmap(weights.T, list("abc"), ["x", "<eos>"])


def test_accuracy_by_length_draws_one_line_per_model():
    fig = plot.accuracy_by_length([5, 10, 15], {"plain": [1.0, 0.5, 0.1], "attention": [1.0, 1.0, float("nan")]})
    render_png(fig)
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["plain", "attention"]
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, 0.5, 0.1])
    with pytest.raises(ValueError, match="3 lengths"):
        plot.accuracy_by_length([5, 10, 15], {"plain": [1.0]})
