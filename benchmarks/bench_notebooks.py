"""How long each reference notebook takes to run end to end, headless.

For every assignment with a source notebook: release it (in a temporary copy
of the course), build the reference submission (``autograder.demo.synth``), and
execute the notebook with nbclient the way nbgrader's autograde does (a fresh
``python3`` kernel, the working directory the submission's folder, so the
submission's own ``cs231n_lib`` is imported). Wall time covers kernel start,
every cell and shutdown.

Baseline, in the same process: a notebook holding only the imports every
assignment makes (numpy, matplotlib, the library), i.e. the fixed cost of
a kernel. Reported per notebook: seconds, the ratio to the baseline, and the
ratio to the 30-second budget (below 1.0 meets it).

    .venv/bin/python benchmarks/bench_notebooks.py [--repeats 3] [--assignment NAME]
        [--markdown]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.demo.synth import make_submission  # noqa: E402
from autograder.release.build import release  # noqa: E402
from autograder.release.gaps import read_gap_table  # noqa: E402

BUDGET_SECONDS = 30.0


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    import numpy

    return (f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
            f"numpy {numpy.__version__}; load average at start {load}")


# Appended to every run: the kernel's own CPU time (user + system, threads
# included), which a busy machine does not inflate the way it inflates wall time.
_CPU_PROBE = "import os as _os\n_t = _os.times()\nprint('cpu-seconds', _t.user + _t.system)"


def run_notebook(path: Path, timeout: int = 300) -> tuple[float, float, list[str]]:
    """Execute a notebook in its own folder; return (wall s, kernel CPU s, error outputs)."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_code_cell(_CPU_PROBE))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    probe = "".join(out.get("text", "") for out in nb.cells[-1].get("outputs", []))
    cpu = float(probe.split()[-1]) if probe.startswith("cpu-seconds") else float("nan")
    errors = [f"{out.get('ename')}: {str(out.get('evalue', ''))[:120]}"
              for cell in nb.cells for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    return seconds, cpu, errors


def baseline_notebook(folder: Path) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [new_code_cell("%matplotlib inline\nimport numpy as np\n"
                              "import matplotlib.pyplot as plt\nimport cs231n_lib.layers")]
    path = folder / "baseline.ipynb"
    nbformat.write(nb, path)
    return path


def prepare(work: Path, assignments: list[str] | None) -> tuple[Path, list[str]]:
    course = work / "assignments"
    (course / "source").mkdir(parents=True)
    for name in ("nbgrader_config.py", "gaps.toml"):
        shutil.copyfile(REPO / "assignments" / name, course / name)
    order = [row.name for row in read_gap_table(REPO / "assignments" / "gaps.toml")]
    present = [a for a in order if (REPO / "assignments" / "source" / a).is_dir()]
    chosen = [a for a in present if not assignments or a in assignments]
    for name in chosen:
        shutil.copytree(REPO / "assignments" / "source" / name, course / "source" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copytree(REPO / "cs231n_lib", work / "cs231n_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    release(course, work / "cs231n_lib", log=lambda *_: None)
    for name in chosen:
        make_submission(course, name, "reference", "reference", lib_dir=work / "cs231n_lib")
    return course, chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per notebook (median)")
    parser.add_argument("--assignment", action="append", help="only this assignment")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        course, chosen = prepare(Path(tmp), args.assignment)
        if not chosen:
            print("no assignment has a source notebook", file=sys.stderr)
            return 1
        first = course / "submitted" / "reference" / chosen[0]
        base_nb = baseline_notebook(first)
        rows = []
        base_runs = [run_notebook(base_nb) for _ in range(args.repeats)]
        base_nb.unlink()
        baseline = statistics.median(r[0] for r in base_runs)
        baseline_cpu = statistics.median(r[1] for r in base_runs)
        for name in chosen:
            path = course / "submitted" / "reference" / name / f"{name}.ipynb"
            runs = [run_notebook(path) for _ in range(args.repeats)]
            times = [r[0] for r in runs]
            rows.append((name, statistics.median(times), min(times), max(times),
                         statistics.median(r[1] for r in runs), runs[-1][2]))
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"baseline (kernel start + imports only): {baseline:.2f} s wall, "
          f"{baseline_cpu:.2f} s kernel CPU (median of {args.repeats})")
    if args.markdown:
        print("\n| notebook | wall s (median) | wall min-max | kernel CPU s | x baseline (wall) "
              "| wall / 30 s budget | errors |")
        print("|---|---:|---:|---:|---:|---:|---|")
    for name, median, low, high, cpu, errors in rows:
        ratio_base, ratio_budget = median / baseline, median / BUDGET_SECONDS
        if args.markdown:
            print(f"| {name} | {median:.1f} | {low:.1f}-{high:.1f} | {cpu:.1f} | "
                  f"{ratio_base:.1f} | {ratio_budget:.2f} | {len(errors)} |")
        else:
            verdict = "meets" if median < BUDGET_SECONDS else "MISSES"
            print(f"{name:16s} {median:6.1f} s (min {low:.1f}, max {high:.1f}), kernel CPU "
                  f"{cpu:5.1f} s  {ratio_base:5.1f}x baseline  {ratio_budget:.2f} of budget "
                  f"({verdict})  errors: {len(errors)}")
        for error in errors:
            print(f"    error in reference run: {error}")
    return 0 if all(not r[5] and r[1] < BUDGET_SECONDS for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
