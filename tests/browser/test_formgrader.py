"""A written answer graded by hand in nbgrader's formgrader reaches ``export``.

The course is small and real: a source notebook with one autograded test cell
and one written answer (a markdown cell graded by hand), released by
nbgrader's ``generate_assignment`` (which also builds the gradebook), two
submissions graded in the sandbox by the project's grader and recorded by
``Recorder``. The instructor then opens formgrader in Chromium, types points
and a comment into the written answer, and the export must show them.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from formgrader_server import Formgrader, running_formgrader
from lab_server import artifacts_dir
from playwright.sync_api import Page

from autograder.grading.export import export_all
from autograder.grading.grade import grade_submission
from autograder.grading.record import Recorder, gradebook_url, open_gradebook
from autograder.release.build import run_nbgrader
from autograder.sandbox import Limits

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ASSIGNMENT = "gates"
TEST_POINTS = 2.0  # the autograded cell
WRITTEN_POINTS = 3.0  # the written answer
WRITTEN_ID = "why_router"
LIMITS = Limits(cell_seconds=30, submission_seconds=90, max_processes=64)
SEED = 4
# What each student wrote: the code gap, then the written answer.
STUDENTS = {
    "ada": ("    return y * dout, x * dout\n",
            "Only the input that was largest receives the upstream gradient."),
    "ben": ("    return dout, dout\n",
            "It sends the gradient to both inputs."),
}
GRADED_BY_HAND = "ada"
HAND_POINTS = "2.5"
HAND_COMMENT = "Right idea; say what the other inputs receive (zero)."

CONFIG = '''"""nbgrader configuration of the test course (this folder is the course root)."""

import os

c = get_config()  # noqa: F821
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "gates-course"
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# A private exchange: formgrader looks for one, and the system-wide default is not ours.
c.Exchange.root = os.path.join(c.CourseDirectory.root, "exchange")
'''


def _cell(kind: str, source: str, **nbgrader) -> dict:
    meta = {"nbgrader": {"schema_version": 3, "solution": False, "grade": False,
                         "locked": False, **nbgrader}} if nbgrader else {}
    cell = {"cell_type": kind, "metadata": meta, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def source_notebook() -> dict:
    """The instructor's notebook: a code gap, its test (autograded), a written answer."""
    cells = [
        _cell("markdown", "# Gates\nWrite the backward pass of the mul gate."),
        _cell("code", "def mul_backward(x, y, dout):\n    ### BEGIN SOLUTION\n"
                      "    return y * dout, x * dout\n    ### END SOLUTION\n",
              grade_id="mul_backward", solution=True),
        _cell("code", "assert mul_backward(3.0, -2.0, 1.5) == (-3.0, 4.5)\n"
                      "print('mul gate: ok')\n",
              grade_id="test_mul", grade=True, locked=True, points=TEST_POINTS),
        _cell("markdown", "Why is the max gate called a gradient *router*?",
              grade_id="ask_router", locked=True),
        _cell("markdown", "### BEGIN SOLUTION\nOnly the input that was the max gets the "
                          "upstream gradient; the others get zero.\n### END SOLUTION\n",
              grade_id=WRITTEN_ID, solution=True, grade=True, points=WRITTEN_POINTS),
    ]
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}}}


