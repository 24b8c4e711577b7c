"""Helpers for the pipeline tests: a tiny nbgrader course and a stand-in grader.

The stand-in grader (``fake_grade``) lets the scheduling, recording and export
tests run without the sandbox. It is imported by Dask workers by name
(``pipeline_helpers:fake_grade``), so it lives in a module of its own; tests
that start workers as separate processes put this folder on PYTHONPATH.

A submission tells the stand-in what to do through its notebook's metadata
(``{"fake": {"points": {...}, "sleep": s, "error": "...", "die": true}}``), so
no test needs to share state with a worker process.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

HELPERS_DIR = Path(__file__).resolve().parent
GRADER = "pipeline_helpers:fake_grade"
ASSIGNMENT = "backprop"
CELLS = {"test_affine": 2.0, "test_graph": 3.0}
HIDDEN_LINE = "assert hidden_check(secret_input_42)"


def _meta(grade_id=None, points=None, *, solution=False, grade=False, locked=False):
    meta = {"solution": solution, "grade": grade, "locked": locked, "schema_version": 3}
    if grade_id:
        meta["grade_id"] = grade_id
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> dict:
    """An nbgrader source notebook: one answer cell, two test cells, one written answer."""
    def cell(kind, source, meta):
        c = {"cell_type": kind, "metadata": meta, "source": source}
        if kind == "code":
            c.update(outputs=[], execution_count=None)
        return c

    return {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "cells": [
            cell("markdown", "# Backprop\nWrite `double`.", {}),
            cell("code", "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n"
                         "    ### END SOLUTION\n",
                 _meta("answer_double", solution=True)),
            cell("code", "assert double(2) == 4\nprint('visible ok')\n",
                 _meta("test_affine", CELLS["test_affine"], grade=True, locked=True)),
            cell("code", "assert double(0) == 0\n### BEGIN HIDDEN TESTS\n"
                         f"{HIDDEN_LINE}\n### END HIDDEN TESTS\n",
                 _meta("test_graph", CELLS["test_graph"], grade=True, locked=True)),
            cell("markdown", "Why is the max gate a router?\n\nYOUR ANSWER HERE",
                 _meta("why_router", 1, solution=True, grade=True)),
        ],
    }


def released_notebook() -> dict:
    nb = source_notebook()
    for c in nb["cells"]:
        src = c["source"]
        if "### BEGIN HIDDEN TESTS" in src:
            c["source"] = src.split("### BEGIN HIDDEN TESTS")[0]
        if "### BEGIN SOLUTION" in src:
            c["source"] = "def double(x):\n    raise NotImplementedError()\n"
    return nb


def make_course(root: Path, students: dict[str, dict] | None = None, *,
                gradebook: bool = True) -> Path:
    """A course with ``source/``, ``release/`` and one submission per student.

    ``students`` maps a student id to the ``fake`` instructions of its notebook;
    ``gradebook`` puts an empty nbgrader gradebook in place.
    """
    course = root / "course"
    if gradebook:
        seed_gradebook(course)
    for stage, nb in (("source", source_notebook()), ("release", released_notebook())):
        folder = course / stage / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))
    for student, fake in (students or {}).items():
        submit(course, student, fake)
    return course


def submit(course: Path, student: str, fake: dict) -> None:
    nb = released_notebook()
    nb["metadata"]["fake"] = fake
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))


def executed(nb: dict, student_text: str) -> dict:
    """The notebook as the sandbox would return it: hidden tests back in, outputs added."""
    source = source_notebook()
    for got, ref in zip(nb["cells"], source["cells"], strict=False):
        if ref["metadata"].get("nbgrader", {}).get("locked"):
            got["source"] = ref["source"]
        if got["cell_type"] == "code":
            got["outputs"] = [{"output_type": "stream", "name": "stdout",
                               "text": student_text}]
    hidden = nb["cells"][3]
    hidden["outputs"].append({"output_type": "error", "ename": "AssertionError",
                              "evalue": HIDDEN_LINE, "traceback": [HIDDEN_LINE]})
    return nb


def fake_grade(course_root, assignment, student, **kwargs) -> dict:
    """Stand-in for ``grade_submission``: obeys the ``fake`` metadata of the notebook."""
    path = Path(course_root) / "submitted" / student / assignment / f"{assignment}.ipynb"
    nb = json.loads(path.read_text())
    fake = nb["metadata"].get("fake", {})
    log = fake.get("log")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{student} {os.getpid()}\n")
    if fake.get("sleep"):
        time.sleep(fake["sleep"])
    if fake.get("die"):
        os._exit(1)  # takes the worker process down with it
    if fake.get("raise"):
        raise RuntimeError(fake["raise"])
    if fake.get("error"):
        return {"status": "error", "error": fake["error"], "cells": [], "score": 0.0,
                "max_score": sum(CELLS.values()), "flags": [], "limits": {}, "timings": {}}
    points = fake.get("points", CELLS)
    cells = [{"grade_id": gid, "notebook": assignment, "points": float(points.get(gid, 0)),
              "max_points": mx, "notebook_points": float(points.get(gid, 0)), "trusted": True,
              "flags": []} for gid, mx in CELLS.items()]
    flags = list(fake.get("flags", []))
    return {"status": "graded", "error": None, "cells": cells,
            "score": sum(c["points"] for c in cells), "max_score": sum(CELLS.values()),
            "flags": flags, "limits": {"cell_seconds": 30}, "timings": {"total": 0.01},
            "notebook": executed(nb, fake.get("print", "student output <b>bold</b>")),
            "kwargs_seen": sorted(kwargs)}


_BLANK_GRADEBOOK: list[Path] = []


def seed_gradebook(course: Path) -> None:
    """Copy an empty nbgrader gradebook into ``course``.

    nbgrader stamps every new database by running ``alembic`` in a subprocess
    (seconds each); the tests make that empty database once per session.
    """
    import shutil
    import tempfile

    from autograder.grading.record import GRADEBOOK_FILE, open_gradebook

    if not _BLANK_GRADEBOOK:
        path = Path(tempfile.mkdtemp(prefix="blank-gradebook-")) / GRADEBOOK_FILE
        open_gradebook(f"sqlite:///{path}").close()
        _BLANK_GRADEBOOK.append(path)
    course.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_BLANK_GRADEBOOK[0], course / GRADEBOOK_FILE)
