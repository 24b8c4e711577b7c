"""Solution regions ("gaps") of the library, and the stubbed copies students get.

A gap is the part of a library function between two lines that read exactly
``### BEGIN SOLUTION`` and ``### END SOLUTION`` (indented to the body). The
release replaces each gap with a stub at the same indentation::

    # YOUR CODE HERE (affine_backward in cs231n_lib/affine.py, assignment backprop)
    raise NotImplementedError("Implement affine_backward in cs231n_lib/affine.py: ...")

so the signature, the docstring and the input validation outside the region
survive, and the module still imports. The hint after the colon is the first
line of the function's docstring, unless the region starts with a comment
``# Hint: ...``, which then gives the hint (the comment itself is part of the
region, so it does not stay behind in the stubbed copy).

``assignments/gaps.toml`` says which modules carry which assignment's gaps;
:func:`read_gap_table` reads it.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import tomllib

from autograder.course import SOLUTION_BEGIN, SOLUTION_END

# CPython 3.11 can fail with "AST constructor recursion depth mismatch" when
# two threads parse at once (the course tests and the grader both use
# threads), so every parse in the autograder goes through one lock.
_PARSE_LOCK = threading.Lock()


def parse_python(source: str, filename: str | Path = "<unknown>") -> ast.Module:
    """``ast.parse`` that is safe to call from several threads."""
    with _PARSE_LOCK:
        return ast.parse(source, filename=str(filename))

BEGIN_MARKER = SOLUTION_BEGIN
END_MARKER = SOLUTION_END

_MARKER_LINE = re.compile(r"^(?P<indent>[ \t]*)### (?P<kind>BEGIN|END) SOLUTION[ \t]*\r?\n?$")
_NEAR_MISS = re.compile(r"(BEGIN|END)[ _]SOLUTION", re.IGNORECASE)
_HINT_LINE = re.compile(r"^\s*#\s*hint\s*:\s*(?P<hint>.+?)\s*$", re.IGNORECASE)
_MAX_HINT = 110


class GapMarkerError(ValueError):
    """A solution region is malformed (unbalanced, nested, misplaced or empty)."""


@dataclass(frozen=True)
class Gap:
    """One solution region of a library module.

    Attributes
    ----------
    path : str
        Display path of the module, e.g. ``"cs231n_lib/affine.py"``.
    function : str
        Dotted name of the innermost enclosing function, e.g. ``"affine_backward"``
        or ``"Value.__mul__._backward"``.
    begin, end : int
        1-based line numbers of the ``BEGIN`` and ``END`` marker lines.
    indent : str
        The markers' indentation; the stub is written at this indentation.
    hint : str
        One line telling the student what to write.
    body : tuple of str
        The region's lines, without line endings.
    """

    path: str
    function: str
    begin: int
    end: int
    indent: str
    hint: str
    body: tuple[str, ...]

    @property
    def where(self) -> str:
        """``"<function> in <path>"``, as stubs and error messages name a gap."""
        return f"{self.function} in {self.path}"


@dataclass(frozen=True)
class AssignmentGaps:
    """One row of ``gaps.toml``: an assignment and the library modules holding its gaps."""

    name: str
    lecture: int
    modules: tuple[str, ...]


def read_gap_table(path: str | Path) -> list[AssignmentGaps]:
    """Read ``gaps.toml`` into assignments in release order.

    Raises
    ------
    ValueError
        If an assignment is listed twice or a module belongs to two assignments.
    """
    with open(path, "rb") as fh:
        table = tomllib.load(fh)
    rows = [AssignmentGaps(name=str(entry["name"]), lecture=int(entry.get("lecture", 0)),
                           modules=tuple(str(m) for m in entry.get("modules", ())))
            for entry in table.get("assignment", [])]
    seen_names: set[str] = set()
    owner: dict[str, str] = {}
    for row in rows:
        if row.name in seen_names:
            raise ValueError(f"{path}: assignment {row.name!r} is listed twice.")
        seen_names.add(row.name)
        for module in row.modules:
            if module in owner:
                raise ValueError(f"{path}: module {module!r} is listed under both "
                                 f"{owner[module]!r} and {row.name!r}; a module's gaps "
                                 "belong to one assignment.")
            owner[module] = row.name
    return rows


def _functions(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function in ``tree`` with its dotted name (classes and outer functions included)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = f"{prefix}{child.name}"
                found.append((name, child))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _summary(doc: str | None) -> str:
    if not doc:
        return ""
    for line in doc.strip().splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_HINT:
        text = text[: _MAX_HINT - 3].rstrip() + "..."
    return text


def find_gaps(source: str, path: str) -> list[Gap]:
    """Find every solution region of one module.

    Parameters
    ----------
    source : str
        The module's text.
    path : str
        Its display path (``"cs231n_lib/affine.py"``), used in stubs and errors.

    Returns
    -------
    list of Gap
        In file order.

    Raises
    ------
    GapMarkerError
        On an unbalanced or nested marker, a marker with other text on its line,
        markers with different indentation, an empty region, a region outside a
        function or one whose lines are indented less than its markers.
    """
    lines = source.splitlines()
    try:
        tree = parse_python(source, path)
    except SyntaxError as exc:
        raise GapMarkerError(f"{path}:{exc.lineno}: the module does not parse ({exc.msg}); "
                             "fix the syntax before releasing.") from None
    functions = _functions(tree)
    return [_gap_of(region, lines, functions, path) for region in _regions(lines, path)]


def _regions(lines: list[str], path: str) -> list[tuple[int, int, str]]:
    """``(begin line, end line, indent)`` of each marked region, checked for balance."""
    regions: list[tuple[int, int, str]] = []
    open_at: tuple[int, str] | None = None
    for number, line in enumerate(lines, start=1):
        match = _MARKER_LINE.match(line)
        if match is None:
            if _NEAR_MISS.search(line):
                raise GapMarkerError(
                    f"{path}:{number}: this line mentions a solution marker but is not "
                    f"exactly {BEGIN_MARKER!r} or {END_MARKER!r} on a line of its own: "
                    f"{line.strip()!r}. Write the marker exactly, or reword the line.")
            continue
        indent, kind = match["indent"], match["kind"]
        if kind == "BEGIN":
            if open_at is not None:
                raise GapMarkerError(
                    f"{path}:{number}: {BEGIN_MARKER!r} inside the region opened at line "
                    f"{open_at[0]}; regions cannot nest. Close the first one with "
                    f"{END_MARKER!r} before opening another.")
            open_at = (number, indent)
            continue
        if open_at is None:
            raise GapMarkerError(f"{path}:{number}: {END_MARKER!r} without a matching "
                                 f"{BEGIN_MARKER!r} above it.")
        if indent != open_at[1]:
            raise GapMarkerError(
                f"{path}:{number}: {END_MARKER!r} is indented differently from the "
                f"{BEGIN_MARKER!r} at line {open_at[0]}; indent both markers to the "
                "function body.")
        regions.append((open_at[0], number, indent))
        open_at = None
    if open_at is not None:
        raise GapMarkerError(f"{path}:{open_at[0]}: {BEGIN_MARKER!r} is never closed; add "
                             f"{END_MARKER!r} after the solution.")
    return regions


def _gap_of(region: tuple[int, int, str], lines: list[str], functions: list, path: str) -> Gap:
    """The gap a checked region makes: its function and its hint."""
    begin, end, indent = region
    body = tuple(lines[begin:end - 1])
    code = [ln for ln in body if ln.strip() and not ln.strip().startswith("#")]
    if not code:
        raise GapMarkerError(f"{path}:{begin}: the solution region ending at line {end} "
                             "holds no code; remove the markers or put the solution "
                             "between them.")
    for offset, ln in enumerate(body, start=begin + 1):
        if ln.strip() and not ln.startswith(indent):
            raise GapMarkerError(
                f"{path}:{offset}: this line of the region that starts at line {begin} "
                "is indented less than its markers; the region must stay inside one "
                "block.")
    enclosing = [(name, node) for name, node in functions
                 if node.lineno < begin <= (node.end_lineno or node.lineno)
                 and len(indent.expandtabs()) > node.col_offset]
    if not enclosing:
        raise GapMarkerError(f"{path}:{begin}: the solution region is not inside a "
                             "function; only function bodies can be stubbed (a module "
                             "with a stubbed top level would not import).")
    name, _ = max(enclosing, key=lambda item: item[1].lineno)
    return Gap(path=path, function=name, begin=begin, end=end, indent=indent,
               hint=_hint(body, enclosing), body=body)


def _hint(body: tuple[str, ...], enclosing: list) -> str:
    """The gap's ``# hint:`` line, else the first sentence of the nearest docstring."""
    first_code = next((ln for ln in body if ln.strip()), "")
    hint_match = _HINT_LINE.match(first_code)
    hint = hint_match["hint"] if hint_match else ""
    if not hint:
        for _, candidate in sorted(enclosing, key=lambda item: item[1].lineno, reverse=True):
            hint = _summary(ast.get_docstring(candidate))
            if hint:
                break
    return _shorten(hint) or "see the docstring for what to compute"


