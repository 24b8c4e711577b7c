"""schedule: which submissions run, skipping and forcing, interrupts, dead workers, real clusters.

The grading function here is the stand-in ``pipeline_helpers.fake_grade``; the
scheduler, the recorder, the gradebook and the Dask clusters are real.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from pipeline_helpers import ASSIGNMENT, GRADER, HELPERS_DIR, make_course, submit

from autograder.grading.record import MACHINERY, gradebook_url, load_record, load_records
from autograder.grading.schedule import WORKER_DIED, find_submissions, grade_class, plan

REPO = HELPERS_DIR.parents[1]


def _scores(course) -> dict[str, float]:
    with Gradebook(gradebook_url(course)) as gb:
        return {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}


def _wait_for(predicate, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_find_submissions_and_student_filter(tmp_path):
    course = make_course(tmp_path, {"alice": {}, "bob": {}, "carol": {}}, gradebook=False)
    (course / "submitted" / "alice" / "conv").mkdir()
    assert [(j.student, j.assignment) for j in find_submissions(course)] == [
        ("alice", "backprop"), ("alice", "conv"), ("bob", "backprop"), ("carol", "backprop")]
    assert [j.student for j in find_submissions(course, ASSIGNMENT, ["bob", "carol"])] == [
        "bob", "carol"]
    with pytest.raises(ValueError, match="dave"):
        find_submissions(course, ASSIGNMENT, ["bob", "dave"])


def test_plan_skips_graded_unless_forced_or_changed(tmp_path):
    course = make_course(tmp_path, {"alice": {}, "bob": {}, "carol": {}}, gradebook=False)
    jobs = find_submissions(course, ASSIGNMENT)
    todo, _ = plan(course, jobs)
    digests = {j.student: j.digest for j in todo}
    records = course / "grading" / ASSIGNMENT
    records.mkdir(parents=True)
    (records / "alice.json").write_text(json.dumps(
        {"status": "graded", "submission_digest": digests["alice"]}))
    (records / "bob.json").write_text(json.dumps(
        {"status": "error", "error_source": MACHINERY, "submission_digest": digests["bob"]}))
    todo, skipped = plan(course, jobs)
    assert [j.student for j in todo] == ["bob", "carol"] and skipped == [("alice", ASSIGNMENT)]
    assert [j.student for j in plan(course, jobs, force=True)[0]] == ["alice", "bob", "carol"]
    submit(course, "alice", {"points": {}})  # a resubmission changes the digest
    assert "alice" in [j.student for j in plan(course, jobs)[0]]


@pytest.mark.slow
def test_local_cluster_grades_records_skips_and_forces(tmp_path):
    log = str(tmp_path / "calls.log")
    course = make_course(tmp_path, {
        "alice": {"log": log},
        "bob": {"log": log, "points": {"test_affine": 2}},
        "carol": {"log": log, "error": "malformed notebook JSON"},
        "dave": {"log": log, "raise": "grader bug"},
    })
    seen = []
    summary = grade_class(course, ASSIGNMENT, jobs=2, grader=GRADER, progress=False,
                          grader_kwargs={"seed": 7}, retries=0, on_result=seen.append)
    assert sorted(r["student"] for r in seen) == ["alice", "bob", "carol", "dave"]
    assert summary.workers == 2 and not summary.interrupted
    assert _scores(course) == {"alice": 5.0, "bob": 2.0, "carol": 0.0, "dave": 0.0}
    assert load_record(course, ASSIGNMENT, "alice")["kwargs_seen"] == ["seed"]
    assert load_record(course, ASSIGNMENT, "carol")["error"] == "malformed notebook JSON"
    dave = load_record(course, ASSIGNMENT, "dave")
    assert dave["error_source"] == MACHINERY and "grader bug" in dave["error"]

    # A re-run grades only the machinery failure; --force grades everything again.
    again = grade_class(course, ASSIGNMENT, jobs=1, grader=GRADER, progress=False, retries=0)
    assert sorted(s for s, _ in again.skipped) == ["alice", "bob", "carol"]
    assert [r["student"] for r in again.results] == ["dave"]
    submit(course, "dave", {"log": log})
    only = grade_class(course, ASSIGNMENT, students=["dave"], jobs=1, grader=GRADER,
                       progress=False)
    assert [r["student"] for r in only.results] == ["dave"] and _scores(course)["dave"] == 5.0
    forced = grade_class(course, ASSIGNMENT, students=["alice", "bob"], jobs=1, grader=GRADER,
                         progress=False, force=True)
    assert sorted(r["student"] for r in forced.results) == ["alice", "bob"]
    calls = Path(log).read_text().split("\n")
    assert sum(line.startswith("alice ") for line in calls) == 2


@pytest.mark.slow
def test_submission_that_kills_workers_ends_as_an_error_row(tmp_path):
    course = make_course(tmp_path, {"alice": {}, "bob": {}, "mallory": {"die": True}})
    summary = grade_class(course, ASSIGNMENT, jobs=2, grader=GRADER, progress=False,
                          allowed_failures=1)
    by_student = {r["student"]: r for r in summary.results}
    assert set(by_student) == {"alice", "bob", "mallory"}
    assert by_student["mallory"]["status"] == "error"
    assert by_student["mallory"]["error_source"] == WORKER_DIED
    assert "killed its worker" in by_student["mallory"]["error"]
    assert _scores(course) == {"alice": 5.0, "bob": 5.0, "mallory": 0.0}
    # Settled: a re-run does not feed it to the workers again.
    again = grade_class(course, ASSIGNMENT, jobs=1, grader=GRADER, progress=False)
    assert not again.results and len(again.skipped) == 3


INTERRUPTED_RUN = textwrap.dedent("""
    import sys
    sys.path.insert(0, {helpers!r})
    from autograder.grading.schedule import grade_class
    summary = grade_class({course!r}, "backprop", jobs=1, grader="pipeline_helpers:fake_grade",
                          progress=False)
    print("interrupted" if summary.interrupted else "finished", len(summary.results), flush=True)
