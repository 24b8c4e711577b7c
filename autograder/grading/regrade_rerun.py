"""Run again the submissions a fix needs to run again: on the same Dask machinery as
``grade`` (``grade_class``), in a scratch course inside the course's
``grading/`` folder, so that nothing of the real course changes before the
commit and a dry run changes nothing at all."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from autograder.grading import evidence as ev
from autograder.grading.record import GRADEBOOK_FILE, RECORDS, load_record


def scratch_course(course: Path, assignment: str, run_id: str, db: str | None) -> Path:
    """A course to grade into that shares ``submitted/`` (a link) with ``course``
    and has its own copies of the source, the probes and the gradebook."""
    scratch = course / RECORDS / assignment / f".regrade-{run_id}"
    for name in ("source", "probes"):
        # Copied afresh each time: a resumed regrade runs with the course as it is now.
        src, dest = course / name / assignment, scratch / name / assignment
        shutil.rmtree(dest, ignore_errors=True)
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__"))
    if not (scratch / "submitted").exists():
        scratch.mkdir(parents=True, exist_ok=True)
        (scratch / "submitted").symlink_to(course / "submitted", target_is_directory=True)
    gradebook = course / GRADEBOOK_FILE
    if db is None and gradebook.is_file() and not (scratch / GRADEBOOK_FILE).exists():
        shutil.copyfile(gradebook, scratch / GRADEBOOK_FILE)  # no schema to build again
    return scratch


def run_again(course: Path, assignment: str, todo: Mapping[str, tuple[dict, dict | None]],
              scratch: Path, *, grader_kwargs: Mapping, jobs: int | None,
              scheduler: str | None, progress: bool) -> dict[str, dict]:
    """Grade ``todo`` (student -> (record, evidence)) again in ``scratch`` on Dask,
    with each one's recorded seed and limits; return the fresh results."""
    from autograder.grading.schedule import grade_class

    groups: dict[str, list[str]] = {}
    for student, (record, evidence) in todo.items():
        key = json.dumps([evidence.get("seed") if evidence else None,
                          (record.get("limits") or {}).get("requested")], sort_keys=True)
        groups.setdefault(key, []).append(student)
    for key, students in groups.items():
        seed, limits = json.loads(key)
        kwargs = dict(grader_kwargs)
        if seed is not None:
            kwargs.setdefault("seed", seed)
        if limits:
            kwargs.setdefault("limits", limits)
        # The scratch course is hidden from the sandbox as the graded course; the
        # real one (which holds it) must be too.
        kwargs["hide"] = (*kwargs.get("hide", ()), str(course))
        summary = grade_class(scratch, assignment, students=students, jobs=jobs, force=True,
                              scheduler=scheduler, grader_kwargs=kwargs, progress=progress)
        if summary.interrupted:
            raise KeyboardInterrupt
    return {s: _fresh(scratch, assignment, s) for s in todo}


def _fresh(scratch: Path, assignment: str, student: str) -> dict | None:
    """A result as ``Recorder.record`` takes it, from the scratch course's files."""
    record = load_record(scratch, assignment, student)
    if record is None:
        return None
    folder = scratch / "autograded" / student / assignment
    notebooks = {}
    for name in record.get("notebook_files") or []:
        try:
            notebooks[Path(name).stem] = json.loads((folder / name).read_text("utf-8"))
        except (OSError, ValueError):
            continue
    keep = ("status", "error", "error_source", "cells", "score", "max_score",
            "manual_max_score", "flags", "notes", "limits", "timings", "started",
            "submission_digest")
    fresh = {k: record[k] for k in keep if k in record}
    fresh["notebooks"] = notebooks
    fresh["evidence"] = ev.load_evidence(scratch, assignment, student)
    return fresh
