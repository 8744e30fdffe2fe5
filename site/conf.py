"""Sphinx configuration of the course site: the notebooks with their outputs, the docs pages and
an API reference generated from the docstrings. Build it from the repository root with

    python -m sphinx -b html site build/site

(the ``docs`` extra installs Sphinx, MyST-NB and the book theme). The site mirrors the
repository: before Sphinx reads anything, README.md, docs/ and notebooks/*.ipynb are copied under
site/ at the same relative paths, so the links between them work unchanged. The notebooks are
shown with the outputs they were committed with (run ``python notebooks/build_notebooks.py
--execute`` first); ``-D nb_execution_mode=force`` runs them all at build time instead.
"""
from __future__ import annotations

import re
import shutil
import sys
import types
from pathlib import Path

SITE = Path(__file__).resolve().parent
ROOT = SITE.parent
sys.path.insert(0, str(ROOT))  # autodoc imports scratchlm from the working tree, installed or not
# scratchlm/__main__.py runs the command line when imported (python -m scratchlm); autosummary
# imports every module it lists, so it finds this empty stand-in instead.
sys.modules["scratchlm.__main__"] = types.ModuleType("scratchlm.__main__", "python -m scratchlm: the command line.")

MIRRORED_FILES = ["README.md", "datasets/README.md", *(f"docs/{path.name}" for path in sorted((ROOT / "docs").glob("*.md"))),
                  *(f"notebooks/{path.name}" for path in sorted((ROOT / "notebooks").glob("*.ipynb")))]
MIRRORED_FOLDERS = ["docs/img"]


def mirror_repository_files() -> None:
    for folder in ("docs", "notebooks", "datasets"):  # a page removed from the repository leaves the site too
        shutil.rmtree(SITE / folder, ignore_errors=True)
    for name in MIRRORED_FILES:
        (SITE / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, SITE / name)  # copy2 keeps the times: Sphinx rebuilds only what changed
    for name in MIRRORED_FOLDERS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, SITE / name)


mirror_repository_files()

project = "scratchlm"
author = "the scratchlm authors"
copyright = "scratchlm authors, MIT licence"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.mathjax",
              "sphinx.ext.viewcode"]
root_doc = "index"
exclude_patterns = ["_build", "notebooks/source", "**/.ipynb_checkpoints"]
suppress_warnings = ["myst.header", "misc.highlighting_failure"]

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
nb_execution_mode = "off"          # show the committed outputs; -D nb_execution_mode=force runs them
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_merge_streams = True

autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_mock_imports = ["cupy", "cupyx"]

html_theme = "sphinx_book_theme"
html_title = "scratchlm course"
html_theme_options = {"show_toc_level": 2, "home_page_in_toc": True}

INLINE_MARKUP = re.compile(r"([\\`*|_])")


def docstring_as_written(app, what, name, obj, options, lines):
    """The docstrings are written to be read as plain text (``help()``, an editor, the source):
    equations, tables and argument lists are laid out with spaces, not reStructuredText. The page
    shows the first paragraph as prose (it is also the summary in the module tables), with its
    markup characters escaped, and the rest exactly as written, in a literal block."""
    while lines and not lines[0].strip():
        del lines[0]
    if not lines:
        return
    end = next((index for index, line in enumerate(lines) if not line.strip()), len(lines))
    summary = [INLINE_MARKUP.sub(r"\\\1", line.strip()) for line in lines[:end]]
    rest = lines[end:]
    while rest and not rest[0].strip():
        del rest[0]
    lines[:] = summary + (["", ".. code-block:: text", ""] + ["    " + line for line in rest] if rest else [])


def setup(app):
    app.connect("autodoc-process-docstring", docstring_as_written)
