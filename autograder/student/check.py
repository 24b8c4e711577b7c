"""``python -m autograder check``: a student's self-check of their workspace.

Runs every notebook of the workspace (or the ones named) from top to bottom
in a separate process with a time limit, then prints, per notebook, a table
of the autograded questions: the points each visible test cell earned and,
for a failed one, the error it raised. Written answers are marked as graded
by hand. Hidden tests are not in the student's copy; they run only when the
work is graded, so full marks here are necessary, not sufficient.

A notebook finds the learner's library the way the lab's kernels do: the
nearest folder from its own up that holds ``cs231n_lib/`` goes first on
``PYTHONPATH``, so ``workspace/conv/conv.ipynb`` runs ``workspace/cs231n_lib``.

This runs the student's own code on the student's own machine, so there is
no sandbox; the notebooks run in a child process (their kernel is a child of
that) and a run that goes past the time limit is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import PACKAGE, grade_cell_of


@dataclass
class Question:
    """One graded cell of a notebook, as the self-check saw it."""

    grade_id: str
    max_points: float
    points: float | None  # None: graded by hand
    status: str           # "passed", "failed", "not run", "graded by hand"
    detail: str = ""
    #: What a failed cell printed before it failed (its gradient-check tables) and
    #: the whole error message, for the lines under the table's row.
    printed: str = ""
    message: str = ""


@dataclass
class NotebookCheck:
    """The self-check of one notebook."""

    path: Path
    questions: list[Question] = field(default_factory=list)
    error: str = ""

    @property
    def earned(self) -> float:
        return sum(q.points or 0.0 for q in self.questions if q.points is not None)

    @property
    def possible(self) -> float:
        return sum(q.max_points for q in self.questions if q.points is not None)

    @property
    def all_passed(self) -> bool:
        return not self.error and all(q.status in ("passed", "graded by hand")
                                      for q in self.questions)


def find_notebooks(paths: list[Path]) -> list[Path]:
    """Notebooks named directly, inside the folders given, or one folder further down.

    Raises ``FileNotFoundError`` for a path that does not exist and
    ``ValueError`` for a file that is not a ``.ipynb`` notebook.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            if path.suffix != ".ipynb":
                raise ValueError(f"{path} is not a notebook (expected a .ipynb file, an "
                                 "assignment folder or your workspace folder).")
            found.append(path)
            continue
        if not path.is_dir():
            raise FileNotFoundError(f"{path} does not exist; give a notebook, an assignment "
                                    "folder or your workspace folder.")
        here = sorted(path.glob("*.ipynb"))
        found += here or sorted(path.glob("*/*.ipynb"))
    return [p for p in found if ".ipynb_checkpoints" not in p.parts]


