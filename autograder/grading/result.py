"""The record of one graded submission: what every later stage reads.

``GradeResult`` is built in one place (``autograder.grading.grade``) and
crosses to the recorder, the exporter and the Dask coordinator as plain JSON
(``to_json``); ``from_json`` reads it back for the reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

GRADED, ERROR = "graded", "error"


@dataclass
class GradeResult:
    """One submission's grade.

    ``cells`` holds one row per grade cell (``grade_id``, ``notebook``,
    ``kind``, ``points``, ``max_points``, ``notebook_points``, ``trusted``,
    ``flags``, ``probes``); ``score`` is out of ``max_score``, the autograded
    points; ``manual_max_score`` more are graded by hand. ``notebook`` is the
    executed notebook for feedback (sanitised, capped) or None.
    """

    student: str
    assignment: str
    status: str = GRADED
    error: str | None = None
    cells: list[dict] = field(default_factory=list)
    score: float = 0.0
    max_score: float = 0.0
    manual_max_score: float = 0.0
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    limits: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    # How the sandboxes started: "warm" (forked from a pre-imported helper)
    # or "cold" (new interpreters); scores never depend on it.
    started: str = "cold"
    notebook: dict | None = None
    # The plain data the verdict rests on (``autograder.grading.evidence``);
    # the recorder keeps it beside the record, never in the gradebook.
    evidence: dict | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> GradeResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def error_result(student: str, assignment: str, message: str, *, max_score: float = 0.0,
                 manual_max_score: float = 0.0, timings: dict | None = None,
                 limits: dict | None = None, notes: list[str] | None = None) -> GradeResult:
    """A submission that could not be graded; ``message`` is for the student."""
    return GradeResult(student, assignment, status=ERROR, error=message, max_score=max_score,
                       manual_max_score=manual_max_score, timings=dict(timings or {}),
                       limits=dict(limits or {}), notes=list(notes or []))
