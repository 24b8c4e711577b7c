"""Regrade an assignment after a test or probe was fixed, with a change report.

For every graded submission (a record with ``status: "graded"``):

1. **decide** what the fix needs. The current probes' inputs are drawn again
   from the recorded seed and compared with the evidence kept at grading
   (``autograder.grading.evidence``). When ``calls.py``, every probe's inputs,
   every answer probe's request, the source notebook and the submission are
   unchanged, only the *judging* changed (a tolerance, an expected answer, the
   reference library): the stored outputs and answers are judged again, in
   this process, with no sandbox. Otherwise the submission runs again;
2. **run again** the submissions that need it, on the same Dask machinery as
   ``grade`` (``grade_class``), in a scratch course inside the course's
   ``grading/`` folder, so that nothing of the real course changes before
   step 3 and a dry run changes nothing at all;
3. **commit**, one student at a time: the gradebook row, then the evidence,
   then the record (atomically, last), which keeps the old score in a
   ``regrade`` section (when, old and new score, each cell's change and why);
   then the student's row of the change report
   ``grading/<assignment>/regrade-<id>.csv``.

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
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

from autograder.course import grade_cells
from autograder.grading import evidence as ev
from autograder.grading import verify
from autograder.grading.probes import probe_folder
from autograder.grading.record import (
    GRADEBOOK_FILE,
    RECORDS,
    Recorder,
    load_record,
    load_records,
    sigint_deferred,
    write_atomic,
)
from autograder.grading.reference import Reference, reference_for, reference_library

RE_JUDGED, RE_RUN, UNCHANGED = "re-judged", "re-run", "unchanged"
REPORT_COLUMNS = ("student", "mode", "old_score", "new_score", "max_score", "changed",
                  "changes", "why_re_run", "no_decrease")
STUDENT_REJUDGED = "the hidden checks of this question were corrected"
STUDENT_RERUN = "your submission was graded again with corrected tests"


class RegradeError(ValueError):
    """A regrade that cannot start (nothing graded, mismatched options to resume)."""


@dataclass
class CellChange:
    """One cell whose points a regrade changed (or would have lowered)."""

    grade_id: str
    old: float | None
    new: float | None
    reason: str                 # for the instructor: which probe, what changed
    student_reason: str         # for the feedback page: reveals no hidden test
    kept: bool = False          # no_decrease kept the old, higher points

    def text(self) -> str:
        kept = " (kept: no decrease)" if self.kept else ""
        return f"{self.grade_id}: {_num(self.old)} -> {_num(self.new)}{kept} ({self.reason})"


@dataclass
class StudentRegrade:
    """One student's line of the change report."""

    student: str
    mode: str
    old_score: float
    new_score: float
    max_score: float
    changes: list[CellChange] = field(default_factory=list)
    why_re_run: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.old_score != self.new_score

    def row(self, no_decrease: bool) -> list[str]:
        return [self.student, self.mode, _num(self.old_score), _num(self.new_score),
                _num(self.max_score), "yes" if self.changed else "no",
                "; ".join(c.text() for c in self.changes), "; ".join(self.why_re_run),
                "yes" if no_decrease else "no"]


@dataclass
class RegradeReport:
    """What a regrade did (or, in a dry run, would do): the change report's rows."""

    assignment: str
    run_id: str
    path: Path
    dry_run: bool = False
    no_decrease: bool = False
    rows: list[dict] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)

    def row(self, student: str) -> dict:
        return next(r for r in self.rows if r["student"] == student)

    def summary(self) -> str:
        changed = [r for r in self.rows if r["changed"] == "yes"]
        again = sum(1 for r in self.rows if r["mode"].startswith(RE_RUN))
        failed = [r for r in self.rows if r["mode"].endswith("failed")]
        lines = [f"regrade {self.assignment}{' (dry run)' if self.dry_run else ''}: "
                 f"{len(self.rows)} graded submission(s), {len(changed)} changed; "
                 f"{len(self.rows) - again} judged again from stored data, {again} run "
                 "again in the sandbox"
                 + (f", {len(failed)} could not run again" if failed else "")
                 + (f"; resumed ({len(self.resumed)} done before)" if self.resumed else "")]
        for r in changed:
            lines.append(f"  {r['student']}: {r['old_score']} -> {r['new_score']} "
                         f"[{r['mode']}] {r['changes'][:400]}")
        for r in failed:
            lines.append(f"  {r['student']}: {r['why_re_run'][:400]}")
        lines.append(f"report: {self.path}")
        return "\n".join(lines)


