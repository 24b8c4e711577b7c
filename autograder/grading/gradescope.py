"""One submission in Gradescope's autograder format (``results.json``), one test per
autograded cell. Cells that carry hidden tests (an nbgrader hidden-test region or
a trusted probe) get the ``hidden_visibility`` (``after_published`` by default)
and never show their output."""

from __future__ import annotations

from collections.abc import Mapping

from autograder.grading.assignment_info import AssignmentInfo
from autograder.grading.failed_checks import failed_checks
from autograder.grading.plain_text import ANSI, one_line, points_text, redact

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


def gradescope_results(record: Mapping, info: AssignmentInfo, *,
                       hidden_visibility: str = "after_published",
                       executed: Mapping[str, dict] | None = None) -> dict:
    """One submission in Gradescope's ``results.json`` format."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {VISIBILITIES}; "
                         f"got {hidden_visibility!r}.")
    rows = {r["grade_id"]: r for r in record.get("cells") or []}
    graded = record.get("status") == "graded"
    tests = []
    number = 0
    for name, cells in info.points.items():
        for gid, max_points in cells.items():
            autograded = gid in info.locked.get(name, {})
            if not autograded:
                continue  # written answers are graded by hand, not by Gradescope
            number += 1
            row = rows.get(gid, {})
            score = float(row.get("points") or 0.0) if graded else 0.0
            hidden = gid in info.hidden_ids
            if hidden:
                output = ("This question includes hidden tests; their details are not shown. "
                          f"Points: {points_text(score)} / {points_text(max_points)}.")
                failed = failed_checks(row, info.checks) if graded else []
                if failed:
                    output += " Failed hidden checks: " + "; ".join(failed) + "."
            elif not graded:
                output = "Not graded: " + one_line(record.get("error") or "unknown error")
            else:
                output = _cell_error_text((executed or {}).get(name), gid, info) or (
                    "Passed." if score >= max_points else "Failed.")
            tests.append({
                "name": gid, "number": str(number), "score": score,
                "max_score": float(max_points),
                "status": "passed" if score >= max_points > 0 else "failed",
                "output": output,
                "visibility": hidden_visibility if hidden else "visible",
            })
    result = {
        "score": sum(t["score"] for t in tests),
        "tests": tests,
        "visibility": "visible",
        "stdout_visibility": "hidden",
    }
    timings = record.get("timings") or {}
    seconds = timings.get("total") or timings.get("worker_seconds")
    if isinstance(seconds, (int, float)):
        result["execution_time"] = float(seconds)
    if not graded:
        result["output"] = "This submission could not be graded: " + one_line(
            record.get("error") or "unknown error")
    return result


def _cell_error_text(nb: Mapping | None, grade_id: str, info: AssignmentInfo) -> str:
    """The error a visible test cell raised, as plain text (hidden lines redacted)."""
    if not nb:
        return ""
    for cell in nb.get("cells", []):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") != grade_id:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
                return redact(ANSI.sub("", text), info.hidden_lines)[:2000]
    return ""
