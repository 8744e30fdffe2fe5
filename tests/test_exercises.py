"""The exercises: solutions pass, templates ask to be written, and each usual mistake is named.

The wrong implementations below are written the way a student would write them: each is the
solution with exactly one usual mistake, typed in by hand (they do not use the checker's own
mistake models, so a test passes only if the checker recognises the mistake from the numbers).
The worked solutions live outside the package, in the repository's solutions/ folder.
"""
import importlib
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from scratchlm import exercises
from scratchlm.exercises import cases, values
from scratchlm.exercises.checker import numeric_gradient, relative_errors

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
sys.path.insert(0, str(SOLUTIONS))


def solution(name):
    entry = exercises.EXERCISES[name]
    return getattr(importlib.import_module(entry.module), entry.function)


# --- the machinery is sound -----------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n, e in exercises.EXERCISES.items() if e.kind == "gradient"])
def test_numeric_gradients_agree_with_the_reference_layers(name):
    problem = cases.problems(name, seed=1)[0]
    reference = problem.reference()
    for key in problem.inputs:
        assert relative_errors(numeric_gradient(problem, key), reference[key]).max() < 1e-6, key


def test_every_problem_has_pairwise_different_sizes_and_every_id():
    for sizes in cases.SIZES:
        assert len(set(sizes.values())) == len(sizes)
    for index, sizes in enumerate(cases.SIZES):
        ids = cases.embedding_data(np.random.default_rng(index), sizes, index)[0]
        assert ids.max() == sizes["V"] - 1 and len(np.unique(ids)) >= sizes["V"] - 1
        assert len(np.unique(ids)) < ids.size  # ids repeat
    for sizes in values.BATCHER_SIZES:
        assert len(set(sizes.values())) == len(sizes)
    for sizes in cases.ATTENTION_SIZES:
        assert len(set(sizes.values())) == len(sizes)
    assert len({tuple(s.values()) for s in cases.ATTENTION_SIZES}) == len(cases.ATTENTION_SIZES)


def test_attention_problems_pad_every_source_but_the_first():
    for problem in cases.problems("attention_forward", seed=4):
        mask = problem.context["mask"]
        assert mask[0].all() and not mask[1:].all(axis=1).any() and mask.sum(axis=1).min() >= 2
        assert cases.problems("attention_backward", seed=4)[0].context["cache"].score == "general"


def test_hf_filter_boundaries_worked_by_hand():
    kept = values.hf_filtered_probs(np.log([[0.5, 0.2, 0.2, 0.1]]), 1.0, None, 0.9)
    assert (kept > 0).sum() == 4
    kept = values.hf_filtered_probs(np.log([[0.4, 0.2, 0.2, 0.2, 0.0001]]), 1.0, 2, None)
    assert (kept > 0).sum() == 4
    np.testing.assert_allclose(kept[0, :4], np.array([0.4, 0.2, 0.2, 0.2]) / 1.0, rtol=1e-3)
    rng = np.random.default_rng(3)  # without ties the library's own filter agrees
    from scratchlm.sampling import filtered_probs
    logits = rng.normal(size=(4, 7))
    np.testing.assert_allclose(values.hf_filtered_probs(logits, 0.8, 3, 0.7), filtered_probs(logits, 0.8, 3, 0.7))


# --- solutions and templates ----------------------------------------------------------------------

@pytest.mark.parametrize("name", list(exercises.EXERCISES))
def test_solutions_pass(name):
    for seed in (0, 11):
        report = exercises.check(name, solution(name), seed=seed)
        assert report.passed, str(report)
        assert report.score == 1.0 and "right" in str(report)


@pytest.mark.parametrize("name", list(exercises.EXERCISES))
def test_templates_are_to_be_written(name):
    report = exercises.check(name, exercises.template(name))
    assert not report.passed and report.score == 0
    assert "not written yet" in str(report)


def test_at_least_eighteen_exercises_with_templates_and_solutions():
    assert len(exercises.EXERCISES) >= 18
    for exercise in exercises.EXERCISES.values():
        assert (SOLUTIONS / f"{exercise.module}.py").is_file()
        assert (exercises.TEMPLATES / f"{exercise.module}.py").is_file()


def test_copy_templates_keeps_existing_work(tmp_path):
    paths = exercises.copy_templates(tmp_path)
    assert sorted(p.name for p in paths) == sorted({e.module + ".py" for e in exercises.EXERCISES.values()}
                                                   | {exercises.PYTEST_FILE})
    (tmp_path / "rnn_step.py").write_text("# my work\n")
    exercises.copy_templates(tmp_path)
    assert (tmp_path / "rnn_step.py").read_text() == "# my work\n"
    exercises.copy_templates(tmp_path, overwrite=True)
    assert "NotImplementedError" in (tmp_path / "rnn_step.py").read_text()


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown exercise"):
        exercises.check("transformer_backward", lambda *a: None)
    with pytest.raises(TypeError, match="function"):
        exercises.check("rnn_step_backward", "not a function")


def test_the_package_holds_no_solution():
    package = ROOT / "scratchlm"
    for path in package.rglob("*.py"):
        assert "solutions" not in path.parts
    with pytest.raises(ImportError):
        importlib.import_module("scratchlm.exercises.solutions")
    assert not hasattr(exercises, "solution")