def stub_lines(gap: Gap, assignment: str) -> list[str]:
    """The two lines that replace ``gap`` in a student's copy (without line endings)."""
    message = f"Implement {gap.where}: {gap.hint}"
    return [f"{gap.indent}# YOUR CODE HERE ({gap.where}, assignment {assignment})",
            f"{gap.indent}raise NotImplementedError({json.dumps(message)})"]


def render(source: str, path: str, assignment: str,
           stub: Callable[[Gap], bool] | bool) -> str:
    """Write a copy of a module with some gaps stubbed and the others filled in.

    Parameters
    ----------
    source, path
        As for :func:`find_gaps`.
    assignment : str
        The assignment the module's gaps belong to (named in the stub comment).
    stub : bool or callable
        ``True`` stubs every gap, ``False`` none; a callable ``stub(gap) -> bool``
        decides per gap. Filled gaps keep their code and lose only the marker lines.

    Returns
    -------
    str
        The new module text; it parses, and no marker line survives.
    """
    gaps = find_gaps(source, path)
    decide = stub if callable(stub) else (lambda _gap: bool(stub))
    lines = source.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    out: list[str] = []
    cursor = 0  # index into lines of the next line not yet copied
    for gap in gaps:
        out.extend(lines[cursor:gap.begin - 1])
        if decide(gap):
            out.extend(line + newline for line in stub_lines(gap, assignment))
        else:
            out.extend(lines[gap.begin:gap.end - 1])
        cursor = gap.end
    out.extend(lines[cursor:])
    text = "".join(out)
    try:
        parse_python(text, path)
    except SyntaxError as exc:  # pragma: no cover - find_gaps rules this out
        raise GapMarkerError(f"{path}: the stubbed copy does not parse at line {exc.lineno} "
                             f"({exc.msg}); check the markers' placement.") from None
    return text


def stub_source(source: str, path: str, assignment: str) -> str:
    """A copy of the module with every gap stubbed (see :func:`render`)."""
    return render(source, path, assignment, True)


def strip_markers(source: str, path: str) -> str:
    """The reference solution: the module with only its marker lines removed."""
    return render(source, path, "", False)


def library_gaps(lib_dir: str | Path, modules: Iterable[str] | None = None,
                 package: str = "cs231n_lib") -> dict[str, list[Gap]]:
    """Gaps of every module (or the named ones) of a library folder, by module name."""
    lib_dir = Path(lib_dir)
    names = sorted(p.stem for p in lib_dir.glob("*.py")) if modules is None else list(modules)
    found = {}
    for name in names:
        file = lib_dir / f"{name}.py"
        if not file.is_file():
            raise FileNotFoundError(f"{file}: no such module; gaps.toml lists {name!r}. "
                                    "Add the module or remove it from gaps.toml.")
        found[name] = find_gaps(file.read_text(encoding="utf-8"), f"{package}/{name}.py")
    return found
