"""nbgrader's Validate button in JupyterLab: success when complete, the failing cells otherwise.

The button is the one nbgrader's JupyterLab extension puts in the notebook
toolbar; it asks the server to run the notebook and shows the result in a
dialog. A completed notebook (the reference solutions in the library and the
answer cells) must get nbgrader's success message; the untouched release
must list every graded cell as failed: each autograded cell with its error,
and each written answer still holding the release's placeholder.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from lab_server import artifacts_dir
from lab_ui import open_notebook
from playwright.sync_api import Page

ASSIGNMENT = "backprop"  # the quickest notebook to execute
VALIDATE_MS = 300_000  # the server runs the whole notebook


def squeeze(text: str) -> str:
    """``text`` without whitespace: the dialog shows sources with its own line breaks."""
    return "".join(text.split())


def graded_cells(notebook: Path) -> dict[str, tuple[str, str]]:
    """Squeezed source -> (grade_id, cell type) of every graded cell of ``notebook``."""
    cells = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            cells[squeeze(cell.source)] = (meta["grade_id"], cell.cell_type)
    return cells


def validate(page: Page, url: str, screenshot: Path) -> tuple[str, list[tuple[str, str]]]:
    """Open ``url``, click Validate; return the dialog's outcome and (source, error) pairs.

    The outcome is "success" or "failed" (nbgrader's dialog classes).
    """
    open_notebook(page, url)
    button = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-item "
                          "jp-button.validate-button")
    button.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(state="visible", timeout=VALIDATE_MS)
    assert dialog.locator(".jp-Dialog-header").text_content().strip() == "Validation Results"
    page.screenshot(path=str(screenshot))
    body = dialog.locator("#validation-message")
    classes = body.get_attribute("class").split()
    outcome = ("success" if "validation-success" in classes
               else "failed" if "validation-failed" in classes else " ".join(classes))
    texts = [t.strip() for t in body.locator(".jp-RenderedText pre").all_inner_texts()]
    # Each failed cell is shown as its source followed by its error.
    pairs = list(zip(texts[0::2], texts[1::2], strict=True))
    message = body.text_content()
    dialog.locator("button.jp-mod-accept").click()
    return (outcome if outcome != "success" else "success: " + message.strip()), pairs


@pytest.mark.browser
def test_validate_a_completed_notebook(lab, page):
    outcome, failed = validate(page, lab.tree_url(f"reference/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
                               artifacts_dir() / "validate-completed.png")
    assert not failed, f"Validate reports failing cells: {[s[:80] for s, _ in failed]}"
    assert outcome == "success: Success! Your notebook passes all the tests.", outcome


@pytest.mark.browser
def test_validate_an_untouched_notebook(lab, page):
    notebook = lab.workspace / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    outcome, failed = validate(page, lab.tree_url(f"workspace/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"),
                               artifacts_dir() / "validate-untouched.png")
    assert outcome == "failed", outcome
    graded = graded_cells(notebook)
    unknown = [source[:80] for source, _ in failed if squeeze(source) not in graded]
    assert not unknown, f"Validate lists cells that are not graded: {unknown}"
    reported = {graded[squeeze(source)][0] for source, _ in failed}
    expected = {grade_id for grade_id, _ in graded.values()}
    assert reported == expected, f"graded cells not reported: {sorted(expected - reported)}"
    for source, error in failed:
        grade_id, cell_type = graded[squeeze(source)]
        if cell_type == "code":
            assert "Error" in error, f"{grade_id}: no error shown, only {error[:200]!r}"