def test_a_built_wheel_holds_no_solution(tmp_path):
    pytest.importorskip("setuptools")
    # Built from a copy, so that no build/ folder of an earlier build can leave stale files in it.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__",
                                                                "runs", "notebooks", "benchmarks"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", str(source),
                           "-w", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("scratchlm-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("scratchlm/exercises/student/") for n in names)
    assert not [n for n in names if "solution" in n], names


# --- embedding ------------------------------------------------------------------------------------

def embedding_assign_instead_of_accumulate(dout, cache):
    dweight = np.zeros((cache.vocab_size, dout.shape[-1]))
    dweight[cache.ids] += dout  # repeated ids: only one write survives
    return dweight


def embedding_returns_dout(dout, cache):
    return dout


def test_embedding_repeated_ids_mistake():
    report = exercises.check("embedding_backward", embedding_assign_instead_of_accumulate)
    assert not report.passed
    assert report.mistake == "repeated ids not accumulated"
    assert "np.add.at" in report.hint
    result = report.result("dweight")
    assert result.yours != pytest.approx(result.numeric)
    assert result.numeric == pytest.approx(result.reference, rel=1e-6)


def test_embedding_wrong_shape():
    report = exercises.check("embedding_backward", embedding_returns_dout)
    assert "dweight has shape (3, 5, 4), expected (7, 4)" in str(report)


# --- softmax cross-entropy ------------------------------------------------------------------------

def _softmax_parts(cache):
    probs, targets = cache.probs, cache.targets
    onehot = np.zeros_like(probs)
    np.put_along_axis(onehot, targets[..., None], 1.0, axis=-1)
    return probs, onehot, cache.mask[..., None]


def softmax_not_divided(cache, dloss=1.0):
    probs, onehot, mask = _softmax_parts(cache)
    return dloss * (probs - onehot) * mask


def softmax_divided_by_batch(cache, dloss=1.0):
    probs, onehot, mask = _softmax_parts(cache)
    return dloss * (probs - onehot) * mask / probs.shape[0]


def softmax_divided_by_all_positions(cache, dloss=1.0):
    probs, onehot, mask = _softmax_parts(cache)
    return dloss * (probs - onehot) * mask / (probs.shape[0] * probs.shape[1])


def softmax_ignores_dloss(cache, dloss=1.0):
    probs, onehot, mask = _softmax_parts(cache)
    return (probs - onehot) * mask / cache.count


def softmax_sign_flipped(cache, dloss=1.0):
    probs, onehot, mask = _softmax_parts(cache)
    return dloss * (onehot - probs) * mask / cache.count


def softmax_no_onehot(cache, dloss=1.0):
    probs, _, mask = _softmax_parts(cache)
    return dloss * probs * mask / cache.count


def softmax_ignores_mask(cache, dloss=1.0):
    probs, onehot, _ = _softmax_parts(cache)
    return dloss * (probs - onehot) / cache.count


def softmax_ignores_mask_entirely(cache, dloss=1.0):
    probs, onehot, _ = _softmax_parts(cache)
    return dloss * (probs - onehot) / (probs.shape[0] * probs.shape[1])


@pytest.mark.parametrize("wrong, mistake, phrase", [
    (softmax_not_divided, "not divided by the token count", "divided by N"),
    (softmax_divided_by_batch, "divided by the batch size", "not B"),
    (softmax_divided_by_all_positions, "divided by all positions", "padding positions are not counted"),
    (softmax_ignores_dloss, "dloss ignored", "multiply by dloss"),
    (softmax_sign_flipped, "sign flipped", "wrong sign"),
    (softmax_no_onehot, "one-hot not subtracted", "subtracting 1 at the target"),
    (softmax_ignores_mask, "mask ignored", "zero gradient"),
    (softmax_ignores_mask_entirely, "mask ignored, divided by all positions", "multiply by the mask"),
])
def test_softmax_mistakes(wrong, mistake, phrase):
    report = exercises.check("softmax_cross_entropy_backward", wrong)
    assert not report.passed
    assert report.mistake == mistake, str(report)
    assert phrase in report.hint


def test_softmax_not_divided_reports_the_factor():
    # 12 of the 15 positions of the first problem are counted, so the gradient is 12 times too large
    report = exercises.check("softmax_cross_entropy_backward", softmax_not_divided)
    assert "exactly 12 times the right answer: N: not divided by the token count N = 12" in str(report)


# --- Elman step -----------------------------------------------------------------------------------

def _rnn_step(dh, cache, *, da_of=lambda dh, h: dh * (1 - h**2), dh_prev_of=lambda da, w: da @ w):
    x, h_prev, h, params = cache.x, cache.h_prev, cache.h, cache.params
    da = da_of(dh, h)
    dparams = {"weight_ih": da.T @ x, "weight_hh": da.T @ h_prev,
               "bias_ih": da.sum(axis=0), "bias_hh": da.sum(axis=0)}
    return da @ params["weight_ih"], dh_prev_of(da, params["weight_hh"]), dparams


def rnn_no_tanh_derivative(dh, cache):
    return _rnn_step(dh, cache, da_of=lambda dh, h: dh)


def rnn_one_minus_h(dh, cache):
    return _rnn_step(dh, cache, da_of=lambda dh, h: dh * (1 - h))


def rnn_tanh_twice(dh, cache):
    return _rnn_step(dh, cache, da_of=lambda dh, h: dh * (1 - np.tanh(h) ** 2))


def rnn_dh_prev_transposed(dh, cache):
    return _rnn_step(dh, cache, dh_prev_of=lambda da, w: da @ w.T)


def rnn_dweight_hh_transposed(dh, cache):
    dx, dh_prev, dparams = _rnn_step(dh, cache)
    da = dh * (1 - cache.h ** 2)
    dparams["weight_hh"] = cache.h_prev.T @ da
    return dx, dh_prev, dparams


def rnn_dweight_ih_transposed(dh, cache):
    dx, dh_prev, dparams = _rnn_step(dh, cache)
    dparams["weight_ih"] = cache.x.T @ (dh * (1 - cache.h ** 2))
    return dx, dh_prev, dparams


def rnn_bias_not_summed(dh, cache):
    dx, dh_prev, dparams = _rnn_step(dh, cache)
    da = dh * (1 - cache.h ** 2)
    dparams["bias_ih"], dparams["bias_hh"] = da, da
    return dx, dh_prev, dparams


def rnn_bias_hh_zero(dh, cache):
    dx, dh_prev, dparams = _rnn_step(dh, cache)
    dparams["bias_hh"] = np.zeros_like(dparams["bias_hh"])
    return dx, dh_prev, dparams


def rnn_bias_hh_missing(dh, cache):
    dx, dh_prev, dparams = _rnn_step(dh, cache)
    del dparams["bias_hh"]
    return dx, dh_prev, dparams


def rnn_shape_error(dh, cache):
    da = dh * (1 - cache.h ** 2)
    dx = da @ cache.params["weight_ih"].T  # (B, H) @ (E, H): does not fit
    return dx, None, None


@pytest.mark.parametrize("wrong, mistake, phrase", [
    (rnn_no_tanh_derivative, "tanh derivative forgotten", "forgot the tanh derivative"),
    (rnn_one_minus_h, "tanh derivative written 1 - h", "not 1 - h"),
    (rnn_tanh_twice, "tanh applied twice", "not 1 - tanh(h)**2"),
    (rnn_dh_prev_transposed, "wrong transpose in dh_prev", "wrong transpose"),
    (rnn_bias_hh_zero, "bias_hh gradient missing", "both get the same gradient"),
])
def test_rnn_step_mistakes(wrong, mistake, phrase):
    report = exercises.check("rnn_step_backward", wrong)
    assert not report.passed
    assert report.mistake == mistake, str(report)
    assert phrase in report.hint


def test_rnn_step_tanh_derivative_mistake_names_every_affected_gradient():
    report = exercises.check("rnn_step_backward", rnn_no_tanh_derivative)
    wrong = {r.name for r in report.results if not r.right}
    assert wrong == {"dx", "dh_prev", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"}
    dx = report.result("dx")
    assert dx.worst_index is not None and len(dx.worst_index) == 2
    assert dx.numeric == pytest.approx(dx.reference, rel=1e-6)
    assert f"numeric {dx.numeric:.6g}" in str(report)


def test_rnn_step_square_weight_transposed():
    report = exercises.check("rnn_step_backward", rnn_dweight_hh_transposed)
    assert {r.name for r in report.results if not r.right} == {"dweight_hh"}
    assert "wrong transpose" in report.hint and "dweight_hh" in report.hint


def test_rnn_step_non_square_weight_transposed_is_a_shape_error():
    report = exercises.check("rnn_step_backward", rnn_dweight_ih_transposed)
    assert "dweight_ih has shape (4, 6), expected (6, 4): wrong transpose" in report.hint


def test_rnn_step_bias_not_summed_over_batch():
    report = exercises.check("rnn_step_backward", rnn_bias_not_summed)
    assert "kept the batch axis" in report.hint
    assert "dbias_ih has shape (3, 6), expected (6,)" in str(report)


def test_rnn_step_missing_key_is_explained():
    report = exercises.check("rnn_step_backward", rnn_bias_hh_missing)
    assert "dparams lacks the key(s) bias_hh" in str(report)


def test_rnn_step_exception_points_at_the_students_line():
    report = exercises.check("rnn_step_backward", rnn_shape_error)
    text = str(report)
    assert "raised ValueError" in text
    assert "test_exercises.py" in text and "does not fit" in text


# --- LSTM step ------------------------------------------------------------------------------------

def _lstm_step(dstate, cache, *, tanh_c_derivative=True, carried_dc=True, through_h=True,
               g_local=lambda g: 1 - g**2, sigmoid_local=lambda s: s * (1 - s),
               dc_prev_times_f=True, do_times_tanh_c=True, order="ifgo"):
    dh, dc_next = dstate
    i, f, g, o, tanh_c, params = (getattr(cache, k) for k in ("i", "f", "g", "o", "tanh_c", "params"))
    dc = np.zeros_like(dc_next)
    if carried_dc:
        dc = dc + dc_next
    if through_h:
        dc = dc + dh * o * ((1 - tanh_c**2) if tanh_c_derivative else 1)
    do = dh * tanh_c if do_times_tanh_c else dh
    blocks = {"i": dc * g * sigmoid_local(i), "f": dc * cache.c_prev * sigmoid_local(f),
              "g": dc * i * g_local(g), "o": do * sigmoid_local(o)}
    da = np.concatenate([blocks[k] for k in order], axis=1)
    dparams = {"weight_ih": da.T @ cache.x, "weight_hh": da.T @ cache.h_prev,
               "bias_ih": da.sum(0), "bias_hh": da.sum(0)}
    dc_prev = dc * f if dc_prev_times_f else dc
    return da @ params["weight_ih"], (da @ params["weight_hh"], dc_prev), dparams


LSTM_WRONG = {
    "tanh derivative of c forgotten": dict(tanh_c_derivative=False),
    "tanh derivative of g forgotten": dict(g_local=lambda g: 1.0),
    "sigmoid derivative used for g": dict(g_local=lambda g: g * (1 - g)),
    "sigmoid derivatives forgotten": dict(sigmoid_local=lambda s: 1.0),
    "carried cell gradient forgotten": dict(carried_dc=False),
    "path through h forgotten": dict(through_h=False),
    "dc_prev not multiplied by f": dict(dc_prev_times_f=False),
    "do missing tanh(c)": dict(do_times_tanh_c=False),
    "gate blocks in the order i, f, o, g": dict(order="ifog"),
}

# Which gates' rows of the weight gradients each mistake spoils (worked out from the equations:
# dc feeds i, f and g; do feeds only o).
LSTM_WRONG_GATES = {
    "tanh derivative of c forgotten": "ifg",
    "tanh derivative of g forgotten": "g",
    "sigmoid derivative used for g": "g",
    "sigmoid derivatives forgotten": "ifo",
    "carried cell gradient forgotten": "ifg",
    "path through h forgotten": "ifg",
    "dc_prev not multiplied by f": "",
    "do missing tanh(c)": "o",
    "gate blocks in the order i, f, o, g": "go",
}

LSTM_HINT_PHRASES = {
    "tanh derivative of c forgotten": "forgot the tanh derivative on the path h -> c",
    "tanh derivative of g forgotten": "forgot the tanh derivative of the candidate g",
    "sigmoid derivative used for g": "g is a tanh",
    "sigmoid derivatives forgotten": "forgot the sigmoid derivative",
    "carried cell gradient forgotten": "dc = dc_next + dh * o",
    "path through h forgotten": "c reaches the loss two ways",
    "dc_prev not multiplied by f": "dc_prev = dc * f",
    "do missing tanh(c)": "do = dh * tanh(c)",
    "gate blocks in the order i, f, o, g": "i, f, g, o",
}


@pytest.mark.parametrize("mistake", list(LSTM_WRONG))
def test_lstm_step_mistakes_name_the_mistake_and_the_gates(mistake):
    wrong = lambda dstate, cache: _lstm_step(dstate, cache, **LSTM_WRONG[mistake])  # noqa: E731
    report = exercises.check("lstm_step_backward", wrong)
    assert not report.passed
    assert report.mistake == mistake, str(report)
    assert LSTM_HINT_PHRASES[mistake] in report.hint
    gates = LSTM_WRONG_GATES[mistake]
    weight = report.result("dweight_ih")
    if not gates:
        assert weight.right
        assert {r.name for r in report.results if not r.right} == {"dc_prev"}
        return
    gate_note = weight.notes[0]
    for gate in "ifgo":
        span = f"{gate} (rows {'ifgo'.index(gate) * 6}:{'ifgo'.index(gate) * 6 + 6})"  # H = 6
        assert (span in gate_note) == (gate in gates), gate_note
    worst_gate = "ifgo"[weight.worst_index[0] // 6]
    assert worst_gate in gates
    assert f"worst entry is in gate {worst_gate}" in gate_note


def test_lstm_gate_report_text():
    wrong = lambda dstate, cache: _lstm_step(dstate, cache, g_local=lambda g: 1.0)  # noqa: E731
    text = str(exercises.check("lstm_step_backward", wrong))
    assert "wrong in the rows of gate g (rows 12:18); gates i, f, o are right." in text
    assert "dc_prev     right" in text


# --- BPTT -----------------------------------------------------------------------------------------

def _bptt(dhs, dh_last, cache, *, accumulate=True, carry=True, use_dhs=True, use_dh_last=True,
          stack_as_visited=False, step=None, mean_over_time=False):
    step = step or solution("rnn_step_backward")
    steps = cache.steps
    time = len(steps)
    grads = {k: np.zeros_like(v) for k, v in steps[0].params.items()}
    dxs = []
    carried = dh_last if use_dh_last else np.zeros_like(dh_last)
    for t in reversed(range(time)):
        upstream = dhs[:, t] if use_dhs else 0.0
        dh = upstream + carried if (carry or t == time - 1) else upstream
        dx_t, carried, step_grads = step(dh, steps[t])
        dxs.append(dx_t)
        for k in grads:
            grads[k] = grads[k] + step_grads[k] if accumulate else step_grads[k]
    if mean_over_time:
        grads = {k: v / time for k, v in grads.items()}
    dx = np.stack(dxs if stack_as_visited else dxs[::-1], axis=1)
    return dx, carried, grads


def _step_without_tanh_derivative(dh, cache):
    return rnn_no_tanh_derivative(dh, cache)


BPTT_WRONG = [
    (dict(accumulate=False), "parameter gradients not accumulated over time", "forgot to accumulate over time"),
    (dict(carry=False), "gradient not carried back through time", "carried back through time"),
    (dict(use_dhs=False), "upstream dhs ignored", "the loss reads every h_t"),
    (dict(use_dh_last=False), "dh_last ignored", "dh_last is ignored"),
    (dict(stack_as_visited=True), "dx in reversed time order", "reversed time order"),
    (dict(step=_step_without_tanh_derivative), "tanh derivative forgotten in the step", "forgot the tanh derivative"),
]


@pytest.mark.parametrize("flags, mistake, phrase", BPTT_WRONG)
def test_bptt_mistakes(flags, mistake, phrase):
    report = exercises.check("rnn_backward", lambda dhs, dh_last, cache: _bptt(dhs, dh_last, cache, **flags))
    assert not report.passed
    assert report.mistake == mistake, str(report)
    assert phrase in report.hint


def test_bptt_not_accumulated_leaves_inputs_right():
    report = exercises.check("rnn_backward", lambda a, b, c: _bptt(a, b, c, accumulate=False))
    assert report.result("dx").right and report.result("dh0").right
    assert not report.result("dweight_hh").right


def test_bptt_mean_over_time_reports_the_factor():
    report = exercises.check("rnn_backward", lambda a, b, c: _bptt(a, b, c, mean_over_time=True))
    assert report.mistake is None
    assert "exactly 0.2 times the right answer: 1/T: you divided by the number of time steps T = 5" in report.hint


# --- the command line -----------------------------------------------------------------------------

def test_command_lists_copies_and_checks(tmp_path, capsys):
    from scratchlm.cli import main

    assert main(["exercise", "list"]) == 0
    listed = capsys.readouterr().out
    assert "lstm_step_backward" in listed and "attention_forward" in listed and "attention_backward" in listed
    assert main(["exercise", "copy", str(tmp_path)]) == 0
    capsys.readouterr()
    # the untouched template is "not written yet": exit status 1
    assert main(["exercise", "check", "rnn_step_backward", str(tmp_path / "rnn_step.py")]) == 1
    assert "not written yet" in capsys.readouterr().out
    # a copy of the solution passes
    solution = tmp_path / "my_solution.py"
    solution.write_text((SOLUTIONS / "rnn_step.py").read_text())
    assert main(["exercise", "check", "rnn_step_backward", str(solution)]) == 0
    assert "right" in capsys.readouterr().out


def test_command_reports_unimportable_files(tmp_path, capsys):
    from scratchlm.cli import main

    broken = tmp_path / "broken.py"
    broken.write_text("def rnn_step_backward(dh, cache:\n")
    assert main(["exercise", "check", "rnn_step_backward", str(broken)]) == 1
    assert "could not import" in capsys.readouterr().out
    assert main(["exercise", "check", "rnn_step_backward", str(tmp_path / "missing.py")]) == 2


# --- the mistakes added with the new exercises, and the false passes of the old checker ----------------

def embedding_loop_to_v_minus_1(dout, cache):
    dweight = np.zeros((cache.vocab_size, dout.shape[-1]))
    for v in range(cache.vocab_size - 1):
        dweight[v] = dout[cache.ids == v].sum(axis=0)
    return dweight


def embedding_e_from_the_batch_axis(dout, cache):
    dweight = np.zeros((cache.vocab_size, dout.shape[0]))  # E taken from the batch axis
    np.add.at(dweight, cache.ids.reshape(-1), dout.reshape(-1, dout.shape[0]))
    return dweight


def test_embedding_last_id_left_out():
    report = exercises.check("embedding_backward", embedding_loop_to_v_minus_1)
    assert report.mistake == "last id left out" and "range(V)" in report.hint


def test_embedding_size_from_the_wrong_axis_fails():
    report = exercises.check("embedding_backward", embedding_e_from_the_batch_axis)
    assert not report.passed


def softmax_mask_on_onehot_only(cache, dloss=1.0):
    probs, onehot, mask = _softmax_parts(cache)
    return dloss * (probs - onehot * mask) / cache.count


def test_softmax_mask_on_the_onehot_only():
    report = exercises.check("softmax_cross_entropy_backward", softmax_mask_on_onehot_only)
    assert report.mistake == "mask applied to the one-hot only", str(report)


@pytest.mark.parametrize("derivative, mistake", [
    (lambda dh, h: dh * h * (1 - h), "tanh derivative written h(1 - h)"),
])
def test_rnn_step_sigmoid_style_derivative(derivative, mistake):
    report = exercises.check("rnn_step_backward", lambda dh, cache: _rnn_step(dh, cache, da_of=derivative))
    assert report.mistake == mistake, str(report)


def rnn_one_minus_a_squared(dh, cache):
    p = cache.params
    a = cache.x @ p["weight_ih"].T + p["bias_ih"] + cache.h_prev @ p["weight_hh"].T + p["bias_hh"]
    return _rnn_step(dh, cache, da_of=lambda dh, h: dh * (1 - a**2))


def rnn_h_for_h_prev(dh, cache):
    dx, dh_prev, dparams = _rnn_step(dh, cache)
    dparams["weight_hh"] = (dh * (1 - cache.h**2)).T @ cache.h
    return dx, dh_prev, dparams


def test_rnn_step_one_minus_a_squared_and_h_for_h_prev():
    assert exercises.check("rnn_step_backward", rnn_one_minus_a_squared).mistake == "tanh derivative written 1 - a**2"
    report = exercises.check("rnn_step_backward", rnn_h_for_h_prev)
    assert report.mistake == "h_t used for h_{t-1}" and "cache.h_prev" in report.hint


def test_rnn_step_unknown_mistake_is_localised_in_the_graph():
    report = exercises.check("rnn_step_backward", lambda dh, cache: _rnn_step(dh, cache, da_of=lambda d, h: d * (1 - h**3)))
    assert report.mistake is None
    assert "the error is upstream of the matrix products, in da" in report.hint


def bptt_forwards(dhs, dh_last, cache):
    step = solution("rnn_step_backward")
    steps = cache.steps
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:])
    grads = {k: np.zeros_like(v) for k, v in steps[0].params.items()}
    carried = dh_last
    for t in range(len(steps)):  # forwards: the mistake
        dx[:, t], carried, g = step(dhs[:, t] + carried, steps[t])
        for k in grads:
            grads[k] += g[k]
    return dx, carried, grads


def bptt_dh_last_every_step(dhs, dh_last, cache):
    step = solution("rnn_step_backward")
    steps = cache.steps
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:])
    grads = {k: np.zeros_like(v) for k, v in steps[0].params.items()}
    carried = np.zeros_like(dh_last)
    for t in reversed(range(len(steps))):
        dx[:, t], carried, g = step(dhs[:, t] + carried + dh_last, steps[t])
        for k in grads:
            grads[k] += g[k]
    return dx, carried, grads


