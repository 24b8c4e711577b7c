"""A learner fills a library gap in JupyterLab's editor and checks it in the notebook.

In a fresh workspace where the earlier assignments are done (the activations
checks run on the learner's own gradient checker, a gap of ``backprop``), the
learner opens the activations notebook and runs it
down to the leaky ReLU test cell, which fails on the stub. They open
``cs231n_lib/activations.py`` from the file browser, replace the two stubs
(forward and backward) with an implementation typed into the editor, save,
and run the test cell again: the numerical gradient check passes. Then they
break the backward pass (the leak's slope forgotten), save, run again: the
check fails and says which input's gradient is wrong and by how much.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lab_server import REPO, artifacts_dir
from lab_ui import CellView, code_cells, menu, open_notebook, run_cell
from playwright.sync_api import Page

from autograder.release.build import release_rule, write_library
from autograder.release.gaps import read_gap_table

ASSIGNMENT = "activations"
LIBRARY_FILE = "cs231n_lib/activations.py"  # in the workspace, shared by every notebook
TEST_CELL_SOURCE = "leaky_relu_forward(np.array("  # how the learner recognises the test cell
FORWARD = ["    out = np.where(x > 0, x, alpha * x)"]
BACKWARD = ["    dx = dout * np.where(x > 0, 1.0, alpha)"]
WRONG_BACKWARD = ["    dx = dout * (x > 0)"]  # ReLU's gradient: the leak's slope is lost


def stub_line(text: str, function: str) -> int:
    """The 1-based line of ``function``'s "# YOUR CODE HERE" stub comment in ``text``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith("# YOUR CODE HERE") and f"({function} " in line:
            return number
    raise AssertionError(f"no stub of {function} in the released {LIBRARY_FILE}")


def line_of(text: str, line: str) -> int:
    return text.splitlines().index(line) + 1


def go_to_line(page: Page, number: int) -> None:
    """Edit > Go to Line: the cursor lands at the start of line ``number``."""
    menu(page, "Edit", "Go to Line…")
    field = page.locator('.jp-FileEditor input.cm-textfield[name="line"]')
    field.fill(str(number))
    field.press("Enter")


def replace_lines(page: Page, first: int, count: int, new_lines: list[str]) -> None:
    """Delete ``count`` lines from line ``first`` and type ``new_lines`` in their place."""
    go_to_line(page, first)
    for _ in range(count):
        page.keyboard.press("Control+Shift+K")  # CodeMirror: delete line
    go_to_line(page, first)
    # Inserted as typed text, but without the editor's auto-indent after each newline.
    page.keyboard.insert_text("\n".join(new_lines) + "\n")


def save_editor(page: Page, path: Path, expected_lines: list[str]) -> None:
    """File > Save; wait until the file on disk holds what was typed."""
    page.keyboard.press("Control+s")
    tab = page.locator(".lm-TabBar-tab", has_text=path.name)
    page.wait_for_function("t => !t.classList.contains('jp-mod-dirty')",
                           arg=tab.element_handle(), timeout=30_000)
    text = path.read_text()
    missing = [line for line in expected_lines if line not in text.splitlines()]
    assert not missing, f"the editor did not save {missing} into {path}"


def open_tab(page: Page, label: str) -> None:
    page.locator(".lm-TabBar-tab", has_text=label).first.click()


def find_test_cell(page: Page) -> CellView:
    matches = [c for c in code_cells(page) if TEST_CELL_SOURCE in c.source]
    assert len(matches) == 1, f"expected one cell calling {TEST_CELL_SOURCE!r}"
    return matches[0]


@pytest.fixture
def earlier_assignments_done(lab, tmp_path):
    """The workspace library with the gaps before ``ASSIGNMENT`` filled in, as a learner
    who did them has it; put back as it was afterwards (other tests need a fresh one)."""
    table = read_gap_table(lab.course / "gaps.toml")
    index = [row.name for row in table].index(ASSIGNMENT)
    done = tmp_path / "cs231n_lib"
    write_library(REPO / "cs231n_lib", done, table, release_rule(index))
    library = lab.workspace / "cs231n_lib"
    saved = tmp_path / "saved"
    shutil.copytree(library, saved)
    for row in table[:index]:
        for module in row.modules:
            rel = Path(*module.split(".")).with_suffix(".py")
            shutil.copyfile(done / rel, library / rel)
    yield
    shutil.rmtree(library)
    shutil.copytree(saved, library)


@pytest.mark.browser
def test_student_fills_a_gap_in_the_editor(lab, page, earlier_assignments_done):
    library_file = lab.workspace / LIBRARY_FILE
    open_notebook(page, lab.tree_url(f"workspace/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"))

    # The notebook down to the test cell; earlier cells may fail on other stubs.
    target = find_test_cell(page).index
    for index in range(target + 1):
        cell = run_cell(page, index)
    assert cell.errors and cell.errors[0].startswith("NotImplementedError"), cell.errors
    assert "leaky_relu_forward" in cell.text, "the stub's message does not name the function"

    # The library file, from the file browser (one folder up: the workspace's
    # library serves every assignment), in JupyterLab's editor.
    page.locator(".jp-BreadCrumbs-item", has_text=re.compile(r"^workspace$")).click()
    page.locator(".jp-DirListing-item", has_text=re.compile(r"^cs231n_lib")).dblclick()
    page.locator(".jp-DirListing-item", has_text=re.compile(r"^activations\.py")).dblclick()
    editor = page.locator(".jp-FileEditor .cm-content")
    editor.wait_for(state="visible")
    editor.click()

    released = library_file.read_text()
    # The later stub first, so the earlier one's line number still holds.
    replace_lines(page, stub_line(released, "leaky_relu_backward"), 2, BACKWARD)
    replace_lines(page, stub_line(released, "leaky_relu_forward"), 2, FORWARD)
    save_editor(page, library_file, FORWARD + BACKWARD)

    open_tab(page, f"{ASSIGNMENT}.ipynb")
    cell = run_cell(page, target)
    assert not cell.errors, f"the correct leaky ReLU fails its test: {cell.errors}\n{cell.text}"
    assert "leaky ReLU, alpha = 0.2" in cell.text and "FAIL" not in cell.text
    page.screenshot(path=str(artifacts_dir() / "student-gap-filled.png"))

    # Now a wrong backward pass: the numerical gradient check must catch it, readably.
    open_tab(page, "activations.py")
    page.locator(".jp-FileEditor .cm-content").click()
    replace_lines(page, line_of(library_file.read_text(), BACKWARD[0]), 1, WRONG_BACKWARD)
    save_editor(page, library_file, FORWARD + WRONG_BACKWARD)

    open_tab(page, f"{ASSIGNMENT}.ipynb")
    cell = run_cell(page, target)
    assert cell.errors, "a leaky ReLU backward without the leak passed the gradient check"
    assert re.match(r"AssertionError: a relative error is above \de-\d+", cell.errors[0]), \
        cell.errors
    # The report names the input whose gradient is wrong and marks it.
    failing = [line for line in cell.text.splitlines() if line.rstrip().endswith("FAIL")]
    assert failing and failing[0].split()[0] == "x", cell.text
    page.screenshot(path=str(artifacts_dir() / "student-wrong-backward.png"))
