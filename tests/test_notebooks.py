"""Every course notebook runs top to bottom (with SCRATCHLM_NOTEBOOK_SMALL=1: small sizes).

One test per notebook, each cell under a time limit, in a fresh Jupyter kernel whose working folder
is notebooks/. The notebooks must also be up to date with their sources in notebooks/source/, be
committed with their outputs, and end with exercises.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
NOTEBOOK_PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
SECONDS_PER_CELL = 90  # nbclient limits each cell; a small run takes a few seconds


def test_the_course_notebooks_are_there():
    numbers = [path.name[:2] for path in NOTEBOOK_PATHS]
    assert numbers[:11] == ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"]
    assert [path.stem for path in NOTEBOOK_PATHS if path.name[:2] in ("09", "10", "11")] == [
        "09_tokenisation", "10_gru_vs_lstm", "11_attention"]


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[path.stem for path in NOTEBOOK_PATHS])
def test_notebook_ends_with_exercises(path):
    """A student works through every notebook: its last cell sets exercises or questions."""
    last = nbformat.read(path, as_version=4).cells[-1]
    assert last.cell_type == "markdown" and "## Exercises" in last.source, f"{path.name} ends without exercises"
    assert "\n1. " in last.source, f"{path.name}: the exercises are not numbered"
    assert "scratchlm exercise" in last.source, f"{path.name}: no pointer to the checker exercises"


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[path.stem for path in NOTEBOOK_PATHS])
def test_notebook_ships_with_its_outputs(path):
    """Committed executed, so that it can be read with its figures without running it
    (python notebooks/build_notebooks.py --execute)."""
    code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    not_run = [index for index, cell in enumerate(code) if cell.execution_count is None]
    assert not not_run, f"{path.name}: code cells {not_run} were not run; run notebooks/build_notebooks.py --execute"
    errors = [output for cell in code for output in cell.outputs if output.output_type == "error"]
    assert not errors, f"{path.name} was committed with an error in its outputs"
    assert any("image/png" in output.get("data", {}) for cell in code for output in cell.outputs), \
        f"{path.name} was committed without its figures"


def test_notebooks_are_built_from_their_sources():
    result = subprocess.run([sys.executable, str(NOTEBOOKS / "build_notebooks.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=[path.stem for path in NOTEBOOK_PATHS])
def test_notebook_runs(path, monkeypatch):
    # The kernel is a child process: it inherits these, and finds scratchlm even when the
    # package is not installed.
    monkeypatch.setenv("SCRATCHLM_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=SECONDS_PER_CELL, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute()
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
    images = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
              if output.output_type in ("display_data", "execute_result") and "image/png" in output.get("data", {})]
    assert images, "a course notebook should draw at least one figure"
