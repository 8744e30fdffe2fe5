"""The chooser picks the faster of two stand-ins of known speed, remembers it, and obeys the overrides.

The stand-ins compute the same sum; "slow" does it 30 times over, so it is slower by far more
than any noise of a shared machine. The cache file lives in a temporary SCRATCHLM_CACHE_DIR.
"""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from scratchlm.kernels import chooser

DATA = np.arange(20_000, dtype=np.float64)


def fast(x):
    return x.sum()


def slow(x):
    for _ in range(30):
        total = x.sum()
    return total


def make_args():
    return (DATA,)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(chooser.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(chooser.FORCE_VARIABLE, raising=False)
    monkeypatch.delenv(chooser.MEASURE_VARIABLE, raising=False)
    chooser.forget()
    yield
    chooser.forget()


def count_measurements(monkeypatch):
    calls = []
    real_measure = chooser.measure

    def counting(candidates, args_factory, *rest):
        calls.append(list(candidates))
        return real_measure(candidates, args_factory, *rest)

    monkeypatch.setattr(chooser, "measure", counting)
    return calls


@pytest.mark.parametrize("order", [("slow", "fast"), ("fast", "slow")])
def test_the_faster_stand_in_wins_in_either_order(order):
    candidates = {name: {"fast": fast, "slow": slow}[name] for name in order}
    assert chooser.choose("sum", candidates, make_args, key="k") is fast
    (choice,) = chooser.decisions()
    assert choice.name == "fast" and choice.reason == "measured"
    assert choice.seconds["slow"] > 5 * choice.seconds["fast"]
    assert "measured: fast" in choice.explain()


def test_measure_times_every_candidate_per_call():
    seconds = chooser.measure({"fast": fast, "slow": slow}, make_args)
    assert set(seconds) == {"fast", "slow"}
    assert 0 < seconds["fast"] < seconds["slow"]


def test_a_later_candidate_must_beat_the_first_by_the_margin(monkeypatch):
    # The rule itself, with the times fixed: 1% faster is a tie (the first stays), 10% is not.
    monkeypatch.setattr(chooser, "measure", lambda c, m: {"first": 1.0, "second": 0.99})
    assert chooser.choose("op", {"first": fast, "second": slow}, make_args, key="a") is fast
    monkeypatch.setattr(chooser, "measure", lambda c, m: {"first": 1.0, "second": 0.90})
    assert chooser.choose("op", {"first": fast, "second": slow}, make_args, key="b") is slow


def test_a_choice_is_made_once_per_op_and_key(monkeypatch):
    calls = count_measurements(monkeypatch)
    for _ in range(3):
        chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="small")
    chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="large")
    chooser.choose("other", {"slow": slow, "fast": fast}, make_args, key="small")
    assert len(calls) == 3


def test_the_cache_file_is_reused_by_a_later_process(monkeypatch):
    chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k")
    stored = json.loads(chooser.cache_path().read_text())
    assert stored["machine"] == chooser.machine_key()
    assert stored["choices"]["sum | k"]["name"] == "fast"
    # A later process: nothing in memory, and measuring would fail the test.
    chooser.forget()
    monkeypatch.setattr(chooser, "measure", lambda *a: pytest.fail("measured again despite the cache"))
    assert chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k") is fast
    assert chooser.decisions()[0].reason == "cached"
    assert not [p for p in chooser.cache_path().parent.iterdir() if p.name != chooser.CACHE_FILE_NAME]


def test_the_cache_is_invalid_on_another_machine_key(monkeypatch):
    chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k")
    chooser.forget()
    other = dict(chooser.machine_key(), numba_cpu="some-other-cpu")
    monkeypatch.setattr(chooser, "machine_key", lambda: other)
    calls = count_measurements(monkeypatch)
    chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k")
    assert len(calls) == 1
    assert json.loads(chooser.cache_path().read_text())["machine"] == other


