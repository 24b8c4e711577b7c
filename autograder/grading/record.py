"""Record grading results: nbgrader's gradebook, our own record, the executed notebook.

Only the coordinating process calls this module, once per finished
submission, so there is a single writer for the gradebook. Three things are
written, in this order:

1. the executed notebook(s) under ``autograded/<student>/<assignment>/``,
   where nbgrader's formgrader looks for them;
2. the trusted points of every autograded cell as that grade's
   ``auto_score`` in nbgrader's gradebook (through nbgrader's ``Gradebook``
   API, so ``nbgrader export`` and formgrader see them); manual scores that a
   grader already gave are never touched;
3. our own record, ``grading/<assignment>/<student>.json``: status, error,
   per-cell rows, integrity flags, the limits in force, timings and a digest
   of the submission. It is written last and atomically, so its presence
   means the submission is graded; a crash in between only causes a regrade.

Nothing here imports or executes student code; notebooks are handled as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from autograder.course import SKIPPED_NAMES, GradeCell, grade_cells, nbgrader_meta
from autograder.grading.evidence import evidence_path
from autograder.untrusted import digest_tree, read_text

RECORDS = "grading"
GRADEBOOK_FILE = "gradebook.db"
# Status written by the scheduler when the grading machinery itself failed
# (a worker died too often, the grading function raised); such records are
# retried on the next run, unlike a student's own errors.
MACHINERY = "grader"
MAX_TIMESTAMP_BYTES = 256  # "2026-11-20 12:00:00.000000 UTC" and then some


def gradebook_url(course: str | os.PathLike, db: str | None = None) -> str:
    """The database URL: ``db`` if given, else ``sqlite:///<course>/gradebook.db``."""
    if db:
        return db
    return f"sqlite:///{Path(course).resolve() / GRADEBOOK_FILE}"


def record_path(course: str | os.PathLike, assignment: str, student: str) -> Path:
    return Path(course) / RECORDS / assignment / f"{student}.json"


def load_record(course: str | os.PathLike, assignment: str, student: str) -> dict | None:
    """Our record of one submission, or None if it was never recorded."""
    path = record_path(course, assignment, student)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # a torn or unreadable record counts as not graded


def load_records(course: str | os.PathLike, assignment: str | None = None) -> list[dict]:
    """Every record under ``grading/`` (of one assignment, or all), sorted."""
    root = Path(course) / RECORDS
    pattern = f"{assignment}/*.json" if assignment else "*/*.json"
    out = []
    for path in sorted(root.glob(pattern)):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out


def submission_digest(folder: str | os.PathLike) -> str:
    """SHA-256 over the relative paths and bytes of every regular file in ``folder``
    (read as hostile files: ``autograder.untrusted``).

    A collected submission that changes (a resubmission) gets a new digest,
    which tells the scheduler to grade it again.
    """
    return digest_tree(folder, skip=SKIPPED_NAMES.__contains__)


def submitted_timestamp(course: str | os.PathLike, student: str, assignment: str) -> str | None:
    """The text of ``submitted/<student>/<assignment>/timestamp.txt``, or None.

    A hostile file like any other under ``submitted/``: never followed if it is
    a link (a link to ``/proc/self/environ`` would copy the grader's environment
    into the autograded folder), never opened if it is a device or a FIFO,
    and read only up to a cap.
    """
    folder = Path(course) / "submitted" / student / assignment
    text = read_text(folder, "timestamp.txt", MAX_TIMESTAMP_BYTES)
    return text.strip() if text is not None else None


