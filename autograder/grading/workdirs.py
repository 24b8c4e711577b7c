"""Grading folders that a crash cannot leave behind for long.

Each grading of a submission works in ``WORK_ROOT/grade-<pid>_<start>_*``,
named after the process that made it (its pid and its start time, so a reused
pid is not mistaken for the owner). A worker that is killed mid-run never
removes its folder, which holds the probe inputs and the submission's copy:
``sweep`` removes every folder whose owner is gone, and the empty cgroups of
sandboxes that no process holds any more. ``grade`` sweeps when it starts and
when it ends.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from autograder.sandbox.cgroups import sweep_cgroups

WORK_ROOT = Path(tempfile.gettempdir()) / "cs231n-grading"
_OWNED = re.compile(r"^grade-(?P<pid>\d+)_(?P<start>\d+)_")


def _start_time(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = data[data.rindex(b")") + 2:].split()
    return int(fields[19])


def _root(work_root: str | os.PathLike | None) -> Path:
    root = Path(work_root) if work_root is not None else WORK_ROOT
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def grading_folder(work_root: str | os.PathLike | None = None) -> Iterator[Path]:
    """A private folder for one grading, removed afterwards."""
    pid = os.getpid()
    base = Path(tempfile.mkdtemp(prefix=f"grade-{pid}_{_start_time(pid) or 0}_",
                                 dir=_root(work_root)))
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def sweep(work_root: str | os.PathLike | None = None) -> list[str]:
    """Remove grading folders whose process is gone, and orphaned sandbox cgroups.

    Returns what was removed (paths), for the log.
    """
    removed = []
    root = _root(work_root)
    for path in sorted(root.iterdir()):
        match = _OWNED.match(path.name)
        if not match or path.is_symlink() or not path.is_dir():
            continue
        if _start_time(int(match["pid"])) == int(match["start"]):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(str(path))
    return removed + sweep_cgroups()
