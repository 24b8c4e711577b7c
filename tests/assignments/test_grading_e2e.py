"""End to end with real nbgrader on the fixture course.

Release both assignments, synthesise a class (reference, untouched release,
partial, wrong backward), ``nbgrader autograde`` everything in one call,
``nbgrader export`` the grades and check every score in the CSV.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest
from toy_course import MANUAL_POINTS, POINTS

from autograder.demo.synth import make_submission
from autograder.release.build import release, run_nbgrader


def autograde_and_export(course: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """Autograde every submission of the course, export, return (assignment, student) -> scores."""
    run_nbgrader(course, "autograde", "*", "--force")
    run_nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv", newline="") as fh:
        return {(row["assignment"], row["student_id"]): (float(row["score"]),
                                                         float(row["max_score"]))
                for row in csv.DictReader(fh)}


def cell_outputs(course: Path, student: str, assignment: str, grade_id: str) -> str:
    nb = nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb",
                       as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            parts = []
            for out in cell.get("outputs", []):
                parts.append(out.get("text", ""))
                parts.extend(out.get("traceback", []))
            return "\n".join(parts)
    raise KeyError(grade_id)


@pytest.mark.slow
def test_fixture_course_grades_as_expected(toy_course):
    lib = toy_course.parent / "cs231n_lib"
    release(toy_course, lib, log=lambda *_: None)
    for assignment in ("first", "second"):
        make_submission(toy_course, assignment, "ref", "reference", lib_dir=lib)
        make_submission(toy_course, assignment, "untouched", "release", lib_dir=lib)
    make_submission(toy_course, "second", "partial", "partial", lib_dir=lib,
                    filled=["scale_forward"])
    make_submission(toy_course, "first", "wrong", "wrong_backward", lib_dir=lib,
                    wrong_function="add_backward")
    # Right for one sample, wrong for a batch: only the hidden test has N > 1.
    make_submission(toy_course, "second", "wrong", "wrong_backward", lib_dir=lib,
                    wrong_function="scale_backward",
                    mutation=("dw = (dout * x).sum(axis=0)", "dw = (dout * x)[0]"))

    scores = autograde_and_export(toy_course)

    auto = {a: sum(points.values()) for a, points in POINTS.items()}
    expected = {
        ("first", "ref"): auto["first"], ("second", "ref"): auto["second"],
        ("first", "untouched"): 0, ("second", "untouched"): 0,
        ("second", "partial"): POINTS["second"]["test_double"]
        + POINTS["second"]["test_scale_forward"],
        ("first", "wrong"): 0,
        ("second", "wrong"): auto["second"] - POINTS["second"]["test_scale_backward"],
    }
    got = {key: scores[key][0] for key in expected}
    assert got == expected
    for (assignment, _student), (_score, max_score) in scores.items():
        assert max_score == auto[assignment] + MANUAL_POINTS[assignment]

    # The wrong dw passed the visible check and was caught by the hidden one.
    out = cell_outputs(toy_course, "wrong", "second", "test_scale_backward")
    assert "relative errors dx, dw:" in out and "AssertionError" in out
    failing_line = int(re.findall(r"line (\d+)", out)[-1])
    assert failing_line > 4  # past the four visible lines

    # The untouched release fails on the stubs, not on a timeout or a crash.
    out = cell_outputs(toy_course, "untouched", "second", "test_scale_forward")
    assert "NotImplementedError" in out and "Implement scale_forward" in out
    assert "Timeout" not in out
