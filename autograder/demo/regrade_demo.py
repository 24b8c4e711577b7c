"""The demo's regrade: a probe's tolerance loosened after grading, and what it changed.

The demo course is its own copy (``demo-output/course``), so its probe folder
may be edited: this module picks the library probe whose failures are closest
to passing (the smallest relative error any graded student missed it by),
loosens that probe's tolerance in the copy's ``judge.py`` as an instructor
would after finding it too strict, runs ``python -m autograder regrade`` on
it and exports again, so that ``grades.csv`` and the feedback show the change.
Nothing runs in a sandbox: only the judging changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from autograder.grading.probes import probe_folder
from autograder.grading.record import load_records

_REL_ERROR = re.compile(r"relative error ([0-9.eE+-]+) > ([0-9.eE+-]+)")


def closest_miss(records: Iterable[Mapping]) -> tuple[str, float, float] | None:
    """``(probe, largest error it was missed by, its tolerance)`` for the library probe
    whose smallest miss is smallest; None when no probe failed on its tolerance."""
    misses: dict[str, list[tuple[float, float]]] = {}
    for record in records:
        for cell in record.get("cells") or []:
            for probe in cell.get("probes") or []:
                found = _REL_ERROR.search(str(probe.get("note", "")))
                if probe.get("kind") == "library" and found:
                    misses.setdefault(probe["name"], []).append(
                        (float(found.group(1)), float(found.group(2))))
    if not misses:
        return None
    name = min(misses, key=lambda n: min(err for err, _ in misses[n]))
    return name, max(err for err, _ in misses[name]), misses[name][0][1]


def loosen(course: Path, assignment: str, probe: str, rtol: float) -> Path:
    """Set ``probe``'s tolerance to ``rtol`` in the course's ``judge.py`` (a copy's)."""
    judge = probe_folder(course, assignment) / "judge.py"
    judge.write_text(judge.read_text(encoding="utf-8") + (
        "\n\n# Loosened after grading (python -m autograder demo): the tolerance was too "
        "strict.\nimport dataclasses as _dataclasses  # noqa: E402\n\n"
        f"PROBES = [_dataclasses.replace(p, rtol={rtol!r}) if p.name == {probe!r} else p\n"
        "          for p in PROBES]\n"), encoding="utf-8")
    return judge


def show_regrade(course: Path, assignment: str, *, jobs: int | None = None,
                 log: Callable[[str], None] = print):
    """Loosen the closest-missed probe's tolerance, regrade, export; return the report."""
    from autograder.grading.export import export_all
    from autograder.grading.regrade import regrade

    records = [r for r in load_records(course, assignment) if r.get("status") == "graded"]
    miss = closest_miss(records)
    if miss is None:
        log(f"demo: regrade skipped: no probe of {assignment} failed on its tolerance")
        return None
    probe, error, rtol = miss
    new_rtol = float(f"{error * 1.5:.1g}")
    loosen(course, assignment, probe, new_rtol)
    log("")
    log(f"demo: after grading, probe {probe} of {assignment} gets tolerance {rtol:g} -> "
        f"{new_rtol:g}; python -m autograder regrade {assignment}:")
    report = regrade(course, assignment, jobs=jobs)
    for line in report.summary().splitlines():
        log(f"  {line}")
    export_all(course, assignments=[assignment])
    log("demo: grades.csv and the feedback show the change (old_score, new_score, changed)")
    return report
