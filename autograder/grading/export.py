"""Export grades: the step that writes every file an instructor hands out or reads.

* ``grades.csv`` (:mod:`autograder.grading.grades_csv`);
* ``gradescope/<assignment>/<student>/results.json``
  (:mod:`autograder.grading.gradescope`);
* ``feedback/<student>/<assignment>/<notebook>.html``
  (:mod:`autograder.grading.feedback_page`), with the points graders gave by
  hand (:mod:`autograder.grading.hand_grades`);
* ``class-report.html``: the instructor's class report
  (:mod:`autograder.grading.class_report`).

What each of them knows about an assignment is
:class:`autograder.grading.assignment_info.AssignmentInfo`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.assignment_info import AssignmentInfo, hidden_tests_shown
from autograder.grading.class_report import write_class_report
from autograder.grading.feedback_page import feedback_html
from autograder.grading.grades_csv import export_csv
from autograder.grading.gradescope import gradescope_results
from autograder.grading.hand_grades import hand_grades
from autograder.grading.record import load_records


@dataclass
class ExportReport:
    """The files an export wrote."""

    csv: Path | None = None
    gradescope: list[Path] = field(default_factory=list)
    feedback: list[Path] = field(default_factory=list)
    class_report: Path | None = None

    @property
    def class_view(self) -> Path | None:
        """The page with the class view (which mistakes, how often): the class report."""
        return self.class_report

    def summary(self) -> str:
        return (f"wrote {self.csv}\nwrote {len(self.gradescope)} Gradescope results.json "
                f"file(s)\nwrote {len(self.feedback)} HTML feedback file(s)"
                + (f"\nwrote {self.class_report} (the class report: scores, mistakes, "
                   "flags, errors, timings, links to the feedback)"
                   if self.class_report else ""))


def _executed_notebooks(course: Path, record: Mapping) -> dict[str, dict]:
    folder = course / "autograded" / record["student"] / record["assignment"]
    out = {}
    for name in record.get("notebook_files") or []:
        try:
            out[Path(name).stem] = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out


def export_all(course: str | os.PathLike, *, to: str | os.PathLike | None = None,
               assignments: Iterable[str] | None = None, db: str | None = None,
               hidden_visibility: str = "after_published", csv_file: bool = True,
               gradescope: bool = True, feedback: bool = True) -> ExportReport:
    """Write the CSV, Gradescope files and HTML feedback for graded submissions.

    Parameters
    ----------
    course : path
        The course root.
    to : path, optional
        Folder for ``grades.csv`` and ``gradescope/`` (default ``<course>/exports``).
        Feedback always goes to ``<course>/feedback/`` so nbgrader's
        ``release_feedback`` can hand it out.
    assignments : iterable of str, optional
        Only these assignments (default: all in the gradebook).
    """
    course = Path(course)
    out = Path(to) if to else course / "exports"
    wanted = set(assignments) if assignments else None
    report = ExportReport()
    if csv_file:
        report.csv = export_csv(course, out / "grades.csv", assignments=assignments, db=db)
    infos: dict[str, AssignmentInfo] = {}
    records = [r for r in load_records(course) if wanted is None or r["assignment"] in wanted]
    hand = hand_grades(course, records, db) if feedback else {}
    for record in records:
        record = dict(record, hand_grades=hand.get((record["student"], record["assignment"])))
        a = record["assignment"]
        if wanted is not None and a not in wanted:
            continue
        if a not in infos:  # once per assignment: the gradebook is read for its due date
            infos[a] = AssignmentInfo.load(
                course, a, show_hidden=hidden_tests_shown(course, a, db=db))
        info = infos[a]
        executed = _executed_notebooks(course, record)
        if gradescope:
            path = out / "gradescope" / a / record["student"] / "results.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(gradescope_results(
                record, info, hidden_visibility=hidden_visibility, executed=executed),
                indent=1), encoding="utf-8")
            report.gradescope.append(path)
        if feedback:
            for name in info.notebooks or executed or {a: None}:
                path = course / "feedback" / record["student"] / a / f"{name}.html"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(feedback_html(record, info, name, executed.get(name)),
                                encoding="utf-8")
                report.feedback.append(path)
    report.class_report = write_class_report(records, out / "class-report.html",
                                             course / "feedback")
    return report
