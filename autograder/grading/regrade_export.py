"""What the export shows of a student's regrades: the class CSV's columns and the
feedback page's notice (student-safe: questions and points, never a probe)."""

from __future__ import annotations

from collections.abc import Mapping

from autograder.grading.plain_text import points_or_dash

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
                           f"{c['grade_id']}: {points_or_dash(c.get('old'))} -> "
                           f"{points_or_dash(c.get('new'))}"
                           f"{kept} ({c.get('reason', '')})")
    return [points_or_dash(old), points_or_dash(new), "; ".join(changed)]


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
        f"<tr><td>{esc(str(c['grade_id']))}</td><td>{points_or_dash(c.get('old'))}</td>"
        f"<td>{points_or_dash(c.get('new'))}</td><td>{esc(str(c.get('student_reason', '')))}"
        f"{' (your higher score was kept)' if c.get('kept') else ''}</td></tr>"
        for c in changes)
    return (f'<div class="regrade"><p class="points">Your grade changed on {when}: '
            f"from {points_or_dash(section.get('old_score'))} to "
            f"{points_or_dash(section.get('new_score'))} "
            "autograded points.</p><table><tr><th>question</th><th>before</th>"
            f"<th>after</th><th>why</th></tr>{rows}</table></div>")
