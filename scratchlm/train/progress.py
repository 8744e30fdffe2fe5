"""Progress bars that stay readable wherever the output goes.

On a terminal (or in a notebook) this is tqdm's usual bar, redrawn in place. Written to a file
or a pipe, a redrawn bar is one endless line of carriage returns, so there the bar prints a
plain line instead, at most once every ``FILE_INTERVAL`` seconds and once at the end::

    validation:  40%|####      | 12/30 [00:31<00:46, 0.39batch/s]
    validation: 100%|##########| 30/30 [01:17<00:00, 0.39batch/s]
"""
from __future__ import annotations

import importlib.util
import sys

from tqdm import tqdm as plain_tqdm

# seconds between two lines of a bar written to a file
FILE_INTERVAL = 30.0


class LineProgress(plain_tqdm):
    """A tqdm bar that writes each update as its own line instead of redrawing it."""

    def display(self, msg=None, pos=None):
        if msg == "":
            # tqdm clearing a bar that does not stay (leave=False): in a file nothing can be
            # cleared, so write its final state; False keeps tqdm from adding a carriage return
            self.fp.write(self.__str__() + "\n")
            self.fp.flush()
            return False
        # close() writes its own newline after the final display; it has set ``disable`` by then
        ending = "" if self.disable else "\n"
        self.fp.write((self.__str__() if msg is None else msg) + ending)
        self.fp.flush()
        return True


def _in_notebook() -> bool:
    # a running Jupyter kernel, not merely an imported ipykernel module (a test may import it)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and hasattr(shell, "kernel")


def _interactive(stream) -> bool:
    if _in_notebook():  # the notebook redraws a text bar in place, or draws a widget
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _bar_class():
    # tqdm's widget bar needs ipywidgets; without it tqdm.auto warns at import and falls back
    # to the text bar anyway, so ask for the widget only where it can be drawn
    if _in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm as widget_tqdm
        return widget_tqdm
    return plain_tqdm


def progress_bar(iterable=None, *, total=None, desc: str = "", unit: str = "it", disable: bool = False, **options):
    """A tqdm bar on stderr: redrawn in place on a terminal or in a notebook, one line per update otherwise."""
    if _interactive(sys.stderr):
        return _bar_class()(iterable, total=total, desc=desc, unit=unit, disable=disable, dynamic_ncols=True, **options)
    return LineProgress(iterable, total=total, desc=desc, unit=unit, disable=disable, mininterval=FILE_INTERVAL, ascii=True,
                        file=sys.stderr, **options)
