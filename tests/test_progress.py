"""The progress bar: which kind it draws where, and what a file receives."""
import io
import sys
import types
import warnings

import pytest
from tqdm import tqdm as plain_tqdm

from scratchlm.train import progress


class FakeShell:
    kernel = object()


@pytest.fixture
def in_notebook(monkeypatch):
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: FakeShell()
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)


def test_outside_a_notebook_a_pipe_gets_plain_lines(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    bar = progress.progress_bar(range(3), desc="epoch", total=3)
    assert isinstance(bar, progress.LineProgress)
    list(bar)
    text = stream.getvalue()
    assert "\r" not in text
    assert "epoch: 100%" in text.splitlines()[-1]


def test_an_imported_ipython_without_a_kernel_is_not_a_notebook(monkeypatch):
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: None
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert not progress._in_notebook()


def test_a_notebook_without_ipywidgets_gets_the_text_bar_and_no_warning(in_notebook, monkeypatch):
    real_find_spec = progress.importlib.util.find_spec
    monkeypatch.setattr(progress.importlib.util, "find_spec",
                        lambda name, *args: None if name == "ipywidgets" else real_find_spec(name, *args))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar = progress.progress_bar(range(2), total=2)
    assert type(bar) is plain_tqdm
    bar.close()


def test_a_notebook_with_ipywidgets_asks_for_the_widget_bar(in_notebook, monkeypatch):
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as widget_tqdm
    assert progress._bar_class() is widget_tqdm
