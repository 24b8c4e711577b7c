"""Step 1 of grading one submission: the private copy and the notebook to run.

Everything here runs in the trusted process and reads only plain data: the
submitted files are copied with ``autograder.untrusted`` (no link followed,
regular files only, caps before reading), and the notebook is parsed as
JSON, never executed. The notebook that will run is rebuilt from the
student's answer cells and the instructor's source: locked and test cells
come back from the source *as released*, hidden tests removed, so no hidden
test ever enters the sandbox.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import (
    PACKAGE,
    SKIPPED_NAMES,
    SUBMISSION_CAPS,
    MiB,
    SubmissionCaps,
    cell_text,
    nbgrader_meta,
    strip_hidden,
)
from autograder.untrusted import (
    UntrustedFileError,
    copy_fd,
    open_dir,
    open_entry,
    read_capped,
    walk,
)


class SubmissionError(Exception):
    """The submission cannot be graded; the message is for the student."""


@dataclass
class PreparedSubmission:
    """The private copy of a submission, ready for the sandbox."""

    folder: Path                 # holds the submitted files and the rebuilt notebook
    notebook_name: str
    has_library: bool
    notes: list[str] = field(default_factory=list)


def copy_submission(src: Path, dest: Path, *, caps: SubmissionCaps = SUBMISSION_CAPS
                    ) -> list[str]:
    """Copy the regular files and folders of ``src`` into ``dest``, nothing else.

    Returns notes on what was left out; raises ``SubmissionError`` over the caps.
    """
    notes: list[str] = []
    files, left = caps.max_files, caps.max_bytes
    try:
        root = open_dir(src)
    except OSError:
        raise SubmissionError(f"no submission folder at {src.name}/") from None
    dest.mkdir(mode=0o755, parents=True, exist_ok=True)
    try:
        for entry in walk(root, skip=SKIPPED_NAMES.__contains__, notes=notes,
                          max_depth=caps.max_depth):
            files -= 1
            if files < 0:
                raise SubmissionError(f"more than {caps.max_files} files in the submission")
            target = dest / entry.rel
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            fd = open_entry(entry)
            try:
                left -= copy_fd(fd, str(target), left + 1)
            finally:
                os.close(fd)
            if left < 0:
                raise SubmissionError(
                    f"the submission is larger than {caps.max_bytes // MiB} MiB")
    except UntrustedFileError as exc:
        raise SubmissionError(str(exc)) from None
    finally:
        os.close(root)
    return notes


def parse_notebook(data: bytes, what: str) -> dict:
    """Decode a submitted notebook, raising SubmissionError with a clear message."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{what} is not UTF-8 text (byte {exc.start}); save it again "
                              "from Jupyter") from None
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SubmissionError(f"{what} is not valid notebook JSON ({exc}); it may be "
                              "damaged: download it again or save it from Jupyter") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError(f"{what} is JSON but not a Jupyter notebook (no list of cells)")
    return nb


def _released_text(source: str) -> str:
    """A cell's text as released, for spotting edits (whitespace at line ends ignored)."""
    return "\n".join(line.rstrip() for line in strip_hidden(source).splitlines()).strip()


def _is_restored(meta: dict) -> bool:
    """Cells nbgrader overwrites from the source: locked ones and test cells."""
    return bool(meta.get("locked")) or (bool(meta.get("grade")) and not meta.get("solution"))


