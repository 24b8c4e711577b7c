"""Grading the real assignments (those with probes) through the sandbox.

The course is released into a temporary folder; synthetic submissions come
from ``autograder.demo.synth``: the reference earns full marks from trusted
probes, the untouched release earns nothing, a subtly wrong backward pass
loses the cell its probes decide, and wrong answers typed into the
notebook lose exactly the cells their answer probes decide.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.demo import synth
from autograder.demo.class_demo import gap_functions, prepare_course
from autograder.grading.grade import grade_submission
from autograder.grading.probes import load_probe_set
from autograder.release.build import COURSE_ROOT
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow

ASSIGNMENTS = sorted(p.name for p in (COURSE_ROOT / "probes").iterdir() if p.is_dir()
                     and (COURSE_ROOT / "source" / p.name / f"{p.name}.ipynb").is_file())
LIMITS = Limits(cell_seconds=120, submission_seconds=300)
# A wrong line appended to each answer cell (by grade_id of the answer cell).
WRONG_ANSWERS = {
    "hand_gradients": "dfdz = -4.0",
    "gate_patterns": 'max_gate_pattern, add_gate_pattern = "distributor", "router"',
    "output_sizes": "output_sizes = [32, 28, 55, 54, None, 14, 8, 5]",
    "param_counts": "params_b = 64 * 3 * 3 * 10",
    "dead_fraction": "def dead_fraction(hidden):\n    return float(np.mean(hidden == 0))",
    "init_choice": 'good_init = {"tanh": "he", "relu": "xavier"}',
    "initial_loss_answer": "expected_initial_loss = np.log(9)",
    "loss_five_answer": "expected_loss_5 = np.log(10)",
    "search_counts_answer": "grid_rates, random_rates = 9, 27",
}


def _wrong_answers(course: Path, assignment: str) -> bool:
    """The reference with every answer cell of WRONG_ANSWERS made wrong."""
    folder = synth.make_submission(course, assignment, "answers-wrong", "reference")
    path = folder / f"{assignment}.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    changed = False
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell["cell_type"] == "code" and gid in WRONG_ANSWERS:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = source.rstrip("\n") + "\n" + WRONG_ANSWERS[gid] + "\n"
            changed = True
    path.write_text(json.dumps(nb), encoding="utf-8")
    return changed


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
        if _wrong_answers(course, assignment):
            jobs.append((assignment, "answers-wrong"))

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


def _answer_cells(assignment: str) -> set[str]:
    return {p.grade_id for p in load_probe_set(COURSE_ROOT / "probes" / assignment).answer_probes}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_reference_test_cells_are_all_trusted(graded, assignment):
    results, _ = graded
    ref = results[(assignment, "reference")]
    tests = [c for c in ref["cells"] if c["kind"] == "test"]
    assert tests and all(c["trusted"] for c in tests), [
        (c["grade_id"], c["flags"]) for c in tests if not c["trusted"]]
    assert not [f for f in ref["flags"] if "unverified" in f], ref["flags"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_wrong_typed_answers_lose_exactly_those_cells(graded, assignment):
    results, _ = graded
    answers = _answer_cells(assignment)
    assert answers, f"{assignment} has no answer probe"
    r = results[(assignment, "answers-wrong")]
    assert r["status"] == "graded", r.get("error")
    tests = {c["grade_id"]: c for c in r["cells"] if c["kind"] == "test"}
    for gid, row in tests.items():
        assert row["trusted"], (gid, row["flags"])
        expected = 0.0 if gid in answers else row["max_points"]
        assert row["points"] == expected, (gid, row["points"], row["probes"])
    lost = sum(tests[gid]["max_points"] for gid in answers)
    assert lost > 0 and r["score"] == r["max_score"] - lost
