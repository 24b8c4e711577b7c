"""The program that runs inside the sandbox, next to the student's code:
``python -m autograder.inside.runner PHASE CONFIG ...``.

The sandbox sees only ``autograder/__init__.py`` and this folder, read-only;
what runs here needs nothing from the course or from the reference library,
only the standard library, numpy and the Jupyter client packages. Nothing it
writes is trusted: the grading process treats every file it leaves as hostile
input.

Two phases, each in a sandbox of its own (so nothing the notebook's code
did, not even killing this program, reaches the probes), driven by a JSON
config:

1. ``notebook CONFIG`` (:mod:`autograder.inside.notebook_phase`): execute
   the prepared notebook cell by cell, exporting the answers the answer
   probes read just before their test cell
   (:mod:`autograder.inside.answer_export`);
2. ``probes CONFIG`` (:mod:`autograder.inside.probe_phase`): run every
   probe's call in a *fresh* interpreter, ``probe-host CONFIG START FD``
   (:mod:`autograder.inside.probe_host`), restarted after a probe that hangs
   or kills it.

In a warm start the kernel and the probe host are forked from this process
(:mod:`autograder.inside.forks`, :mod:`autograder.inside.kernel_template`).
"""

from __future__ import annotations

import ctypes
import json
import sys
import time

from autograder.inside.notebook_phase import run_notebook_phase
from autograder.inside.probe_host import probe_host
from autograder.inside.probe_phase import run_probe_phase

# Set by autograder.sandbox.warm when this module runs in a pre-imported helper's
# fork: the kernel and the probe host are then forked from this process
# (whose imports are done) instead of started as new interpreters.
WARM = False


def _no_ptrace() -> None:
    """Make this process undumpable so the student's processes (same uid) cannot
    attach to it and rewrite what it reports."""
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    """``notebook CONFIG`` | ``probes CONFIG`` | ``probe-host CONFIG START FD``."""
    _no_ptrace()
    phase, config_path = argv[0], argv[1]
    with open(config_path) as fh:
        cfg = json.load(fh)
    cfg["config"] = config_path
    if phase == "probe-host":
        return probe_host(cfg, int(argv[2]), int(argv[3]))
    started = time.monotonic()
    if phase == "notebook":
        report = run_notebook_phase(cfg, warm=WARM)
        path = cfg["notebook_report"]
    elif phase == "probes":
        report = run_probe_phase(cfg, started + float(cfg["probe_total_seconds"]), warm=WARM)
        path = cfg["probe_report"]
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    report["total_seconds"] = round(time.monotonic() - started, 3)
    with open(path, "w") as fh:
        json.dump(report, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