def _fresh_cell(kind: str, source: str, metadata: dict) -> dict:
    cell = {"cell_type": kind, "metadata": metadata, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def _source_cells(source: dict) -> tuple[list[dict], dict[str, dict], set[str]]:
    cells = [c for c in source.get("cells", []) if isinstance(c, dict)]
    by_id = {}
    for c in cells:
        gid = nbgrader_meta(c).get("grade_id")
        if gid:
            by_id[gid] = c
    restored = {gid for gid, c in by_id.items() if _is_restored(nbgrader_meta(c))}
    return cells, by_id, restored


def _restored_cell(ref: dict) -> dict:
    """An instructor's cell as the student was given it: hidden tests removed."""
    return _fresh_cell(ref["cell_type"], strip_hidden(cell_text(ref.get("source"))),
                       {"nbgrader": dict(nbgrader_meta(ref))})


def rebuild_notebook(submitted: dict, source: dict) -> tuple[dict, list[str]]:
    """The notebook to run: the student's answers, the source's locked and test
    cells as released (hidden tests removed).

    Returns the notebook and notes (restored or re-inserted cells, stripped
    metadata) for the instructor.
    """
    notes: list[str] = []
    src_cells, by_id, restored_ids = _source_cells(source)
    out: list[tuple[str | None, dict]] = []
    seen: set[str] = set()
    for cell in submitted["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        gid = gid if isinstance(gid, str) else None
        if gid in by_id and gid not in seen:
            seen.add(gid)
            ref = by_id[gid]
            if gid in restored_ids:
                if _released_text(cell_text(cell.get("source"))) != _released_text(
                        cell_text(ref.get("source"))):
                    notes.append(f"cell {gid} was edited; restored from the source")
                out.append((gid, _restored_cell(ref)))
            else:
                out.append((gid, _fresh_cell(ref["cell_type"], cell_text(cell.get("source")),
                                             {"nbgrader": dict(nbgrader_meta(ref))})))
            continue
        if gid is not None:
            notes.append(f"a cell claiming grade_id {gid!r} lost its nbgrader metadata")
        out.append((None, _fresh_cell(cell["cell_type"], cell_text(cell.get("source")), {})))
    _reinsert_deleted(out, seen, src_cells, restored_ids, notes)
    cells = []
    for i, (_, cell) in enumerate(out):
        cell["id"] = f"cell-{i}"
        cells.append(cell)
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                               "language": "python"},
                "language_info": {"name": "python"}}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}, notes


def _reinsert_deleted(out: list, seen: set[str], src_cells: list[dict], restored_ids: set[str],
                      notes: list[str]) -> None:
    """Deleted cells come back after the nearest earlier source cell still present."""
    for k, ref in enumerate(src_cells):
        gid = nbgrader_meta(ref).get("grade_id")
        if gid not in restored_ids or gid in seen:
            continue
        notes.append(f"cell {gid} was deleted; re-inserted from the source")
        position = 0
        for prev in reversed(src_cells[:k]):
            pid = nbgrader_meta(prev).get("grade_id")
            hits = [i for i, (g, _) in enumerate(out) if pid and g == pid]
            if hits:
                position = hits[0] + 1
                break
        out.insert(position, (gid, _restored_cell(ref)))
        seen.add(gid)


def prepare_submission(submitted: Path, dest: Path, source_nb: dict, assignment: str, *,
                       caps: SubmissionCaps = SUBMISSION_CAPS) -> PreparedSubmission:
    """Copy ``submitted`` to ``dest`` and write the notebook to run there.

    Raises ``SubmissionError`` (the message is for the student) when there is
    nothing to grade.
    """
    if submitted.is_symlink() or not submitted.is_dir():
        raise SubmissionError(f"no submission folder submitted/{submitted.parent.name}/"
                              f"{submitted.name}/")
    notes = copy_submission(submitted, dest, caps=caps)
    name = f"{assignment}.ipynb"
    try:
        data = read_capped(dest, name, caps.max_notebook_bytes)
    except UntrustedFileError:
        if (dest / name).is_file():
            raise SubmissionError(f"{name} is larger than "
                                  f"{caps.max_notebook_bytes // MiB} MiB; clear its outputs"
                                  ) from None
        found = sorted(p.name for p in dest.glob("*.ipynb"))
        raise SubmissionError(
            f"the notebook {name} is missing from the submission"
            + (f" (found: {', '.join(found)}; rename yours to {name})" if found else "")
        ) from None
    prepared, rebuild_notes = rebuild_notebook(parse_notebook(data, name), source_nb)
    (dest / name).write_text(json.dumps(prepared))
    has_library = (dest / PACKAGE).is_dir()
    if not has_library:
        notes.append(f"the submission has no {PACKAGE}/ folder")
    return PreparedSubmission(dest, name, has_library, notes + rebuild_notes)
