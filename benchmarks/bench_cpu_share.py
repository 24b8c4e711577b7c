"""A CPU hog graded beside an honest student: how much does it slow the student?

The hog (the demo's ``setsid_hog`` kind) forks six busy children, each in a
session of its own, for 20 seconds. The honest student is the reference
submission of one assignment. Each round grades the honest student three
ways, in one process, one after another:

* alone;
* beside the hog (graded at the same time by a second grader process, as
  a second Dask worker would), with every sandbox in a cpu cgroup of its
  own (the default);
* beside the hog with the cpu cgroup turned off: the baseline, what the
  kernel's per-session grouping alone gives.

The report gives the honest student's wall time per way (median over
rounds) and the slowdown ratios against "alone". Needs root (the sandbox's
namespaces and cgroups).

    .venv/bin/python benchmarks/bench_cpu_share.py [--assignment backprop] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.demo import synth
from autograder.demo.class_demo import prepare_course
from autograder.demo.hostile import make_hostile
from autograder.grading.grade import grade_submission
from autograder.sandbox import Limits, cgroups, namespaces_available

LIMITS = Limits(cell_seconds=60, submission_seconds=300)


def _course(root: Path, assignment: str) -> Path:
    prepare_course(root / "demo", assignments=[assignment], log=lambda *a, **k: None)
    course = root / "demo" / "course"
    synth.make_submission(course, assignment, "honest", "reference")
    hog_base = root / "hog-base"
    synth.make_submission(course, assignment, "hog-base", "reference")
    (course / "submitted" / "hog-base" / assignment).rename(hog_base)
    make_hostile(hog_base, course / "submitted" / "hog" / assignment, "setsid_hog",
                 assignment=assignment, course_root=course)
    return course


HOG = ("import sys\n"
       "from autograder.grading.grade import grade_submission\n"
       "from autograder.sandbox import cgroups\n"
       "cgroups.CPU_SHARES = None if sys.argv[3] == 'off' else cgroups.CPU_SHARES\n"
       "grade_submission(sys.argv[1], sys.argv[2], 'hog', seed=1)\n")


def _honest_seconds(course: Path, assignment: str, hog: str | None) -> float:
    """Wall seconds of grading the honest student; ``hog`` ("on"/"off": its cpu
    cgroup) grades the hog beside it, in a grader process of its own as a second
    Dask worker would."""
    proc = None
    if hog is not None:
        proc = subprocess.Popen([sys.executable, "-c", HOG, str(course), assignment, hog])
        time.sleep(8.0)  # its helper is up and its six children are busy
    t0 = time.perf_counter()
    result = grade_submission(course, assignment, "honest", limits=LIMITS, seed=1)
    seconds = time.perf_counter() - t0
    if proc is not None:
        proc.wait()
    if result["score"] != result["max_score"]:
        raise RuntimeError(f"the honest submission lost points: {result['cells']}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="backprop")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not namespaces_available():
        print("needs root and unshare (the sandbox's namespaces and cgroups)", file=sys.stderr)
        return 1
    times: dict[str, list[float]] = {"alone": [], "beside the hog": [],
                                     "beside the hog, no cpu cgroup": []}
    shares = cgroups.CPU_SHARES
    print(f"load before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="bench-cpu-share-") as tmp:
        course = _course(Path(tmp), args.assignment)
        _honest_seconds(course, args.assignment, None)  # this process's helper, warm
        for _ in range(args.rounds):
            times["alone"].append(_honest_seconds(course, args.assignment, None))
            times["beside the hog"].append(_honest_seconds(course, args.assignment, "on"))
            # The baseline: no cpu cgroup for either submission.
            cgroups.CPU_SHARES = None
            try:
                times["beside the hog, no cpu cgroup"].append(
                    _honest_seconds(course, args.assignment, "off"))
            finally:
                cgroups.CPU_SHARES = shares
    alone = statistics.median(times["alone"])
    print(f"load after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n| honest `{args.assignment}` submission graded | wall s (median of "
          f"{args.rounds}) | slowdown |\n|---|---:|---:|")
    rows = {}
    for way, values in times.items():
        median = statistics.median(values)
        rows[way] = {"seconds": values, "median": median, "slowdown": median / alone}
        print(f"| {way} | {median:.1f} | {median / alone:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
