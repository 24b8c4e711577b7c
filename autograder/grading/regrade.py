"""Regrade an assignment after a test or probe was fixed, with a change report.

For every graded submission (a record with ``status: "graded"``):

1. **decide** what the fix needs (:mod:`autograder.grading.regrade_decide`).
   The current probes' inputs are drawn again from the recorded seed and
   compared with the evidence kept at grading (``autograder.grading.evidence``).
   When ``calls.py``, every probe's inputs, every answer probe's request, the
   source notebook and the submission are unchanged, only the *judging*
   changed (a tolerance, an expected answer, the reference library): the
   stored outputs and answers are judged again, in this process, with no
   sandbox. Otherwise the submission runs again;
2. **run again** the submissions that need it
   (:mod:`autograder.grading.regrade_rerun`), on the same Dask machinery as
   ``grade`` (``grade_class``), in a scratch course inside the course's
   ``grading/`` folder, so that nothing of the real course changes before
   step 3 and a dry run changes nothing at all;
3. **commit**, one student at a time: the gradebook row, then the evidence,
   then the record (atomically, last), which keeps the old score in a
   ``regrade`` section (when, old and new score, each cell's change and why);
   then the student's row of the change report
   ``grading/<assignment>/regrade-<id>.csv``
   (:mod:`autograder.grading.regrade_report`).

An interrupted regrade leaves every student either fully old or fully new
(the gradebook row is written again from the record on the next run); the
report stays ``regrade-<id>.partial.csv`` until the run finishes, and the same
command resumes it: the students it lists, and those whose record already
carries this run's id, are done. ``no_decrease`` keeps, per cell, the higher
of the old and new points; ``dry_run`` writes only the report.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

from autograder.grading import evidence as ev
from autograder.grading.record import (
    RECORDS,
    Recorder,
    load_records,
    sigint_deferred,
    write_atomic,
)
from autograder.grading.reference import reference_library
from autograder.grading.regrade_decide import (
    Current,
    Outcome,
    current_assignment,
    decide,
    rerun_reasons,
)
from autograder.grading.regrade_report import RegradeError, RegradeReport, ReportFile, from_section
from autograder.grading.regrade_rerun import run_again, scratch_course


def _commit(recorder: Recorder, course: Path, assignment: str, outcome: Outcome) -> None:
    """Write one student: gradebook row, evidence, then the record (atomically, last)."""
    if outcome.result is not None:
        recorder.record(outcome.result)
    elif outcome.evidence is not None:
        write_atomic(ev.evidence_path(course, assignment, outcome.line.student),
                     json.dumps(outcome.evidence))


def regrade(course: str | os.PathLike, assignment: str, *, no_decrease: bool = False,
            dry_run: bool = False, reference_lib=None, grader_kwargs: Mapping | None = None,
            jobs: int | None = None, scheduler: str | None = None, db: str | None = None,
            progress: bool = False, log: Callable[[str], None] = lambda s: None
            ) -> RegradeReport:
    """Decide every graded submission of ``assignment`` again (see the module docstring).

    Parameters
    ----------
    course : path
        The course that was graded (``source/``, ``probes/``, ``submitted/``,
        ``grading/``, the gradebook).
    no_decrease : bool
        Never lower a cell's points.
    dry_run : bool
        Write only the change report (submissions that must run again do, in a
        scratch course that is then removed).
    reference_lib, grader_kwargs, jobs, scheduler, db, progress
        As for ``grade_submission`` and ``grade_class``.
    """
    course = Path(course).resolve()
    records = {r["student"]: r for r in load_records(course, assignment)
               if r.get("status") == "graded" and r.get("student")}
    if not records:
        raise RegradeError(f"no graded submission of {assignment!r} under "
                           f"{course / RECORDS / assignment}; grade it first "
                           f"(python -m autograder grade {assignment})")
    cur = current_assignment(course, assignment, reference_library(reference_lib))
    report = ReportFile.open(course, assignment, dry_run=dry_run, no_decrease=no_decrease)
    out = RegradeReport(assignment, report.run_id, report.final, dry_run, no_decrease)
    todo: dict[str, dict] = {}
    for student, record in sorted(records.items()):
        section = record.get("regrade") or {}
        if student in report.done or section.get("id") == report.run_id:
            out.resumed.append(student)
            if student not in report.done:  # committed, not yet in the report
                report.add(from_section(student, section))
            continue
        todo[student] = record
    evidence = {s: ev.load_evidence(course, assignment, s) for s in todo}
    why = {s: rerun_reasons(cur, s, evidence[s]) for s in todo}
    again = {s: (todo[s], evidence[s]) for s in todo if why[s]}
    kwargs = dict(grader_kwargs or {})
    if reference_lib is not None:
        kwargs.setdefault("reference_lib", reference_lib)
    scratch = scratch_course(course, assignment, report.run_id, db) if again else None
    if again:
        log(f"regrade: {len(again)} submission(s) must run again: "
            + "; ".join(f"{s} ({why[s][0]})" for s in list(again)[:5]))
    fresh = run_again(course, assignment, again, scratch, grader_kwargs=kwargs, jobs=jobs,
                      scheduler=scheduler, progress=progress) if again else {}
    _commit_all(course, assignment, todo, evidence, why, fresh, cur, report, db)
    out.path = report.finish()
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    out.rows = _read_report(out.path)
    return out


def _commit_all(course: Path, assignment: str, todo: Mapping, evidence: Mapping,
                why: Mapping, fresh: Mapping, cur: Current, report: ReportFile,
                db: str | None) -> None:
    """Decide and write each student in turn; the report row comes last."""
    recorder = None if report.dry_run else Recorder(course, db)
    try:
        for student, record in todo.items():
            outcome = decide(cur, record, evidence[student], why[student], fresh.get(student),
                             report.run_id, report.no_decrease)
            # Ctrl-C waits until this student is written whole.
            with sigint_deferred():
                if recorder is not None:
                    _commit(recorder, course, assignment, outcome)
                report.add(outcome.line)
    finally:
        if recorder is not None:
            recorder.close()


def _read_report(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