def _num(x) -> str:
    return "-" if x is None else f"{float(x):g}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --------------------------------------------------------------------------- deciding

@dataclass
class Current:
    """The assignment as it is now: what each submission is decided against."""

    course: Path
    assignment: str
    lib: ModuleType
    source_nb: dict
    calls_digest: str
    source_digest: str

    def reference(self, seed: int) -> Reference:
        return reference_for(probe_folder(self.course, self.assignment), seed,
                             self.assignment, self.lib)


def current_assignment(course: Path, assignment: str, lib: ModuleType) -> Current:
    path = course / "source" / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        raise RegradeError(f"no source notebook at {path}; regrade needs the instructor's "
                           "source/ folder of the course that was graded")
    source_nb = json.loads(path.read_text(encoding="utf-8"))
    calls = probe_folder(course, assignment) / "calls.py"
    return Current(course, assignment, lib, source_nb,
                   ev.file_digest(calls if calls.is_file() else None), ev.source_digest(source_nb))


def rerun_reasons(cur: Current, student: str, evidence: Mapping | None) -> list[str]:
    """Why the submission must run in the sandbox again; empty: judge the stored data."""
    if evidence is None:
        return ["no stored evidence (graded before evidence was kept)"]
    reasons = []
    if evidence.get("source_digest") != cur.source_digest:
        reasons.append("the source notebook changed")
    folder = cur.course / "submitted" / student / cur.assignment
    if ev.submission_digest(folder) != evidence.get("submission_digest"):
        reasons.append("the submission changed since it was graded")
    if evidence.get("calls_digest") != cur.calls_digest:
        reasons.append("calls.py changed")
    ref = cur.reference(int(evidence["seed"]))
    stored = evidence.get("probes") or {}
    for name, now in ev.judged_with(ref).items():
        old = stored.get(name)
        if old is None or old.get("kind") != now["kind"]:
            reasons.append(f"probe {name} is new")
        elif now["kind"] == "library" and (old.get("inputs"), old.get("call")) != (
                now["inputs"], now["call"]):
            reasons.append(f"probe {name}: its inputs or its call changed")
        elif now["kind"] == "answer" and old.get("request") != now["request"]:
            reasons.append(f"answer probe {name}: what the notebook exports changed")
    if ref.probes and not evidence.get("outputs_kept", True):
        reasons.append("the probe outputs were too large to keep")
    if ref.answer_probes and not evidence.get("answers_kept", True):
        reasons.append("the exported answers were too large to keep")
    return reasons


def rejudge(cur: Current, evidence: Mapping) -> tuple[list[dict], list[str], Reference]:
    """Cell rows and flags from the stored data, judged by the current probes."""
    ref = cur.reference(int(evidence["seed"]))
    verdicts = ev.probe_verdicts(ref, evidence) + ev.answer_verdicts(ref, evidence)
    nb_scores = {gid: (float(p), str(n))
                 for gid, (p, n) in (evidence.get("notebook_scores") or {}).items()}
    rows = verify.grade_cells(cur.assignment, grade_cells(cur.source_nb), verdicts, nb_scores,
                              unprobed=evidence.get("unprobed", "notebook"),
                              notebook_incomplete=evidence.get("notebook_incomplete", ""))
    flags = list(evidence.get("run_flags") or [])
    for row in rows:
        flags += [f"{row.grade_id}: {f}" for f in row.flags
                  if f.startswith(("integrity", "unverified"))]
    return [asdict(r) for r in rows], flags, ref


def _why_cell(row: Mapping, old_probes: Mapping, now: Mapping) -> str:
    """What changed in the judging of one cell's probes, in an instructor's words."""
    parts = []
    for probe in row.get("probes") or []:
        name = probe["name"]
        old, cur = old_probes.get(name) or {}, now.get(name) or {}
        if old.get("rtol") != cur.get("rtol"):
            parts.append(f"probe {name}: tolerance {_num(old.get('rtol'))} -> "
                         f"{_num(cur.get('rtol'))}")
        if old.get("atol") != cur.get("atol"):
            parts.append(f"probe {name}: absolute tolerance {_num(old.get('atol'))} -> "
                         f"{_num(cur.get('atol'))}")
        if old.get("reference") != cur.get("reference"):
            what = "expected answer" if cur.get("kind") == "answer" else "reference output"
            parts.append(f"probe {name}: {what} changed")
    gone = [n for n, p in old_probes.items() if p.get("grade_id") == row["grade_id"]
            and n not in now]
    parts += [f"probe {n} removed" for n in gone]
    if not row.get("probes"):
        # No probe decides it: the rule that gave its points says why they moved.
        parts += [f for f in row.get("flags") or [] if f.startswith("unverified")]
    return "; ".join(parts) or "judged again with the current probes"


