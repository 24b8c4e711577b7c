"""``python -m autograder regrade ASSIGNMENT``: the sub-command over ``grading.regrade``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import default_course


def add_regrade_parser(sub) -> argparse.ArgumentParser:
    """Add ``regrade`` to the sub-commands ``sub`` of the one command line."""
    p = sub.add_parser(
        "regrade", help="decide every graded submission again after a test or probe fix",
        description="Decide every graded submission of ASSIGNMENT again with the current "
                    "tests and probes. A changed tolerance, expected answer or reference "
                    "is judged from the data kept at grading, without running anything; "
                    "changed inputs or calls.py run the submission again in the sandbox. "
                    "Writes the records, the gradebook and a change report "
                    "(grading/ASSIGNMENT/regrade-<time>.csv); an interrupted regrade "
                    "resumes when run again.")
    p.add_argument("assignment", help="the assignment to regrade")
    p.add_argument("--course", type=Path, default=None, metavar="DIR",
                   help="the nbgrader course folder (default: assignments/)")
    p.add_argument("--no-decrease", action="store_true",
                   help="never lower a question's points (keep the higher of old and new)")
    p.add_argument("--dry-run", action="store_true",
                   help="write only the change report; no record or grade changes")
    p.add_argument("--jobs", "-j", type=int, default=None,
                   help="worker processes for submissions that must run again "
                        "(default: number of cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--db", metavar="URL",
                   help="nbgrader database URL (default: sqlite:///<course>/gradebook.db)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def run_regrade(args: argparse.Namespace) -> int:
    """Run the parsed ``regrade`` command; the exit status."""
    from autograder.grading.regrade import regrade
    from autograder.grading.regrade_report import RegradeError

    course = args.course or default_course()
    try:
        report = regrade(course, args.assignment, no_decrease=args.no_decrease,
                         dry_run=args.dry_run, jobs=args.jobs, scheduler=args.scheduler,
                         db=args.db, progress=not args.no_progress,
                         log=lambda line: print(line, file=sys.stderr))
    except RegradeError as exc:
        print(f"regrade: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("regrade: interrupted; every student written so far is consistent. Run the "
              "same command again to finish.", file=sys.stderr)
        return 130
    print(report.summary())
    return 0
