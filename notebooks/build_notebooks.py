"""Build the course notebooks (notebooks/*.ipynb) from their sources (notebooks/source/*.py).

Each source is a Python file in the "percent" format that Jupytext, VS Code and Spyder read:
a line ``# %%`` starts a code cell, a line ``# %% [markdown]`` starts a markdown cell whose lines
are comments (``# `` is stripped). Edit the sources, then run

    python notebooks/build_notebooks.py            # write notebooks/*.ipynb (outputs empty)
    python notebooks/build_notebooks.py --check    # exit 1 if a notebook is out of date

The notebooks are committed without outputs; run them to see the figures.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "source"
CELL_MARKER = "# %%"
MARKDOWN_MARKER = "# %% [markdown]"


def parse_cells(text: str) -> list[tuple[str, str]]:
    """Split a percent-format source into (kind, text) cells; kind is "code" or "markdown"."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.strip() == MARKDOWN_MARKER:
            cells.append(("markdown", []))
        elif line.strip() == CELL_MARKER:
            cells.append(("code", []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '{CELL_MARKER}' marker: {line!r}")
    built = []
    for kind, lines in cells:
        if kind == "markdown":
            lines = [_uncomment(line) for line in lines]
        body = "\n".join(lines).strip("\n")
        if body:
            built.append((kind, body))
    return built


def _uncomment(line: str) -> str:
    if line.startswith("# "):
        return line[2:]
    if line.strip() in ("#", ""):
        return ""
    raise ValueError(f"a markdown cell line must start with '# ': {line!r}")


def build_notebook(source: Path) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    for index, (kind, body) in enumerate(parse_cells(source.read_text(encoding="utf-8"))):
        cell = nbformat.v4.new_markdown_cell(body) if kind == "markdown" else nbformat.v4.new_code_cell(body)
        cell["id"] = f"{source.stem[:20]}-{index:02d}"  # stable ids: rebuilding changes nothing
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def target_of(source: Path) -> Path:
    return HERE / f"{source.stem}.ipynb"


def cells_of(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """What a notebook says: its cells' kinds and sources (not how a given nbformat version writes them)."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def is_up_to_date(source: Path) -> bool:
    target = target_of(source)
    if not target.exists():
        return False
    return cells_of(nbformat.read(target, as_version=4)) == cells_of(build_notebook(source))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the notebooks are up to date")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted(SOURCES.glob("*.py")):
        target = target_of(source)
        if args.check:
            if not is_up_to_date(source):
                stale.append(target.name)
        else:
            target.write_text(nbformat.writes(build_notebook(source)) + "\n", encoding="utf-8")
            print(f"wrote {target.relative_to(HERE.parent)}")
    if stale:
        print(f"out of date (run python notebooks/build_notebooks.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