def bptt_h_for_t(dhs, dh_last, cache):
    step = solution("rnn_step_backward")
    steps = cache.steps
    hidden = dh_last.shape[1]  # H where T was meant
    dx = np.zeros(dhs.shape[:2] + steps[0].x.shape[1:])
    grads = {k: np.zeros_like(v) for k, v in steps[0].params.items()}
    carried = dh_last
    for t in reversed(range(min(hidden, len(steps)))):
        dx[:, t], carried, g = step(dhs[:, t] + carried, steps[t])
        for k in grads:
            grads[k] += g[k]
    return dx, carried, grads


def test_bptt_forwards_and_dh_last_every_step():
    report = exercises.check("rnn_backward", bptt_forwards)
    assert report.mistake == "loop run forwards in time", str(report)
    report = exercises.check("rnn_backward", bptt_dh_last_every_step)
    assert report.mistake == "dh_last added at every step", str(report)


def test_bptt_with_h_where_t_was_meant_fails():
    assert not exercises.check("rnn_backward", bptt_h_for_t).passed


def test_bptt_time_localisation():
    report = exercises.check("rnn_backward", lambda a, b, c: _bptt(a, b, c, carry=False))
    assert "dx is right at t >= 5 and wrong at t <= 4: each step's own gradient is right, so look at the " \
           "gradient you carry back" in str(report)


