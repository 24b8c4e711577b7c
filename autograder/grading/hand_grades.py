"""The points and comments a grader gave written answers in formgrader, read from
nbgrader's gradebook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from autograder.grading.record import (
    GRADEBOOK_FILE,
    assignment_notebooks,
    grade_cells,
    gradebook_url,
    open_gradebook,
)


def hand_grades(course: Path, records: list[Mapping], db: str | None = None
                ) -> dict[tuple[str, str], dict[str, tuple[float | None, str]]]:
    """(student, assignment) -> written answer's grade_id -> (points, comment) a grader
    gave in formgrader (None: not graded yet), read from nbgrader's gradebook."""
    from nbgrader.api import MissingEntry

    out: dict = {}
    if not records or not (course / GRADEBOOK_FILE).exists() and db is None:
        return out
    with open_gradebook(gradebook_url(course, db)) as gb:
        for record in records:
            student, a = record["student"], record["assignment"]
            found = out.setdefault((student, a), {})
            for name, nb in assignment_notebooks(course, a).items():
                for cell in grade_cells(nb):
                    if cell.autograded:
                        continue
                    try:
                        score = gb.find_grade(cell.grade_id, name, a, student).manual_score
                    except MissingEntry:
                        continue
                    try:
                        comment = gb.find_comment(cell.grade_id, name, a, student)
                        text = comment.manual_comment or ""
                    except MissingEntry:
                        text = ""
                    found[cell.grade_id] = (score, text)
    return out
