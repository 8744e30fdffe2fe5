"""`scratchlm backends` prints the backends, the CPU and every choice with its reason."""
from __future__ import annotations

import numpy as np
import pytest

from scratchlm import cli
from scratchlm.kernels import chooser


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv(chooser.CACHE_DIR_VARIABLE, str(tmp_path))
    monkeypatch.delenv(chooser.FORCE_VARIABLE, raising=False)
    monkeypatch.delenv(chooser.MEASURE_VARIABLE, raising=False)
    chooser.forget()
    yield
    chooser.forget()


def run_command(capsys, *argv) -> tuple[int, str]:
    status = cli.main(["backends", *argv])
    return status, capsys.readouterr().out


def test_without_choices_it_says_so_and_describes_the_machine(capsys):
    status, out = run_command(capsys)
    assert status == 0
    assert "backends available: " in out and "numpy" in out
    info = chooser.cpu_info()
    assert f"CPU: {info['model']}" in out
    for flag, present in info["flags"].items():
        assert f"{flag} {'yes' if present else 'no'}" in out
    assert str(chooser.cache_path()) in out
    assert "forced (SCRATCHLM_KERNELS): none" in out
    assert "no choices made yet" in out


def test_cached_and_forced_choices_are_listed_with_their_reasons(capsys, monkeypatch):
    def quick(x):
        return x.sum()

    def slow(x):
        return sum(float(v) for v in x)

    data = np.arange(5000.0)
    chooser.choose("sum", {"slow": slow, "quick": quick}, lambda: (data,), key="float64 4096")
    chooser.forget()  # as a later process would see it: from the cache file only
    monkeypatch.setenv(chooser.FORCE_VARIABLE, "step_matmul=blas")
    status, out = run_command(capsys)
    assert status == 0
    assert "forced (SCRATCHLM_KERNELS): step_matmul=blas" in out
    (row,) = [line for line in out.splitlines() if line.startswith("sum ")]
    assert row.split()[:3] == ["sum", "float64", "4096"] and row.split()[3] == "quick"
    assert "measured earlier: quick" in row and " us" in row


def test_a_malformed_force_variable_is_an_error(capsys, monkeypatch):
    monkeypatch.setenv(chooser.FORCE_VARIABLE, "step_matmul")
    status = cli.main(["backends"])
    assert status == 2
    assert "op=name" in capsys.readouterr().err
