"""Every released notebook opens in JupyterLab and runs to its end in the browser.

A learner opens the notebook from a fresh workspace and runs every cell. The
only errors the page may show are the ``NotImplementedError`` stubs of the
library gaps and of the answer cells not filled in yet, and the
``AnswerMissingError`` hint of a test cell whose answers (names only an
unanswered answer cell defines) are not there yet. Anything else (an import
error, any NameError, a widget that raises) is a defect of the release. A
screenshot of every notebook is kept in the test artifacts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from lab_server import REPO, artifacts_dir
from lab_ui import open_notebook, run_every_cell, save_notebook_screenshot

ASSIGNMENTS = sorted(p.name for p in (REPO / "assignments" / "source").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())
EXPECTED_ERROR = re.compile(r"^NotImplementedError\b")
ANSWER_MISSING = re.compile(r"^AnswerMissingError: (\w+(?:, \w+)*) (?:is|are) not defined yet")
_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def answer_names(source_nb: Path) -> set[str]:
    """Names bound by the solutions of the answer cells (the release stubs them out)."""
    names = set()
    for cell in nbformat.read(source_nb, as_version=4).cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("solution"):
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not _MARKER.match(line))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                names.add(node.name)
    return names


def expected(error: str, unanswered: set[str]) -> bool:
    match = ANSWER_MISSING.match(error)
    return bool(EXPECTED_ERROR.match(error)
                or (match and set(match.group(1).split(", ")) <= unanswered))


@pytest.mark.browser
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_notebook_runs_in_jupyterlab(lab, page, name):
    notebook = Path(name) / f"{name}.ipynb"
    assert (lab.workspace / notebook).is_file(), f"{notebook} is not in the workspace"
    open_notebook(page, lab.tree_url(f"workspace/{notebook.as_posix()}"))
    cells = run_every_cell(page)
    save_notebook_screenshot(page, artifacts_dir() / f"{name}.png")

    not_run = [c.index for c in cells if not c.ran]
    assert not not_run, f"code cells {not_run} never ran"
    errors = [(c.index, e) for c in cells for e in c.errors]
    unanswered = answer_names(REPO / "assignments" / "source" / name / f"{name}.ipynb")
    unexpected = [(i, e) for i, e in errors if not expected(e, unanswered)]
    assert not unexpected, f"errors other than the stubs' NotImplementedError: {unexpected}"
    # The release has gaps, so the learner must see at least one stub being hit.
    assert errors, "no cell raised NotImplementedError: are the gaps missing from the release?"
