"""Write the exercises as nbgrader assignment notebooks (for teachers; needs the solutions here).

    python solutions/make_nbgrader.py COURSE_DIR [--assignment scratchlm] [--release]

writes COURSE_DIR/source/<assignment>/<topic>.ipynb, one notebook per template file (the step
and sequence files of a cell share one notebook), in the format nbgrader's ``generate_assignment``
reads:

- a locked markdown cell with the equations and the approach (the template's docstring);
- a locked code cell with the imports and helpers of the template;
- per function, an autograded answer cell (``"solution": true``) holding the template's
  signature and docstring and the worked solution between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` (nbgrader replaces it by ``raise NotImplementedError()`` for students);
- per exercise, a locked autograder test cell (``"grade": true``, one point) that runs
  ``scratchlm.exercises.check`` on the problems of seed 0 and, between ``### BEGIN HIDDEN TESTS``
  and ``### END HIDDEN TESTS`` (removed from the students' copy), on a seed kept in the notebook
  the teacher holds.

With ``--release`` it writes COURSE_DIR/release/<assignment>/ instead: the students' version, as
nbgrader would make it, for courses without nbgrader (check with ``scratchlm exercise check``).
nbgrader itself need not be installed to run this script.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scratchlm.exercises import EXERCISES, TEMPLATES  # noqa: E402

SOLUTIONS = Path(__file__).resolve().parent
# Notebooks that hold more than one template file (the sequence functions call the step functions).
NOTEBOOKS = {"rnn": ("rnn_step", "rnn_sequence"), "lstm": ("lstm_step", "lstm_sequence")}
HIDDEN_SEED = 20261202


def notebook_modules() -> dict[str, tuple[str, ...]]:
    grouped = {module for modules in NOTEBOOKS.values() for module in modules}
    out = {}
    for exercise in EXERCISES.values():
        name = next((k for k, v in NOTEBOOKS.items() if exercise.module in v), exercise.module)
        out.setdefault(name, NOTEBOOKS.get(name, (exercise.module,)))
    assert grouped <= {m for v in out.values() for m in v}
    return out


def _functions(path: Path) -> tuple[str, dict[str, ast.FunctionDef], list[str]]:
    text = path.read_text()
    tree = ast.parse(text)
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    return text, functions, text.splitlines()


def _preamble(lines: list[str], tree_text: str, siblings: tuple[str, ...]) -> str:
    """The template's module-level code after the docstring (imports, helpers), minus sibling imports."""
    tree = ast.parse(tree_text)
    keep = []
    for node in tree.body[1:]:
        if isinstance(node, ast.FunctionDef) and any(node.name == e.function for e in EXERCISES.values()):
            continue
        if isinstance(node, ast.ImportFrom) and node.module in siblings:
            continue
        keep.append("\n".join(lines[node.lineno - 1 : node.end_lineno]))
    return "\n".join(keep)


def answer_cell_source(name: str, template: Path, solution: Path, release: bool) -> str:
    t_text, t_functions, t_lines = _functions(template)
    s_text, s_functions, s_lines = _functions(solution)
    header = t_functions[name]
    docstring_end = header.body[0].end_lineno  # the signature and the docstring of the template
    head = "\n".join(t_lines[header.lineno - 1 : docstring_end])
    body_node = s_functions[name]
    first = body_node.body[1] if isinstance(body_node.body[0], ast.Expr) and isinstance(
        getattr(body_node.body[0], "value", None), ast.Constant) else body_node.body[0]
    body = "\n".join(s_lines[first.lineno - 1 : body_node.end_lineno])
    if release:
        return f"{head}\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    return f"{head}\n    ### BEGIN SOLUTION\n{body}\n    ### END SOLUTION"


def metadata(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: float | None = None) -> dict:
    data = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if grade:
        data["points"] = points
    return {"nbgrader": data, **({"deletable": False, "editable": False} if locked else {})}


def test_cell_source(exercise: str, function: str, release: bool) -> str:
    lines = ["from scratchlm.exercises import check", "",
             f"report = check({exercise!r}, {function}, seed=0)", "print(report)",
             "assert report.passed, 'see the report above'"]
    if not release:
        lines += ["### BEGIN HIDDEN TESTS", f"report = check({exercise!r}, {function}, seed={HIDDEN_SEED})",
                  "assert report.passed, str(report)", "### END HIDDEN TESTS"]
    return "\n".join(lines)


def build_notebook(name: str, modules: tuple[str, ...], release: bool) -> nbformat.NotebookNode:
    cells = []
    for module in modules:
        template, solution = TEMPLATES / f"{module}.py", SOLUTIONS / f"{module}.py"
        text = template.read_text()
        docstring = ast.get_docstring(ast.parse(text)) or module
        docstring = docstring.replace(f"Check with:  scratchlm exercise check {module}.py",
                                      "Run the test cell under each answer to check it.")
        cells.append(nbformat.v4.new_markdown_cell(f"## {module}\n\n```\n{docstring}\n```",
                                                   metadata=metadata(f"{module}-intro", grade=False, solution=False,
                                                                     locked=True)))
        preamble = _preamble(text.splitlines(), text, modules)
        if not release:  # the imports the worked solution needs as well
            solution_text = solution.read_text()
            extra = [line for line in _preamble(solution_text.splitlines(), solution_text, modules).splitlines()
                     if line.startswith(("import ", "from ")) and line not in preamble]
            preamble = "\n".join(extra + [preamble])
        if preamble.strip():
            cells.append(nbformat.v4.new_code_cell(preamble, metadata=metadata(
                f"{module}-setup", grade=False, solution=False, locked=True)))
        for exercise in (e for e in EXERCISES.values() if e.module == module):
            cells.append(nbformat.v4.new_code_cell(
                answer_cell_source(exercise.function, template, solution, release),
                metadata=metadata(f"{exercise.name}-answer", grade=False, solution=True, locked=False)))
            cells.append(nbformat.v4.new_code_cell(
                test_cell_source(exercise.name, exercise.function, release),
                metadata=metadata(f"{exercise.name}-check", grade=True, solution=False, locked=True, points=1)))
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def write_assignment(course: Path, assignment: str = "scratchlm", release: bool = False) -> list[Path]:
    folder = Path(course) / ("release" if release else "source") / assignment
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, modules in notebook_modules().items():
        path = folder / f"{name}.ipynb"
        nbformat.write(build_notebook(name, modules, release), path)
        written.append(path)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("course", help="the nbgrader course folder (created if missing)")
    parser.add_argument("--assignment", default="scratchlm")
    parser.add_argument("--release", action="store_true", help="write the students' version instead")
    args = parser.parse_args(argv)
    for path in write_assignment(Path(args.course), args.assignment, args.release):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
