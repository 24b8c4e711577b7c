"""The diagnosis reaches the student and the instructor: a typical bug, graded in the
sandbox, is named in the result, in the HTML feedback and in the class view."""

from __future__ import annotations

import json
import shutil

import pytest

from autograder.demo import synth
from autograder.demo.class_demo import prepare_course
from autograder.grading.class_view import class_counts, class_view_html
from autograder.grading.export import export_all
from autograder.grading.grade import grade_submission
from autograder.grading.record import Recorder
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow

LIMITS = Limits(cell_seconds=60, submission_seconds=240)
# A backward pass whose dw takes the batch mean once too often: the catalogue's
# "a 1/N missing or taken twice", written here independently of its mutant.
AVERAGED_DW = '''

def affine_backward(dout, cache):
    x, w, b = cache
    flat = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = flat.T @ dout / x.shape[0]
    db = dout.sum(axis=0)
    return dx, dw, db
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("diagnosed")
    prepare_course(root / "demo", assignments=["backprop"], log=lambda *a, **k: None)
    course = root / "demo" / "course"
    for student in ("averager", "honest"):
        synth.make_submission(course, "backprop", student, "reference")
    library = course / "submitted" / "averager" / "backprop" / "cs231n_lib" / "affine.py"
    library.write_text(library.read_text() + AVERAGED_DW)
    results = {s: grade_submission(course, "backprop", s, limits=LIMITS, seed=3)
               for s in ("averager", "honest")}
    (course / "gradebook.db").unlink(missing_ok=True)
    with Recorder(course) as recorder:
        for result in results.values():
            recorder.record(result)
    yield course, results
    shutil.rmtree(root, ignore_errors=True)


def _row(result: dict, grade_id: str) -> dict:
    return next(c for c in result["cells"] if c["grade_id"] == grade_id)


def test_the_likely_mistake_is_named_in_the_result(graded):
    _, results = graded
    row = _row(results["averager"], "test_affine_backward")
    assert row["points"] == 0.0
    named = {p["diagnosis"] for p in row["probes"] if not p["passed"]}
    assert named == {"scale-1/N"}, row["probes"]
    honest = _row(results["honest"], "test_affine_backward")
    assert honest["points"] == honest["max_points"]
    assert not any(p["diagnosis"] for p in honest["probes"])


def test_feedback_and_class_view_show_it(graded):
    course, results = graded
    report = export_all(course)
    page = (course / "feedback" / "averager" / "backprop" / "backprop.html").read_text()
    assert "What went wrong" in page and "1/N" in page
    honest = (course / "feedback" / "honest" / "backprop" / "backprop.html").read_text()
    assert "What went wrong" not in honest
    view = report.class_view.read_text()
    assert "test_affine_backward" in view and "a 1/N missing or taken twice" in view
    counts = class_counts(results.values())
    assert counts["backprop"]["test_affine_backward"]["scale-1/N"] == 1
    assert json.loads(json.dumps(counts))  # plain data


def test_the_class_view_escapes_and_says_when_nothing_was_lost():
    assert "No graded submission lost points" in class_view_html({})
    from collections import Counter

    page = class_view_html({"a<b": {"test_<x>": Counter({"<script>": 2})}})
    assert "<script>" not in page.split("</style>")[1]


def test_a_cell_is_counted_under_a_mistake_only_when_it_explains_most_failed_probes():
    """The class view counts cells by the rule the measurement uses (``cell_class``)."""
    from autograder.grading.class_view import UNNAMED, cell_mistakes

    def probe(diagnosis=""):
        return {"passed": False, "note": "relative error 1.0", "diagnosis": diagnosis}

    record = {"cells": [
        {"grade_id": "most", "points": 0, "max_points": 3,
         "probes": [probe("sign"), probe("sign"), probe()]},
        {"grade_id": "half", "points": 0, "max_points": 3,
         "probes": [probe("mask-boundary"), probe()]},
        {"grade_id": "passed", "points": 3, "max_points": 3, "probes": [probe("sign")]},
    ]}
    assert cell_mistakes(record) == {"most": "sign", "half": UNNAMED}