""")


@pytest.mark.slow
def test_ctrl_c_keeps_every_finished_result(tmp_path):
    students = {f"s{i:02d}": {"sleep": 1.0} for i in range(8)}
    course = make_course(tmp_path, students)
    script = INTERRUPTED_RUN.format(helpers=str(HELPERS_DIR), course=str(course))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        _wait_for(lambda: len(load_records(course, ASSIGNMENT)) >= 2, what="two results")
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C does: the whole process group
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert out.startswith("interrupted"), err[-2000:]
    assert "KeyboardInterrupt" not in err  # only the coordinator handles it, quietly
    done = {r["student"] for r in load_records(course, ASSIGNMENT)}
    assert 2 <= len(done) < 8
    assert set(_scores(course)) == done  # the gradebook holds exactly the finished ones
    rest = grade_class(course, ASSIGNMENT, jobs=2, grader=GRADER, progress=False)
    assert {r["student"] for r in rest.results} == set(students) - done
    assert {s for s, _ in rest.skipped} == done
    assert _scores(course) == dict.fromkeys(students, 5.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, env) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.slow
def test_separate_scheduler_and_workers_survive_a_killed_worker(tmp_path):
    """`dask scheduler` and two `dask worker` processes on loopback; one worker is killed."""
    log = str(tmp_path / "calls.log")
    students = {f"s{i:02d}": {"sleep": 1.5, "log": log} for i in range(10)}
    course = make_course(tmp_path, students)
    dask_cli = str(Path(sys.executable).parent / "dask")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HELPERS_DIR), str(REPO)]))
    address = f"tcp://127.0.0.1:{_free_port()}"
    scheduler = _start([dask_cli, "scheduler", "--host", "127.0.0.1", "--port",
                        address.rsplit(":", 1)[1], "--no-dashboard"], env)
    workers = []
    try:
        for name in ("w1", "w2"):
            workers.append(_start([dask_cli, "worker", address, "--nthreads", "1",
                                   "--nworkers", "1", "--name", name, "--no-dashboard"], env))
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
        seen = []

        def kill_after_two(record):
            seen.append(record["student"])
            if len(seen) == 2:  # kill a whole worker (nanny too): a lost machine
                _stop(workers[0])

        summary = grade_class(course, ASSIGNMENT, scheduler=address, grader=GRADER,
                              progress=False, on_result=kill_after_two)
        assert workers[0].poll() is not None
        assert sorted(seen) == sorted(students)  # every submission recorded exactly once
        assert all(r["status"] == "graded" for r in summary.results)
        assert _scores(course) == dict.fromkeys(students, 5.0)
        calls = [line.split()[0] for line in Path(log).read_text().splitlines()]
        assert set(calls) == set(students)
    finally:
        for proc in [*workers, scheduler]:
            _stop(proc)
