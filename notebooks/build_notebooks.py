"""Build the course notebooks (notebooks/*.ipynb) from their sources (notebooks/source/*.py).

Each source is a Python file in the "percent" format that Jupytext, VS Code and Spyder read:
a line ``# %%`` starts a code cell, a line ``# %% [markdown]`` starts a markdown cell whose lines
are comments (``# `` is stripped). Edit the sources, then run

    python notebooks/build_notebooks.py              # rewrite the notebooks whose sources changed
    python notebooks/build_notebooks.py --execute    # ... then run every notebook and keep its outputs
    python notebooks/build_notebooks.py --execute 05 06          # only these (by number or name)
    python notebooks/build_notebooks.py --execute --small        # SCRATCHLM_NOTEBOOK_SMALL=1 sizes
    python notebooks/build_notebooks.py --check      # exit 1 if a notebook's cells differ from its source

The notebooks are committed with their outputs, so that they (and their figures) can be read on
GitHub and on the course site without running anything. A rebuild leaves a notebook whose cells
match its source as it is, outputs included; a notebook whose source changed is rewritten with
empty outputs until ``--execute`` runs it again. ``--check`` compares only the cells' kinds and
sources, never their outputs.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SOURCES = HERE / "source"
CELL_MARKER = "# %%"
MARKDOWN_MARKER = "# %% [markdown]"
SECONDS_PER_CELL = 3600  # a full-size training cell takes minutes; this only stops a hung kernel


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
    """What a notebook says: its cells' kinds and sources (not their outputs, and not how a given
    nbformat version writes them)."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def is_up_to_date(source: Path) -> bool:
    target = target_of(source)
    if not target.exists():
        return False
    return cells_of(nbformat.read(target, as_version=4)) == cells_of(build_notebook(source))


def write(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")


def execute(path: Path, small: bool) -> float:
    """Run a notebook top to bottom in a fresh kernel whose working folder is notebooks/, write it
    back with its outputs, and return the seconds it took. Raises if a cell fails."""
    import nbclient  # only needed here: building and checking work without it

    # The kernel is a child process: it inherits these, and finds scratchlm even when the package
    # is not installed.
    environment = {
        "SCRATCHLM_NOTEBOOK_SMALL": "1" if small else "0",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    notebook = nbformat.read(path, as_version=4)
    # record_timing=False: no per-cell timestamps, so re-running a notebook only changes what it shows
    client = nbclient.NotebookClient(notebook, timeout=SECONDS_PER_CELL, kernel_name="python3",
                                     record_timing=False, resources={"metadata": {"path": str(HERE)}})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    seconds = time.perf_counter() - start
    notebook.metadata["scratchlm"] = {"sizes": "small" if small else "full"}
    write(notebook, path)
    return seconds


def select(sources: list[Path], names: list[str]) -> list[Path]:
    """The sources named by number ("05") or by name ("05_char_lstm_shakespeare"); all if none."""
    if not names:
        return sources
    chosen = []
    for name in names:
        matches = [source for source in sources if source.stem == name or source.stem.split("_")[0] == name]
        if not matches:
            known = ", ".join(source.stem for source in sources)
            raise SystemExit(f"no notebook source named {name!r}; the sources are: {known}")
        chosen.extend(matches)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="numbers (05) or names of the notebooks; default: all")
    parser.add_argument("--check", action="store_true",
                        help="only check that every notebook's cells match its source (outputs are not compared)")
    parser.add_argument("--execute", action="store_true",
                        help="run the notebooks after building them and write them with their outputs")
    parser.add_argument("--small", action="store_true",
                        help="with --execute: run at small sizes (SCRATCHLM_NOTEBOOK_SMALL=1), to test quickly")
    args = parser.parse_args(argv)
    if args.small and not args.execute:
        parser.error("--small only applies with --execute")
    if args.check and args.execute:
        parser.error("--check and --execute exclude each other")
    sources = select(sorted(SOURCES.glob("*.py")), args.notebooks)
    if args.check:
        stale = [target_of(source).name for source in sources if not is_up_to_date(source)]
        if stale:
            print(f"out of date (run python notebooks/build_notebooks.py): {', '.join(stale)}", file=sys.stderr)
            return 1
        return 0
    for source in sources:
        target = target_of(source)
        if not is_up_to_date(source):
            write(build_notebook(source), target)
            print(f"wrote {target.relative_to(ROOT)} (no outputs)")
    if args.execute:
        total = 0.0
        for source in sources:
            target = target_of(source)
            seconds = execute(target, args.small)
            total += seconds
            print(f"ran {target.relative_to(ROOT)} in {seconds:.0f} s")
        print(f"ran {len(sources)} notebook(s) in {total:.0f} s ({'small' if args.small else 'full'} sizes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
