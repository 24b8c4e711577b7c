"""The change report of a regrade: one line per student (which cells moved, from
what to what, and why), the file it is written to as each student is committed
(the resume point of an interrupted regrade), and the summary the command prints."""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.grading.plain_text import points_or_dash
from autograder.grading.record import RECORDS

RE_JUDGED, RE_RUN, UNCHANGED = "re-judged", "re-run", "unchanged"
REPORT_COLUMNS = ("student", "mode", "old_score", "new_score", "max_score", "changed",
                  "changes", "why_re_run", "no_decrease")


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
        return (f"{self.grade_id}: {points_or_dash(self.old)} -> "
                f"{points_or_dash(self.new)}{kept} ({self.reason})")


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
        return [self.student, self.mode,
                *map(points_or_dash, (self.old_score, self.new_score, self.max_score)),
                "yes" if self.changed else "no",
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
        run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
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


def from_section(student: str, section: Mapping) -> StudentRegrade:
    """A report line rebuilt from a record committed before an interruption."""
    changes = [CellChange(**c) for c in section.get("changes") or []]
    return StudentRegrade(student, section.get("mode", RE_JUDGED),
                          float(section.get("old_score") or 0.0),
                          float(section.get("new_score") or 0.0),
                          float(section.get("max_score") or 0.0), changes,
                          list(section.get("why_re_run") or []))
