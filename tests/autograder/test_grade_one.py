"""Grading one submission end to end on the mini course (real sandbox, real kernel)."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mini_course
import pytest
from mini_course import ASSIGNMENT, HIDDEN_MARK, POINTS, SOLUTION_MARK

from autograder.course import SubmissionCaps
from autograder.grading import grade as grade_one
from autograder.grading.grade import grade_submission, rebuild_notebook
from autograder.sandbox import Limits

LIMITS = Limits(cell_seconds=20, submission_seconds=90, max_processes=64)
SEED = 1234


def _notebook(folder: Path) -> dict:
    return json.loads((folder / f"{ASSIGNMENT}.ipynb").read_text())


def _save(folder: Path, nb: dict) -> None:
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))


def _cells_by_id(nb):
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}


def build_class(course: Path) -> None:
    mini_course.submit(course, "reference", "reference")
    mini_course.submit(course, "release", "release")
    # Partial: scale done, shift not.
    partial = mini_course.submit(course, "partial", "release")
    scale = (partial / "cs231n_lib" / "scale.py").read_text()
    (partial / "cs231n_lib" / "scale.py").write_text(scale.replace(
        'raise NotImplementedError("scale_forward: your code here")', "return a * x"))
    # Wrong: right for the visible test (a > 0), wrong for negative a.
    wrong = mini_course.submit(course, "wrong", "release")
    scale = (wrong / "cs231n_lib" / "scale.py").read_text()
    (wrong / "cs231n_lib" / "scale.py").write_text(scale.replace(
        'raise NotImplementedError("scale_forward: your code here")', "return abs(a) * x"))
    # Edited and deleted test cells on the untouched release.
    edited = mini_course.submit(course, "edited", "release")
    nb = _notebook(edited)
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id", "").startswith("test_"):
            cell["source"] = "print('all tests passed')\n"
    _save(edited, nb)
    deleted = mini_course.submit(course, "deleted", "release")
    nb = _notebook(deleted)
    nb["cells"] = [c for c in nb["cells"]
                   if not c["metadata"].get("nbgrader", {}).get("grade_id", "").startswith("test_")]
    _save(deleted, nb)
    # Bad input.
    missing = mini_course.submit(course, "missing", "reference")
    (missing / f"{ASSIGNMENT}.ipynb").rename(missing / "renamed.ipynb")
    broken = mini_course.submit(course, "broken", "reference")
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')
    latin = mini_course.submit(course, "latin", "reference")
    (latin / f"{ASSIGNMENT}.ipynb").write_bytes(b'{"cells": [], "x": "caf\xe9"}')
    # A symlink to the solutions is left out, not followed.
    linked = mini_course.submit(course, "linked", "release")
    os.symlink(course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", linked / "stolen.ipynb")


STUDENTS = ["reference", "release", "partial", "wrong", "edited", "deleted", "missing",
            "broken", "latin", "linked"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grade_one")
    course, reflib = mini_course.make_mini_course(root)
    build_class(course)

    def one(student):
        return student, grade_submission(course, ASSIGNMENT, student, limits=LIMITS, seed=SEED,
                                         reference_lib=reflib)

    with ThreadPoolExecutor(2) as pool:
        results = dict(pool.map(one, STUDENTS))
    return course, results


def scores(result):
    return {c["grade_id"]: c["points"] for c in result["cells"] if c["kind"] == "test"}


pytestmark = pytest.mark.slow


def test_reference_gets_full_marks_with_trusted_rows(graded):
    _, results = graded
    r = results["reference"]
    assert r["status"] == "graded", r
    assert scores(r) == POINTS
    assert r["score"] == r["max_score"] == sum(POINTS.values())
    rows = {c["grade_id"]: c for c in r["cells"]}
    assert rows["test_scale"]["trusted"] and rows["test_shift"]["trusted"]
    assert not rows["test_notebook_only"]["trusted"]
    assert rows["why"]["kind"] == "manual" and rows["why"]["points"] is None
    assert not any("integrity" in f for f in r["flags"])
    assert r["limits"]["in_force"]["wall_clock"]["enforced"]
    json.dumps(r)  # plain data only


def test_release_partial_and_wrong(graded):
    _, results = graded
    assert scores(results["release"]) == dict.fromkeys(POINTS, 0.0)
    assert scores(results["partial"]) == {"test_scale": 2.0, "test_shift": 0.0,
                                          "test_notebook_only": 0.0}
    wrong = {c["grade_id"]: c for c in results["wrong"]["cells"]}
    assert wrong["test_scale"]["points"] == 0.0
    # The notebook runs its test cells as released (no hidden test enters the
    # sandbox): the visible check misses this bug, the probes do not, and the
    # disagreement is shown to the instructor.
    assert wrong["test_scale"]["notebook_points"] == 2.0
    assert any(f.startswith("test_scale: integrity") for f in results["wrong"]["flags"])


def test_edited_and_deleted_test_cells_come_back(graded):
    _, results = graded
    for student in ("edited", "deleted"):
        r = results[student]
        assert r["status"] == "graded"
        assert scores(r) == dict.fromkeys(POINTS, 0.0)
        assert r["max_score"] == sum(POINTS.values())
        assert any(("edited" if student == "edited" else "deleted") in n for n in r["notes"])
        executed = _cells_by_id(r["notebook"])
        assert "all tests passed" not in executed["test_scale"]["source"]


@pytest.mark.parametrize("student, words", [
    ("missing", "mini.ipynb is missing"), ("broken", "not valid notebook JSON"),
    ("latin", "not UTF-8")])
def test_bad_input_is_a_clear_error(graded, student, words):
    r = graded[1][student]
    assert r["status"] == "error" and words in r["error"]
    assert r["score"] == 0 and r["max_score"] == sum(POINTS.values())


def test_symlinks_are_left_out(graded):
    r = graded[1]["linked"]
    assert any("stolen.ipynb" in n and "symbolic link" in n for n in r["notes"])
    assert SOLUTION_MARK not in json.dumps(r)


def test_feedback_reveals_no_hidden_test(graded):
    for r in graded[1].values():
        if r["notebook"] is not None:
            assert HIDDEN_MARK not in json.dumps(r["notebook"])


def test_rebuild_restores_metadata_and_drops_forged_grade_ids():
    source = mini_course.source_notebook()
    submitted = mini_course.released_notebook()
    forged = {"cell_type": "code", "source": "x = 1", "outputs": [], "execution_count": 3,
              "metadata": {"nbgrader": {"grade": True, "grade_id": "test_scale", "points": 99}}}
    submitted["cells"].insert(1, forged)
    submitted["cells"][2]["metadata"]["nbgrader"]["points"] = 1000
    nb, notes = rebuild_notebook(submitted, source)
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in nb["cells"]]
    assert ids.count("test_scale") == 1
    cell = _cells_by_id(nb)["test_scale"]
    assert cell["metadata"]["nbgrader"]["points"] == POINTS["test_scale"]
    # As released: the hidden test never reaches the notebook that runs.
    assert HIDDEN_MARK not in cell["source"]
    assert all(c.get("outputs", []) == [] for c in nb["cells"])


def test_no_submission_folder_is_an_error(graded):
    course, _ = graded
    r = grade_submission(course, ASSIGNMENT, "nobody", limits=LIMITS, seed=SEED,
                         reference_lib=course.parent / "reflib" / "cs231n_lib")
    assert r["status"] == "error" and "no submission folder" in r["error"]
    r = grade_submission(course, ASSIGNMENT, "../etc", limits=LIMITS, seed=SEED)
    assert r["status"] == "error" and "invalid" in r["error"]


def test_copy_submission_caps(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(b"x" * 2000)
    with pytest.raises(grade_one.SubmissionError, match="larger than"):
        grade_one.copy_submission(src, tmp_path / "dest", caps=SubmissionCaps(max_bytes=1000))


TROUBLED_SCALE = """import numpy as np


