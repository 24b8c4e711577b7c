"""A tiny nbgrader course for the sandbox tests: one notebook over a one-module library.

``make_mini_course(root)`` writes

* ``reflib/cs231n_lib/`` - the reference library (``scale.scale_forward``,
  ``scale.shift``), outside the course;
* ``course/source/mini/mini.ipynb`` - two probed test cells (one with hidden
  tests), one notebook-only test cell, one manual cell;
* ``course/probes/mini/`` - the probes (``calls.py`` and ``judge.py``);
* ``course/gradebook.db`` - a stand-in gradebook file;
* ``course/submitted/<student>/mini/`` for the students asked for: the
  reference solution (``kind="reference"``) or the untouched release
  (``kind="release"``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

ASSIGNMENT = "mini"
POINTS = {"test_scale": 2.0, "test_shift": 1.0, "test_notebook_only": 1.0}
HIDDEN_MARK = "hidden_secret_check_7431"
SOLUTION_MARK = "reference_solution_body_9917"

REFERENCE_SCALE = f'''"""Scaling layers (reference)."""

import numpy as np


def scale_forward(x, a):
    """Return ``a * x`` for ``x: (N,)``."""
    x = np.asarray(x, dtype=np.float64)
    ### BEGIN SOLUTION
    out = a * x  # {SOLUTION_MARK}
    ### END SOLUTION
    return out


def shift(x, b):
    """Return ``x + b``."""
    x = np.asarray(x, dtype=np.float64)
    ### BEGIN SOLUTION
    out = x + b
    ### END SOLUTION
    return out
'''

RELEASED_SCALE = '''"""Scaling layers."""

import numpy as np


def scale_forward(x, a):
    """Return ``a * x`` for ``x: (N,)``."""
    x = np.asarray(x, dtype=np.float64)
    raise NotImplementedError("scale_forward: your code here")


def shift(x, b):
    """Return ``x + b``."""
    x = np.asarray(x, dtype=np.float64)
    raise NotImplementedError("shift: your code here")
'''

INIT = '"""Mini library."""\n\nfrom . import scale  # noqa: F401\n'

CALLS = '''"""What the sandbox runs for the mini probes."""

import numpy as np


def scale_random(lib, inputs):
    return {"out": lib.scale.scale_forward(inputs["x"], float(inputs["a"]))}


def scale_empty(lib, inputs):
    return {"out": lib.scale.scale_forward(inputs["x"], 2.0), "n": np.array(1.0)}


def shift_random(lib, inputs):
    return {"out": lib.scale.shift(inputs["x"], float(inputs["b"]))}
'''

JUDGE = '''"""Probes of the mini assignment."""

import numpy as np

from autograder.grading.probes import Probe

from . import calls


def _scale_inputs(rng):
    return {"x": rng.standard_normal(7), "a": np.array(-rng.uniform(0.5, 3))}


def _scale_edge_inputs(rng):
    return {"x": np.zeros(0)}


def _shift_inputs(rng):
    return {"x": rng.standard_normal(5), "b": np.array(rng.uniform(-1, 1))}


PROBES = [
    Probe("test_scale", "scale_random", _scale_inputs, calls.scale_random),
    Probe("test_scale", "scale_empty", _scale_edge_inputs, calls.scale_empty),
    Probe("test_shift", "shift_random", _shift_inputs, calls.shift_random),
]
'''


def write_probes(course: Path, calls: str = CALLS, judge: str = JUDGE) -> Path:
    """The mini course's probe folder: ``calls.py`` (sandbox side) and ``judge.py``."""
    folder = course / "probes" / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "calls.py").write_text(calls)
    (folder / "judge.py").write_text(judge)
    return folder


