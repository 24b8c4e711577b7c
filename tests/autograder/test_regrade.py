"""regrade: a probe fixed after grading, decided again from stored data or by running again.

The mini course is graded once, for real (sandbox and kernel), with its
evidence kept; each test regrades its own copy after changing a probe.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import mini_course
import pytest
from mini_course import ASSIGNMENT, JUDGE, REFERENCE_SCALE
from nbgrader.api import Gradebook
from pipeline_helpers import seed_gradebook

from autograder.grading import regrade as regrade_mod
from autograder.grading.evidence import evidence_path, load_evidence
from autograder.grading.export import export_all
from autograder.grading.grade import grade_submission
from autograder.grading.record import Recorder, gradebook_url, load_record
from autograder.grading.reference import reference_library
from autograder.grading.regrade import regrade
from autograder.grading.regrade_decide import current_assignment
from autograder.grading.regrade_report import RegradeError
from autograder.sandbox import Limits

LIMITS = Limits(cell_seconds=20, submission_seconds=90, max_processes=64)
SEED = 4321
# Sorted so that the student whose grade changes is committed first.
STUDENTS = ("a-wrong", "b-reference", "c-partial")
ABS_SCALE = "return abs(a) * x"


def _library_edit(folder: Path, body: str) -> None:
    scale = (folder / "cs231n_lib" / "scale.py").read_text()
    (folder / "cs231n_lib" / "scale.py").write_text(scale.replace(
        'raise NotImplementedError("scale_forward: your code here")', body))


@pytest.fixture(scope="module")
def graded_root(tmp_path_factory):
    """A graded mini course: ``a-wrong`` (right only for a > 0), the reference, a partial."""
    root = tmp_path_factory.mktemp("regrade")
    course, reflib = mini_course.make_mini_course(root)
    seed_gradebook(course)
    mini_course.submit(course, "b-reference", "reference")
    _library_edit(mini_course.submit(course, "a-wrong", "release"), ABS_SCALE)
    _library_edit(mini_course.submit(course, "c-partial", "release"), "return a * x")
    with Recorder(course) as recorder:
        for student in STUDENTS:
            result = grade_submission(course, ASSIGNMENT, student, limits=LIMITS, seed=SEED,
                                      reference_lib=reflib)
            result.update(student=student, assignment=ASSIGNMENT)
            recorder.record(result)
    return root


@pytest.fixture
def graded(graded_root, tmp_path):
    """This test's own copy: ``(course, reference library folder)``."""
    shutil.copytree(graded_root, tmp_path / "copy", symlinks=True)
    return tmp_path / "copy" / "course", tmp_path / "copy" / "reflib" / "cs231n_lib"


@pytest.fixture
def no_sandbox(monkeypatch):
    """Any sandboxed run fails the test."""
    from autograder.sandbox import run

    def refuse(*args, **kwargs):
        raise AssertionError("a sandbox was started")

    monkeypatch.setattr(run, "run_sandboxed", refuse)


def _loosen(course: Path, probe: str = "scale_random", rtol: float = 1.5) -> None:
    old = f'Probe("test_scale", "{probe}", _scale_inputs, calls.{probe})'
    assert old in JUDGE
    mini_course.write_probes(course, judge=JUDGE.replace(old, old[:-1] + f", rtol={rtol})"))


def _gradebook_scores(course: Path) -> dict[str, float]:
    with Gradebook(gradebook_url(course)) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


def _record_scores(course: Path) -> dict[str, float]:
    return {s: load_record(course, ASSIGNMENT, s)["score"] for s in STUDENTS}


def _points(course: Path, student: str) -> dict[str, float]:
    return {c["grade_id"]: c["points"] for c in load_record(course, ASSIGNMENT, student)["cells"]
            if c["kind"] == "test"}


def _snapshot(course: Path) -> dict[str, bytes]:
    return {str(p.relative_to(course)): p.read_bytes() for p in sorted(course.rglob("*"))
            if p.is_file()}


@pytest.mark.slow
def test_grading_keeps_evidence_beside_the_record(graded):
    course, _ = graded
    record = load_record(course, ASSIGNMENT, "a-wrong")
    assert "evidence" not in record and record["score"] == 0.0
    kept = load_evidence(course, ASSIGNMENT, "a-wrong")
    assert kept["seed"] == SEED and kept["outputs_npz"] and kept["outputs_kept"]
    assert set(kept["probes"]) == {"scale_random", "scale_empty", "shift_random"}
    assert kept["probes"]["scale_random"]["rtol"] == 1e-6
    assert kept["notebook_scores"]["test_scale"][0] == 2.0  # the visible test passed


