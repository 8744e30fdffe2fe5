"""The gradient checker itself: known derivatives, the error measure, that it catches wrong
gradients (and says how), sampled and directional modes, the case registry and the command."""
import numpy as np
import pytest

from scratchlm import cli
from scratchlm.gradcheck import cases as gradcheck_cases
from scratchlm.gradcheck import (
    check_directional,
    check_gradients,
    numerical_gradient,
    relative_error,
)
from scratchlm.layers.embedding import embedding_forward


def test_numerical_gradient_of_a_cubic():
    # f(x) = sum x^3 has gradient 3 x^2. The order-2 stencil's error is h^2 f'''/6 = h^2 (here 1e-10
    # at h = 1e-5, times |f'''| / 6 = 1); the order-4 stencil is exact for a cubic up to rounding.
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    f = lambda: float((x**3).sum())  # noqa: E731
    exact = 3 * x**2
    np.testing.assert_allclose(numerical_gradient(f, x, eps=1e-5, order=2), exact, atol=1e-8)
    np.testing.assert_allclose(numerical_gradient(f, x, eps=1e-3, order=4), exact, atol=1e-10)


def test_numerical_gradient_restores_the_array_exactly():
    x = np.random.default_rng(0).normal(size=(3, 3))
    before = x.copy()
    numerical_gradient(lambda: float(np.sin(x).sum()), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_at_chosen_indices():
    x = np.array([1.0, 2.0, 3.0])
    values = numerical_gradient(lambda: float((x**2).sum()), x, indices=[(2,), (0,)])
    np.testing.assert_allclose(values, [6.0, 2.0], atol=1e-9)


def test_relative_error_worked_values():
    # |1 - 1.1| / (1 + 1.1) = 0.1 / 2.1
    assert abs(float(relative_error(1.0, 1.1)) - 0.1 / 2.1) < 1e-15
    assert float(relative_error(0.0, 0.0)) == 0.0
    # The floor: the second element is 1e4 times smaller than the largest, so it is measured against
    # 1e-3 * 2 (2 = the largest |a| + |n|): its error is 1e-8 / 2e-3 = 5e-6 rather than 1e-8 / 2e-4 = 5e-5.
    errors = relative_error(np.array([1.0, 1e-4]), np.array([1.0, 1e-4 + 1e-8]))
    assert errors[0] == 0.0
    assert abs(errors[1] - 1e-8 / (1e-3 * 2.0)) < 1e-12


def _quadratic_problem():
    # loss = sum(A * W^2) / 2 + sum(B * W): gradient A * W + B.
    rng = np.random.default_rng(1)
    W, A, B = rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=(4, 3)), rng.normal(size=(4, 3))
    loss = lambda: float((A * W**2).sum() / 2 + (B * W).sum())  # noqa: E731
    return W, loss, A * W + B


def test_correct_gradient_passes():
    W, loss, grad = _quadratic_problem()
    report = check_gradients(loss, {"W": W}, {"W": grad})
    assert report.passed
    assert report.max_error < 1e-8
    assert "PASSED" in str(report)


def test_sign_error_is_caught_and_named():
    W, loss, grad = _quadratic_problem()
    report = check_gradients(loss, {"W": W}, {"W": -grad})
    assert not report.passed
    text = str(report)
    assert "FAILED" in text and "W (4, 3)" in text and "wrong sign" in text
    check = report.failures[0]
    assert check.analytic == pytest.approx(-check.numeric, rel=1e-6)


def test_missing_factor_is_caught_and_measured():
    W, loss, grad = _quadratic_problem()
    report = check_gradients(loss, {"W": W}, {"W": 2 * grad})
    assert not report.passed
    assert "2 times the numeric one" in str(report)


def test_single_wrong_element_is_located():
    W, loss, grad = _quadratic_problem()
    wrong = grad.copy()
    wrong[2, 1] += 0.01
    report = check_gradients(loss, {"W": W}, {"W": wrong})
    assert not report.passed
    assert report.failures[0].worst_index == (2, 1)
    assert "index (2, 1)" in str(report)


def test_lost_repeated_id_gradient_is_caught():
    """A classic student bug: dW[ids] += dout keeps one gradient per repeated id."""
    rng = np.random.default_rng(2)
    weight, dout = rng.normal(size=(4, 2)), rng.normal(size=(2, 3, 2))
    ids = np.array([[1, 1, 2], [1, 3, 0]])
    buggy = np.zeros_like(weight)
    buggy[ids.reshape(-1)] += dout.reshape(-1, 2)
    report = check_gradients(lambda: float((embedding_forward(ids, weight)[0] * dout).sum()), {"weight": weight}, {"weight": buggy})
    assert not report.passed
    assert report.failures[0].worst_index[0] == 1  # the row of the repeated id


def test_zero_gradient_diagnosis():
    W, loss, grad = _quadratic_problem()
    report = check_gradients(loss, {"W": W}, {"W": np.zeros_like(grad)})
    assert "is zero but the loss does change" in str(report)