def _meta(grade_id, points=None, *, grade=False, solution=False, locked=False):
    meta = {"grade": grade, "solution": solution, "locked": locked, "schema_version": 3,
            "grade_id": grade_id}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell(kind, source, metadata=None):
    cell = {"cell_type": kind, "metadata": metadata or {}, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def source_notebook() -> dict:
    cells = [
        _cell("markdown", "# Mini\nImplement `scale_forward` and `shift` in the library."),
        _cell("code", "import numpy as np\nfrom cs231n_lib import scale\n",
              _meta("imports", locked=True)),
        _cell("code", "assert np.allclose(scale.scale_forward(np.ones(3), 2.0), 2 * np.ones(3))\n"
                      "print('scale: visible tests passed')\n"
                      "### BEGIN HIDDEN TESTS\n"
                      f"{HIDDEN_MARK} = scale.scale_forward(np.arange(3.0), -1.0)\n"
                      f"assert np.allclose({HIDDEN_MARK}, -np.arange(3.0))\n"
                      "### END HIDDEN TESTS\n",
              _meta("test_scale", POINTS["test_scale"], grade=True, locked=True)),
        _cell("code", "assert np.allclose(scale.shift(np.zeros(2), 1.5), 1.5)\n",
              _meta("test_shift", POINTS["test_shift"], grade=True, locked=True)),
        _cell("code", "answer = 6 * 7\n", _meta("answer", solution=True)),
        _cell("code", "assert answer == 42\n",
              _meta("test_notebook_only", POINTS["test_notebook_only"], grade=True,
                    locked=True)),
        _cell("markdown", "Why does scaling commute with shifting? YOUR ANSWER HERE",
              _meta("why", 1, grade=True, solution=True)),
    ]
    return {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}}}


def released_notebook() -> dict:
    nb = source_notebook()
    for cell in nb["cells"]:
        src = cell["source"]
        if "### BEGIN HIDDEN TESTS" in src:
            cell["source"] = src.split("### BEGIN HIDDEN TESTS")[0]
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer":
            cell["source"] = "answer = None  # your answer\n"
    return nb


def write_library(folder: Path, scale_source: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(INIT)
    (folder / "scale.py").write_text(scale_source)


def submit(course: Path, student: str, kind: str = "reference") -> Path:
    """Write ``submitted/<student>/mini/``: ``reference`` or ``release``."""
    folder = course / "submitted" / student / ASSIGNMENT
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    nb = released_notebook()
    if kind == "reference":
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer":
                cell["source"] = "answer = 6 * 7\n"
        lib = REFERENCE_SCALE.replace("    ### BEGIN SOLUTION\n", "").replace(
            "    ### END SOLUTION\n", "").replace(f"  # {SOLUTION_MARK}", "")
    elif kind == "release":
        lib = RELEASED_SCALE
    else:
        raise ValueError(kind)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb, indent=1))
    write_library(folder / "cs231n_lib", lib)
    return folder


def honest_bases(course: Path, dest: Path) -> dict[str, Path]:
    """An honest ``reference`` and ``release`` submission in ``dest/<kind>/``,
    outside the course: the bases that hostile variants are built on."""
    dest.mkdir()
    for kind in ("reference", "release"):
        shutil.move(submit(course, f"base-{kind}", kind), dest / kind)
        shutil.rmtree(course / "submitted" / f"base-{kind}")
    return {kind: dest / kind for kind in ("reference", "release")}


def make_mini_course(root: Path, students: dict[str, str] | None = None) -> tuple[Path, Path]:
    """Return ``(course, reference library folder)``."""
    course = root / "course"
    (course / "source" / ASSIGNMENT).mkdir(parents=True)
    (course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(
        json.dumps(source_notebook(), indent=1))
    write_probes(course)
    (course / "gradebook.db").write_bytes(b"SQLite format 3\0 stand-in gradebook")
    reflib = root / "reflib" / "cs231n_lib"
    write_library(reflib, REFERENCE_SCALE)
    for student, kind in (students or {}).items():
        submit(course, student, kind)
    return course, reflib