def test_lstm_sigmoid_derivative_of_an_activated_gate():
    wrong = lambda dstate, cache: _lstm_step(dstate, cache, sigmoid_local=lambda s: forward_sigmoid(s) * (1 - forward_sigmoid(s)))  # noqa: E731
    report = exercises.check("lstm_step_backward", wrong)
    assert report.mistake == "sigmoid derivative of an activated gate", str(report)


def forward_sigmoid(a):
    return 1 / (1 + np.exp(-a))


@pytest.mark.parametrize("order", ["oifg", "gifo", "fgio"])
def test_lstm_any_permutation_of_the_gate_blocks(order):
    report = exercises.check("lstm_step_backward", lambda dstate, cache: _lstm_step(dstate, cache, order=order))
    assert report.mistake == f"gate blocks in the order {', '.join(order)}", str(report)


def lstm_step_float32_da(dstate, cache):
    """A correct LSTM step that keeps da in float32: accepted, and no mistake is named."""
    dh, dc_next = dstate
    i, f, g, o, tanh_c = cache.i, cache.f, cache.g, cache.o, cache.tanh_c
    dc = dc_next + dh * o * (1 - tanh_c**2)
    da = np.empty((dh.shape[0], 4 * dh.shape[1]), dtype=np.float32)
    H = dh.shape[1]
    da[:, :H], da[:, H:2 * H] = dc * g * i * (1 - i), dc * cache.c_prev * f * (1 - f)
    da[:, 2 * H:3 * H], da[:, 3 * H:] = dc * i * (1 - g**2), dh * tanh_c * o * (1 - o)
    p = cache.params
    dparams = {"weight_ih": da.T @ cache.x.astype(np.float32), "weight_hh": da.T @ cache.h_prev.astype(np.float32),
               "bias_ih": da.sum(0), "bias_hh": da.sum(0)}
    return da @ p["weight_ih"].astype(np.float32), (da @ p["weight_hh"].astype(np.float32), dc * f), dparams


