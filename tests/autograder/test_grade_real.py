"""Grading the real assignments (those with probes) through the sandbox.

The course is released into a temporary folder; synthetic submissions come
from ``autograder.synth``: the reference earns full marks from trusted
probes, the untouched release earns nothing, a subtly wrong backward pass
loses the cell its probes decide.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder import synth
from autograder.demo import gap_functions, prepare_course
from autograder.grade_one import grade_submission
from autograder.release import COURSE_ROOT
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted(p.stem for p in (COURSE_ROOT / "probes").glob("*.py")
                     if (COURSE_ROOT / "source" / p.stem / f"{p.stem}.ipynb").is_file())
LIMITS = Limits(cell_seconds=120, submission_seconds=300)


def _wrong(course: Path, assignment: str) -> str | None:
    """Plant a wrong gradient in the first backward function that has one."""
    names = [f for fs in gap_functions(course, assignment).values() for f in fs]
    for name in [f for f in names if "backward" in f]:
        try:
            synth.make_submission(course, assignment, "wrong", "wrong_backward",
                                  wrong_function=name)
            return name
        except ValueError:
            continue
    return None


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("real")
    prepare_course(out, assignments=ASSIGNMENTS, log=lambda *a: None)
    course = out / "course"
    jobs, wrong = [], {}
    for assignment in ASSIGNMENTS:
        for kind in ("reference", "release"):
            synth.make_submission(course, assignment, kind, kind)
            jobs.append((assignment, kind))
        wrong[assignment] = _wrong(course, assignment)
        if wrong[assignment]:
            jobs.append((assignment, "wrong"))

    def one(job):
        assignment, student = job
        return job, grade_submission(course, assignment, student, limits=LIMITS, seed=7)

    with ThreadPoolExecutor(2) as pool:
        results = dict(pool.map(one, jobs))
    return results, wrong


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_full_release_nothing(graded, assignment):
    results, _ = graded
    ref = results[(assignment, "reference")]
    assert ref["status"] == "graded", ref.get("error")
    assert ref["score"] == ref["max_score"] > 0, [
        (c["grade_id"], c["points"], c["probes"]) for c in ref["cells"]]
    assert any(c["trusted"] and c["kind"] == "test" for c in ref["cells"])
    assert not [f for f in ref["flags"] if "integrity" in f]
    release = results[(assignment, "release")]
    assert release["status"] == "graded"
    assert release["score"] == 0, [(c["grade_id"], c["points"]) for c in release["cells"]]
    json.dumps(ref)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_wrong_backward_loses_points(graded, assignment):
    results, wrong = graded
    if not wrong[assignment]:
        pytest.skip(f"{assignment} has no backward function with a gradient line to change")
    r = results[(assignment, "wrong")]
    assert r["status"] == "graded"
    assert r["score"] < r["max_score"]
    failed = [p for c in r["cells"] for p in c["probes"] if not p["passed"]]
    assert failed, "a probe must catch the planted bug"