@pytest.mark.slow
def test_tolerance_change_is_judged_again_without_a_sandbox(graded, no_sandbox):
    course, reflib = graded
    _loosen(course)
    report = regrade(course, ASSIGNMENT, reference_lib=reflib)
    wrong = report.row("a-wrong")
    assert (wrong["mode"], wrong["old_score"], wrong["new_score"]) == ("re-judged", "0", "2")
    assert "probe scale_random: tolerance 1e-06 -> 1.5" in wrong["changes"]
    assert report.row("b-reference")["changed"] == "no"
    assert _points(course, "a-wrong")["test_scale"] == 2.0
    assert _gradebook_scores(course) == _record_scores(course) == {
        "a-wrong": 2.0, "b-reference": 4.0, "c-partial": 2.0}
    section = load_record(course, ASSIGNMENT, "a-wrong")["regrade"]
    assert section["old_score"] == 0.0 and section["new_score"] == 2.0
    assert section["changes"][0]["grade_id"] == "test_scale"
    assert report.path.name.startswith("regrade-") and report.path.suffix == ".csv"
    assert not list(report.path.parent.glob("*.partial.csv"))
    assert not list(report.path.parent.glob(".regrade-*"))
    # The evidence now says what judged it: a second regrade changes nothing.
    again = regrade(course, ASSIGNMENT, reference_lib=reflib)
    assert all(r["changed"] == "no" for r in again.rows)