def make_course(root: Path) -> Path:
    """``nbgrader_config.py`` and ``source/``, then ``release/`` and the gradebook from nbgrader."""
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "exchange").mkdir()
    (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(
        json.dumps(source_notebook(), indent=1), encoding="utf-8")
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    return course


def submit(course: Path, student: str, code: str, written: str) -> None:
    """``submitted/<student>/<assignment>/``: the release with the gap and the answer filled."""
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(released.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid == "mul_backward":
            cell["source"] = "def mul_backward(x, y, dout):\n" + code
        elif gid == WRITTEN_ID:
            cell["source"] = written
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC\n", encoding="utf-8")


def grade_class(course: Path) -> dict[str, dict]:
    """Grade every submission in the sandbox and record it; return the results by student."""
    results = {}
    with Recorder(course) as recorder:
        for student in STUDENTS:
            result = grade_submission(course, ASSIGNMENT, student, limits=LIMITS, seed=SEED)
            result.update(student=student, assignment=ASSIGNMENT)
            recorder.record(result)
            results[student] = result
    return results


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def course(chromium_path, tmp_path_factory) -> Path:
    """The course, released and with every submission graded and recorded.

    The project's real grader is used (sandboxed, a few seconds a submission),
    not a stand-in: formgrader then shows the notebook as the grader executed
    it, and the test sees what an instructor sees after ``grade``.
    """
    from autograder.sandbox.warm import close_all

    course = make_course(tmp_path_factory.mktemp("formgrader"))
    for student, (code, written) in STUDENTS.items():
        submit(course, student, code, written)
    try:
        results = grade_class(course)
    finally:
        close_all()  # the sandbox's warm helper is not needed any more
    for student, result in results.items():
        assert result["status"] == "graded", (student, result["error"], result["notes"])
    return course


@pytest.fixture(scope="module")
def formgrader(course, tmp_path_factory):
    base = tmp_path_factory.mktemp("formgrader-server")
    with running_formgrader(course, base) as server:
        yield server
    # Kept with the screenshots: the server's log explains most failures.
    shutil.copyfile(server.log, artifacts_dir() / "formgrader.log")


@dataclass
class HandGrading:
    """What the instructor saw in formgrader while grading the written answer by hand."""

    listed_before: dict[str, dict]  # student -> row of the submissions list, before
    answer_shown: str  # the written answer's panel on the grading page
    saved_grade: dict  # the grade as the server answered the save
    saved_comment: dict
    after_reload: tuple[str, str]  # score box, comment box once the page is reloaded
    listed_after: dict[str, dict]  # the submissions list, after
    page_errors: list[str]


@pytest.fixture(scope="module")
def hand_graded(course, formgrader, browser) -> HandGrading:
    """Grade the written answer of ``GRADED_BY_HAND`` in formgrader, through its pages."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Nothing leaves the machine: formgrader's pages ask a CDN for MathJax.
    page.route("**/*", lambda route: route.continue_()
               if route.request.url.startswith(formgrader.url) else route.abort())
    try:
        yield _grade_by_hand(page, formgrader, errors)
    finally:
        context.close()


def _grade_by_hand(page: Page, formgrader: Formgrader, errors: list[str]) -> HandGrading:
    listing = formgrader.page_url(f"gradebook/{ASSIGNMENT}/{ASSIGNMENT}")
    formgrader.log_in(page, listing)
    before = submission_rows(page)
    row = page.locator("tbody#main-table tr").filter(
        has=page.locator("a.name-shown", has_text=GRADED_BY_HAND))
    with page.expect_navigation():
        row.locator("a.name-hidden").click()  # "Submission #n": names are hidden by default
    wait_for_grading_page(page)
    score = page.locator(f"input.score#{WRITTEN_ID}")
    comment = page.locator(f"textarea#{WRITTEN_ID}-comment")
    answer = score.locator("xpath=ancestor::div[contains(@class, 'nbgrader_cell')]").inner_text()
    # formgrader saves a box when it loses focus (its "change" event): Tab out.
    score.fill(HAND_POINTS)
    with page.expect_response(_saved("grade")) as grade_saved:
        score.press("Tab")
    saved_grade = grade_saved.value.json()
    comment.fill(HAND_COMMENT)
    with page.expect_response(_saved("comment")) as comment_saved:
        comment.press("Tab")
    saved_comment = comment_saved.value.json()
    page.reload()
    wait_for_grading_page(page)
    kept = (score.input_value(), comment.input_value())
    page.screenshot(path=str(artifacts_dir() / "formgrader-graded.png"), full_page=True)
    page.goto(listing)
    return HandGrading(before, answer, saved_grade, saved_comment, kept, submission_rows(page),
                       list(errors))


def _saved(kind: str):
    """Matches the answer to formgrader's save of a grade or a comment (a PUT)."""
    return lambda response: (response.request.method == "PUT"
                             and f"/formgrader/api/{kind}/" in response.url
                             and response.ok)


_GRADING_PAGE_READY = """() => window.formgrader && formgrader.grades && formgrader.grades.loaded
    && formgrader.comments && formgrader.comments.loaded"""


def wait_for_grading_page(page: Page) -> None:
    """Wait until the grading page has loaded the grades and comments into its boxes."""
    page.wait_for_function(_GRADING_PAGE_READY, polling=100)


_ROWS_JS = """() => Array.from(document.querySelectorAll('tbody#main-table tr'))
    .filter(tr => tr.querySelector('a.name-shown'))
    .map(tr => ({
        student: tr.querySelector('a.name-shown').textContent.trim(),
        score: tr.querySelector('.score').textContent.trim(),
        written: tr.querySelector('.written-score').textContent.trim(),
        needs_manual_grade: tr.querySelector('.needs-manual-grade .glyphicon') !== null,
    }))"""


def submission_rows(page: Page) -> dict[str, dict]:
    """The notebook's submissions list as formgrader shows it, by student id."""
    page.wait_for_function(f"() => ({_ROWS_JS})().length === {len(STUDENTS)}", polling=100)
    return {row.pop("student"): row for row in page.evaluate(_ROWS_JS)}


# --------------------------------------------------------------------------- tests

def test_written_answer_graded_in_formgrader_reaches_the_csv(course, hand_graded, tmp_path):
    seen = hand_graded
    # Only MathJax is missing offline (formgrader loads it from a CDN); any other
    # script error on its pages is a failure.
    assert all("MathJax" in e for e in seen.page_errors), seen.page_errors
    assert seen.listed_before == {
        "ada": {"score": "2 / 5", "written": "0 / 3", "needs_manual_grade": True},
        "ben": {"score": "0 / 5", "written": "0 / 3", "needs_manual_grade": True},
    }
    assert STUDENTS[GRADED_BY_HAND][1] in seen.answer_shown
    assert seen.saved_grade["manual_score"] == float(HAND_POINTS)
    assert seen.saved_comment["manual_comment"] == HAND_COMMENT
    assert seen.after_reload == (HAND_POINTS, HAND_COMMENT)
    assert seen.listed_after["ada"] == {"score": "4.5 / 5", "written": "2.5 / 3",
                                        "needs_manual_grade": False}
    assert seen.listed_after["ben"] == seen.listed_before["ben"]
    with open_gradebook(gradebook_url(course)) as gb:
        grade = gb.find_grade(WRITTEN_ID, ASSIGNMENT, ASSIGNMENT, GRADED_BY_HAND)
        comment = gb.find_comment(WRITTEN_ID, ASSIGNMENT, ASSIGNMENT, GRADED_BY_HAND)
        assert (grade.manual_score, grade.auto_score, grade.score) == (2.5, None, 2.5)
        assert comment.manual_comment == HAND_COMMENT

    report = export_all(course, to=tmp_path / "exports", gradescope=False, feedback=False)
    with report.csv.open(encoding="utf-8") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert (rows["ada"][ASSIGNMENT], rows["ada"]["total"], rows["ada"]["max_total"]) == (
        "4.5", "4.5", "5")
    assert (rows["ben"][ASSIGNMENT], rows["ben"]["total"], rows["ben"]["max_total"]) == (
        "0", "0", "5")


def test_feedback_shows_the_hand_grade_and_comment(course, hand_graded, tmp_path):
    assert hand_graded.after_reload == (HAND_POINTS, HAND_COMMENT)
    report = export_all(course, to=tmp_path / "exports", csv_file=False, gradescope=False)
    pages = {path.parts[-3]: path.read_text(encoding="utf-8") for path in report.feedback}
    assert f"{WRITTEN_ID}: {HAND_POINTS} / {WRITTEN_POINTS:g}" in pages[GRADED_BY_HAND]
    assert HAND_COMMENT in pages[GRADED_BY_HAND]