def notebook_problem(path: Path) -> str | None:
    """Why ``path`` cannot be run as a Jupyter notebook, in one line, or None."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return f"not readable as notebook JSON ({' '.join(str(exc).split())[:120]})"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return "not a Jupyter notebook: it has no list of cells"
    if not isinstance(nb.get("nbformat"), int) or nb["nbformat"] < 4:
        return f"not a version 4 Jupyter notebook (nbformat {nb.get('nbformat')!r})"
    return None


def library_root(folder: Path, levels: int = 3) -> Path | None:
    """The nearest folder from ``folder`` up (``levels`` above it at most) that holds
    ``cs231n_lib/``: a notebook's own copy first, else the workspace's one library."""
    here = Path(folder).resolve()
    for parent in [here, *list(here.parents)[:levels]]:
        if (parent / PACKAGE / "__init__.py").is_file():
            return parent
    return None


#: At most this many lines of a failed cell's printed output are shown (its last ones).
PRINTED_LINES = 40


def printed_text(cell: dict, limit: int = PRINTED_LINES) -> str:
    """What a cell printed on stdout (its last ``limit`` lines)."""
    text = "".join("".join(o.get("text", "")) if isinstance(o.get("text"), list)
                   else str(o.get("text", ""))
                   for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
    lines = text.rstrip().splitlines()
    if len(lines) > limit:
        lines = [f"... ({len(lines) - limit} lines above not shown)"] + lines[-limit:]
    return "\n".join(lines)


def score_notebook(nb: dict, path: Path) -> NotebookCheck:
    """Tally the graded cells of an executed notebook."""
    check = NotebookCheck(path)
    stopped = nb.get("metadata", {}).get("self_check_stopped")
    for cell in nb.get("cells", []):
        graded = grade_cell_of(cell)
        if graded is None:
            continue
        gid, max_points = graded.grade_id, graded.max_points
        if not graded.autograded:
            check.questions.append(Question(gid, max_points, None, "graded by hand"))
            continue
        if cell.get("execution_count") is None:
            check.questions.append(Question(gid, max_points, 0.0, "not run",
                                            stopped or "the cell did not run"))
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            evalue = str(errors[0].get("evalue", ""))
            detail = f"{errors[0].get('ename', 'Error')}: {evalue}"
            check.questions.append(Question(gid, max_points, 0.0, "failed",
                                            " ".join(detail.split())[:200],
                                            printed_text(cell), evalue.strip()))
        else:
            check.questions.append(Question(gid, max_points, max_points, "passed"))
    if stopped:
        check.error = stopped
    return check


def run_notebook(path: Path, *, cell_seconds: float = 60.0,
                 total_seconds: float = 600.0) -> NotebookCheck:
    """Execute ``path`` in a child process (in its own folder) and tally it."""
    path = Path(path).resolve()
    problem = notebook_problem(path)
    if problem:
        return NotebookCheck(path, error=problem)
    env = dict(os.environ)
    root = library_root(path.parent)
    if root is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix="self-check-") as tmp:
        out = Path(tmp) / "executed.ipynb"
        cmd = [sys.executable, "-m", "autograder.student.execute", str(path), str(out),
               str(cell_seconds), str(total_seconds), str(path.parent)]
        proc = subprocess.Popen(cmd, cwd=path.parent, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True,
                                env=env)
        try:
            _, err = proc.communicate(timeout=total_seconds + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return NotebookCheck(path, error=f"stopped after {total_seconds:g} s")
        if not out.is_file():
            last = (err or "").strip().splitlines()[-1:] or ["no output"]
            return NotebookCheck(path, error=f"the notebook could not be run: {last[0]}")
        return score_notebook(json.loads(out.read_text(encoding="utf-8")), path)


def format_check(check: NotebookCheck) -> str:
    lines = [f"{check.path}"]
    if check.error:
        lines.append(f"  stopped: {check.error}")
    width = max([len(q.grade_id) for q in check.questions] + [8])
    lines.append(f"  {'question':<{width}}  {'points':>9}  result")
    for q in check.questions:
        pts = (f"- / {q.max_points:g}" if q.points is None
               else f"{q.points:g} / {q.max_points:g}")
        result = q.status + (f": {q.detail}" if q.detail else "")
        lines.append(f"  {q.grade_id:<{width}}  {pts:>9}  {result}")
        lines += _failure_lines(q)
    lines.append(f"  {'visible tests':<{width}}  {check.earned:g} / {check.possible:g}")
    return "\n".join(lines)


def _failure_lines(q: Question) -> list[str]:
    """Under a failed question: what its cell printed (the gradient-check tables say
    which input and which setting is wrong) and the error's whole message when the
    row's one line had to cut it."""
    lines = []
    if q.printed:
        lines += ["      " + line if line else "" for line in q.printed.splitlines()]
    whole = " ".join(q.message.split())
    if q.message and (len(whole) > 200 - len("AssertionError: ") or "\n" in q.message):
        lines += ["    message:"] + ["      " + line for line in q.message.splitlines()]
    return lines + ([""] if lines else [])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m autograder check``."""
    parser.add_argument("paths", nargs="*", type=Path,
                        help="notebooks, assignment folders or your workspace "
                             "(default: workspace/ if it exists, else the current folder)")
    parser.add_argument("--cell-timeout", type=float, default=60.0, metavar="S",
                        help="seconds one cell may run (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=600.0, metavar="S",
                        help="seconds one notebook may run (default: %(default)s)")


def run(args: argparse.Namespace) -> int:
    """Check every notebook found; 0 if all visible tests pass, 1 if not, 2 if none found."""
    paths = args.paths or [Path("workspace") if Path("workspace").is_dir() else Path(".")]
    try:
        notebooks = find_notebooks(paths)
    except (FileNotFoundError, ValueError) as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    if not notebooks:
        print(f"check: no notebooks found in {', '.join(map(str, paths))}.", file=sys.stderr)
        return 2
    ok = True
    for nb in notebooks:
        problem = notebook_problem(nb)
        if problem:
            print(f"check: {nb}: {problem}", file=sys.stderr)
            ok = False
            continue
        print(f"check: running {nb} ...", flush=True)
        result = run_notebook(nb, cell_seconds=args.cell_timeout, total_seconds=args.timeout)
        print(format_check(result), flush=True)
        ok = ok and result.all_passed
    print("Hidden tests run only when your work is graded: passing every visible test is "
          "necessary for full marks, not sufficient.")
    return 0 if ok else 1