# --------------------------------------------------------------------------- changes

def cell_changes(old_cells: list[dict], new_cells: list[dict], reason: Callable[[dict], str],
                 student_reason: str, no_decrease: bool) -> list[CellChange]:
    """Compare per-cell points; with ``no_decrease`` raise lowered cells back (in place)."""
    old = {c["grade_id"]: c for c in old_cells}
    changes = []
    for row in new_cells:
        if row.get("kind") != "test":
            continue
        before = old.get(row["grade_id"], {}).get("points")
        after = row.get("points")
        if before == after:
            continue
        change = CellChange(row["grade_id"], before, after, reason(row), student_reason)
        if no_decrease and before is not None and (after is None or after < before):
            row["points"] = before
            change.new, change.kept = before, True
        changes.append(change)
    return changes


def test_score(cells: list[dict]) -> float:
    return float(sum(c["points"] for c in cells if c.get("kind") == "test"
                     and c.get("points") is not None))


def regrade_section(run_id: str, new: StudentRegrade, no_decrease: bool) -> dict:
    return {"id": run_id, "at": _now().isoformat(timespec="seconds"), "mode": new.mode,
            "old_score": new.old_score, "new_score": new.new_score,
            "max_score": new.max_score, "no_decrease": no_decrease,
            "why_re_run": new.why_re_run, "changes": [asdict(c) for c in new.changes]}


def new_result(record: Mapping, fresh: Mapping, regrade: dict) -> dict:
    """The result to record: ``fresh`` (cells, evidence, ...) with the regrade history."""
    result = {k: v for k, v in record.items() if k != "recorded_at"}
    result.update(fresh)
    history = list(record.get("regrade_history") or [])
    if record.get("regrade"):
        history.append(record["regrade"])
    result["regrade"], result["regrade_history"] = regrade, history
    result["score"] = test_score(result["cells"])
    return result


# --------------------------------------------------------------------------- the report file

class ReportFile:
    """The change report, one student per row, written as each student is committed.

    ``regrade-<id>.partial.csv`` while the run is under way (the students it
    lists are done: the resume point), renamed to ``regrade-<id>.csv`` at the
    end; a dry run writes ``regrade-<id>-dry-run.csv`` and never resumes.
    """

    def __init__(self, folder: Path, run_id: str, *, dry_run: bool, no_decrease: bool,
                 done: set[str] | None = None):
        self.folder, self.run_id = folder, run_id
        self.dry_run, self.no_decrease = dry_run, no_decrease
        self.done = set(done or ())
        suffix = "-dry-run.csv" if dry_run else ".partial.csv"
        self.partial = folder / f"regrade-{run_id}{suffix}"
        self.final = folder / (f"regrade-{run_id}-dry-run.csv" if dry_run
                               else f"regrade-{run_id}.csv")
        if not self.partial.exists():
            folder.mkdir(parents=True, exist_ok=True)
            self._append(list(REPORT_COLUMNS))

    @classmethod
    def open(cls, course: Path, assignment: str, *, dry_run: bool,
             no_decrease: bool) -> ReportFile:
        """Resume the unfinished regrade of ``assignment``, if any, else start one."""
        folder = course / RECORDS / assignment
        unfinished = [] if dry_run else sorted(folder.glob("regrade-*.partial.csv"))
        if unfinished:
            path = unfinished[-1]
            with path.open(newline="", encoding="utf-8") as fh:
                rows = list(csv.DictReader(fh))
            if rows and rows[0]["no_decrease"] != ("yes" if no_decrease else "no"):
                raise RegradeError(
                    f"an unfinished regrade ({path.name}) was started "
                    f"{'with' if rows[0]['no_decrease'] == 'yes' else 'without'} "
                    "--no-decrease; run it again with the same options to finish it, or "
                    "delete that file to start over")
            run_id = path.name[len("regrade-"):-len(".partial.csv")]
            return cls(folder, run_id, dry_run=False, no_decrease=no_decrease,
                       done={r["student"] for r in rows if r.get("no_decrease")})
        run_id = _now().strftime("%Y%m%dT%H%M%SZ")
        n = 1
        while any(folder.glob(f"regrade-{run_id}{'' if n == 1 else f'-{n}'}*.csv")):
            n += 1
        return cls(folder, run_id if n == 1 else f"{run_id}-{n}", dry_run=dry_run,
                   no_decrease=no_decrease)

    def _append(self, row: list[str]) -> None:
        with self.partial.open("a", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerow(row)
            fh.flush()
            os.fsync(fh.fileno())

    def add(self, line: StudentRegrade) -> None:
        self._append(line.row(self.no_decrease))
        self.done.add(line.student)

    def finish(self) -> Path:
        if self.partial != self.final:
            os.replace(self.partial, self.final)
        return self.final


def _from_section(student: str, section: Mapping) -> StudentRegrade:
    """A report line rebuilt from a record committed before an interruption."""
    changes = [CellChange(**c) for c in section.get("changes") or []]
    return StudentRegrade(student, section.get("mode", RE_JUDGED),
                          float(section.get("old_score") or 0.0),
                          float(section.get("new_score") or 0.0),
                          float(section.get("max_score") or 0.0), changes,
                          list(section.get("why_re_run") or []))


# --------------------------------------------------------------------------- running again

def scratch_course(course: Path, assignment: str, run_id: str, db: str | None) -> Path:
    """A course to grade into that shares ``submitted/`` (a link) with ``course``
    and has its own copies of the source, the probes and the gradebook."""
    scratch = course / RECORDS / assignment / f".regrade-{run_id}"
    for name in ("source", "probes"):
        # Copied afresh each time: a resumed regrade runs with the course as it is now.
        src, dest = course / name / assignment, scratch / name / assignment
        shutil.rmtree(dest, ignore_errors=True)
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    if not (scratch / "submitted").exists():
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / "submitted").symlink_to(course / "submitted", target_is_directory=True)
    gradebook = course / GRADEBOOK_FILE
    if db is None and gradebook.is_file() and not (scratch / GRADEBOOK_FILE).exists():
        shutil.copyfile(gradebook, scratch / GRADEBOOK_FILE)  # no schema to build again
    return scratch