def test_float32_work_is_accepted_without_a_wrong_hint():
    for seed in range(6):
        report = exercises.check("lstm_step_backward", lstm_step_float32_da, seed=seed)
        assert report.passed, str(report)


def test_integer_gradient_is_named():
    def integer_dweight(dout, cache):
        dweight = np.zeros((cache.vocab_size, dout.shape[-1]), dtype=np.int64)
        np.add.at(dweight, cache.ids.reshape(-1), dout.reshape(-1, dout.shape[-1]).astype(np.int64))
        return dweight

    assert "your dweight is int64" in str(exercises.check("embedding_backward", integer_dweight))


def lstm_sequence_without_dc_carry(dhs, dstate_last, cache):
    step = solution("lstm_step_backward")
    dh, dc = dstate_last
    dx = np.zeros(dhs.shape[:2] + cache.steps[0].x.shape[1:])
    grads = {k: np.zeros_like(v) for k, v in cache.steps[0].params.items()}
    for t in reversed(range(len(cache.steps))):
        dx[:, t], (dh, dc_prev), g = step((dhs[:, t] + dh, dc), cache.steps[t])
        dc = np.zeros_like(dc)  # the mistake: the cell gradient is not carried
        for k in grads:
            grads[k] += g[k]
    return dx, (dh, dc_prev), grads


def test_lstm_sequence_cell_gradient_not_carried():
    report = exercises.check("lstm_backward", lstm_sequence_without_dc_carry)
    assert report.mistake == "cell gradient not carried back", str(report)


def _gru(dh, cache, *, swap_z=False, direct=True, reset=True, order="rzn"):
    r, z, n, ah_n, p = cache.r, cache.z, cache.n, cache.ah_n, cache.params
    dn, dz = (dh * z, dh * (n - cache.h_prev)) if swap_z else (dh * (1 - z), dh * (cache.h_prev - n))
    dan = dn * (1 - n**2)
    blocks_x = {"r": dan * ah_n * r * (1 - r), "z": dz * z * (1 - z), "n": dan}
    blocks_h = dict(blocks_x, n=dan * r if reset else dan)
    dax = np.concatenate([blocks_x[k] for k in order], axis=1)
    dah = np.concatenate([blocks_h[k] for k in order], axis=1)
    grads = {"weight_ih": dax.T @ cache.x, "weight_hh": dah.T @ cache.h_prev, "bias_ih": dax.sum(0), "bias_hh": dah.sum(0)}
    return dax @ p["weight_ih"], (dh * z if direct else 0) + dah @ p["weight_hh"], grads


@pytest.mark.parametrize("flags, mistake", [
    (dict(swap_z=True), "z and 1 - z swapped"),
    (dict(direct=False), "direct path to h_prev forgotten"),
    (dict(reset=False), "reset gate not applied to the recurrent part"),
    (dict(order="zrn"), "gate blocks in the order z, r, n"),
])
def test_gru_mistakes(flags, mistake):
    report = exercises.check("gru_step_backward", lambda dh, cache: _gru(dh, cache, **flags))
    assert report.mistake == mistake, str(report)


def test_affine_scale_factor_in_words():
    def divided_by_batch(dy, cache):
        dx, dw, db = solution("affine_backward")(dy, cache)
        return dx, dw / dy.shape[0], db
    report = exercises.check("affine_backward", divided_by_batch)
    assert "1/B: you divided by the batch size B = 3" in str(report)


def test_pickled_answer_for_the_default_seed_fails():
    problem = cases.problems("rnn_step_backward", seed=0)[0]
    dx, dh_prev, dparams = solution("rnn_step_backward")(*problem.arguments())
    report = exercises.check("rnn_step_backward", lambda dh, cache: (dx, dh_prev, dparams))
    assert not report.passed


def test_wrapping_the_library_layer_is_not_accepted():
    from scratchlm.layers import rnn as rnn_layer

    def wraps_the_layer(dh, cache):
        _, library_cache = rnn_layer.rnn_step_forward(cache.x, cache.h_prev, cache.params)
        return rnn_layer.rnn_step_backward(dh, library_cache)

    report = exercises.check("rnn_step_backward", wraps_the_layer)
    assert not report.passed and "calls scratchlm's own scratchlm.layers.rnn.rnn_step" in str(report)


# --- the value and sampling exercises catch their usual mistakes -------------------------------------

