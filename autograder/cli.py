"""``python -m autograder``: release, collect, grade, export, check, demo.

Each sub-command is a thin layer over one module (``release``, ``collect``,
``schedule``, ``export``, ``check``, ``demo``); ``--help`` on any of them
says what it takes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import REPO_ROOT
from autograder.grading.collect import CollectError
from autograder.grading.collect import Limits as CollectLimits
from autograder.similarity import cli as similarity_cli


def default_course() -> Path:
    """``./assignments`` when run from a checkout's root, else this checkout's course."""
    here = Path("assignments")
    return here if (here / "source").is_dir() else REPO_ROOT / "assignments"


def _course_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="the nbgrader course folder (default: assignments/)")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, collect, grade (sandboxed, in parallel on Dask) and export "
                    "the CS231n assignments.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("release", add_help=False,
                       help="regenerate the students' release from source",
                       description="Regenerate release/<assignment>/ from source/ "
                                   "(see python -m autograder.release.build --help).")
    p.add_argument("-h", "--help", action="store_true")

    p = sub.add_parser("collect", help="import submissions into submitted/<student>/<a>/",
                       description="Import submissions from a folder of per-student folders, "
                                   "an LMS download of zip files (or one bulk zip), or "
                                   "nbgrader's exchange. Bad archives are reported, not fatal.")
    p.add_argument("assignment", help="the assignment the submissions belong to")
    p.add_argument("source", nargs="?", type=Path,
                   help="a folder of student folders, a folder of files/zips, or a .zip")
    _course_option(p)
    p.add_argument("--kind", choices=("auto", "folders", "lms", "exchange"), default="auto",
                   help="how SOURCE is laid out (default: auto: a .zip or a folder of files "
                        "is an LMS download, a folder of folders is per-student folders)")
    p.add_argument("--exchange", type=Path, metavar="ROOT",
                   help="nbgrader's exchange root (implies --kind exchange)")
    p.add_argument("--course-id", default="cs231n",
                   help="course id inside the exchange (default: %(default)s)")
    p.add_argument("--pattern", help="regular expression for LMS file names with a named "
                                     "group (?P<student>...) and optionally (?P<filename>...)")
    p.add_argument("--roster", type=Path, help="CSV with student_id and lms_id columns "
                                               "mapping LMS keys to student ids")
    p.add_argument("--force", action="store_true", help="replace submissions already collected")
    p.add_argument("--max-file-mb", type=_positive_float, default=50.0,
                   help="largest file accepted, in MB (default: %(default)s)")

    p = sub.add_parser("grade", help="grade submissions in parallel on Dask",
                       description="Grade every (or the chosen) submission, sandboxed, on a "
                                   "local Dask cluster or an existing one. Results are written "
                                   "as each finishes; a re-run skips what is graded.")
    p.add_argument("assignment", nargs="?", help="grade only this assignment (default: all)")
    _course_option(p)
    p.add_argument("--student", action="append", metavar="ID",
                   help="grade only this student (repeatable)")
    p.add_argument("--jobs", "-j", type=_positive_int, default=None,
                   help="worker processes of the local cluster (default: number of cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use an existing Dask cluster, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--force", action="store_true", help="grade again what is already graded")
    p.add_argument("--db", metavar="URL",
                   help="nbgrader database URL (default: sqlite:///<course>/gradebook.db)")
    p.add_argument("--seed", type=int, help="seed of the hidden checks' inputs "
                                            "(default: a fresh one per run)")
    p.add_argument("--cell-timeout", type=_positive_float, metavar="S",
                   help="wall-clock seconds per notebook cell (default: 60)")
    p.add_argument("--timeout", type=_positive_float, metavar="S",
                   help="wall-clock seconds per submission (default: 600)")
    p.add_argument("--memory-mb", type=_positive_int, metavar="MB",
                   help="memory per sandboxed process (default: 2048)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--cold", action="store_true",
                   help="start every sandbox as new interpreters instead of forking it from "
                        "a pre-imported helper (slower; for comparison and diagnosis)")

    p = sub.add_parser("export", help="write grades.csv, Gradescope results and feedback",
                       description="Write the class CSV and Gradescope results.json files "
                                   "(to exports/ by default) and per-student HTML feedback "
                                   "(to feedback/), none of which reveal hidden tests.")
    p.add_argument("assignment", nargs="*", help="only these assignments (default: all)")
    _course_option(p)
    p.add_argument("--to", type=Path, metavar="DIR",
                   help="folder for grades.csv and gradescope/ (default: <course>/exports)")
    p.add_argument("--db", metavar="URL", help="nbgrader database URL")
    p.add_argument("--hidden-visibility", default="after_published",
                   choices=("hidden", "after_due_date", "after_published"),
                   help="Gradescope visibility of tests with hidden parts (default: %(default)s)")
    p.add_argument("--no-csv", action="store_true")
    p.add_argument("--no-gradescope", action="store_true")
    p.add_argument("--no-feedback", action="store_true")

    similarity_cli.add_parser(sub)

    p = sub.add_parser("check", add_help=False, help="a student's self-check of a workspace",
                       description="Run the visible tests of your notebooks "
                                   "(see python -m autograder check --help).")
    p.add_argument("-h", "--help", action="store_true")

    p = sub.add_parser("demo", add_help=False,
                       help="release, synthesise a class, grade it, export, summarise",
                       description="The whole pipeline on a synthetic class "
                                   "(see python -m autograder demo --help).")
    p.add_argument("-h", "--help", action="store_true")
    return parser


# Sub-commands that own their argument parsing get the rest of the line as is.
DELEGATED = {"release": "autograder.release.build", "check": "autograder.student.check",
             "demo": "autograder.demo.class_demo"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help") or not argv:
        build_parser().print_help()
        return 0 if argv else 2
    if argv[0] in DELEGATED:
        import importlib

        module = importlib.import_module(DELEGATED[argv[0]])
        rest = argv[1:]
        if argv[0] == "release" and "--course" not in rest and not any(
                a.startswith("--course=") for a in rest):
            rest = ["--course", str(default_course()), *rest]
        return module.main(rest)
    args = build_parser().parse_args(argv)
    if args.command == "similarity":
        return similarity_cli.run(args)
    course = args.course or default_course()
    return {"collect": _collect, "grade": _grade, "export": _export}[args.command](args, course)


def _collect(args, course: Path) -> int:
    from autograder.grading import collect

    limits = CollectLimits(max_file_bytes=int(args.max_file_mb * 2**20))
    kind = "exchange" if args.exchange else args.kind
    try:
        if kind == "exchange":
            if not args.exchange:
                raise CollectError("--kind exchange needs --exchange ROOT")
            report = collect.collect_exchange(args.exchange, args.course_id, course,
                                              args.assignment, force=args.force, limits=limits)
        else:
            if args.source is None:
                raise CollectError("give the folder or .zip to collect from (or --exchange)")
            if kind == "auto":
                src = args.source
                is_folders = src.is_dir() and any(
                    p.is_dir() and not p.name.startswith(".") for p in src.iterdir())
                kind = "folders" if is_folders else "lms"
            if kind == "folders":
                report = collect.collect_folders(args.source, course, args.assignment,
                                                 force=args.force, limits=limits)
            else:
                report = collect.collect_zips(args.source, course, args.assignment,
                                              pattern=args.pattern, roster=args.roster,
                                              force=args.force, limits=limits)
    except CollectError as exc:
        print(f"collect: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def _grade(args, course: Path) -> int:
    from autograder.grading.schedule import grade_class

    kwargs = {}
    if args.seed is not None:
        kwargs["seed"] = args.seed
    if args.cold:
        kwargs["warm"] = False
    limits = {k: v for k, v in (("cell_seconds", args.cell_timeout),
                                ("submission_seconds", args.timeout),
                                ("memory_bytes", args.memory_mb and args.memory_mb * 2**20))
              if v}
    if limits:
        from autograder.sandbox import Limits

        kwargs["limits"] = Limits(**limits)
    if not (course / "submitted").is_dir():
        print(f"grade: no submissions under {course / 'submitted'}; collect them first "
              "(python -m autograder collect).", file=sys.stderr)
        return 2
    try:
        summary = grade_class(course, args.assignment, students=args.student, jobs=args.jobs,
                              scheduler=args.scheduler, force=args.force, db=args.db,
                              grader_kwargs=kwargs, progress=not args.no_progress)
    except ValueError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    if summary.interrupted:
        print("grade: interrupted; every finished result is saved. Run the same command "
              "again to grade the rest.", file=sys.stderr)
        return 130
    return 0


def format_summary(summary) -> str:
    lines = [f"graded {len(summary.graded)}, errors {len(summary.errors)}, "
             f"skipped (already graded) {len(summary.skipped)}"
             + (f", in {summary.seconds:.1f} s ({summary.per_minute():.1f}/min on "
                f"{summary.workers} worker(s))" if summary.results else "")]
    for record in summary.errors:
        lines.append(f"  error {record['student']}/{record['assignment']}: "
                     f"{' '.join(str(record.get('error')).split())[:300]}")
    from autograder.grading.record import needs_attention

    for record in summary.graded:
        flags = [str(f) for f in record.get("flags") or [] if needs_attention(f)]
        if flags:
            lines.append(f"  flagged {record['student']}/{record['assignment']}: "
                         + "; ".join(flags)[:300])
    return "\n".join(lines)


def _export(args, course: Path) -> int:
    from autograder.grading.export import export_all

    if not (course / "grading").is_dir() and not args.db and not (
            course / "gradebook.db").exists():
        print(f"export: nothing graded under {course}; run python -m autograder grade first.",
              file=sys.stderr)
        return 2
    report = export_all(course, to=args.to, assignments=args.assignment or None, db=args.db,
                        hidden_visibility=args.hidden_visibility, csv_file=not args.no_csv,
                        gradescope=not args.no_gradescope, feedback=not args.no_feedback)
    print(report.summary())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

