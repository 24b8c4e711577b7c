"""``python -m autograder similarity ASSIGNMENT``: the command line of the check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import COURSE_ROOT


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def add_parser(sub) -> argparse.ArgumentParser:
    """Add ``similarity`` to the sub-commands ``sub`` of the main parser."""
    from autograder.similarity.compare import COMMON_FRACTION
    from autograder.similarity.report import THRESHOLD
    from autograder.similarity.run import DEFAULT_TOP

    p = sub.add_parser(
        "similarity", help="rank pairs of students by overlap of their normalised code",
        description="Compare every pair of students' gap functions and answer cells "
                    "(names, comments, docstrings and layout removed; the release and "
                    "code most of the class shares subtracted) on Dask, and write a "
                    "ranked CSV and an HTML page showing the matching regions side by "
                    "side. A score is a reason to read two submissions, not a verdict.")
    p.add_argument("assignment", help="the assignment to check")
    p.add_argument("--course", type=Path, default=None, metavar="DIR",
                   help="the nbgrader course folder (default: assignments/)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="where similarity.csv and similarity.html go "
                        "(default: <course>/similarity/<assignment>)")
    p.add_argument("--jobs", "-j", type=_positive_int, default=None,
                   help="worker processes of the local cluster (default: number of cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--top", type=_positive_int, default=DEFAULT_TOP,
                   help="pairs shown side by side in the HTML (default: %(default)s)")
    p.add_argument("--threshold", type=_fraction, default=THRESHOLD,
                   help="score from which a pair is marked 'look closer' "
                        "(default: %(default)s)")
    p.add_argument("--common-fraction", type=_fraction, default=COMMON_FRACTION,
                   help="code found in more than this share of the class is not counted "
                        "(default: %(default)s)")
    return p


def run(args: argparse.Namespace) -> int:
    """Run the check as ``args`` say; print the top pairs and where the report is."""
    from autograder.similarity.compare import Settings
    from autograder.similarity.report import format_top, write_csv, write_html
    from autograder.similarity.run import similarity_check

    course = args.course or (Path("assignments") if Path("assignments/source").is_dir()
                             else COURSE_ROOT)
    out = args.out or course / "similarity" / args.assignment
    try:
        result = similarity_check(course, args.assignment, jobs=args.jobs,
                                  scheduler=args.scheduler, top=args.top,
                                  settings=Settings(common_fraction=args.common_fraction))
    except (ValueError, FileNotFoundError) as exc:
        print(f"similarity: {exc}", file=sys.stderr)
        return 2
    csv_path = write_csv(result, out / "similarity.csv", args.threshold)
    html_path = write_html(result, out / "similarity.html", args.threshold)
    print(format_top(result, threshold=args.threshold))
    print(f"similarity: {len(result.students)} students, {result.all_pairs} pairs in "
          f"{result.seconds['total']:.1f} s on {result.workers} worker(s); "
          f"{csv_path}, {html_path}")
    return 0