def scale_forward(x, a):
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        while True:
            pass
    print("END 2")
    print("BEGIN 99")
    return a * x


def shift(x, b):
    import subprocess
    subprocess.Popen(["sleep", "1000"])
    return np.asarray(x, dtype=np.float64) + b
"""

DYING_SCALE = """import os

import numpy as np


def scale_forward(x, a):
    if np.asarray(x).size == 0:
        os._exit(3)
    return a * np.asarray(x, dtype=np.float64)


def shift(x, b):
    return np.asarray(x, dtype=np.float64) + b
"""


@pytest.mark.parametrize("library, note", [(TROUBLED_SCALE, "timed out"),
                                           (DYING_SCALE, "probe process ended")])
def test_a_probe_that_hangs_or_dies_fails_alone(tmp_path, library, note):
    course, reflib = mini_course.make_mini_course(tmp_path)
    folder = mini_course.submit(course, "troubled", "reference")
    (folder / "cs231n_lib" / "scale.py").write_text(library)
    r = grade_submission(course, ASSIGNMENT, "troubled", seed=SEED, reference_lib=reflib,
                         limits=Limits(cell_seconds=3, submission_seconds=60))
    probes = {p["name"]: p for c in r["cells"] for p in c["probes"]}
    assert not probes["scale_empty"]["passed"] and note in probes["scale_empty"]["note"]
    assert probes["scale_random"]["passed"] and probes["shift_random"]["passed"]
    assert scores(r)["test_scale"] == 0 and scores(r)["test_shift"] == POINTS["test_shift"]


def test_grades_without_namespaces_and_says_so(tmp_path, monkeypatch):
    from autograder import sandbox

    monkeypatch.setattr(sandbox.run, "namespaces_available", lambda: False)
    course, reflib = mini_course.make_mini_course(tmp_path, {"alice": "reference"})
    r = grade_submission(course, ASSIGNMENT, "alice", limits=LIMITS, seed=SEED,
                         reference_lib=reflib)
    assert r["score"] == r["max_score"]
    in_force = r["limits"]["in_force"]
    assert not in_force["filesystem"]["enforced"] and not in_force["processes"]["enforced"]
