"""``python -m autograder``: one command line for the course.

Instructors: ``release``, ``collect``, ``grade``, ``export``, ``demo``;
learners: ``lab`` and ``check``. Every sub-command's options are defined
here or next to the code they drive (``add_arguments``/``run`` in
``release.build``, ``student.check``, ``student.lab``); ``--help`` on any of
them says what it takes.

A user's mistake (an unknown assignment, a folder that does not exist,
grading before collecting) ends in one line on stderr and a non-zero status:
2 for a command line that cannot be right, 1 when there was nothing to do.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import COURSE_ROOT, default_course
from autograder.grading.regrade_cli import add_regrade_parser, run_regrade
from autograder.release import build as release_build
from autograder.similarity import cli as similarity_cli
from autograder.student import check as self_check
from autograder.student import lab as learner_lab

USAGE, NOTHING_DONE = 2, 1


def fail(command: str, message: str, status: int) -> int:
    """Say what went wrong in one line on stderr; return the exit status."""
    print(f"{command}: {' '.join(str(message).split())}", file=sys.stderr)
    return status


def course_assignments(course: Path) -> list[str]:
    """The assignments a course folder knows: its ``source/<a>/`` and ``release/<a>/``."""
    names = set()
    for stage in ("source", "release"):
        if (course / stage).is_dir():
            names |= {p.name for p in (course / stage).iterdir()
                      if p.is_dir() and not p.name.startswith(".")}
    return sorted(names)


def unknown_assignments(command: str, course: Path, wanted: list[str]) -> int | None:
    """A usage error if ``course`` is not a course or does not have every one of ``wanted``."""
    known = course_assignments(course)
    if not known:
        return fail(command, f"{course} is not a course folder (it has no source/<assignment>/ "
                             "folders); give the right one with --course DIR.", USAGE)
    unknown = [a for a in wanted if a not in known]
    if unknown:
        return fail(command, f"no assignment named {', '.join(map(repr, unknown))} in "
                             f"{course}; it has: {', '.join(known)}.", USAGE)
    return None


# --------------------------------------------------------------------------- parser

def _course_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="the nbgrader course folder (default: assignments/ of this "
                             "repository)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def _add_collect(sub) -> None:
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
    p.set_defaults(handler=_collect)


def _add_grade(sub) -> None:
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
                   help="nbgrader database URL (default: the course's gradebook.db)")
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
                        "a pre-imported process (slower; for comparison and diagnosis)")
    p.set_defaults(handler=_grade)


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="write grades.csv, Gradescope results and feedback",
                       description="Write the class CSV and Gradescope results.json files "
                                   "(to exports/ of the course by default) and per-student "
                                   "HTML feedback (to feedback/), none of which reveal hidden "
                                   "tests.")
    p.add_argument("assignment", nargs="*", help="only these assignments (default: all)")
    _course_option(p)
    p.add_argument("--to", type=Path, metavar="DIR",
                   help="folder for grades.csv and gradescope/ (default: exports/ of the "
                        "course)")
    p.add_argument("--db", metavar="URL", help="nbgrader database URL")
    p.add_argument("--hidden-visibility", default="after_published",
                   choices=("hidden", "after_due_date", "after_published"),
                   help="Gradescope visibility of tests with hidden parts (default: %(default)s)")
    p.add_argument("--no-csv", action="store_true")
    p.add_argument("--no-gradescope", action="store_true")
    p.add_argument("--no-feedback", action="store_true")
    p.set_defaults(handler=_export)


def _add_demo(sub) -> None:
    p = sub.add_parser("demo", help="release, synthesise a class, grade it, export, summarise",
                       description="Release the assignments into a demo course, synthesise a "
                                   "class (complete, partial, empty, wrong and hostile "
                                   "submissions), grade it in parallel, write the gradebook, "
                                   "CSV and feedback, and print a summary.")
    p.add_argument("--out", type=Path, default=Path("demo-output"),
                   help="the demo folder, replaced on each run (default: demo-output/ in "
                        "the current folder)")
    p.add_argument("--students", type=_positive_int, default=30,
                   help="class size per assignment (default: %(default)s)")
    p.add_argument("--jobs", "-j", type=_positive_int, default=None,
                   help="worker processes (default: number of cores)")
    p.add_argument("--assignment", action="append", metavar="NAME",
                   help="assignment(s) to grade (default: the first one released)")
    p.add_argument("--cell-timeout", type=_positive_float, default=20.0, metavar="S",
                   help="seconds per notebook cell (default: %(default)s)")
    p.add_argument("--timeout", type=_positive_float, default=180.0, metavar="S",
                   help="seconds per submission (default: %(default)s)")
    p.add_argument("--no-hostile", action="store_true",
                   help="leave the hostile submissions out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(handler=_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Release, collect, grade (sandboxed, in parallel on Dask) and export "
                    "the CS231n assignments; or work through them in JupyterLab (lab) and "
                    "check your work (check).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p = sub.add_parser("release", help="regenerate the students' release from source",
                       description=release_build.__doc__.split("\n\n")[0])
    release_build.add_arguments(p)
    p.set_defaults(handler=_release)
    _add_collect(sub)
    _add_grade(sub)
    _add_export(sub)
    p = sub.add_parser("check", help="a learner's self-check of their notebooks",
                       description="Run the visible tests of your notebooks and show the "
                                   "points earned. Hidden tests run only when your work is "
                                   "graded.")
    self_check.add_arguments(p)
    p.set_defaults(handler=self_check.run)
    p = sub.add_parser("lab", help="a learner's workspace in JupyterLab (make lab)",
                       description="Add the released notebooks and one library with every "
                                   "gap stubbed to your workspace (never overwriting your "
                                   "files), then open JupyterLab there with the course's "
                                   "settings.")
    learner_lab.add_arguments(p)
    p.set_defaults(handler=learner_lab.run)
    add_regrade_parser(sub).set_defaults(handler=run_regrade)
    similarity_cli.add_parser(sub).set_defaults(handler=similarity_cli.run)
    _add_demo(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] in ("-h", "--help"):
        parser.print_help(sys.stdout if argv else sys.stderr)
        return 0 if argv else USAGE
    args = parser.parse_args(argv)
    return args.handler(args)


# --------------------------------------------------------------------------- handlers

def _release(args) -> int:
    if args.course is None:
        args.course = default_course()
    return release_build.run(args)


def _collect(args) -> int:
    from autograder.grading import collect
    from autograder.grading.collect import CollectError
    from autograder.grading.collect import Limits as CollectLimits

    course = args.course or default_course()
    refused = unknown_assignments("collect", course, [args.assignment])
    if refused is not None:
        return refused
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
        return fail("collect", exc, USAGE)
    print(report.summary())
    if not report.imported and not report.skipped:
        return fail("collect", f"nothing imported from {args.source or args.exchange}.",
                    NOTHING_DONE)
    return 0


def _grade(args) -> int:
    from autograder.grading.schedule import find_submissions, grade_class

    course = args.course or default_course()
    refused = unknown_assignments("grade", course,
                                  [args.assignment] if args.assignment else [])
    if refused is not None:
        return refused
    try:
        jobs = find_submissions(course, args.assignment, args.student)
    except ValueError as exc:
        return fail("grade", exc, NOTHING_DONE)
    if not jobs:
        what = f"of {args.assignment} " if args.assignment else ""
        return fail("grade", f"no submissions {what}under {course / 'submitted'}; collect "
                             f"them first: python -m autograder collect "
                             f"{args.assignment or 'ASSIGNMENT'} DIR", NOTHING_DONE)
    try:
        summary = grade_class(course, args.assignment, students=args.student, jobs=args.jobs,
                              scheduler=args.scheduler, force=args.force, db=args.db,
                              grader_kwargs=_grader_kwargs(args),
                              progress=not args.no_progress)
    except ValueError as exc:
        return fail("grade", exc, USAGE)
    print(format_summary(summary))
    if summary.interrupted:
        print("grade: interrupted; every finished result is saved. Run the same command "
              "again to grade the rest.", file=sys.stderr)
        return 130
    return 0


def _grader_kwargs(args) -> dict:
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
    return kwargs


def format_summary(summary) -> str:
    from autograder.grading.attention import attention_flags

    lines = [f"graded {len(summary.graded)}, errors {len(summary.errors)}, "
             f"skipped (already graded) {len(summary.skipped)}"
             + (f", in {summary.seconds:.1f} s ({summary.per_minute():.1f}/min on "
                f"{summary.workers} worker(s))" if summary.results else "")]
    for record in summary.errors:
        lines.append(f"  error {record['student']}/{record['assignment']}: "
                     f"{' '.join(str(record.get('error')).split())[:300]}")
    for record in summary.graded:
        flags = attention_flags(record)
        if flags:
            lines.append(f"  flagged {record['student']}/{record['assignment']}: "
                         + "; ".join(flags)[:300])
    return "\n".join(lines)


def _export(args) -> int:
    from autograder.grading.export import export_all
    from autograder.grading.record import load_records

    course = args.course or default_course()
    refused = unknown_assignments("export", course, args.assignment)
    if refused is not None:
        return refused
    wanted = set(args.assignment or [])
    graded = [r for r in load_records(course) if not wanted or r["assignment"] in wanted]
    if not graded and not args.db:
        what = f" of {', '.join(sorted(wanted))}" if wanted else ""
        return fail("export", f"nothing graded{what} under {course} yet; run python -m "
                              "autograder grade first.", NOTHING_DONE)
    report = export_all(course, to=args.to, assignments=args.assignment or None, db=args.db,
                        hidden_visibility=args.hidden_visibility, csv_file=not args.no_csv,
                        gradescope=not args.no_gradescope, feedback=not args.no_feedback)
    print(report.summary())
    return 0


def _demo(args) -> int:
    from autograder.demo.class_demo import HONEST_KINDS, run_demo
    from autograder.release.build import ReleaseError

    if args.students < len(HONEST_KINDS):
        return fail("demo", f"--students must be at least {len(HONEST_KINDS)} (one of each "
                            f"kind: {', '.join(HONEST_KINDS)}); got {args.students}.", USAGE)
    if args.assignment:
        refused = unknown_assignments("demo", COURSE_ROOT, args.assignment)
        if refused is not None:
            return refused
    try:
        run_demo(args.out, students=args.students, jobs=args.jobs,
                 assignments=args.assignment, hostile=not args.no_hostile,
                 cell_seconds=args.cell_timeout, submission_seconds=args.timeout,
                 progress=not args.no_progress)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        return fail("demo", exc, USAGE)
    except ReleaseError as exc:
        return fail("demo", exc, NOTHING_DONE)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
