"""Synthetic submissions built from a release, for tests and the demo.

Kinds of submission (all laid out as nbgrader expects,
``<course>/submitted/<student_id>/<assignment>/`` with a ``timestamp.txt``):

``reference``
    The release notebook with every solution cell's source taken from the
    source notebook (marker lines dropped); the library is the reference with
    its markers stripped.
``release``
    The release exactly as a student receives it (nothing filled in).
``partial``
    Reference notebook answers; in the library only the named functions are
    filled in, the release's other stubs stay.
``wrong_backward``
    The reference with one small bug planted in a named function: by default
    the last gradient assignment of its solution region is scaled by 1.01
    (a wrong factor that only a numerical gradient check notices).

Hostile submissions (``autograder.demo.hostile``) start from these.
"""

from __future__ import annotations

import ast
import re
import shutil
import textwrap
from collections.abc import Iterable
from pathlib import Path

import nbformat

from autograder.course import LIBRARY_DIR, PACKAGE
from autograder.release.build import release_rule, write_library
from autograder.release.gaps import Gap, find_gaps, parse_python, read_gap_table

KINDS = ("reference", "release", "partial", "wrong_backward")
TIMESTAMP = "2026-11-20 12:00:00.000000 UTC"
WRONG_FACTOR = "1.01"

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def _strip_marker_lines(text: str) -> str:
    return "\n".join(line for line in text.split("\n") if not _MARKER.match(line))


def reference_notebook(release_nb: Path, source_nb: Path) -> nbformat.NotebookNode:
    """The release notebook with the source's solutions put back into its solution cells.

    Cells are matched by nbgrader ``grade_id``; a solution cell without a match
    in the source is an error (the release and the source disagree).
    """
    released = nbformat.read(release_nb, as_version=4)
    source = nbformat.read(source_nb, as_version=4)
    solutions = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            solutions[meta["grade_id"]] = _strip_marker_lines(cell.source)
    for cell in released.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            grade_id = meta.get("grade_id")
            if grade_id not in solutions:
                raise ValueError(f"{release_nb}: solution cell {grade_id!r} has no counterpart "
                                 f"in {source_nb}; regenerate the release.")
            cell.source = solutions[grade_id]
    return released


def matches(gap: Gap, names: Iterable[str]) -> bool:
    """Whether a gap belongs to one of ``names``.

    A class or outer function names every gap inside it: ``"Value"`` matches
    ``"Value.__add__._backward"``.
    """
    return any(gap.function == n or gap.function.startswith(n + ".") for n in names)


def _gradient_target(node: ast.AST) -> bool:
    """Whether an assignment target looks like a gradient (``dx``, ``dw[i]``, ``self.grad``)."""
    while isinstance(node, ast.Subscript):
        node = node.value
    if isinstance(node, ast.Name):
        return node.id.startswith("d")
    if isinstance(node, ast.Attribute):
        return node.attr.startswith("grad") or node.attr.startswith("d")
    return False


