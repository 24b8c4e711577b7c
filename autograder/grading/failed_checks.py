"""What a student is told about a failed hidden check: the property it checks and
the likely mistake, never its inputs, expected values or code."""

from __future__ import annotations

from collections.abc import Mapping

from autograder.grading.class_view import mistake_title


def failed_checks(row: Mapping, checks: Mapping[str, str]) -> list[str]:
    """One line per failed probe of a cell: the property it checks and, when the
    grader named one, the class of the likely mistake. Never its inputs, its
    expected values or its code (those stay hidden until the due date)."""
    lines = []
    for probe in row.get("probes") or []:
        if probe.get("passed"):
            continue
        text = checks.get(probe.get("name"), "") or "a hidden check"
        if probe.get("diagnosis"):
            text += f" (likely mistake: {mistake_title(probe['diagnosis'])})"
        lines.append(text)
    return list(dict.fromkeys(lines))


def diagnosed_notes(row: Mapping) -> list[str]:
    """The notes of a cell's failed probes that name a likely mistake (one per
    mistake): what is wrong and where to look, never a hidden input."""
    notes = [p.get("note", "") for p in row.get("probes") or []
             if not p.get("passed") and p.get("diagnosis")]
    return list(dict.fromkeys(n for n in notes if n))
