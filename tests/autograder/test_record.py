"""record: nbgrader's gradebook sees the trusted scores; our record and notebook land beside it."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook
from pipeline_helpers import ASSIGNMENT, fake_grade, make_course

from autograder.grading.record import (
    MACHINERY,
    Recorder,
    gradebook_url,
    is_done,
    load_record,
    submission_digest,
)


def _result(course, student, **fake):
    from pipeline_helpers import submit

    submit(course, student, fake)
    result = fake_grade(str(course), ASSIGNMENT, student)
    result.update(student=student, assignment=ASSIGNMENT)
    return result


def test_scores_reach_nbgraders_gradebook(tmp_path):
    course = make_course(tmp_path)
    with Recorder(course) as rec:
        rec.record(_result(course, "alice", flags=["test_graph: unverified: no probe"]))
        rec.record(_result(course, "bob", points={"test_affine": 2},
                           flags=["test_graph: integrity: notebook and probe disagree"]))
        rec.record(_result(course, "carol", error="notebook is not valid JSON"))
    with Gradebook(gradebook_url(course)) as gb:
        assert gb.find_submission(ASSIGNMENT, "alice").score == 5.0
        assert gb.find_submission(ASSIGNMENT, "bob").score == 2.0
        assert gb.find_submission(ASSIGNMENT, "carol").score == 0.0
        assert gb.find_assignment(ASSIGNMENT).max_score == 6.0  # 2 + 3 + written 1
        assert gb.find_grade("test_graph", ASSIGNMENT, ASSIGNMENT, "bob").auto_score == 0.0
        written = gb.find_grade("why_router", ASSIGNMENT, ASSIGNMENT, "alice")
        assert written.auto_score is None and written.needs_manual_grade
        assert gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "bob").flagged
        assert not gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, "alice").flagged
    record = load_record(course, ASSIGNMENT, "bob")
    assert record["flags"] == ["test_graph: integrity: notebook and probe disagree"]
    assert record["limits"] == {"cell_seconds": 30}
    assert "notebook" not in record and record["notebook_files"] == ["backprop.ipynb"]
    assert load_record(course, ASSIGNMENT, "carol")["error"] == "notebook is not valid JSON"
    executed = json.loads((course / "autograded/alice/backprop/backprop.ipynb").read_text())
    assert executed["cells"][2]["outputs"]


def test_regrading_keeps_manual_scores_and_updates_auto_scores(tmp_path):
    course = make_course(tmp_path)
    with Recorder(course) as rec:
        rec.record(_result(course, "alice", points={"test_affine": 2}))
    with Gradebook(gradebook_url(course)) as gb:
        grade = gb.find_grade("why_router", ASSIGNMENT, ASSIGNMENT, "alice")
        grade.manual_score = 1.0
        gb.db.commit()
    with Recorder(course) as rec:
        rec.record(_result(course, "alice"))
    with Gradebook(gradebook_url(course)) as gb:
        assert gb.find_submission(ASSIGNMENT, "alice").score == 6.0


@pytest.mark.slow
def test_new_gradebook_is_created(tmp_path):
    course = make_course(tmp_path, gradebook=False)
    with Recorder(course) as rec:
        rec.record(_result(course, "alice"))
    assert (course / "gradebook.db").is_file()
    with Gradebook(gradebook_url(course)) as gb:
        assert gb.find_submission(ASSIGNMENT, "alice").score == 5.0


def test_a_written_answer_has_a_comment_row_for_formgrader(tmp_path):
    """A written answer is a grade cell and a solution cell at once: formgrader
    saves the grader's comment on the solution cell's row."""
    course = make_course(tmp_path, gradebook=False)
    with Recorder(course) as rec:
        rec.record(_result(course, "alice"))
    with Gradebook(gradebook_url(course)) as gb:
        comment = gb.find_comment("why_router", ASSIGNMENT, ASSIGNMENT, "alice")
        assert comment.manual_comment is None
        assert gb.find_comment("answer_double", ASSIGNMENT, ASSIGNMENT, "alice")


def test_existing_nbgrader_structure_is_used_not_changed(tmp_path):
    course = make_course(tmp_path)
    with Gradebook(gradebook_url(course)) as gb:
        gb.add_assignment(ASSIGNMENT, duedate="2026-12-01 12:00:00")
        gb.add_notebook(ASSIGNMENT, ASSIGNMENT)
        gb.add_grade_cell("test_affine", ASSIGNMENT, ASSIGNMENT, max_score=2, cell_type="code")
    with Recorder(course) as rec:
        rec.record(_result(course, "alice"))
    with Gradebook(gradebook_url(course)) as gb:
        assert str(gb.find_assignment(ASSIGNMENT).duedate).startswith("2026-12-01")
        assert gb.find_submission(ASSIGNMENT, "alice").score == 5.0


def test_done_means_graded_same_digest_and_not_a_machinery_error(tmp_path):
    course = make_course(tmp_path, {"alice": {}})
    folder = course / "submitted/alice/backprop"
    digest = submission_digest(folder)
    assert not is_done(None)
    assert is_done({"status": "graded", "submission_digest": digest}, digest)
    assert is_done({"status": "error", "submission_digest": digest}, digest)
    assert not is_done({"status": "error", "error_source": MACHINERY}, digest)
    (folder / "extra.py").write_text("x = 1\n")
    assert submission_digest(folder) != digest
    assert not is_done({"status": "graded", "submission_digest": digest},
                       submission_digest(folder))


@pytest.mark.slow
def test_nbgrader_export_agrees(tmp_path):
    course = make_course(tmp_path)
    with Recorder(course) as rec:
        rec.record(_result(course, "alice"))
        rec.record(_result(course, "bob", points={"test_graph": 3}))
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = '.'\n")
    out = tmp_path / "grades.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(out),
                    f"--db={gradebook_url(course)}"], cwd=course, check=True,
                   capture_output=True, timeout=120)
    rows = {r["student_id"]: r for r in csv.DictReader(out.open())}
    assert float(rows["alice"]["score"]) == 5.0
    assert float(rows["bob"]["score"]) == 3.0
    assert float(rows["bob"]["max_score"]) == 6.0