def default_mutation(body: tuple[str, ...]) -> tuple[int, str]:
    """Pick the last gradient assignment of a region and scale it: (line index, new line).

    Raises
    ------
    ValueError
        If the region has no single-line gradient assignment to change.
    """
    for index in range(len(body) - 1, -1, -1):
        line = body[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            tree = parse_python(textwrap.dedent(line))
        except SyntaxError:
            continue  # part of a statement spanning several lines
        if len(tree.body) != 1:
            continue
        stmt = tree.body[0]
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
        elif isinstance(stmt, ast.AugAssign):
            target = stmt.target
        else:
            continue
        if not _gradient_target(target):
            continue
        code = textwrap.dedent(line)
        value = ast.get_source_segment(code, stmt.value) or ""
        if re.search(r"\b(zeros|empty|zeros_like|empty_like)\b", value):
            continue  # scaling an allocation of zeros changes nothing
        head = code[: stmt.value.col_offset].rstrip()  # "dx =" or "self.grad +="
        indent = line[: len(line) - len(code)]
        return index, f"{indent}{head} ({value}) * {WRONG_FACTOR}"
    raise ValueError("no single-line gradient assignment (dx = ..., self.grad += ...) in the "
                     "region; pass an explicit mutation (old, new).")


def plant_bug(source: str, path: str, function: str,
              mutation: tuple[str, str] | None = None) -> str:
    """Return ``source`` with a small bug in the solution region of ``function``.

    Parameters
    ----------
    source, path
        The module's reference text and display path.
    function : str
        The gap's function name (``"affine_backward"``, ``"Value.__mul__._backward"``).
    mutation : (old, new), optional
        Replace the first ``old`` in the region by ``new``; by default
        :func:`default_mutation`. The markers stay, so the result is still a
        library module with gaps.
    """
    gaps = [g for g in find_gaps(source, path) if g.function == function]
    if not gaps:
        names = sorted({g.function for g in find_gaps(source, path)})
        raise ValueError(f"{path} has no gap in {function!r}; its gaps are {names}.")
    gap = gaps[-1]
    lines = source.splitlines(keepends=True)
    body = list(gap.body)
    if mutation is None:
        index, new = default_mutation(gap.body)
        body[index] = new
    else:
        old, new = mutation
        joined = "\n".join(body)
        if old not in joined:
            raise ValueError(f"{path}: {old!r} does not occur in the gap of {function}.")
        body = joined.replace(old, new, 1).split("\n")
    newline = "\r\n" if lines[0].endswith("\r\n") else "\n"
    replaced = [line + newline for line in body]
    return "".join(lines[: gap.begin] + replaced + lines[gap.end - 1:])


def submission_dir(course_root: Path, student_id: str, assignment: str) -> Path:
    return Path(course_root) / "submitted" / student_id / assignment


def make_submission(course_root: Path, assignment: str, student_id: str, kind: str, *,
                    lib_dir: Path = LIBRARY_DIR, filled: Iterable[str] = (),
                    wrong_function: str | None = None,
                    mutation: tuple[str, str] | None = None,
                    timestamp: str = TIMESTAMP) -> Path:
    """Write one synthetic submission from ``<course_root>/release/<assignment>/``.

    Parameters
    ----------
    course_root : Path
        The nbgrader course (with ``gaps.toml``, ``source/`` and ``release/``).
    assignment, student_id : str
        Where the submission goes: ``submitted/<student_id>/<assignment>/``.
    kind : str
        One of :data:`KINDS`.
    lib_dir : Path
        The reference library.
    filled : iterable of str
        For ``partial``: the functions (or classes) filled in.
    wrong_function, mutation
        For ``wrong_backward``: the function that gets the bug, and optionally
        the exact change (see :func:`plant_bug`).

    Returns
    -------
    Path
        The submission folder (replaced if it existed).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    course_root, lib_dir = Path(course_root), Path(lib_dir)
    released, dest = _copy_release(course_root, assignment, student_id, timestamp)
    if kind == "release":
        return dest
    _answer_notebooks(course_root, assignment, released, dest)
    table = read_gap_table(course_root / "gaps.toml")
    index = [row.name for row in table].index(assignment)
    stub = _stub_rule(kind, filled, index)
    edit = None
    if kind == "wrong_backward":
        edit = _bug_edit(table, lib_dir, wrong_function, mutation)
    write_library(lib_dir, dest / PACKAGE, table, stub, edit=edit)
    return dest


def _copy_release(course_root: Path, assignment: str, student_id: str,
                  timestamp: str) -> tuple[Path, Path]:
    """Copy the released assignment to a fresh submission folder: (released, it)."""
    released = course_root / "release" / assignment
    if not released.is_dir():
        raise FileNotFoundError(f"{released} does not exist; run the release first.")
    dest = submission_dir(course_root, student_id, assignment)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(released, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "timestamp.txt").write_text(timestamp + "\n")
    return released, dest


def _answer_notebooks(course_root: Path, assignment: str, released: Path, dest: Path) -> None:
    """Each released notebook with the source notebook's answers written in."""
    for release_nb in sorted(released.glob("*.ipynb")):
        source_nb = course_root / "source" / assignment / release_nb.name
        nbformat.write(reference_notebook(release_nb, source_nb), dest / release_nb.name)


def _stub_rule(kind: str, filled: Iterable[str], index: int):
    """Which gaps the submission leaves as stubs: for ``partial``, the release's
    stubs less the functions in ``filled``; otherwise none."""
    if kind != "partial":
        def stub(owner, gap):
            return False
        return stub
    names = list(filled)
    base = release_rule(index)

    def stub(owner, gap):
        return base(owner, gap) and not matches(gap, names)
    return stub


def _bug_edit(table, lib_dir: Path, wrong_function: str | None,
              mutation: tuple[str, str] | None):
    """The library edit of a ``wrong_backward`` submission: a bug planted in the gap
    of ``wrong_function`` (:func:`plant_bug`), in whichever module has it."""
    if not wrong_function:
        raise ValueError("a wrong_backward submission needs wrong_function.")
    owners = {m: row.name for row in table for m in row.modules}
    hits = [m for m in owners
            if any(g.function == wrong_function for g in find_gaps(
                (lib_dir / f"{m}.py").read_text(encoding="utf-8"), f"{PACKAGE}/{m}.py"))]
    if not hits:
        raise ValueError(f"no gap in a function named {wrong_function!r} in gaps.toml's "
                         "modules.")
    target = f"{PACKAGE}/{hits[0]}.py"

    def edit(display, source):
        if display != target:
            return source
        return plant_bug(source, display, wrong_function, mutation)
    return edit


def make_class(course_root: Path, assignments: Iterable[str], *, lib_dir: Path = LIBRARY_DIR,
               partial: dict[str, Iterable[str]] | None = None,
               wrong: dict[str, str] | None = None) -> dict[str, str]:
    """The four standard submissions per assignment; returns student id -> kind.

    Students ``reference``, ``release``, ``partial`` and ``wrong_backward``
    (the last two only for assignments named in ``partial`` / ``wrong``).
    """
    students = {}
    for assignment in assignments:
        make_submission(course_root, assignment, "reference", "reference", lib_dir=lib_dir)
        make_submission(course_root, assignment, "release", "release", lib_dir=lib_dir)
        students.update(reference="reference", release="release")
        if partial and assignment in partial:
            make_submission(course_root, assignment, "partial", "partial", lib_dir=lib_dir,
                            filled=partial[assignment])
            students["partial"] = "partial"
        if wrong and assignment in wrong:
            make_submission(course_root, assignment, "wrong_backward", "wrong_backward",
                            lib_dir=lib_dir, wrong_function=wrong[assignment])
            students["wrong_backward"] = "wrong_backward"
    return students


__all__ = ["KINDS", "TIMESTAMP", "default_mutation",
           "make_class", "make_submission", "matches", "plant_bug", "reference_notebook",
           "submission_dir"]