def is_done(record: Mapping | None, digest: str | None = None) -> bool:
    """Whether ``record`` settles its submission (so a re-run can skip it)."""
    if not record or record.get("status") not in ("graded", "error"):
        return False
    if record.get("error_source") == MACHINERY:
        return False
    return digest is None or record.get("submission_digest") in (None, digest)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def sigint_deferred():
    """Let a result's record be written whole before Ctrl-C stops the run.

    A record spans the gradebook, the executed notebook and our JSON; an
    interrupt between two of those writes would leave them disagreeing. The
    interrupt is remembered and raised once the block is done.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


# --------------------------------------------------------------------------- course layout

def assignment_notebooks(course: str | os.PathLike, assignment: str) -> dict[str, dict]:
    """The instructor's notebooks of ``assignment``: ``{name (no .ipynb): notebook JSON}``.

    Read from ``source/<assignment>/`` (trusted), else from ``release/``.
    """
    course = Path(course)
    for stage in ("source", "release"):
        folder = course / stage / assignment
        paths = sorted(folder.glob("*.ipynb")) if folder.is_dir() else []
        if paths:
            return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}
    return {}


def solution_cells(notebook: Mapping) -> list[str]:
    """Every cell the student writes in (``solution: true``), graded or not: as in
    nbgrader, a written answer is both a grade cell and a solution cell, and its
    comment row hangs on the solution cell."""
    return [nbgrader_meta(cell)["grade_id"] for cell in notebook.get("cells", [])
            if nbgrader_meta(cell).get("solution") and nbgrader_meta(cell).get("grade_id")]


def result_notebooks(result: Mapping) -> dict[str, Any]:
    """Executed notebooks of a result as ``{name: notebook JSON}``.

    Accepts ``notebooks`` (a mapping) or a single ``notebook`` (named after
    the assignment), each as a JSON object or a JSON string.
    """
    found = result.get("notebooks")
    if not found and result.get("notebook") is not None:
        found = {result["assignment"]: result["notebook"]}
    out = {}
    for name, nb in (found or {}).items():
        out[str(name).removesuffix(".ipynb")] = json.loads(nb) if isinstance(nb, str) else nb
    return out


def result_cells(result: Mapping) -> list[dict]:
    return list(result.get("cells") or result.get("rows") or [])


# --------------------------------------------------------------------------- recorder

def open_gradebook(db_url: str):
    """nbgrader's ``Gradebook`` for ``db_url``.

    nbgrader stamps a new database by running the ``alembic`` command, which
    is found on PATH; a virtual environment's interpreter run by its full
    path (``.venv/bin/python``) does not put its own ``bin/`` there, so it is
    added for that call.
    """
    from nbgrader.api import Gradebook  # heavy import, coordinator only

    scripts = str(Path(sys.executable).parent)
    if shutil.which("alembic") is None and (Path(scripts) / "alembic").exists():
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(db_url)


class Recorder:
    """The single writer of grading results for one course.

    Parameters
    ----------
    course : path
        The course root (``source/``, ``submitted/``, ``autograded/``...).
    db : str, optional
        Any nbgrader database URL; default ``sqlite:///<course>/gradebook.db``.

    Use as a context manager; :meth:`record` once per finished submission.
    """

    def __init__(self, course: str | os.PathLike, db: str | None = None):
        self.course = Path(course)
        self.db_url = gradebook_url(course, db)
        self.gradebook = open_gradebook(self.db_url)
        self._registered: dict[str, dict[str, list[dict]]] = {}

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.gradebook.close()

    # ----------------------------------------------------------------- structure
    def register(self, assignment: str, cells_hint: Iterable[Mapping] = ()) -> dict:
        """Make sure the gradebook knows ``assignment``, its notebooks and cells.

        Structure comes from the instructor's notebooks; an assignment
        generated by ``nbgrader generate_assignment`` is already there and
        is only completed, never changed. Without notebooks (a bare course),
        the cells named in ``cells_hint`` (result rows) are used.
        """
        if assignment in self._registered:
            return self._registered[assignment]
        from nbgrader.api import MissingEntry

        gb = self.gradebook
        gb.update_or_create_assignment(assignment)
        notebooks = {name: grade_cells(nb)
                     for name, nb in assignment_notebooks(self.course, assignment).items()}
        solutions = {name: solution_cells(nb)
                     for name, nb in assignment_notebooks(self.course, assignment).items()}
        if not notebooks:
            hinted: dict[str, list[GradeCell]] = {}
            for row in cells_hint:
                hinted.setdefault(row.get("notebook") or assignment, []).append(GradeCell(
                    row["grade_id"], float(row.get("max_points", 0)), "test", "code"))
            notebooks, solutions = hinted, {}
        for name, cells in notebooks.items():
            try:
                gb.find_notebook(name, assignment)
            except MissingEntry:
                gb.add_notebook(name, assignment)
            for cell in cells:
                try:
                    gb.find_grade_cell(cell["grade_id"], name, assignment)
                except MissingEntry:
                    gb.add_grade_cell(cell["grade_id"], name, assignment,
                                      max_score=cell.max_points, cell_type=cell.cell_type)
            for cell_id in solutions.get(name, []):
                try:
                    gb.find_solution_cell(cell_id, name, assignment)
                except MissingEntry:
                    gb.add_solution_cell(cell_id, name, assignment)
        self._registered[assignment] = notebooks
        return notebooks

    # ----------------------------------------------------------------- results
    def record(self, result: Mapping) -> dict:
        """Write one grading result; return the record that was saved.

        ``result`` is what ``autograder.grading.grade.grade_submission`` returns
        (plain JSON data) plus ``student`` and ``assignment``; the scheduler
        adds ``submission_digest`` and, for its own failures,
        ``error_source``.
        """
        student, assignment = result["student"], result["assignment"]
        notebooks = result_notebooks(result)
        cells = result_cells(result)

        out_dir = self.course / "autograded" / student / assignment
        for name, nb in notebooks.items():
            write_atomic(out_dir / f"{name}.ipynb", json.dumps(nb, indent=1))
        stamp = submitted_timestamp(self.course, student, assignment)
        if stamp is not None:
            write_atomic(out_dir / "timestamp.txt", stamp + "\n")

        self._write_gradebook(student, assignment, cells, result, stamp)

        record = {k: v for k, v in result.items()
                  if k not in ("notebook", "notebooks", "evidence")}
        if result.get("evidence"):
            # Beside the record, before it: a record never points at missing evidence.
            write_atomic(evidence_path(self.course, assignment, student),
                          json.dumps(result["evidence"]))
        record["cells"] = cells
        # A regrade that judged stored data again brings no notebook: keep the files.
        record["notebook_files"] = sorted(f"{n}.ipynb" for n in notebooks) if notebooks \
            else list(result.get("notebook_files") or [])
        record["recorded_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
        write_atomic(record_path(self.course, assignment, student),
                      json.dumps(record, indent=1, sort_keys=True, default=str))
        return record

    def _write_gradebook(self, student: str, assignment: str, cells: list[dict],
                         result: Mapping, stamp: str | None) -> None:
        from nbgrader.api import MissingEntry

        gb = self.gradebook
        structure = self.register(assignment, cells)
        gb.update_or_create_student(student)
        extra = {}
        if stamp is not None:
            from nbgrader.utils import parse_utc

            try:
                extra["timestamp"] = parse_utc(stamp)
            except (ValueError, TypeError, OverflowError):
                pass
        with warnings.catch_warnings():
            # nbgrader builds a new submission's rows before adding it to the
            # session, which SQLAlchemy reports on every first grading.
            warnings.filterwarnings("ignore", message=".*not in session.*")
            gb.update_or_create_submission(assignment, student, **extra)

        points = {(row.get("notebook") or _only(structure) or assignment, row["grade_id"]):
                  float(row.get("points") or 0.0) for row in cells if row.get("grade_id")}
        flagged = any(needs_attention(f) for f in result.get("flags") or []) or any(
            needs_attention(f) for row in cells for f in row.get("flags") or [])
        graded = result.get("status") == "graded"
        for name, grade_list in structure.items():
            try:
                submitted_nb = gb.find_submission_notebook(name, assignment, student)
            except MissingEntry:
                continue
            submitted_nb.flagged = flagged
            for cell in grade_list:
                grade = gb.find_grade(cell["grade_id"], name, assignment, student)
                if not cell.autograded:
                    grade.needs_manual_grade = True
                    continue
                # A submission that could not be graded earns nothing automatically;
                # the instructor sees the error in our record and can override by hand.
                grade.auto_score = points.get((name, cell["grade_id"]), 0.0) if graded else 0.0
                grade.needs_manual_grade = grade.manual_score is not None
        gb.db.commit()


ROUTINE_FLAGS = ("unverified", "manual")


def needs_attention(flag) -> bool:
    """Whether a flag is worth an instructor's look (and marks the notebook in formgrader).

    "unverified" only says that a cell's points came from the notebook run
    (no hidden probe decides it) and "manual" that a cell is graded by hand:
    routine, not a suspicion.
    """
    text = flag.get("message", "") if isinstance(flag, Mapping) else str(flag)
    return not any(part.strip() in ROUTINE_FLAGS for part in text.split(":", 2)[:2])


def _only(structure: Mapping) -> str | None:
    return next(iter(structure)) if len(structure) == 1 else None
