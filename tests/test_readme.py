"""Every Python block of README.md runs as written."""
import re
from pathlib import Path

import pytest

from scratchlm import backend

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_python_block_runs(number):
    previous = backend.name()
    try:
        exec(compile(BLOCKS[number], f"README.md python block {number + 1}", "exec"), {"__name__": "readme"})
    finally:
        backend.use(previous)  # a block may switch the backend (backend.use("numba"))