def test_the_key_follows_the_engine_source(tmp_path):
    (tmp_path / "ops.py").write_text("def op(x):\n    return x\n")
    (tmp_path / "notes.txt").write_text("not source")
    before = chooser.kernel_sources_digest(tmp_path)
    (tmp_path / "notes.txt").write_text("edited, still not source")
    assert chooser.kernel_sources_digest(tmp_path) == before
    (tmp_path / "ops.py").write_text("def op(x):\n    return x + 0\n")
    edited = chooser.kernel_sources_digest(tmp_path)
    assert edited != before
    (tmp_path / "ops.py").rename(tmp_path / "renamed.py")
    assert chooser.kernel_sources_digest(tmp_path) not in (before, edited)
    assert chooser.machine_key()["kernel_sources"] == chooser.kernel_sources_digest()


def test_a_changed_candidate_set_is_measured_again(monkeypatch):
    chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k")
    chooser.forget()
    calls = count_measurements(monkeypatch)
    chooser.choose("sum", {"slow": slow, "fast": fast, "fast too": fast}, make_args, key="k")
    assert len(calls) == 1


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"machine": 3}', ""])
def test_a_corrupt_cache_file_is_ignored_and_replaced(content, monkeypatch):
    chooser.cache_path().parent.mkdir(parents=True)
    chooser.cache_path().write_text(content)
    assert chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k") is fast
    assert json.loads(chooser.cache_path().read_text())["choices"]["sum | k"]["name"] == "fast"


def test_an_unwritable_cache_directory_does_not_stop_the_choice(tmp_path, monkeypatch):
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(chooser.CACHE_DIR_VARIABLE, str(blocker / "cache"))
    assert chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k") is fast


def test_forcing_picks_the_named_candidate_without_measuring(monkeypatch):
    monkeypatch.setenv(chooser.FORCE_VARIABLE, "sum=slow, other=x")
    monkeypatch.setattr(chooser, "measure", lambda *a: pytest.fail("a forced choice was measured"))
    assert chooser.choose("sum", {"fast": fast, "slow": slow}, make_args, key="k") is slow
    assert chooser.decisions()[0].reason == "forced"
    assert chooser.FORCE_VARIABLE in chooser.decisions()[0].explain()
    assert not chooser.cache_path().exists()


def test_forcing_an_unknown_candidate_names_the_ones_there_are(monkeypatch):
    monkeypatch.setenv(chooser.FORCE_VARIABLE, "sum=turbo")
    with pytest.raises(ValueError, match="sum=turbo.*fast, slow"):
        chooser.choose("sum", {"fast": fast, "slow": slow}, make_args, key="k")


@pytest.mark.parametrize("text", ["sum", "sum=", "=fast", "sum=fast,oops"])
def test_a_malformed_force_variable_is_refused(text, monkeypatch):
    monkeypatch.setenv(chooser.FORCE_VARIABLE, text)
    with pytest.raises(ValueError, match="op=name"):
        chooser.choose("sum", {"fast": fast, "slow": slow}, make_args, key="k")


@pytest.mark.parametrize("value", ["0", "off", "False"])
def test_measuring_off_takes_the_first_candidate(value, monkeypatch):
    monkeypatch.setenv(chooser.MEASURE_VARIABLE, value)
    monkeypatch.setattr(chooser, "measure", lambda *a: pytest.fail("measured with measuring off"))
    assert chooser.choose("sum", {"slow": slow, "fast": fast}, make_args, key="k") is slow
    assert chooser.decisions()[0].reason == "default"
    assert not chooser.cache_path().exists()


def test_a_single_candidate_is_never_measured(monkeypatch):
    monkeypatch.setattr(chooser, "measure", lambda *a: pytest.fail("measured one candidate"))
    assert chooser.choose("sum", {"only": slow}, make_args, key="k") is slow


def test_no_candidates_is_an_error():
    with pytest.raises(ValueError, match="no candidates"):
        chooser.choose("sum", {}, make_args, key="k")


def test_shape_key_buckets_sizes_to_powers_of_two():
    assert chooser.size_bucket(20) == 16
    assert chooser.size_bucket(23) == 32  # log2(23) = 4.52
    assert chooser.size_bucket(200) == 256
    assert chooser.size_bucket(650) == 512
    assert chooser.size_bucket(1) == 1 and chooser.size_bucket(0) == 0
    assert chooser.shape_key(np.float32, 20, 650, 2600) == "float32 16x512x2048"
    assert chooser.shape_key("float64", 64) == "float64 64"


