"""Grading throughput: ``nbgrader autograde`` versus ``python -m autograder grade``.

The same class (40 submissions by default: complete, partial, empty and
subtly wrong, dealt in turn) is graded three times in one run, each time in a
fresh copy of the same released course:

* baseline: ``nbgrader autograde <assignment> --force``, one submission after
  another, no sandbox;
* ``python -m autograder grade <assignment> --jobs 1``;
* ``python -m autograder grade <assignment> --jobs 2``;
* ``python -m autograder grade <assignment> --jobs 2 --cold`` (every sandbox
  started as new interpreters instead of forked from the pre-imported
  helper: what the warm starts save);

all of ours with the sandbox and trusted verdicts on (the defaults). Wall
time covers each whole command (cluster start-up included). The report gives
submissions per minute, the ratios to nbgrader, whether the scores agree,
the measured per-submission costs and, from them, an estimate for 1,000
students on a 20-worker cluster.

    .venv/bin/python benchmarks/bench_grading.py [--students 40] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.demo.class_demo import prepare_course, synthesise_class
from autograder.grading.record import load_records
from autograder.release.build import nbgrader_env


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cores} cores ({model or platform.processor() or 'unknown CPU'}), "
            f"{mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def _load() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every figure."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, CPU seconds of it and all it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n"
                           f"{(done.stdout + done.stderr)[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def nbgrader_scores(course: Path, assignment: str) -> dict[str, float]:
    out = course / "nbgrader-grades.csv"
    subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(out)], cwd=course,
                   env=nbgrader_env(), check=True, capture_output=True)
    with out.open() as fh:
        return {r["student_id"]: float(r["raw_score"] or 0) for r in csv.DictReader(fh)
                if r["assignment"] == assignment}


def our_scores(course: Path, assignment: str) -> dict[str, float]:
    return {r["student"]: float(r.get("score") or 0.0) for r in load_records(course, assignment)}


def warm_helper_cost(repeats: int = 3) -> dict:
    """What one warm-start helper costs a worker once: start-up wall and CPU
    seconds (medians) and resident memory when ready."""
    from autograder.sandbox.warm import WarmStarter

    walls, cpus, rss = [], [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        starter = WarmStarter()
        walls.append(time.perf_counter() - t0)
        for line in Path(f"/proc/{starter.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss.append(int(line.split()[1]) / 1024)
        starter.close()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return {"start_seconds": statistics.median(walls), "start_cpu": statistics.median(cpus),
            "rss_mb": statistics.median(rss) if rss else float("nan")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--assignment", default=None,
                        help="assignment to grade (default: the first released)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cold-jobs", type=int, nargs="*", default=[2],
                        help="also run these job counts with --cold (none: skip)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary courses")
    parser.add_argument("--helper-only", action="store_true",
                        help="measure only what a warm-start helper costs a worker")
    args = parser.parse_args(argv)
    helper = warm_helper_cost()
    print(f"warm-start helper (once per worker): starts in {helper['start_seconds']:.2f} s "
          f"wall, {helper['start_cpu']:.2f} s CPU, {helper['rss_mb']:.0f} MB resident "
          "(median of 3)")
    if args.helper_only:
        return 0

    root = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        base = root / "base"
        released = prepare_course(base, assignments=[args.assignment] if args.assignment
                                  else None, log=lambda *_: None)
        assignment = args.assignment or released[0]
        kinds = synthesise_class(base / "course", assignment, args.students, hostile=False)
        print(f"machine: {machine()}")
        counts = ", ".join(f"{k}: {list(kinds.values()).count(k)}"
                           for k in sorted(set(kinds.values())))
        print(f"class: {args.students} submissions of {assignment} ({counts})")
        print(f"load average before: {_load()}")

        runs: dict[str, dict] = {}
        course = root / "nbgrader" / "course"
        shutil.copytree(base / "course", course)
        seconds, cpu = timed([sys.executable, "-m", "nbgrader", "autograde", assignment,
                              "--force"], course, nbgrader_env())
        runs["nbgrader autograde"] = {"seconds": seconds, "cpu": cpu,
                                      "scores": nbgrader_scores(course, assignment)}
        print(f"nbgrader autograde: {seconds:.1f} s; load average now {_load()}", flush=True)
        legs = [(jobs, False) for jobs in args.jobs] + [(jobs, True) for jobs in args.cold_jobs]
        for jobs, cold in legs:
            name = f"autograder --jobs {jobs}" + (" --cold" if cold else "")
            course = root / (f"jobs{jobs}" + ("-cold" if cold else "")) / "course"
            shutil.copytree(base / "course", course)
            seconds, cpu = timed([sys.executable, "-m", "autograder", "grade", assignment,
                                  "--course", str(course), "--jobs", str(jobs),
                                  "--no-progress", "--seed", "1"]
                                 + (["--cold"] if cold else []), Path.cwd())
            print(f"{name}: {seconds:.1f} s; load average now {_load()}", flush=True)
            records = load_records(course, assignment)
            started = sorted({str(r.get("started")) for r in records})
            runs[name] = {
                "seconds": seconds, "cpu": cpu, "scores": our_scores(course, assignment),
                "started": started,
                "worker_seconds": [(r.get("timings") or {}).get("worker_seconds", 0.0)
                                   for r in records],
                "sandbox_seconds": [sum(v for k, v in (r.get("timings") or {}).items()
                                        if k.startswith("sandbox")) for r in records],
                "in_force": (records[0].get("limits") or {}).get("in_force", {}) if records
                else {},
                "jobs": jobs,
            }
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print(f"courses kept in {root}")

    print(f"load average after: {_load()}")
    n = args.students
    base_rate = 60.0 * n / runs["nbgrader autograde"]["seconds"]
    print()
    print("| grader | sandboxes started | wall time (s) | submissions / min | vs nbgrader "
          "| CPU s / submission | scores equal nbgrader's |")
    print("|---|---|---|---|---|---|---|")
    baseline = runs["nbgrader autograde"]["scores"]
    figures = {"machine": machine(), "students": n, "assignment": assignment, "runs": {},
               "warm_helper": helper,
               "load_after": _load()}
    for name, run in runs.items():
        rate = 60.0 * n / run["seconds"]
        same = sum(1 for s, v in run["scores"].items() if abs(baseline.get(s, -1) - v) < 1e-9)
        print(f"| {name} | {', '.join(run.get('started', ['-']))} | {run['seconds']:.1f} "
              f"| {rate:.1f} | {rate / base_rate:.2f}x "
              f"| {run['cpu'] / n:.2f} | {same}/{n} |")
        figures["runs"][name] = {"seconds": run["seconds"], "per_minute": rate,
                                 "ratio": rate / base_rate, "scores_equal": same,
                                 "cpu_per_submission": run["cpu"] / n,
                                 "started": run.get("started")}

    # Per-submission costs and the estimate for a large class on a cluster.
    one = runs.get("autograder --jobs 1")
    if one:
        per_sub = statistics.fmean(one["worker_seconds"])
        overhead = one["seconds"] - sum(one["worker_seconds"])
        sandbox = statistics.fmean(one["sandbox_seconds"])
        print()
        print(f"per submission (jobs 1): {per_sub:.2f} s on a worker, of which "
              f"{sandbox:.2f} s inside the sandbox; fixed cost of the command (cluster "
              f"start-up, coordinator, gradebook) {overhead:.1f} s per run")
        students, workers = 1000, 20
        estimate = overhead + students * per_sub / workers
        print(f"estimate: {students} students on {workers} single-threaded workers (one per "
              f"core): {overhead:.0f} s + {students} x {per_sub:.2f} s / {workers} = "
              f"{estimate / 60:.1f} min (nbgrader one after another: "
              f"{students * runs['nbgrader autograde']['seconds'] / n / 3600:.1f} h)")
        print(f"limits in force: {json.dumps(one['in_force'], sort_keys=True)[:400]}")
        figures.update(per_submission_seconds=per_sub, sandbox_seconds=sandbox,
                       fixed_seconds=overhead, estimate_1000_on_20_minutes=estimate / 60)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
