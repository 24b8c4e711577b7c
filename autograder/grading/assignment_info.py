"""What the trusted side knows about an assignment: its notebooks, which cells are
autograded and which carry hidden tests, what each probe checks, what the
assignment is worth, and whether its hidden tests may be shown yet."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.course import cell_text, has_hidden_tests, hidden_lines, strip_hidden
from autograder.grading.plain_text import points_text
from autograder.grading.probes import load_probe_set, probe_folder
from autograder.grading.record import (
    assignment_notebooks,
    grade_cells,
    gradebook_url,
    open_gradebook,
)


def _probe_grade_ids(course: Path, assignment: str) -> set[str]:
    """grade_ids decided by library probes (``<course>/probes/<assignment>/``)."""
    try:
        return {p.grade_id for p in load_probe_set(probe_folder(course, assignment)).probes}
    except Exception:  # an unloadable probe folder still hides every grade cell's output
        return {c["grade_id"] for nb in assignment_notebooks(course, assignment).values()
                for c in grade_cells(nb)}


def _probe_checks(course: Path, assignment: str) -> dict[str, str]:
    """probe name -> the property it checks (``Probe.checks``), where the probe says."""
    try:
        found = load_probe_set(probe_folder(course, assignment))
    except Exception:  # an unloadable folder: the feedback names no property
        return {}
    return {p.name: p.checks for p in found.probes + found.answer_probes
            if getattr(p, "checks", "")}


#: The course's switch (``nbgrader_config.py``): after the assignment's due date in
#: the gradebook, the feedback shows each test cell with its hidden tests.
SHOW_HIDDEN_AFTER_DUE = ("Autograder", "show_hidden_tests_after_due")


def hidden_tests_shown(course: str | os.PathLike, assignment: str, db: str | None = None,
                       now: datetime | None = None) -> bool:
    """Whether the feedback of ``assignment`` may show its hidden tests: the course
    configuration's ``c.Autograder.show_hidden_tests_after_due`` is true and the
    assignment's due date (nbgrader's gradebook) has passed. No due date: never."""
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    except ConfigFileNotFound:
        return False
    section, key = SHOW_HIDDEN_AFTER_DUE
    if config.get(section, {}).get(key, False) is not True:
        return False
    if db is None and not (Path(course) / "gradebook.db").is_file():
        return False
    from nbgrader.api import MissingEntry

    with open_gradebook(gradebook_url(course, db)) as gb:
        try:
            due = gb.find_assignment(assignment).duedate
        except MissingEntry:
            return False
    if due is None:
        return False
    # nbgrader stores due dates as naive UTC
    return (now or datetime.now(timezone.utc)) >= due.replace(tzinfo=timezone.utc)


@dataclass
class AssignmentInfo:
    """What the trusted side knows about an assignment's notebooks."""

    notebooks: dict[str, dict]                 # name -> source notebook JSON
    locked: dict[str, dict[str, str]]          # name -> grade_id -> shown source
    hidden_ids: set[str]                       # grade_ids with hidden tests
    hidden_lines: list[str]                    # lines that must not appear anywhere
    points: dict[str, dict[str, float]]        # name -> grade_id -> max points
    checks: dict[str, str] = field(default_factory=dict)  # probe name -> what it checks
    # name -> grade_id -> the test cell with its hidden tests, and whether the
    # feedback shows it (after the due date, when the course's switch is on)
    full_source: dict[str, dict[str, str]] = field(default_factory=dict)
    show_hidden: bool = False

    @classmethod
    def load(cls, course: Path, assignment: str, *, show_hidden: bool = False
             ) -> AssignmentInfo:
        notebooks = assignment_notebooks(course, assignment)
        locked, hidden, lines, points = {}, set(_probe_grade_ids(course, assignment)), [], {}
        full: dict[str, dict[str, str]] = {}
        for name, nb in notebooks.items():
            locked[name], full[name] = {}, {}
            points[name] = {c.grade_id: c.max_points for c in grade_cells(nb)}
            for cell in nb.get("cells", []):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                source = cell_text(cell.get("source", ""))
                gid = meta.get("grade_id")
                if has_hidden_tests(source):
                    if gid:
                        hidden.add(gid)
                if gid and meta.get("locked") and not meta.get("solution"):
                    locked[name][gid] = strip_hidden(source)
                    if has_hidden_tests(source):
                        full[name][gid] = source
        # A line that also appears in the visible notebook reveals nothing.
        lines = list(dict.fromkeys(line for nb in notebooks.values()
                                   for line in hidden_lines(nb, min_length=8)))
        return cls(notebooks, locked, hidden, lines, points,
                   checks=_probe_checks(course, assignment), full_source=full,
                   show_hidden=show_hidden)


def assignment_maxima(info: AssignmentInfo, record: Mapping | None = None
                      ) -> tuple[float, float]:
    """(autograded, by hand) points of an assignment.

    A grading record carries both (``max_score``, ``manual_max_score``); an
    assignment nobody was graded on yet is read from its source notebooks.
    """
    if record is not None and "manual_max_score" in record:
        return float(record.get("max_score") or 0.0), float(record["manual_max_score"] or 0.0)
    auto = hand = 0.0
    for name, cells in info.points.items():
        for gid, points in cells.items():
            if gid in info.locked.get(name, {}):
                auto += points
            else:
                hand += points
    return auto, hand


def format_maxima(autograded: float, by_hand: float) -> str:
    """``"27 autograded + 6 by hand"``: how every report states what a score is out of."""
    text = f"{points_text(autograded)} autograded"
    return text + (f" + {points_text(by_hand)} by hand" if by_hand else "")