def run_again(course: Path, assignment: str, todo: Mapping[str, tuple[dict, dict | None]],
              scratch: Path, *, grader_kwargs: Mapping, jobs: int | None,
              scheduler: str | None, progress: bool) -> dict[str, dict]:
    """Grade ``todo`` (student -> (record, evidence)) again in ``scratch`` on Dask,
    with each one's recorded seed and limits; return the fresh results."""
    from autograder.grading.schedule import grade_class

    groups: dict[str, list[str]] = {}
    for student, (record, evidence) in todo.items():
        key = json.dumps([evidence.get("seed") if evidence else None,
                          (record.get("limits") or {}).get("requested")], sort_keys=True)
        groups.setdefault(key, []).append(student)
    for key, students in groups.items():
        seed, limits = json.loads(key)
        kwargs = dict(grader_kwargs)
        if seed is not None:
            kwargs.setdefault("seed", seed)
        if limits:
            kwargs.setdefault("limits", limits)
        # The scratch course is hidden from the sandbox as the graded course; the
        # real one (which holds it) must be too.
        kwargs["hide"] = (*kwargs.get("hide", ()), str(course))
        summary = grade_class(scratch, assignment, students=students, jobs=jobs, force=True,
                              scheduler=scheduler, grader_kwargs=kwargs, progress=progress)
        if summary.interrupted:
            raise KeyboardInterrupt
    return {s: _fresh(scratch, assignment, s) for s in todo}


def _fresh(scratch: Path, assignment: str, student: str) -> dict | None:
    """A result as ``Recorder.record`` takes it, from the scratch course's files."""
    record = load_record(scratch, assignment, student)
    if record is None:
        return None
    folder = scratch / "autograded" / student / assignment
    notebooks = {}
    for name in record.get("notebook_files") or []:
        try:
            notebooks[Path(name).stem] = json.loads((folder / name).read_text("utf-8"))
        except (OSError, ValueError):
            continue
    keep = ("status", "error", "error_source", "cells", "score", "max_score",
            "manual_max_score", "flags", "notes", "limits", "timings", "started",
            "submission_digest")
    fresh = {k: record[k] for k in keep if k in record}
    fresh["notebooks"] = notebooks
    fresh["evidence"] = ev.load_evidence(scratch, assignment, student)
    return fresh


# --------------------------------------------------------------------------- one student

@dataclass
class Outcome:
    """One student decided: the report line, and what to write (nothing in a dry run)."""

    line: StudentRegrade
    result: dict | None = None      # a new record to commit (gradebook, evidence, record)
    evidence: dict | None = None    # or only the evidence, judged with the current probes


