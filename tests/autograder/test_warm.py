"""Warm starts: sandboxes forked from a pre-imported helper grade exactly as
cold ones do, one student's fork never reaches the next, and a helper that
fails is replaced (or the run starts cold) without losing the result."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import tempfile
from pathlib import Path

import mini_course
import pytest
from mini_course import ASSIGNMENT, POINTS

from autograder import sandbox
from autograder.demo.hostile import make_hostile_class
from autograder.grading.grade import grade_submission
from autograder.sandbox import Limits, warm

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox.namespaces_available(),
                       reason="warm starts need the full sandbox (root and unshare)"),
]

LIMITS = Limits(cell_seconds=4, submission_seconds=60, memory_bytes=768 * sandbox.MiB,
                max_processes=48, output_bytes=256 * 1024, disk_bytes=64 * sandbox.MiB)
SEED = 5
FULL = sum(POINTS.values())
HOSTILE_KINDS = ("monkeypatch_numpy", "input_transformer", "pre_run_cell", "kill_kernel",
                 "os_exit", "ignores_sigint")
# What the student's kernel sees of its own process; printed by an extra cell
# before anything imports the library.
FINGERPRINT = r'''
import os, sys, tempfile
import numpy
print("NUMPY_DRAW", numpy.random.random())
print("FINGERPRINT", {
    "sys_path": sys.path,
    "cwd": os.getcwd(),
    "uid_is_root": os.getuid() == 0,
    "env": sorted(k for k in os.environ if not k.startswith(("JPY_", "PYDEVD"))),
    "tmp": tempfile.gettempdir(),
    "own_proc_files": os.stat("/proc/self/environ").st_uid == os.getuid(),
    "grader_env_seen": b"canary-1f3b" in open("/proc/self/environ", "rb").read(),
    "course_modules": sorted(m for m in sys.modules
                             if m.startswith(("cs231n_lib", "_course_probes", "_reference"))),
    "visible_root": sorted(os.listdir("/")),
})
'''


def _with_fingerprint(course: Path, student: str) -> None:
    folder = mini_course.submit(course, student, "reference")
    nb_file = folder / f"{ASSIGNMENT}.ipynb"
    nb = json.loads(nb_file.read_text())
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "source": FINGERPRINT,
                           "outputs": [], "execution_count": None})
    nb_file.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def course():
    root = Path(tempfile.mkdtemp(prefix="warm-course-"))
    os.chmod(root, 0o755)
    try:
        course, reflib = mini_course.make_mini_course(
            root, {"alice": "reference", "bob": "release"})
        _with_fingerprint(course, "carol")
        bases = mini_course.honest_bases(course, root / "honest")
        hostile = make_hostile_class(course, ASSIGNMENT, reference_dir=bases["reference"],
                                     release_dir=bases["release"], kinds=HOSTILE_KINDS,
                                     reference_lib_dir=reflib)
        yield course, reflib, sorted(hostile)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _grade(course, reflib, student, **kw):
    return grade_submission(course, ASSIGNMENT, student, limits=LIMITS, seed=SEED,
                            reference_lib=reflib, **kw)


def _summary(result: dict) -> dict:
    return {"status": result["status"], "score": result["score"],
            "cells": [(c["grade_id"], c["points"], c["trusted"]) for c in result["cells"]]}


def _fingerprint(result: dict) -> dict:
    for cell in result["notebook"]["cells"]:
        for out in cell.get("outputs", []):
            for text in "".join(out.get("text", "")).splitlines():
                if text.startswith("FINGERPRINT"):
                    # Only the private temporary folder's name differs between runs.
                    return json.loads(re.sub(r"grade-[A-Za-z0-9_]+", "grade-X", text[12:])
                                      .replace("'", '"').replace("True", "true")
                                      .replace("False", "false"))
    raise AssertionError("the fingerprint cell printed nothing")


def test_warm_and_cold_grade_alike(course):
    course, reflib, hostile = course
    for student in ["alice", "bob", "carol", *hostile]:
        cold = _grade(course, reflib, student, warm=False)
        hot = _grade(course, reflib, student, warm=True)
        assert cold["started"] == "cold" and hot["started"] == "warm", student
        assert _summary(hot) == _summary(cold), student
    assert _grade(course, reflib, "alice")["score"] == FULL
    assert _grade(course, reflib, "bob")["score"] == 0.0


def test_the_kernel_sees_what_a_cold_kernel_sees(course):
    course, reflib, _ = course
    cold = _fingerprint(_grade(course, reflib, "carol", warm=False))
    hot = _fingerprint(_grade(course, reflib, "carol", warm=True))
    assert hot == cold
    assert "" in hot["sys_path"] and not hot["uid_is_root"] and hot["own_proc_files"]
    assert hot["course_modules"] == []


def _numpy_draw(result: dict) -> str:
    for cell in result["notebook"]["cells"]:
        for out in cell.get("outputs", []):
            for line in "".join(out.get("text", "")).splitlines():
                if line.startswith("NUMPY_DRAW"):
                    return line
    raise AssertionError("the fingerprint cell printed no draw")


def test_the_graders_environment_does_not_reach_the_kernel(course, monkeypatch):
    """A process keeps its first environment block in memory, and the sandbox
    is a fork of the helper: the helper must start with none of the grader's
    variables (database passwords, tokens)."""
    course, reflib, _ = course
    monkeypatch.setenv("GRADER_SECRET_CANARY", "canary-1f3b")
    warm.close_all()  # the next helper starts with the canary in our environment
    seen = _fingerprint(_grade(course, reflib, "carol"))
    assert seen["grader_env_seen"] is False
    assert "GRADER_SECRET_CANARY" not in seen["env"]
    warm.close_all()


def test_every_kernel_gets_fresh_entropy(course):
    """numpy's global generator, seeded once in the helper, is reseeded in
    every fork: unseeded draws differ between students, as between fresh
    interpreters."""
    course, reflib, _ = course
    draws = {_numpy_draw(_grade(course, reflib, "carol")) for _ in range(3)}
    assert len(draws) == 3


def test_one_fork_does_not_reach_the_next(course):
    """A submission that patches numpy and IPython in its kernel and library,
    then honest ones through the same helper: each is graded on its own."""
    course, reflib, _ = course
    warm.close_all()
    first = _grade(course, reflib, "hostile-monkeypatch-numpy")
    helper = warm._idle[0].proc.pid
    assert _grade(course, reflib, "bob")["score"] == 0.0
    assert _grade(course, reflib, "alice")["score"] == FULL
    assert len(warm._idle) == 1 and warm._idle[0].proc.pid == helper
    assert first["started"] == "warm"


def test_a_dead_helper_is_replaced(course):
    course, reflib, _ = course
    warm.close_all()
    _grade(course, reflib, "alice")
    old = warm._idle[0].proc
    os.killpg(old.pid, signal.SIGKILL)
    old.wait()
    result = _grade(course, reflib, "alice")
    assert result["started"] == "warm" and result["score"] == FULL
    assert warm._idle and warm._idle[0].proc.pid != old.pid


def test_a_failing_helper_means_a_cold_start(course, monkeypatch):
    course, reflib, _ = course

    def broken(self, cfg, stdout_fd, stderr_fd):
        raise warm.WarmStarterError("the helper is gone (simulated)")

    monkeypatch.setattr(warm.WarmStarter, "start", broken)
    result = _grade(course, reflib, "alice")
    assert result["started"] == "cold" and result["score"] == FULL
    assert any("started cold" in n and "simulated" in n for n in result["notes"])
    # The broken helpers were stopped, not kept for the next run.
    assert not warm._idle


def test_a_helper_that_dies_mid_run_means_a_cold_start(course, monkeypatch):
    course, reflib, _ = course
    real_start = warm.WarmStarter.start

    def start_then_die(self, cfg, stdout_fd, stderr_fd):
        pid = real_start(self, cfg, stdout_fd, stderr_fd)
        self.proc.kill()  # its sandbox dies with it (parent-death signal)
        self.proc.wait()
        return pid

    monkeypatch.setattr(warm.WarmStarter, "start", start_then_die)
    result = _grade(course, reflib, "alice")
    assert result["started"] == "cold" and result["score"] == FULL
    assert result["status"] == "graded"