@pytest.mark.slow
def test_calls_change_runs_again_in_the_sandbox(graded):
    course, reflib = graded
    # The probe now calls with |a|: a fix to calls.py, which only a new run can apply.
    calls = mini_course.CALLS.replace('float(inputs["a"])', 'abs(float(inputs["a"]))')
    mini_course.write_probes(course, calls=calls)
    report = regrade(course, ASSIGNMENT, reference_lib=reflib, jobs=1)
    wrong = report.row("a-wrong")
    assert wrong["mode"] == "re-run" and "calls.py changed" in wrong["why_re_run"]
    assert (wrong["old_score"], wrong["new_score"]) == ("0", "2")
    assert {r["mode"] for r in report.rows} == {"re-run"}
    assert _gradebook_scores(course) == _record_scores(course)
    kept = load_evidence(course, ASSIGNMENT, "a-wrong")
    assert kept["calls_digest"] == current_assignment(
        course, ASSIGNMENT, reference_library(reflib)).calls_digest
    assert (course / "autograded" / "a-wrong" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def _break_reference_shift(reflib: Path) -> None:
    (reflib / "scale.py").write_text(REFERENCE_SCALE.replace("out = x + b", "out = x + b + 1"))


@pytest.mark.slow
def test_no_decrease_keeps_the_higher_points(graded, no_sandbox):
    course, reflib = graded
    _break_reference_shift(reflib)
    report = regrade(course, ASSIGNMENT, reference_lib=reflib, no_decrease=True)
    ref = report.row("b-reference")
    assert ref["changed"] == "yes" and "kept: no decrease" in ref["changes"]
    assert "reference output changed" in ref["changes"]
    assert ref["new_score"] == ref["old_score"] == "4"
    assert _points(course, "b-reference")["test_shift"] == 1.0
    assert _gradebook_scores(course)["b-reference"] == 4.0


@pytest.mark.slow
def test_without_no_decrease_a_score_can_fall(graded, no_sandbox):
    course, reflib = graded
    _break_reference_shift(reflib)
    report = regrade(course, ASSIGNMENT, reference_lib=reflib)
    # The notebook run passed test_shift where the probe now fails, so the
    # unprobed cell's notebook points are not believed either.
    assert report.row("b-reference")["new_score"] == "2"
    assert "test_notebook_only: 1 -> 0" in report.row("b-reference")["changes"]
    assert _gradebook_scores(course)["b-reference"] == 2.0


@pytest.mark.slow
def test_dry_run_changes_nothing_but_the_report(graded, no_sandbox):
    course, reflib = graded
    _loosen(course)
    before = _snapshot(course)
    report = regrade(course, ASSIGNMENT, reference_lib=reflib, dry_run=True)
    assert report.path.name.endswith("-dry-run.csv")
    assert report.row("a-wrong")["new_score"] == "2"
    after = _snapshot(course)
    assert after.pop(str(report.path.relative_to(course))) is not None
    assert after == before


@pytest.mark.slow
def test_interrupted_regrade_is_consistent_and_resumes(graded, no_sandbox, monkeypatch):
    course, reflib = graded
    _loosen(course)
    commit, calls = regrade_mod._commit, []

    def crash_after_first(*args):
        calls.append(args)
        if len(calls) > 1:
            raise RuntimeError("power cut")
        commit(*args)

    monkeypatch.setattr(regrade_mod, "_commit", crash_after_first)
    with pytest.raises(RuntimeError, match="power cut"):
        regrade(course, ASSIGNMENT, reference_lib=reflib)
    assert _gradebook_scores(course) == _record_scores(course) == {
        "a-wrong": 2.0, "b-reference": 4.0, "c-partial": 2.0}
    partial = list((course / "grading" / ASSIGNMENT).glob("regrade-*.partial.csv"))
    assert len(partial) == 1
    with partial[0].open() as fh:
        assert [r["student"] for r in csv.DictReader(fh)] == ["a-wrong"]
    with pytest.raises(RegradeError, match="no-decrease"):
        regrade(course, ASSIGNMENT, reference_lib=reflib, no_decrease=True)

    monkeypatch.setattr(regrade_mod, "_commit", commit)
    report = regrade(course, ASSIGNMENT, reference_lib=reflib)
    assert report.resumed == ["a-wrong"] and [r["student"] for r in report.rows] == list(STUDENTS)
    assert report.row("a-wrong")["changed"] == "yes"
    assert not load_record(course, ASSIGNMENT, "a-wrong")["regrade_history"]
    assert not partial[0].exists() and report.path.exists()


@pytest.mark.slow
def test_export_shows_the_change_in_csv_and_feedback(graded, no_sandbox):
    course, reflib = graded
    _loosen(course)
    regrade(course, ASSIGNMENT, reference_lib=reflib)
    report = export_all(course, gradescope=False)
    with report.csv.open() as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert (rows["a-wrong"]["old_score"], rows["a-wrong"]["new_score"]) == ("0", "2")
    assert "test_scale: 0 -> 2" in rows["a-wrong"]["changed"]
    assert rows["b-reference"]["changed"] == ""
    page = (course / "feedback" / "a-wrong" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Your grade changed on" in page and "test_scale" in page
    assert "scale_random" not in page  # probe names and tolerances stay hidden
    untouched = (course / "feedback" / "b-reference" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    assert "Your grade changed" not in untouched.read_text()


def test_nothing_graded_is_a_clear_error(tmp_path):
    course, _ = mini_course.make_mini_course(tmp_path)
    with pytest.raises(RegradeError, match="grade it first"):
        regrade(course, ASSIGNMENT)


def test_the_command_line_wires_regrade(tmp_path, capsys):
    from autograder.cli import build_parser, main

    args = build_parser().parse_args(["regrade", ASSIGNMENT, "--no-decrease", "--dry-run"])
    assert (args.command, args.no_decrease, args.dry_run) == ("regrade", True, True)
    course, _ = mini_course.make_mini_course(tmp_path)
    assert main(["regrade", ASSIGNMENT, "--course", str(course)]) == 2
    assert "grade it first" in capsys.readouterr().err
    assert not evidence_path(course, ASSIGNMENT, "x").parent.exists()
    json.dumps(args.__dict__, default=str)


def test_the_demo_loosens_the_closest_missed_question_in_its_copy(tmp_path):
    from autograder.demo.regrade_demo import closest_miss, loosen
    from autograder.grading.probes import load_probe_set, probe_folder

    def record(gid, *probes):
        return {"cells": [{"grade_id": gid, "probes": [
            {"name": n, "kind": "library", "passed": ok, "note": t} for n, ok, t in probes]}]}

    def miss(name, err):
        return name, False, f"output 'out': relative error {err} > 1e-06"

    records = [record("test_scale", miss("scale_random", 0.8), ("scale_empty", True, "")),
               record("test_scale", miss("scale_random", 0.9), miss("scale_empty", 0.2)),
               record("test_shift", miss("shift_random", 0.95)),
               # A cell that a probe failed by raising gains nothing from loosening.
               record("test_shift", miss("shift_random", 0.01), ("shift_x", False, "raised"))]
    assert closest_miss(records) == ("test_scale", {"scale_random": (0.9, 1e-6),
                                                    "scale_empty": (0.2, 1e-6)})
    assert closest_miss(records[3:]) is None
    course, _ = mini_course.make_mini_course(tmp_path)
    loosen(course, ASSIGNMENT, {"scale_random": 2.0, "scale_empty": 0.5})
    rtols = {p.name: p.rtol for p in load_probe_set(probe_folder(course, ASSIGNMENT)).probes}
    assert rtols == {"scale_random": 2.0, "scale_empty": 0.5, "shift_random": 1e-6}


ANSWER_KEY = '''

from autograder.grading.probes import AnswerProbe

ANSWER_PROBES = [AnswerProbe("test_notebook_only", "answer", ("answer",),
                             lambda lib, inputs: {"answer": EXPECTED})]
'''


@pytest.mark.slow
def test_a_fixed_expected_answer_is_judged_again_from_the_stored_answers(tmp_path, monkeypatch):
    course, reflib = mini_course.make_mini_course(tmp_path, {"b-reference": "reference"})
    seed_gradebook(course)
    mini_course.write_probes(course, judge=JUDGE + ANSWER_KEY.replace("EXPECTED", "41"))
    result = grade_submission(course, ASSIGNMENT, "b-reference", limits=LIMITS, seed=SEED,
                              reference_lib=reflib)
    result.update(student="b-reference", assignment=ASSIGNMENT)
    with Recorder(course) as recorder:
        recorder.record(result)
    assert _points(course, "b-reference")["test_notebook_only"] == 0.0  # the key said 41

    from autograder.sandbox import run

    monkeypatch.setattr(run, "run_sandboxed", lambda *a, **k: pytest.fail("sandbox started"))
    mini_course.write_probes(course, judge=JUDGE + ANSWER_KEY.replace("EXPECTED", "42"))
    report = regrade(course, ASSIGNMENT, reference_lib=reflib)
    row = report.row("b-reference")
    assert (row["mode"], row["old_score"], row["new_score"]) == ("re-judged", "3", "4")
    assert "probe answer: expected answer changed" in row["changes"]
    assert _gradebook_scores(course) == {"b-reference": 4.0}


def test_feedback_keeps_showing_the_last_regrade_that_changed_something():
    from autograder.grading.regrade_export import csv_cells, feedback_notice

    change = {"grade_id": "test_scale", "old": 0.0, "new": 2.0, "reason": "probe x: tolerance",
              "student_reason": "the hidden checks of this question were corrected",
              "kept": False}
    record = {"assignment": ASSIGNMENT, "status": "graded", "score": 2.0,
              "regrade": {"at": "2026-12-09T10:00:00+00:00", "old_score": 2.0,
                          "new_score": 2.0, "changes": []},
              "regrade_history": [{"at": "2026-12-08T10:00:00+00:00", "old_score": 0.0,
                                   "new_score": 2.0, "changes": [change]}]}
    notice = feedback_notice(record)
    assert "Your grade changed on 2026-12-08: from 0 to 2 autograded" in notice
    assert "probe x" not in notice  # the instructor's reason stays in the CSV
    old, new, changed = csv_cells([record])
    assert (old, new) == ("0", "2") and "probe x: tolerance" in changed
    assert feedback_notice({"score": 1.0}) == ""


@pytest.mark.slow
def test_a_crash_between_gradebook_and_record_is_healed_by_the_resume(graded, no_sandbox,
                                                                     monkeypatch):
    from autograder.grading import record as record_mod

    course, reflib = graded
    _loosen(course)
    write = record_mod.write_atomic

    def crash_on_the_record(path, text):
        if path == record_mod.record_path(course, ASSIGNMENT, "a-wrong"):
            raise KeyboardInterrupt
        write(path, text)

    monkeypatch.setattr(record_mod, "write_atomic", crash_on_the_record)
    with pytest.raises(KeyboardInterrupt):
        regrade(course, ASSIGNMENT, reference_lib=reflib)
    # The one student in flight: its gradebook row is new, its record still old.
    assert _gradebook_scores(course)["a-wrong"] == 2.0
    assert load_record(course, ASSIGNMENT, "a-wrong")["score"] == 0.0
    monkeypatch.setattr(record_mod, "write_atomic", write)
    report = regrade(course, ASSIGNMENT, reference_lib=reflib)
    assert report.row("a-wrong")["changed"] == "yes" and not report.resumed
    assert _gradebook_scores(course) == _record_scores(course)
    assert _record_scores(course)["a-wrong"] == 2.0