def test_value_exercises_catch_wrong_answers():
    windows = lambda ids, b, bptt: [(i, i) for i, _ in solution("stream_windows")(ids, b, bptt)]  # noqa: E731
    assert not exercises.check("stream_windows", windows).passed
    def unpadded(sentences, n):
        counts = {}
        for s in sentences:
            for start in range(len(s) - n + 1):
                counts[tuple(s[start:start + n])] = counts.get(tuple(s[start:start + n]), 0) + 1
        return counts

    report = exercises.check("count_ngrams", unpadded)
    assert not report.passed and "padding <s> ... </s>" in str(report)
    no_end = lambda counts, k: (counts + k) / (counts.sum(1, keepdims=True) + k * (counts.shape[1] - 1))  # noqa: E731
    assert not exercises.check("add_k_probs", no_end).passed

    def perplexity_counting_bos(model, sentences):
        import math
        ppl = solution("perplexity")(model, sentences)
        n = sum(len(s) + 1 for s in sentences)
        return math.exp(math.log(ppl) * n / (n + len(sentences)))

    assert not exercises.check("perplexity", perplexity_counting_bos).passed


def test_sampling_is_checked_on_its_distribution():
    assert exercises.check("sample_tokens", solution("sample_tokens"), seed=3).passed
    argmax = lambda probs, rng: probs.argmax(axis=1)  # noqa: E731
    report = exercises.check("sample_tokens", argmax)
    assert not report.passed and "chi-square" in str(report)

    def never_last(probs, rng):
        cdf = np.cumsum(probs[:, :-1], axis=1)
        u = rng.random((len(probs), 1)) * cdf[:, -1:]
        return (cdf <= u).sum(axis=1)

    assert not exercises.check("sample_tokens", never_last).passed


def test_top_k_and_top_p_follow_hugging_face_at_ties_and_boundaries():
    right = solution("filter_probs")

    def exactly_k(logits, temperature, top_k, top_p):
        probs = right(logits, temperature, None, None)
        if top_k is not None:
            dropped = np.argsort(-probs, axis=1, kind="stable")[:, top_k:]  # exactly k: ties with the k-th lost
            np.put_along_axis(probs, dropped, 0.0, axis=1)
            probs /= probs.sum(axis=1, keepdims=True)
        return right(np.log(np.maximum(probs, 1e-300)), 1.0, None, top_p) if top_p is not None else probs

    def rounding_tolerance(logits, temperature, top_k, top_p):
        probs = right(logits, temperature, top_k, None)
        if top_p is not None:  # 0.5 + 0.2 + 0.2 "reaches" 0.9 up to rounding: drops the fourth token
            order = np.argsort(-probs, axis=1, kind="stable")
            ranked = np.take_along_axis(probs, order, axis=1)
            keep = np.zeros_like(probs, dtype=bool)
            np.put_along_axis(keep, order, np.cumsum(ranked, axis=1) - ranked < top_p * (1 - 1e-9), axis=1)
            probs = np.where(keep, probs, 0.0)
            probs /= probs.sum(axis=1, keepdims=True)
        return probs

    assert exercises.check("filter_probs", right).passed
    report = exercises.check("filter_probs", exactly_k)
    assert not report.passed and "top_k = 2" in str(report)
    report = exercises.check("filter_probs", rounding_tolerance)
    assert not report.passed and "top_p = 0.9" in str(report)


def test_beam_search_must_narrow_the_beam():
    def never_narrows(model, beam_width, max_len):
        state = model.start(1)
        live, scores, finished = [[]], np.zeros(1), []
        for step in range(max_len):
            cand = scores[:, None] + model.log_probs(state)
            best = np.argsort(-cand.ravel(), kind="stable")[:beam_width]  # all beam_width slots every step
            rows, tokens = np.divmod(best, cand.shape[1])
            keep = [(r, t, cand[r, t]) for r, t in zip(rows, tokens)]
            finished += [(live[r], float(s)) for r, t, s in keep if t == model.eos_id]
            keep = [(r, t, s) for r, t, s in keep if t != model.eos_id]
            live = [live[r] + [int(t)] for r, t, _ in keep]
            scores = np.array([s for *_, s in keep])
            if not live or step + 1 == max_len:
                break
            state = model.advance(model.select(state, np.array([r for r, *_ in keep])), np.array([t for _, t, _ in keep]))
        return sorted(finished + list(zip(live, map(float, scores))), key=lambda h: -h[1])[:beam_width]

    assert not exercises.check("beam_search", never_narrows).passed


# --- grading in separate processes -------------------------------------------------------------------

