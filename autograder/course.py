"""What the course is made of, defined once: paths, markers, caps, grade cells.

Every stage of the autograder reads these from here, so that "a hidden test",
"a grade cell" or "too large a submission" means the same thing at release,
collection, grading, export and the student's self-check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------- paths

PACKAGE = "cs231n_lib"
REPO_ROOT = Path(__file__).resolve().parents[1]
COURSE_ROOT = REPO_ROOT / "assignments"
LIBRARY_DIR = REPO_ROOT / PACKAGE
AUTOGRADER_DIR = Path(__file__).resolve().parent


def default_course() -> Path:
    """The course a command works on when given none: ``./assignments`` when run
    from a checkout's root, else this checkout's course."""
    here = Path("assignments")
    return here if (here / "source").is_dir() else COURSE_ROOT

# --------------------------------------------------------------------------- markers

SOLUTION_BEGIN = "### BEGIN SOLUTION"
SOLUTION_END = "### END SOLUTION"
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
# What no released file may contain (the release check scans for each).
FORBIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS",
                     "END HIDDEN TESTS", "BEGIN MARK SCHEME", "END MARK SCHEME")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")

# --------------------------------------------------------------------------- caps

MiB = 1024 * 1024


@dataclass(frozen=True)
class SubmissionCaps:
    """How much of a submission the trusted side will look at, anywhere.

    ``collect`` refuses what grading would refuse, so a submission that was
    collected is never turned away later for its size.
    """

    max_bytes: int = 64 * MiB
    max_files: int = 2000
    max_depth: int = 20
    max_notebook_bytes: int = 32 * MiB


SUBMISSION_CAPS = SubmissionCaps()
# Folders and files that are never part of a submission (editor and OS debris).
SKIPPED_NAMES = frozenset({"__pycache__", ".ipynb_checkpoints", ".git", "__MACOSX",
                           ".DS_Store", "Thumbs.db"})

# --------------------------------------------------------------------------- cells


def cell_text(source) -> str:
    """A notebook cell's source as one string (nbformat allows a list of lines)."""
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: Mapping) -> dict:
    """The ``nbgrader`` metadata of a cell, or ``{}`` (never raises on odd JSON)."""
    meta = cell.get("metadata") if isinstance(cell, Mapping) else None
    nbg = meta.get("nbgrader") if isinstance(meta, Mapping) else None
    return nbg if isinstance(nbg, dict) else {}


@dataclass(frozen=True)
class GradeCell:
    """A cell that carries points: a test cell (autograded) or a written answer
    (graded by hand in formgrader)."""

    grade_id: str
    max_points: float
    kind: str          # "test" | "manual"
    cell_type: str     # "code" | "markdown"

    @property
    def autograded(self) -> bool:
        return self.kind == "test"

    def __getitem__(self, key: str):
        """``cell["grade_id"]`` as well as ``cell.grade_id``: rows read from JSON
        and cells read from a notebook are used alike."""
        return getattr(self, key)


def grade_cell_of(cell: Mapping) -> GradeCell | None:
    """The grade cell ``cell`` is, or None: the one rule, used everywhere."""
    meta = nbgrader_meta(cell)
    gid = meta.get("grade_id")
    if not (meta.get("grade") and isinstance(gid, str) and gid):
        return None
    cell_type = cell.get("cell_type", "code")
    manual = cell_type != "code" or bool(meta.get("solution"))
    try:
        points = float(meta.get("points", 0) or 0)
    except (TypeError, ValueError):
        points = 0.0
    return GradeCell(gid, points, "manual" if manual else "test", cell_type)


def grade_cells(notebook: Mapping) -> list[GradeCell]:
    """The grade cells of a notebook, in order."""
    cells = notebook.get("cells", []) if isinstance(notebook, Mapping) else []
    found = (grade_cell_of(c) for c in cells if isinstance(c, Mapping)) if isinstance(
        cells, list) else ()
    return [g for g in found if g is not None]


def autograded_points(notebook: Mapping) -> float:
    """Points of the autograded cells (what ``score`` is out of)."""
    return sum(c.max_points for c in grade_cells(notebook) if c.autograded)


def manual_points(notebook: Mapping) -> float:
    """Points of the written answers, graded by hand."""
    return sum(c.max_points for c in grade_cells(notebook) if not c.autograded)


# --------------------------------------------------------------------------- hidden tests

def _hidden_regions(source: str):
    """``(line, hidden)`` for each line of ``source``, markers excluded. A region
    left open runs to the end of the cell (safer than showing it)."""
    hiding = False
    for line in source.splitlines(keepends=True):
        stripped = line.strip()
        if stripped == HIDDEN_BEGIN:
            hiding = True
        elif stripped == HIDDEN_END and hiding:
            hiding = False
        else:
            yield line, hiding


def strip_hidden(source: str) -> str:
    """``source`` as released: its hidden-test regions removed, markers included."""
    return "".join(line for line, hidden in _hidden_regions(source) if not hidden)


def hidden_lines(notebook: Mapping, min_length: int = 6) -> list[str]:
    """The lines of every hidden-test region of ``notebook`` that are long enough
    to identify (and that no visible cell also shows)."""
    found: list[str] = []
    visible: list[str] = []
    for cell in notebook.get("cells", []) if isinstance(notebook, Mapping) else []:
        source = cell_text(cell.get("source")) if isinstance(cell, Mapping) else ""
        for line, hidden in _hidden_regions(source):
            (found if hidden else visible).append(line.strip())
    shown = set(visible)
    return [line for line in dict.fromkeys(found)
            if len(line) >= min_length and line not in shown]


def has_hidden_tests(source: str) -> bool:
    return any(line.strip() == HIDDEN_BEGIN for line in source.splitlines())
