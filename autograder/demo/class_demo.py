"""``python -m autograder demo``: the whole pipeline on a synthetic class.

1. copy the course's sources (``gaps.toml``, ``nbgrader_config.py``,
   ``source/``, ``probes/``) into a fresh demo course and release it;
2. synthesise a class (30 students by default): complete, partial, empty and
   subtly wrong submissions (``autograder.demo.synth``) and hostile ones
   (``autograder.demo.hostile``);
3. grade them all in parallel on a local Dask cluster with a progress bar;
4. write the gradebook, the CSV, the Gradescope files and the feedback;
5. print a summary table: per kind of submission, how many, the mean and
   range of the scores, how many were flagged and how many ended in an error.

The demo course lives in ``demo-output/`` (or ``--out``), replaced on every run.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from autograder.course import COURSE_ROOT, LIBRARY_DIR, PACKAGE
from autograder.grading.assignment_info import format_maxima
from autograder.grading.attention import attention_flags
from autograder.release.build import release

# The kinds of honest submission, in the order students are dealt them.
HONEST_KINDS = ("complete", "partial", "empty", "wrong")
MARKER = ".autograder-demo"
COURSE_FILES = ("gaps.toml", "nbgrader_config.py")
COURSE_DIRS = ("source", "probes")


# --------------------------------------------------------------------------- course

def prepare_course(dest: Path, *, source_course: Path = COURSE_ROOT,
                   assignments: Iterable[str] | None = None, log=print) -> list[str]:
    """Copy the course's sources to ``dest`` and release them; return the assignments.

    ``dest`` is emptied first, but only if it is a previous demo folder (it
    holds the ``.autograder-demo`` marker) or empty, never any other folder.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        if not (dest / MARKER).exists():
            raise FileExistsError(f"{dest} exists and is not a demo folder; choose another "
                                  "--out or remove it yourself.")
        shutil.rmtree(dest)
    course = dest / "course"
    course.mkdir(parents=True)
    (dest / MARKER).write_text("created by python -m autograder demo; safe to delete\n")
    for name in COURSE_FILES:
        shutil.copy2(source_course / name, course / name)
    for name in COURSE_DIRS:
        if (source_course / name).is_dir():
            shutil.copytree(source_course / name, course / name,
                            ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    released = release(course, LIBRARY_DIR, assignments=list(assignments) if assignments
                       else None, log=log)
    return list(released)


def gap_functions(course: Path, assignment: str) -> dict[str, list[str]]:
    """The library functions holding ``assignment``'s gaps: ``{module: [function, ...]}``."""
    from autograder.release.gaps import find_gaps, read_gap_table

    row = next(r for r in read_gap_table(course / "gaps.toml") if r.name == assignment)
    out: dict[str, list[str]] = {}
    for module in row.modules:
        path = LIBRARY_DIR / f"{module}.py"
        names = out.setdefault(module, [])
        for gap in find_gaps(path.read_text(encoding="utf-8"), f"{PACKAGE}/{module}.py"):
            top = gap.function.split(".")[0]
            if top not in names:
                names.append(top)
    return out


def partial_functions(by_module: dict[str, list[str]]) -> list[str]:
    """What a partial submission fills in: every module's gaps but the last module's
    (half of the functions when there is one module)."""
    modules = list(by_module)
    if len(modules) > 1:
        return [f for m in modules[:-1] for f in by_module[m]]
    functions = by_module[modules[0]] if modules else []
    return functions[: max(1, len(functions) // 2)]


def _honest(course: Path, assignment: str, student: str, kind: str) -> None:
    from autograder.demo import synth

    by_module = gap_functions(course, assignment)
    functions = [f for names in by_module.values() for f in names]
    if kind == "complete":
        synth.make_submission(course, assignment, student, "reference")
    elif kind == "empty":
        synth.make_submission(course, assignment, student, "release")
    elif kind == "partial":
        synth.make_submission(course, assignment, student, "partial",
                              filled=partial_functions(by_module))
    elif kind == "wrong":
        backward = [f for f in functions if "backward" in f] + functions
        for name in backward:
            try:
                synth.make_submission(course, assignment, student, "wrong_backward",
                                      wrong_function=name)
                return
            except ValueError:
                continue  # no gradient line to change in this one; try the next
        synth.make_submission(course, assignment, student, "release")
    else:
        raise ValueError(f"unknown kind {kind!r}; expected one of {HONEST_KINDS}")


def synthesise_class(course: Path, assignment: str, students: int, *,
                     hostile: bool = True) -> dict[str, str]:
    """Write ``students`` submissions of ``assignment``; return ``{student: kind}``.

    Honest kinds are dealt round robin. With ``hostile``, every kind of
    ``autograder.demo.hostile`` takes the place of one honest student (as many as
    the class size allows beyond one student of each honest kind); hostile
    kinds are named ``hostile:<kind>``.
    """
    from autograder.demo import synth

    attacks: list[str] = []
    if hostile:
        from autograder.demo.hostile import HOSTILE

        attacks = list(HOSTILE)[: max(0, students - len(HONEST_KINDS))]
    plan = [HONEST_KINDS[i % len(HONEST_KINDS)] for i in range(students - len(attacks))]
    plan += [f"hostile:{kind}" for kind in attacks]
    dealt = {f"s{i:03d}-{kind.split(':')[-1].replace('_', '-')}": kind
             for i, kind in enumerate(plan, 1)}
    honest_ids = [s for s, k in dealt.items() if not k.startswith("hostile:")]
    for student in honest_ids:
        _honest(course, assignment, student, dealt[student])
    if not attacks:
        return dealt
    from autograder.demo.hostile import make_hostile

    # The honest starting points of the attacks live outside submitted/.
    bases = course.parent / "bases" / assignment
    for base_kind in ("reference", "release"):
        made = synth.make_submission(course, assignment, f"base-{base_kind}", base_kind)
        shutil.rmtree(bases / base_kind, ignore_errors=True)
        bases.mkdir(parents=True, exist_ok=True)
        shutil.move(str(made), bases / base_kind)
        shutil.rmtree(made.parent, ignore_errors=True)
    for student, kind in dealt.items():
        if not kind.startswith("hostile:"):
            continue
        attack = kind.split(":", 1)[1]
        from autograder.demo.hostile import HOSTILE

        make_hostile(bases / HOSTILE[attack].base, course / "submitted" / student / assignment,
                     attack, assignment=assignment, course_root=course,
                     other_students=honest_ids)
    return dealt


def expected_outcome(kind: str) -> str:
    """What correct grading gives a hostile kind (``full``, ``probed``, ``zero``, ``error``)."""
    if not kind.startswith("hostile:"):
        return ""
    from autograder.demo.hostile import HOSTILE

    return HOSTILE[kind.split(":", 1)[1]].expect


# --------------------------------------------------------------------------- summary

def meets_expectation(record: dict, expect: str) -> bool | None:
    """Whether a hostile submission's grade is what correct grading gives."""
    score = float(record.get("score") or 0.0)
    graded = record.get("status") == "graded"
    if expect == "full":
        return graded and score >= float(record.get("max_score") or 0.0) - 1e-9
    if expect == "zero":
        return score == 0.0
    if expect == "error":
        return not graded
    if expect == "probed":
        # Cells decided by library probes must keep their points; answers typed
        # into the notebook are lost, rightly, when the trick stopped the notebook.
        probed = sum(float(c.get("max_points") or 0.0) for c in record.get("cells") or []
                     if c.get("probes")
                     and all(p.get("kind", "library") == "library" for p in c["probes"]))
        return graded and score >= probed - 1e-9
    return None


def summarise(records: Iterable[dict], kinds: dict[str, str]) -> list[dict]:
    """One row per kind: count, mean/min/max score, maximum, flagged, errors.

    Hostile submissions get a row for all of them together and one per kind,
    with what correct grading gives (``expected``) and whether it did (``met``).
    """
    groups: dict[str, list[dict]] = {}
    for rec in records:
        kind = kinds.get(rec["student"], "?")
        if kind.startswith("hostile:"):
            groups.setdefault("hostile (all)", []).append(rec)
        groups.setdefault(kind, []).append(rec)
    order = [*HONEST_KINDS, "hostile (all)",
             *sorted(k for k in groups if k.startswith("hostile:"))]
    rows = []
    for kind in [k for k in order if k in groups]:
        recs = groups[kind]
        scores = [float(r.get("score") or 0.0) if r.get("status") == "graded" else 0.0
                  for r in recs]
        expect = expected_outcome(kind)
        verdicts = [meets_expectation(r, expect) for r in recs] if expect else []
        rows.append({
            "kind": kind, "count": len(recs), "mean": statistics.fmean(scores),
            "min": min(scores), "max": max(scores),
            "max_score": max(float(r.get("max_score") or 0.0) for r in recs),
            "manual_max_score": max(float(r.get("manual_max_score") or 0.0) for r in recs),
            "flagged": sum(1 for r in recs if attention_flags(r)),
            "errors": sum(1 for r in recs if r.get("status") != "graded"),
            "expected": expect,
            "met": ("yes" if all(verdicts) else "NO") if verdicts else "",
        })
    return rows


def format_table(rows: list[dict]) -> str:
    """The summary table; scores are autograded points, "of" says "autograded + by hand"."""
    head = (f"{'kind':<30} {'n':>3} {'mean':>7} {'min':>6} {'max':>6} {'of (auto + hand)':>16} "
            f"{'flagged':>7} {'errors':>6}  expected  met")
    lines = [head, "-" * len(head)]
    for r in rows:
        of = f"{r['max_score']:g} + {r.get('manual_max_score', 0.0):g}"
        lines.append(f"{r['kind']:<30} {r['count']:>3} {r['mean']:>7.2f} {r['min']:>6g} "
                     f"{r['max']:>6g} {of:>16} {r['flagged']:>7} {r['errors']:>6}"
                     f"  {r['expected']:<8}  {r['met']}")
    if rows:
        auto = max(r["max_score"] for r in rows)
        hand = max(r.get("manual_max_score", 0.0) for r in rows)
        lines.append(f"scores are out of {format_maxima(auto, hand)} (written answers, graded "
                     f"in formgrader); grades.csv's max_total counts both. Flagged: the "
                     f"submissions whose grades.csv flags column is not empty.")
    return "\n".join(lines)


# --------------------------------------------------------------------------- main

def run_demo(out: Path, *, students: int = 30, jobs: int | None = None,
             assignments: Iterable[str] | None = None, hostile: bool = True,
             cell_seconds: float = 20.0, submission_seconds: float = 180.0,
             progress: bool = True, log: Callable[[str], None] = print) -> dict:
    """Release, synthesise, grade, export; return what happened (for tests)."""
    from autograder.grading.export import export_all
    from autograder.grading.schedule import grade_class
    from autograder.sandbox import Limits

    t0 = time.monotonic()
    log(f"demo: releasing the assignments into {out / 'course'}")
    released = prepare_course(out, assignments=assignments, log=log)
    course = out / "course"
    chosen = list(assignments) if assignments else released[:1]
    kinds: dict[str, str] = {}
    for assignment in chosen:
        log(f"demo: synthesising {students} submissions of {assignment}")
        kinds.update(synthesise_class(course, assignment, students, hostile=hostile))
    from autograder.similarity.demo import run_demo_check
    run_demo_check(course, chosen, kinds, jobs=jobs, log=log)
    t_grade = time.monotonic()
    # Shorter limits than a real run's: every reference notebook cell takes
    # seconds, and the hostile loops should not dominate the demo's time.
    limits = Limits(cell_seconds=cell_seconds, submission_seconds=submission_seconds)
    summary = grade_class(course, None, jobs=jobs, progress=progress,
                          grader_kwargs={"limits": limits})
    grading_seconds = time.monotonic() - t_grade
    report = export_all(course, assignments=chosen)
    rows = summarise(summary.results, kinds)
    log("")
    log(format_table(rows))
    log("")
    log(f"demo: graded {len(summary.results)} submissions in {grading_seconds:.0f} s on "
        f"{summary.workers} worker(s) ({summary.per_minute():.1f} per minute); "
        f"total {time.monotonic() - t0:.0f} s")
    log(f"demo: gradebook {course / 'gradebook.db'}")
    log(f"demo: {report.summary().splitlines()[0]}")
    log(f"demo: feedback in {course / 'feedback'}")
    log(f"demo: class report {report.class_report} (scores, mistakes, flags, the slowest)")
    from autograder.demo.regrade_demo import show_regrade
    show_regrade(course, chosen[0], jobs=jobs, log=log)
    return {"course": course, "kinds": kinds, "summary": summary, "rows": rows,
            "export": report}