def test_grade_folder_survives_hostile_submissions(tmp_path):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    alice.mkdir()
    bob.mkdir()
    (alice / "rnn_step.py").write_text((SOLUTIONS / "rnn_step.py").read_text())
    (bob / "rnn_step.py").write_text(
        "import os, json\n"
        "def rnn_step_forward(x, h_prev, params):\n"
        "    print(json.dumps({'status': 'ok', 'score': 1}))\n"
        "    os._exit(0)\n"
        "def rnn_step_backward(dh, cache):\n"
        "    from solutions.rnn_step import rnn_step_backward\n"
        "    return rnn_step_backward(dh, cache)\n")
    (bob / "clipping.py").write_text("def clip_grad_norm(grads, max_norm):\n    while True:\n        pass\n")
    (bob / "batching.py").write_text("def stream_windows(ids, batch_size, bptt):\n    while True:\n"
                                     "        print('x' * 100000)\n")
    done = subprocess.run([sys.executable, "-m", "scratchlm", "exercise", "grade", str(tmp_path), "--json",
                           "--timeout", "8", "--exercise", "rnn_step_forward", "--exercise", "rnn_step_backward",
                           "--exercise", "clip_grad_norm", "--exercise", "stream_windows", "--seed", "1234"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    grades = json.loads(done.stdout)
    assert grades["exercises"] == ["rnn_step_forward", "rnn_step_backward", "clip_grad_norm", "stream_windows"]
    a, b = grades["students"]["alice"], grades["students"]["bob"]
    assert a["exercises"]["rnn_step_forward"]["passed"] and a["exercises"]["rnn_step_backward"]["score"] == 1.0
    assert a["exercises"]["clip_grad_norm"]["status"] == "missing" and a["total"] == 2.0
    assert set(a["exercises"]["rnn_step_backward"]["parts"]) == {"dx", "dh_prev", "dweight_ih", "dweight_hh",
                                                                 "dbias_ih", "dbias_hh"}
    assert b["total"] == 0.0
    assert "ended" in b["exercises"]["rnn_step_forward"]["error"]
    assert "solutions" in b["exercises"]["rnn_step_backward"]["error"]
    assert "did not finish within 8 s" in b["exercises"]["clip_grad_norm"]["error"]
    assert b["exercises"]["stream_windows"]["score"] == 0.0  # its flood of output stopped at 50 MB


def test_check_file_gives_a_score_and_json(tmp_path, capsys):
    from scratchlm.cli import main

    path = tmp_path / "gru_step.py"
    text = (SOLUTIONS / "gru_step.py").read_text().replace("dh * z + dah", "dah")  # the direct path forgotten
    path.write_text(text)
    assert main(["exercise", "check", str(path), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["max"] == 2 and 1.0 < result["score"] < 2.0
    backward = result["exercises"][1]
    assert backward["mistake"] == "direct path to h_prev forgotten"
    assert 0 < backward["score"] < 1 and backward["parts"]["dx"] is True and backward["parts"]["dh_prev"] is False


def test_plain_pytest_checks_a_students_folder(tmp_path):
    exercises.copy_templates(tmp_path)
    for path in tmp_path.glob("*.py"):
        if path.name not in ("clipping.py", exercises.PYTEST_FILE):
            path.unlink()
    (tmp_path / "clipping.py").write_text((SOLUTIONS / "clipping.py").read_text())
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert "1 passed" in done.stdout, done.stdout[-2000:]


def test_nbgrader_assignment_notebooks(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    sys.path.insert(0, str(SOLUTIONS))
    make_nbgrader = importlib.import_module("make_nbgrader")
    source = make_nbgrader.write_assignment(tmp_path, "hw")
    release = make_nbgrader.write_assignment(tmp_path, "hw", release=True)
    graded = set()
    for path in source + release:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            meta = cell.metadata["nbgrader"]
            assert meta["schema_version"] == 3 and {"grade", "grade_id", "locked", "solution"} <= set(meta)
            if meta["grade"]:
                assert meta["locked"] and not meta["solution"] and meta["points"] == 1
                graded.add(meta["grade_id"])
            if meta["solution"]:
                assert not meta["locked"] and not meta["grade"]
                assert ("### BEGIN SOLUTION" in cell.source) == (path in source)
            if path in release:
                assert "HIDDEN TESTS" not in cell.source
    assert graded == {f"{name}-check" for name in exercises.EXERCISES}
    # the teacher's version passes its own tests (one small notebook, run for real)
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    notebook = nbformat.read(tmp_path / "source" / "hw" / "clipping.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()


def _lstm_bptt(dhs, dstate_last, cache, *, accumulate=True, carry_h=True, forwards=False, dh_last_every_step=False,
               use_dh_last=True, step=None):
    step = step or solution("lstm_step_backward")
    dh_last, dc_last = dstate_last
    T = len(cache.steps)
    dx = np.zeros(dhs.shape[:2] + cache.steps[0].x.shape[1:])
    grads = {k: np.zeros_like(v) for k, v in cache.steps[0].params.items()}
    dh, dc = (dh_last if use_dh_last else np.zeros_like(dh_last)), dc_last
    for t in (range(T) if forwards else reversed(range(T))):
        upstream = dhs[:, t] + (dh if carry_h or t == T - 1 else 0)
        if dh_last_every_step and t < T - 1:
            upstream = upstream + dh_last
        dx[:, t], (dh, dc), g = step((upstream, dc), cache.steps[t])
        for k in grads:
            grads[k] = grads[k] + g[k] if accumulate else g[k]
    return dx, (dh, dc), grads


def _lstm_step_without_tanh_c_derivative(dstate, cache):
    return _lstm_step(dstate, cache, tanh_c_derivative=False)


@pytest.mark.parametrize("flags, mistake", [
    (dict(accumulate=False), "parameter gradients not accumulated over time"),
    (dict(carry_h=False), "gradient not carried back through time"),
    (dict(forwards=True), "loop run forwards in time"),
    (dict(dh_last_every_step=True), "dh_last added at every step"),
    (dict(use_dh_last=False), "dh_last ignored"),
    (dict(step=_lstm_step_without_tanh_c_derivative), "tanh derivative of c forgotten in the step"),
])
def test_lstm_sequence_mistakes(flags, mistake):
    report = exercises.check("lstm_backward", lambda a, b, c: _lstm_bptt(a, b, c, **flags))
    assert report.mistake == mistake, str(report)
    assert exercises.check("lstm_backward", _lstm_bptt).passed


def _windows_unshifted(ids, batch_size, bptt):
    return [(inputs, inputs) for inputs, _ in solution("stream_windows")(ids, batch_size, bptt)]


def _windows_column_major(ids, batch_size, bptt):
    length = len(ids) // batch_size
    streams = ids[: batch_size * length].reshape(length, batch_size).T
    return [(streams[:, s : s + min(bptt, length - 1 - s)], streams[:, s + 1 : s + 1 + min(bptt, length - 1 - s)])
            for s in range(0, length - 1, bptt)]


def _add_k_once(counts, k):
    return (counts + k) / (counts.sum(axis=1, keepdims=True) + k)


def _add_k_with_bos(counts, k):
    return (counts + k) / (counts.sum(axis=1, keepdims=True) + k * (counts.shape[1] + 1))


def _interpolated_uniform_fallback(counts, lambdas):
    probs = solution("interpolated_probs")(counts, lambdas)
    probs[counts.sum(axis=1) == 0] = 1.0 / counts.shape[1]
    return probs


def _kn_raw_lower_order(counts, discount):
    # the continuation counts replaced by the column sums: build counts whose column non-zeros equal them
    outcomes = counts.shape[1]
    lower = counts.sum(axis=0)
    total = lower.sum()
    p1 = np.maximum(lower - discount, 0) / total + discount * (lower > 0).sum() / total / outcomes
    totals = counts.sum(axis=1, keepdims=True)
    safe = np.where(totals > 0, totals, 1)
    p2 = np.maximum(counts - discount, 0) / safe + discount * (counts > 0).sum(axis=1, keepdims=True) / safe * p1
    return np.where(totals > 0, p2, p1)


def _perplexity_with_bos(model, sentences):
    import math
    total, count = 0.0, 0
    for s in sentences:
        state = model.start(1)
        for token in list(s) + [model.eos_id]:
            total -= float(model.log_probs(state)[0, token])
            state = model.advance(state, [token])
        count += len(s) + 2
    return math.exp(total / count)


def _filter_times_t(logits, temperature, top_k, top_p):
    return solution("filter_probs")(logits * temperature * temperature, temperature, top_k, top_p)


def _clip_per_array(grads, max_norm):
    norm = float(np.sqrt(sum((g**2).sum() for g in grads.values())))
    for g in grads.values():
        coef = max_norm / (float(np.sqrt((g**2).sum())) + 1e-6)
        if coef < 1:
            g *= coef
    return norm


def _clip_copies(grads, max_norm):
    return float(np.sqrt(sum((g**2).sum() for g in grads.values())))


def _rnn_forward_from_h0(x, h0, params):
    step = solution("rnn_step_forward")
    hs = np.stack([step(x[:, t], h0, params) for t in range(x.shape[1])], axis=1)
    return hs, hs[:, -1]


@pytest.mark.parametrize("exercise, wrong, mistake", [
    ("stream_windows", _windows_unshifted, "targets not shifted"),
    ("stream_windows", _windows_column_major, "streams cut column-wise"),
    ("add_k_probs", _add_k_once, "k added once to the denominator"),
    ("add_k_probs", _add_k_with_bos, "<s> counted as an outcome"),
    ("interpolated_probs", _interpolated_uniform_fallback, "unseen context: uniform"),
    ("kneser_ney_probs", _kn_raw_lower_order, "raw counts at the lower order"),
    ("perplexity", _perplexity_with_bos, "<bos> counted"),
    ("filter_probs", _filter_times_t, "logits multiplied by the temperature"),
    ("clip_grad_norm", _clip_per_array, "each array clipped by its own norm"),
    ("clip_grad_norm", _clip_copies, "not changed in place"),
    ("rnn_forward", _rnn_forward_from_h0, "state not carried"),
])
def test_value_mistakes_are_named(exercise, wrong, mistake):
    report = exercises.check(exercise, wrong)
    assert not report.passed
    assert report.mistake == mistake, str(report)


def test_switching_the_watch_off_is_not_accepted():
    from scratchlm.layers import rnn as rnn_layer

    def sneaky(dh, cache):
        sys.setprofile(None)
        _, library_cache = rnn_layer.rnn_step_forward(cache.x, cache.h_prev, cache.params)
        return rnn_layer.rnn_step_backward(dh, library_cache)

    report = exercises.check("rnn_step_backward", sneaky)
    assert not report.passed and "sys.setprofile" in str(report)


def test_odd_return_values_are_reported_not_raised():
    report = exercises.check("count_ngrams", lambda sentences, n: {object(): 1})
    assert not report.passed
    report = exercises.check("beam_search", lambda model, width, max_len: [(object(), "x")])
    assert not report.passed


def _run_windows_from(start):
    def run(windows, h0, params, rnn_forward):
        hs, starts = [], []
        for window in windows:
            h = h0 if start == "h0" else np.zeros_like(h0)
            starts.append(h)
            hs.append(rnn_forward(window, h, params)[0])
        return np.concatenate(hs, axis=1), starts
    return run


def test_run_windows_must_carry_the_state():
    report = exercises.check("run_windows", _run_windows_from("h0"))
    assert report.mistake == "every window starts from h0", str(report)
    assert "hs is right at t <= 6 and wrong from t = 7 on: look at the state you carry forward" in str(report)
    assert exercises.check("run_windows", _run_windows_from("zeros")).mistake == "every window starts from zeros"


def _float32(obj):
    if isinstance(obj, np.ndarray) and obj.dtype == np.float64:
        return obj.astype(np.float32)
    if isinstance(obj, float):
        return np.float32(obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*[_float32(item) for item in obj])
    if isinstance(obj, (tuple, list)):
        return type(obj)(_float32(item) for item in obj)
    if isinstance(obj, dict):
        return {key: _float32(value) for key, value in obj.items()}
    return obj


@pytest.mark.parametrize("name", [n for n in exercises.EXERCISES if n not in ("clip_grad_norm", "sample_tokens")])
def test_solutions_computed_in_float32_pass(name):
    """The worked solution run on float32 copies of its inputs, returning float32: accepted."""
    fn = solution(name)
    report = exercises.check(name, lambda *args: _float32(fn(*_float32(args))), seed=2)
    assert report.passed, str(report)


# --- attention --------------------------------------------------------------------------------------

def _attention(queries, keys, mask, params, *, padding="-inf", axis=-1):
    """The "general" attention forward as a student writes it, with the padding handled one way."""
    scores = np.einsum("btq,qk,bsk->bts", queries, params["weight"], keys)
    real = mask[:, None, :]
    if padding in ("-inf", "-1e30"):
        scores = np.where(real, scores, -np.inf if padding == "-inf" else -1e30)
    elif padding == "zero":
        scores = scores * real
    weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
    weights = weights / weights.sum(axis=axis, keepdims=True)
    if padding == "after":
        weights = weights * real
    return np.einsum("bts,bsk->btk", weights, keys), weights


@pytest.mark.parametrize("flags, mistake", [
    (dict(padding="ignored"), "mask ignored"),
    (dict(padding="zero"), "padding scored 0"),
    (dict(padding="after"), "padding zeroed after the softmax"),
    (dict(padding="-1e30", axis=1), "softmax over the wrong axis"),
])
def test_attention_forward_mistakes(flags, mistake):
    report = exercises.check("attention_forward", lambda q, k, m, p: _attention(q, k, m, p, **flags))
    assert not report.passed and report.mistake == mistake, str(report)
    assert report.hint in str(report)


def test_attention_forward_is_right_written_another_way():
    assert exercises.check("attention_forward", _attention).passed


def test_attention_softmax_over_the_wrong_axis_with_inf_says_why_nan():
    with np.errstate(invalid="ignore"):  # -inf - (-inf): the NaN the student's code makes
        report = exercises.check("attention_forward", lambda q, k, m, p: _attention(q, k, m, p, axis=1))
    assert not report.passed
    assert "NaN" in str(report) and "the last axis" in str(report)


def test_attention_forward_transposed_weight_is_a_shape_error():
    def transposed(queries, keys, mask, params):
        return _attention(queries, keys, mask, {"weight": params["weight"].T})

    report = exercises.check("attention_forward", transposed)
    assert not report.passed and "compare the shapes" in str(report), str(report)


def _attention_backward(dcontext, cache, *, jacobian="full", sum_axis=2, values=True, scores=True, transpose_dw=False):
    """The backward pass written loop-free but independently of the checker's model."""
    q, k, alpha, w = cache.queries, cache.keys, cache.weights, cache.params["weight"]
    dalpha = np.einsum("btk,bsk->bts", dcontext, k)
    if jacobian == "full":
        de = alpha * dalpha - alpha * np.sum(alpha * dalpha, axis=sum_axis, keepdims=True)
    elif jacobian == "diagonal":
        de = alpha * dalpha
    else:
        de = 0.0 * alpha
    dq = np.einsum("bts,bsk,qk->btq", de, k, w)
    dk = np.zeros_like(k)
    if values:
        dk += np.einsum("bts,btk->bsk", alpha, dcontext)
    if scores:
        dk += np.einsum("bts,btq,qk->bsk", de, q, w)
    dw = np.einsum("bts,btq,bsk->qk", de, q, k)
    return dq, dk, {"weight": dw.T if transpose_dw else dw}


def test_attention_backward_is_right_written_another_way():
    assert exercises.check("attention_backward", _attention_backward).passed


@pytest.mark.parametrize("flags, mistake", [
    (dict(jacobian="none"), "alpha treated as a constant"),
    (dict(jacobian="diagonal"), "softmax Jacobian's sum term left out"),
    (dict(sum_axis=1), "softmax backward summed over the wrong axis"),
    (dict(values=False), "keys as values forgotten"),
    (dict(scores=False), "score path to the keys forgotten"),
])
def test_attention_backward_mistakes(flags, mistake):
    report = exercises.check("attention_backward", lambda dc, cache: _attention_backward(dc, cache, **flags))
    assert not report.passed and report.mistake == mistake, str(report)
    result = report.result("dkeys" if not (flags.get("values", True) and flags.get("scores", True)) else "dqueries")
    assert not result.right and result.numeric == pytest.approx(result.reference, rel=1e-5)


def test_attention_backward_transposed_dweight_is_explained():
    report = exercises.check("attention_backward", lambda dc, cache: _attention_backward(dc, cache, transpose_dw=True))
    assert "dweight has shape (7, 5), expected (5, 7): wrong transpose?" in str(report)


def test_attention_backward_dparams_must_be_a_dict_with_weight():
    report = exercises.check("attention_backward", lambda dc, cache: _attention_backward(dc, cache)[:2] + ({},))
    assert "dparams to be a dict with the key 'weight'" in str(report)
