"""Every hostile or broken submission is graded correctly, within its limits, and
touches nothing outside its private copy."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mini_course
import pytest
from mini_course import ASSIGNMENT, HIDDEN_MARK, POINTS, SOLUTION_MARK

from autograder import sandbox
from autograder.demo.hostile import HOSTILE, make_hostile, make_hostile_class
from autograder.grading.grade import grade_submission
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow

LIMITS = Limits(cell_seconds=4, submission_seconds=60, memory_bytes=768 * sandbox.MiB,
                max_processes=48, output_bytes=256 * 1024, disk_bytes=64 * sandbox.MiB)
SEED = 99
PROBED = ("test_scale", "test_shift")


def tree_digest(*roots: Path) -> dict[str, str]:
    """Path -> sha256 of every file (and the mode of every folder) under ``roots``."""
    out = {}
    for root in roots:
        for dirpath, _dirnames, filenames in os.walk(root):
            out[dirpath] = oct(os.stat(dirpath).st_mode)
            for name in filenames:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as fh:
                    out[path] = hashlib.sha256(fh.read()).hexdigest()
    return out


@pytest.fixture(scope="module")
def hostile_run():
    # A folder every user may enter, so that hiding (not a closed ancestor) is
    # what keeps the course and the reference library away from student code.
    root = Path(tempfile.mkdtemp(prefix="hostile-course-"))
    os.chmod(root, 0o755)
    try:
        course, reflib = mini_course.make_mini_course(
            root, {"alice": "reference", "bob": "release"})
        bases = mini_course.honest_bases(course, root / "honest")
        made = make_hostile_class(course, ASSIGNMENT, reference_dir=bases["reference"],
                                  release_dir=bases["release"], reference_lib_dir=reflib,
                                  other_students=["alice", "bob"], slow_seconds=2.0)
        before = tree_digest(course, reflib.parent)

        def one(student):
            return student, grade_submission(course, ASSIGNMENT, student, limits=LIMITS,
                                             seed=SEED, reference_lib=reflib)

        with ThreadPoolExecutor(2) as pool:
            results = dict(pool.map(one, sorted(made)))
        after = tree_digest(course, reflib.parent)
        alice = grade_submission(course, ASSIGNMENT, "alice", limits=LIMITS, seed=SEED,
                                 reference_lib=reflib)
        yield {"made": made, "results": results, "before": before, "after": after,
               "alice": alice, "course": course}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_every_kind_is_built():
    assert len(HOSTILE) >= 23
    assert {h.expect for h in HOSTILE.values()} == {"full", "probed", "zero", "error"}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_graded_as_expected_within_limits(hostile_run, kind):
    student = f"hostile-{kind.replace('_', '-')}"
    spec = hostile_run["made"][student]
    r = hostile_run["results"][student]
    json.dumps(r)
    if spec.expect == "error":
        assert r["status"] == "error" and r["error"], r
        assert r["score"] == 0
        return
    assert r["status"] == "graded", r
    rows = {c["grade_id"]: c for c in r["cells"] if c["kind"] == "test"}
    why = (kind, [(c["grade_id"], c["points"], c["flags"], [p["note"] for p in c["probes"]])
                  for c in rows.values()], r["flags"], r["notes"])
    if spec.expect == "full":
        assert r["score"] == r["max_score"] == sum(POINTS.values()), why
    elif spec.expect == "probed":
        for gid in PROBED:
            assert rows[gid]["points"] == POINTS[gid] and rows[gid]["trusted"], why
    else:
        assert r["score"] == 0, why
    # Within its limits: each sandboxed run ended by the submission's wall limit.
    for phase in ("sandbox_notebook", "sandbox_probes"):
        assert r["timings"][phase] <= LIMITS.submission_seconds + sandbox.BACKSTOP_SECONDS
    if r["notebook"] is not None:
        assert len(json.dumps(r["notebook"])) <= 4 * 1024 * 1024
        assert HIDDEN_MARK not in json.dumps(r["notebook"])


def test_nothing_outside_the_private_copy_changed(hostile_run):
    before, after = hostile_run["before"], hostile_run["after"]
    assert before.keys() == after.keys()
    changed = [p for p in before if before[p] != after[p]]
    assert changed == []


def test_other_students_are_not_disturbed(hostile_run):
    alice = hostile_run["alice"]
    assert alice["status"] == "graded" and alice["score"] == sum(POINTS.values()), (
        alice["cells"], alice["flags"], alice["notes"])


def test_no_secret_reaches_the_result(hostile_run):
    for r in hostile_run["results"].values():
        text = json.dumps(r)
        assert SOLUTION_MARK not in text and HIDDEN_MARK not in text
        assert "_scale_edge_inputs" not in text  # the probe file's code
        assert "STOLE THE REFERENCE" not in text
        printed = json.dumps([c.get("outputs") for c in (r["notebook"] or {}).get("cells", [])])
        assert "CONNECTED to" not in printed and "WROTE" not in printed
        assert "REMOVED" not in printed and "READ /" not in printed


@pytest.mark.parametrize("kind, words", [
    ("read_secrets", "refused"), ("write_outside", "refused"), ("network", "no network to"),
    ("fork_bomb", "fork refused")])
def test_the_attack_really_ran(hostile_run, kind, words):
    r = hostile_run["results"][f"hostile-{kind.replace('_', '-')}"]
    assert words in json.dumps([c.get("outputs") for c in r["notebook"]["cells"]])


def test_big_output_is_capped(hostile_run):
    r = hostile_run["results"]["hostile-big-output"]
    [cell] = [c for c in r["notebook"]["cells"] if "chunk" in c["source"]]
    printed = json.dumps(cell["outputs"])
    # Cut at the cap, or stopped by the cell time limit before reaching it.
    assert "output truncated" in printed or "cell time limit" in printed
    assert len(printed) < LIMITS.output_bytes + 2000


def test_patched_comparisons_are_flagged(hostile_run):
    for kind in ("input_transformer", "monkeypatch_numpy", "pre_run_cell"):
        r = hostile_run["results"][f"hostile-{kind.replace('_', '-')}"]
        assert any("integrity" in f for f in r["flags"]), (kind, r["flags"])


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown hostile kind"):
        make_hostile(tmp_path, tmp_path / "x", "nope", assignment=ASSIGNMENT,
                     course_root=tmp_path)
