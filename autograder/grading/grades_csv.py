"""The class CSV, ``grades.csv``: one row per student; one column per notebook (its
score in nbgrader's gradebook, manual grades included), the total, the maximum
split into its autograded and hand-graded parts (``max_total = max_autograded +
max_by_hand``), the flags worth a look
(:func:`autograder.grading.attention.attention_flags`), a per-student error
column and, after a regrade, its columns."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from autograder.grading import regrade_export
from autograder.grading.assignment_info import AssignmentInfo, assignment_maxima
from autograder.grading.attention import attention_flags
from autograder.grading.plain_text import one_line, points_text
from autograder.grading.record import gradebook_url, load_records, open_gradebook


def export_csv(course: str | os.PathLike, dest: str | os.PathLike, *,
               assignments: Iterable[str] | None = None, db: str | None = None) -> Path:
    """Write the class CSV; return its path."""
    from nbgrader.api import MissingEntry

    course, dest = Path(course), Path(dest)
    records = {}
    for rec in load_records(course):
        records.setdefault(rec["student"], []).append(rec)
    with open_gradebook(gradebook_url(course, db)) as gb:
        names = list(assignments) if assignments else [a.name for a in gb.assignments]
        columns = _notebook_columns(gb, names)
        maxima = _class_maxima(course, {a for a, _, _ in columns}, records)
        students = sorted({s.id for s in gb.students} | set(records))
        regraded = regrade_export.any_regraded(r for rs in records.values() for r in rs
                                        if r["assignment"] in names)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["student_id", *[c[2] for c in columns], "total", "max_total",
                             "max_autograded", "max_by_hand", "flags", "errors",
                             *(regrade_export.CSV_COLUMNS if regraded else ())])
            for student in students:
                row, total, max_total = [student], 0.0, 0.0
                for a, nb, _ in columns:
                    try:
                        sub = gb.find_submission_notebook(nb, a, student)
                        score, top = float(sub.score or 0.0), float(sub.max_score or 0.0)
                    except MissingEntry:
                        score, top = 0.0, float(gb.find_notebook(nb, a).max_score or 0.0)
                    row.append(points_text(score))
                    total += score
                    max_total += top
                recs = [r for r in records.get(student, []) if r["assignment"] in names]
                flags = sorted({f"{r['assignment']}: {f}" for r in recs
                                for f in attention_flags(r)})
                errors = [f"{r['assignment']}: {r.get('error')}" for r in recs
                          if r.get("status") != "graded"]
                auto = sum(maxima[a][0] for a in maxima)
                hand = sum(maxima[a][1] for a in maxima)
                writer.writerow([*row, *map(points_text, (total, max_total, auto, hand)),
                                 "; ".join(flags), "; ".join(one_line(e) for e in errors),
                                 *(regrade_export.csv_cells(recs) if regraded else ())])
    return dest


def _class_maxima(course: Path, assignments: Iterable[str],
                  records: Mapping[str, list[dict]]) -> dict[str, tuple[float, float]]:
    """Assignment -> (autograded, by hand) points, from any record of it or its notebooks."""
    first = {}
    for recs in records.values():
        for rec in recs:
            first.setdefault(rec["assignment"], rec)
    return {a: assignment_maxima(AssignmentInfo.load(course, a), first.get(a))
            for a in sorted(assignments)}


def _notebook_columns(gb, assignments: Iterable[str]) -> list[tuple[str, str, str]]:
    cols = []
    for a in sorted(assignments):
        try:
            notebooks = sorted(nb.name for nb in gb.find_assignment(a).notebooks)
        except Exception:
            continue
        for nb in notebooks:
            cols.append((a, nb, a if nb == a else f"{a}/{nb}"))
    return cols
