"""Decide one student again: what the fix needs (judge the stored data again or run
the submission again), the cells judged with the current probes, what changed
and why, and the record to write."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

from autograder.course import grade_cells
from autograder.grading import evidence as ev
from autograder.grading import verify
from autograder.grading.explain import cell_explainer
from autograder.grading.plain_text import points_or_dash
from autograder.grading.probes import probe_folder
from autograder.grading.reference import Reference, reference_for
from autograder.grading.regrade_report import (
    RE_JUDGED,
    RE_RUN,
    UNCHANGED,
    CellChange,
    RegradeError,
    StudentRegrade,
)

STUDENT_REJUDGED = "the hidden checks of this question were corrected"
STUDENT_RERUN = "your submission was graded again with corrected tests"


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
    seed = int(evidence["seed"])
    ref = cur.reference(seed)
    # the wrong outputs get the likely mistake's words, as at grading (a failure of the
    # catalogue costs the wording only, so its note goes nowhere)
    explain = cell_explainer(ref, seed, cur.assignment, cur.lib, notes=[])
    verdicts = ev.probe_verdicts(ref, evidence, explain) + ev.answer_verdicts(ref, evidence)
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
            parts.append(f"probe {name}: tolerance {points_or_dash(old.get('rtol'))} -> "
                         f"{points_or_dash(cur.get('rtol'))}")
        if old.get("atol") != cur.get("atol"):
            parts.append(f"probe {name}: absolute tolerance {points_or_dash(old.get('atol'))} -> "
                         f"{points_or_dash(cur.get('atol'))}")
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
    return {"id": run_id, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "mode": new.mode,
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
