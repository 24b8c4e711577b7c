"""The demo's regrade: probe tolerances loosened after grading, and what it changed.

The demo course is its own copy (``demo-output/course``), so its probe folder
may be edited: this module picks the question whose failures are closest to
passing on tolerances alone (every failed probe of the cell missed by a
relative error; the smallest such miss), loosens those probes' tolerances in
the copy's ``judge.py`` as an instructor would after finding them too
strict, runs ``python -m autograder regrade`` on it and exports again, so
that ``grades.csv`` and the feedback show the change. Nothing runs in a
sandbox: only the judging changed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from autograder.grading.probes import probe_folder
from autograder.grading.record import load_records

_REL_ERROR = re.compile(r"relative error ([0-9.eE+-]+) > ([0-9.eE+-]+)")


def closest_miss(records: Iterable[Mapping]) -> tuple[str, dict[str, tuple[float, float]]] | None:
    """The question closest to passing on tolerances alone: ``(grade_id, {probe:
    (largest relative error it was missed by, its tolerance)})``. Only cells whose
    every failed probe missed on its tolerance count (loosening gives them their
    points); the one with the smallest miss wins. None when there is none."""
    cells: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for record in records:
        for cell in record.get("cells") or []:
            failed = [p for p in cell.get("probes") or [] if not p.get("passed")]
            found = [_REL_ERROR.search(str(p.get("note", ""))) for p in failed]
            if not failed or not all(found) or any(p.get("kind") != "library" for p in failed):
                continue
            probes = cells.setdefault(cell["grade_id"], {})
            for probe, hit in zip(failed, found, strict=True):
                probes.setdefault(probe["name"], []).append(
                    (float(hit.group(1)), float(hit.group(2))))
    if not cells:
        return None
    gid = min(cells, key=lambda g: max(err for m in cells[g].values() for err, _ in m))
    return gid, {name: (max(err for err, _ in m), m[0][1]) for name, m in cells[gid].items()}


def loosen(course: Path, assignment: str, rtols: Mapping[str, float]) -> Path:
    """Set each named probe's tolerance in the course's ``judge.py`` (a copy's)."""
    judge = probe_folder(course, assignment) / "judge.py"
    judge.write_text(judge.read_text(encoding="utf-8") + (
        "\n\n# Loosened after grading (python -m autograder demo): the tolerance was too "
        "strict.\nimport dataclasses as _dataclasses  # noqa: E402\n\n"
        f"_LOOSENED = {dict(rtols)!r}\n"
        "PROBES = [_dataclasses.replace(p, rtol=_LOOSENED[p.name]) if p.name in _LOOSENED "
        "else p\n          for p in PROBES]\n"), encoding="utf-8")
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
    gid, probes = miss
    rtols = {name: float(f"{err * 1.5:.1g}") for name, (err, _) in probes.items()}
    loosen(course, assignment, rtols)
    log("")
    log(f"demo: after grading, the probes of {gid} get a looser tolerance ("
        + ", ".join(f"{n}: {probes[n][1]:g} -> {r:g}" for n, r in rtols.items())
        + f"); python -m autograder regrade {assignment}:")
    report = regrade(course, assignment, jobs=jobs)
    for line in report.summary().splitlines():
        log(f"  {line}")
    export_all(course, assignments=[assignment])
    log("demo: grades.csv and the feedback show the change (old_score, new_score, changed)")
    return report