def decide(cur: Current, record: dict, evidence: dict | None, why: list[str],
           fresh: dict | None, run_id: str, no_decrease: bool) -> Outcome:
    """Compare the old record with the re-judged (or freshly graded) cells."""
    student = record["student"]
    old_score = float(record.get("score") or 0.0)
    if why:
        if fresh is None or fresh.get("status") != "graded":
            error = (fresh or {}).get("error") or "no result came back"
            return Outcome(StudentRegrade(student, f"{RE_RUN} failed", old_score, old_score,
                                          float(record.get("max_score") or 0.0), [],
                                          [*why, f"not changed: {error}"]))
        mode, cells, student_reason = RE_RUN, fresh["cells"], STUDENT_RERUN
        part = dict(fresh)

        def reason(row):
            return "re-run: " + "; ".join(why)
    else:
        cells, flags, ref = rejudge(cur, evidence)
        now = ev.judged_with(ref)
        mode, student_reason = RE_JUDGED, STUDENT_REJUDGED
        part = {"cells": cells, "flags": flags, "evidence": {**evidence, "probes": now}}

        def reason(row):
            return _why_cell(row, evidence.get("probes") or {}, now)
    changes = cell_changes(record.get("cells") or [], cells, reason, student_reason,
                           no_decrease)
    line = StudentRegrade(student, mode if changes or mode == RE_RUN else UNCHANGED, old_score,
                          test_score(cells), float(part.get("max_score",
                                                            record.get("max_score")) or 0.0),
                          changes, list(why))
    if line.mode == UNCHANGED and part["flags"] == record.get("flags"):
        return Outcome(line, evidence=part["evidence"])
    # Points or flags moved (an integrity finding can appear or go): a new record.
    result = new_result(record, part, regrade_section(run_id, line, no_decrease))
    return Outcome(line, result=result)


def _commit(recorder: Recorder, course: Path, assignment: str, outcome: Outcome) -> None:
    """Write one student: gradebook row, evidence, then the record (atomically, last)."""
    if outcome.result is not None:
        recorder.record(outcome.result)
    elif outcome.evidence is not None:
        write_atomic(ev.evidence_path(course, assignment, outcome.line.student),
                      json.dumps(outcome.evidence))


# --------------------------------------------------------------------------- the command

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
                report.add(_from_section(student, section))
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


# --------------------------------------------------------------------------- shown by export

CSV_COLUMNS = ("old_score", "new_score", "changed")


def latest_change(record: Mapping) -> dict:
    """The latest regrade section of ``record`` that changed a cell, or {}."""
    sections = [record.get("regrade") or {}, *reversed(record.get("regrade_history") or [])]
    return next((s for s in sections if s.get("changes")), {})


def csv_cells(records: list[Mapping]) -> list[str]:
    """One student's ``old_score``, ``new_score`` (autograded points, over the
    assignments exported) and ``changed`` (each regraded cell, with the date)."""
    graded = [r for r in records if r.get("status") == "graded"]
    new = sum(float(r.get("score") or 0.0) for r in graded)
    old = sum(float(latest_change(r).get("old_score", r.get("score")) or 0.0) for r in graded)
    changed = []
    for r in graded:
        section = latest_change(r)
        for c in section.get("changes") or []:
            kept = " (kept: no decrease)" if c.get("kept") else ""
            changed.append(f"{r['assignment']} {str(section.get('at', ''))[:10]}: "
                           f"{c['grade_id']}: {_num(c.get('old'))} -> {_num(c.get('new'))}"
                           f"{kept} ({c.get('reason', '')})")
    return [_num(old), _num(new), "; ".join(changed)]


def any_regraded(records) -> bool:
    return any(latest_change(r) for r in records)


def feedback_notice(record: Mapping) -> str:
    """The feedback page's note on the latest regrade, as HTML ("" when none changed
    a cell). Student-safe: questions and points, never a probe or a tolerance."""
    import html

    section = latest_change(record)
    changes = section.get("changes") or []
    if not changes:
        return ""
    esc = html.escape
    when = esc(str(section.get("at", ""))[:10])
    rows = "".join(
        f"<tr><td>{esc(str(c['grade_id']))}</td><td>{_num(c.get('old'))}</td>"
        f"<td>{_num(c.get('new'))}</td><td>{esc(str(c.get('student_reason', '')))}"
        f"{' (your higher score was kept)' if c.get('kept') else ''}</td></tr>"
        for c in changes)
    return (f'<div class="regrade"><p class="points">Your grade changed on {when}: '
            f"from {_num(section.get('old_score'))} to {_num(section.get('new_score'))} "
            "autograded points.</p><table><tr><th>question</th><th>before</th>"
            f"<th>after</th><th>why</th></tr>{rows}</table></div>")