def test_cache_path_follows_the_environment(tmp_path, monkeypatch):
    assert chooser.cache_path() == tmp_path / "cache" / chooser.CACHE_FILE_NAME
    monkeypatch.delenv(chooser.CACHE_DIR_VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert chooser.cache_path() == tmp_path / "xdg" / "scratchlm" / chooser.CACHE_FILE_NAME


def test_cpu_info_reports_the_vector_flags():
    info = chooser.cpu_info()
    assert info["model"] and set(info["flags"]) in [set(flags) for flags in chooser.VECTOR_FLAGS.values()]
    if os.path.exists("/proc/cpuinfo"):
        text = open("/proc/cpuinfo").read().split()
        assert all(present == (flag in text) for flag, present in info["flags"].items())


def add_fast(x, y, out=None):
    return np.add(x, y, out=out)


def add_slow(x, y, out=None):
    for _ in range(30):
        result = np.add(x, y, out=out)
    return result


def test_fastest_chooses_per_kind_of_input_and_passes_keywords(monkeypatch):
    calls = count_measurements(monkeypatch)
    add = chooser.fastest("add", {"slow": add_slow, "fast": add_fast})
    x = np.ones((30, 400))
    out = np.empty_like(x)
    assert add(x, x, out=out) is out and np.all(out == 2)
    add(x, x, out=out)
    add(np.ones((30, 400), np.float32), np.ones((30, 400), np.float32))
    assert len(calls) == 2  # one per dtype
    assert [c.key for c in chooser.decisions()] == ["float64 32x512, 32x512", "float32 32x512, 32x512"]
    assert {c.name for c in chooser.decisions()} == {"fast"}
    assert add.__name__ == "add"


def test_fastest_obeys_forcing(monkeypatch):
    monkeypatch.setenv(chooser.FORCE_VARIABLE, "add=slow")
    add = chooser.fastest("add", {"fast": add_fast, "slow": add_slow})
    x = np.ones(5)
    assert np.all(add(x, x) == 2)
    assert chooser.decisions()[0].name == "slow"


def subtract_in_place(param, grad):
    param -= grad


def test_fastest_measures_an_in_place_op_on_copies():
    step = chooser.fastest("sub", {"a": subtract_in_place, "b": subtract_in_place},
                           copy_args=lambda args: (args[0].copy(), args[1]))
    param = np.full(100, 10.0)
    step(param, np.ones(100))
    assert np.all(param == 9.0)  # measured on copies: the real call subtracted once


def test_fastest_pieces_wraps_the_shared_pieces_only():
    fast_pieces = {"add": add_slow, "sub": subtract_in_place, "only_fast": fast, "own": fast}
    plain_pieces = {"add": add_fast, "sub": subtract_in_place, "only_plain": slow, "own": slow}
    table = chooser.fastest_pieces({"numba": fast_pieces, "numpy": plain_pieces}, in_place=("sub",), keep=("own",))
    assert table["only_fast"] is fast and table["only_plain"] is slow and table["own"] is fast
    x = np.ones((4, 300))
    assert np.all(table["add"](x, x) == 2)
    param = np.full(10, 5.0)
    table["sub"](param, np.ones(10))
    assert np.all(param == 4.0)
    names = {c.op: c.name for c in chooser.decisions()}
    assert names["add"] == "numpy"  # the slow "fast" piece lost to the plain one
    assert set(chooser.decisions()[0].seconds) == {"numba", "numpy"}


def test_forget_makes_fastest_decide_again(monkeypatch):
    add = chooser.fastest("add", {"fast": add_fast, "slow": add_slow})
    x = np.ones(50)
    add(x, x)
    chooser.forget()
    monkeypatch.setenv(chooser.FORCE_VARIABLE, "add=slow")
    add(x, x)
    assert [c.name for c in chooser.decisions()] == ["slow"]


def test_arguments_key_names_every_dtype_and_bucketed_shape():
    ids, rows = np.zeros(500, dtype=np.int64), np.zeros((500, 30), dtype=np.float32)
    assert chooser.arguments_key((ids, rows, 7)) == "int64+float32 512, 512x32"
    assert chooser.arguments_key((rows, rows)) == "float32 512x32, 512x32"