def test_nan_gradient_fails_with_a_message():
    W, loss, grad = _quadratic_problem()
    wrong = grad.copy()
    wrong[1, 1] = np.nan
    report = check_gradients(loss, {"W": W}, {"W": wrong})
    assert not report.passed
    assert "contains NaN or infinity" in str(report)


def test_sampled_mode_checks_the_requested_number_of_elements():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(30, 40))
    calls = []

    def loss():
        calls.append(1)
        return float((W**2).sum())

    report = check_gradients(loss, {"W": W}, {"W": 2 * W}, max_checks=25, seed=4)
    assert report.passed
    assert report.checks[0].checked == 25
    assert len(calls) == 25 * 4  # four evaluations per element with the order-4 stencil
    assert "25 of 1200 elements sampled" in str(report)
    wrong = 2 * W
    wrong[:, :20] *= -1  # half the columns wrong: any sample of 25 elements almost surely hits one
    assert not check_gradients(loss, {"W": W}, {"W": wrong}, max_checks=25).passed


def test_directional_check():
    W, loss, grad = _quadratic_problem()
    assert check_directional(loss, {"W": W}, {"W": grad}).passed
    wrong = grad.copy()
    wrong[0, 0] += 1.0
    report = check_directional(loss, {"W": W}, {"W": wrong})
    assert not report.passed and "random direction" in str(report)


def test_float32_parameters_get_a_note():
    x = np.ones(3, dtype=np.float32)
    report = check_gradients(lambda: float((x.astype(np.float64) ** 2).sum()), {"x": x}, {"x": 2 * x})
    assert "float64" in str(report)


def test_mismatched_gradients_are_rejected():
    W, loss, grad = _quadratic_problem()
    with pytest.raises(ValueError, match="grads has no entry 'W'"):
        check_gradients(loss, {"W": W}, {"V": grad})
    with pytest.raises(ValueError, match="must have its parameter's shape"):
        check_gradients(loss, {"W": W}, {"W": grad.T})
    with pytest.raises(ValueError, match="order must be one of"):
        numerical_gradient(loss, W, order=3)


@pytest.mark.parametrize("case", gradcheck_cases.CASES, ids=lambda case: case.name)
def test_every_registered_case_passes(case):
    """Every layer and every RNNLM configuration (each cell; 1 and 2 layers; mask; initial state;
    tied weights; dropout with a fixed mask) in float64, max relative error below 1e-6."""
    report = gradcheck_cases.run_case(case)
    assert case.tolerance <= 1e-6
    assert report.passed, str(report)


def test_registry_covers_every_layer_and_cell():
    names = " | ".join(case.name for case in gradcheck_cases.CASES)
    for part in ("embedding", "linear", "softmax cross-entropy", "dropout"):
        assert part in names
    for cell in ("rnn", "lstm", "gru"):
        for suffix in ("step", "sequence", ", 1 layer", "2 layers, mask, initial state", "tied weights", "dropout"):
            assert any(cell in case.name and suffix in case.name for case in gradcheck_cases.CASES), (cell, suffix)


def test_registering_a_case(monkeypatch):
    monkeypatch.setattr(gradcheck_cases, "CASES", list(gradcheck_cases.CASES))

    @gradcheck_cases.gradcheck_case("square (test)")
    def _square(data, tolerance):
        x = data.array((3,))
        return check_gradients(lambda: float((x**2).sum()), {"x": x}, {"x": 2 * x}, tolerance=tolerance)

    assert gradcheck_cases.CASES[-1].name == "square (test)"
    assert gradcheck_cases.run_case(gradcheck_cases.CASES[-1]).passed
    with pytest.raises(ValueError, match="already registered"):
        gradcheck_cases.gradcheck_case("square (test)")(_square)


def test_command_prints_the_table(capsys):
    assert cli.main(["gradcheck", "--case", "embedding"]) == 0
    out = capsys.readouterr().out
    assert "max rel. error" in out and "embedding (repeated ids)" in out and "PASS" in out
    assert "1 of 1 cases passed" in out


def test_command_fails_on_a_wrong_gradient(monkeypatch, capsys):
    monkeypatch.setattr(gradcheck_cases, "CASES", list(gradcheck_cases.CASES))

    @gradcheck_cases.gradcheck_case("deliberately wrong (test)")
    def _wrong(data, tolerance):
        x = data.array((3,))
        return check_gradients(lambda: float((x**2).sum()), {"x": x}, {"x": 3 * x}, tolerance=tolerance)

    assert cli.main(["gradcheck", "--case", "deliberately wrong"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "1.5 times the numeric one" in out


def test_command_rejects_an_unknown_case(capsys):
    assert cli.main(["gradcheck", "--case", "no such layer"]) == 2
    assert "no gradient-check case matches" in capsys.readouterr().err
