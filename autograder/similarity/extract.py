"""What each student wrote, as normalised token streams ("units").

A unit is one library function holding a gap of the assignment
(``cs231n_lib/affine.py::affine_backward``) or one code answer cell of its
notebook (``backprop.ipynb::cell-answer-1``). Normalising makes a copy look
like its original whatever was done to hide it:

* the code is parsed with ``ast`` (never imported or run) and every
  statement is printed back with ``ast.unparse``, so spacing, line breaks,
  redundant parentheses, quotes and comments are gone;
* docstrings and bare strings are dropped, string constants become ``S``;
* every name bound inside the unit (parameters, locals, loop variables,
  nested functions) becomes ``V``; names it does not bind (``np``, ``range``)
  and attribute and keyword names (``.reshape``, ``axis=``) stay, because
  they are the library's vocabulary rather than the student's choice;
* code that cannot run or whose result is never read is dropped: ``pass``,
  ``assert True``, ``if False:`` blocks, loops over ``range(0)``, and
  assignments of side-effect-free values to names the unit never reads;
* a compound statement (``for``, ``if``, ``try``, ...) gives its header and
  a closing ``}`` token, so the nesting survives the loss of indentation.

Each token remembers the source line it came from, for the side-by-side view.

Every file under ``submitted/`` is hostile: it is opened through
``autograder.untrusted`` (no link followed at any component, regular
single-link files only, read up to a cap).
"""

from __future__ import annotations

import ast
import copy
import io
import json
import os
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import LIBRARY_DIR, NAME_RE, PACKAGE, cell_text, nbgrader_meta
from autograder.release.gaps import find_gaps, parse_python, read_gap_table
from autograder.untrusted import (
    UntrustedFileError,
    open_dir,
    open_dir_nofollow,
    read_at,
)

MAX_MODULE_BYTES = 2 * 1024 * 1024
MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024
MAX_TOKENS = 20_000       # per unit: a padded unit cannot make every comparison slow
MAX_SHOWN_LINES = 400     # per unit, in the HTML
BLOCK_END = "}"


@dataclass(frozen=True)
class Unit:
    """One function or answer cell, normalised.

    Attributes
    ----------
    key : str
        ``"cs231n_lib/<module>.py::<function>"`` or ``"<notebook>::<grade_id>"``.
    tokens : tuple of str, (T,)
        The normalised tokens.
    lines : tuple of int, (T,)
        The source line (1-based, in ``text``) each token came from.
    text : str
        The unit's source as written (capped at ``MAX_SHOWN_LINES`` lines).
    """

    key: str
    tokens: tuple[str, ...]
    lines: tuple[int, ...]
    text: str


@dataclass(frozen=True)
class AssignmentSpec:
    """Which units an assignment has and what the release gave for each."""

    assignment: str
    functions: tuple[tuple[str, str], ...]     # (module, dotted function name)
    cells: tuple[tuple[str, str], ...]         # (notebook file name, grade_id)
    stubs: dict[str, Unit] = field(default_factory=dict)


@dataclass
class Submission:
    """The units of one student's submission, and what could not be read."""

    student: str
    units: dict[str, Unit]
    notes: list[str] = field(default_factory=list)


def function_key(module: str, function: str) -> str:
    return f"{PACKAGE}/{module}.py::{function}"


def cell_key(notebook: str, grade_id: str) -> str:
    return f"{notebook}::{grade_id}"


# --------------------------------------------------------------------------- normalising

def _bound_names(root: ast.AST) -> set[str]:
    """Names the unit binds: its parameters, assignment and loop targets, imports,
    nested definitions and exception names."""
    names: set[str] = set()
    for node in ast.walk(root):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names


class _Canonical(ast.NodeTransformer):
    """Bound names to ``V``, definitions to ``F``, strings to ``S``, no annotations."""

    def __init__(self, bound: set[str]):
        self.bound = bound

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id in self.bound:
            node.id = "V"
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg, node.annotation = "V", None
        return node

    def visit_FunctionDef(self, node):
        node.name, node.returns = "F", None
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, (str, bytes)):
            node.value = "S"
        return node


_PURE_CALLS = frozenset({"len", "abs", "min", "max", "sum", "range", "int", "float", "bool",
                         "tuple", "list", "round", "str"})


def _pure(expr: ast.AST) -> bool:
    return all(isinstance(n.func, ast.Name) and n.func.id in _PURE_CALLS
               for n in ast.walk(expr) if isinstance(n, ast.Call))


def _dead(stmt: ast.stmt, read: set[str]) -> bool:
    """Whether ``stmt`` changes nothing the unit can observe (added to pad a copy)."""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Assert):
        return isinstance(stmt.test, ast.Constant) and bool(stmt.test.value)
    if isinstance(stmt, (ast.If, ast.While)):
        return (isinstance(stmt.test, ast.Constant) and not stmt.test.value
                and not (isinstance(stmt, ast.If) and stmt.orelse))
    if isinstance(stmt, ast.For):
        it = stmt.iter
        return (isinstance(it, ast.Call) and isinstance(it.func, ast.Name)
                and it.func.id == "range" and len(it.args) == 1
                and isinstance(it.args[0], ast.Constant) and it.args[0].value == 0)
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Name) and t.id not in read for t in stmt.targets) \
            and _pure(stmt.value)
    return False


def _drop_dead(root: ast.AST) -> None:
    read = {n.id for n in ast.walk(root) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)}
    for node in ast.walk(root):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                setattr(node, name, [s for s in block if not _dead(s, read)])


def _is_bare_string(stmt: ast.stmt) -> bool:
    """A docstring, or any string statement (it does nothing)."""
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, (str, bytes)))


def _lex(text: str) -> list[str]:
    """Python tokens of ``text`` that carry meaning (no layout, no comments)."""
    keep = (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING)
    try:
        return [t.string for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type in keep]
    except (tokenize.TokenError, SyntaxError):
        return text.split()


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def _header(stmt: ast.stmt) -> str:
    """The header of a compound statement as ``ast.unparse`` writes it."""
    shell = copy.copy(stmt)
    for name in _BLOCKS:
        if hasattr(shell, name):
            setattr(shell, name, [])
    shell.body = [ast.Pass()]
    if isinstance(shell, ast.Match):
        shell.cases = [ast.match_case(pattern=ast.MatchAs(), body=[ast.Pass()])]
        return ast.unparse(shell).split("\n")[0]
    return "\n".join(ast.unparse(shell).split("\n")[:-1])


def _emit(stmts: list, tokens: list[str], lines: list[int], offset: int) -> None:
    """Append the tokens of ``stmts`` (and of the blocks inside them)."""
    for stmt in stmts:
        if isinstance(stmt, ast.stmt) and _is_bare_string(stmt):
            continue
        line = getattr(stmt, "lineno", offset + 1) - offset
        if isinstance(stmt, (ast.ExceptHandler, ast.match_case)):
            head = ("except " + ast.unparse(stmt.type) if isinstance(stmt, ast.ExceptHandler)
                    and stmt.type is not None else "except" if isinstance(
                        stmt, ast.ExceptHandler) else "case " + ast.unparse(stmt.pattern))
            new = _lex(head)
        elif any(isinstance(getattr(stmt, name, None), list) for name in _BLOCKS):
            new = _lex(_header(stmt))
        else:
            new = _lex(ast.unparse(stmt))
        tokens.extend(new)
        lines.extend([line] * len(new))
        for name in _BLOCKS:
            block = getattr(stmt, name, None)
            if not isinstance(block, list) or not block:
                continue
            if name in ("orelse", "finalbody"):
                tokens.append("else" if name == "orelse" else "finally")
                lines.append(getattr(block[0], "lineno", line + offset) - offset)
            _emit(block, tokens, lines, offset)
        if any(isinstance(getattr(stmt, name, None), list) for name in _BLOCKS):
            tokens.append(BLOCK_END)
            lines.append((getattr(stmt, "end_lineno", None) or line + offset) - offset)


def normalise(node: ast.AST, offset: int = 0) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The normalised tokens of a function or module node, and each one's line.

    Parameters
    ----------
    node : ast.FunctionDef or ast.Module
        Parsed code; it is changed in place (canonical names).
    offset : int
        Subtracted from ``ast`` line numbers (the unit's first line minus one).

    Returns
    -------
    tokens, lines : tuple of str, tuple of int, both (T,) with T <= MAX_TOKENS
    """
    _drop_dead(node)
    _Canonical(_bound_names(node)).visit(node)
    tokens: list[str] = []
    lines: list[int] = []
    _emit([node] if isinstance(node, ast.stmt) else node.body, tokens, lines, offset)
    return tuple(tokens[:MAX_TOKENS]), tuple(lines[:MAX_TOKENS])


def _functions(tree: ast.AST) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of a module by dotted name (``Value.__add__._backward``)."""
    found: dict = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(prefix + child.name, child)
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def module_units(source: str, module: str, functions: list[str]) -> tuple[dict[str, Unit],
                                                                          list[str]]:
    """The units of the named functions of one module's text, and notes on what failed."""
    try:
        tree = parse_python(source, f"{PACKAGE}/{module}.py")
        found = _functions(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return {}, [f"{PACKAGE}/{module}.py does not parse ({type(exc).__name__}); "
                    "its functions are left out"]
    text_lines = source.splitlines()
    units, notes = {}, []
    for name in functions:
        node = found.get(name)
        if node is None:
            notes.append(f"{PACKAGE}/{module}.py has no function {name}")
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list])
        shown = text_lines[first - 1:(node.end_lineno or first)][:MAX_SHOWN_LINES]
        try:
            tokens, lines = normalise(node, offset=first - 1)
        except (RecursionError, MemoryError, ValueError):
            notes.append(f"{name} in {PACKAGE}/{module}.py is too deeply nested to compare")
            continue
        key = function_key(module, name)
        units[key] = Unit(key, tokens, lines, "\n".join(shown))
    return units, notes


def cell_unit(source: str, key: str) -> Unit | None:
    """A code answer cell as a unit, or None when it does not parse (magics, typos)."""
    try:
        tree = parse_python(source, key)
        tokens, lines = normalise(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return Unit(key, tokens, lines, "\n".join(source.splitlines()[:MAX_SHOWN_LINES]))


def notebook_units(raw: bytes, notebook: str, grade_ids: list[str]) -> dict[str, Unit]:
    """The units of the answer cells ``grade_ids`` found in a notebook's JSON."""
    try:
        nb = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return {}
    cells = nb.get("cells") if isinstance(nb, dict) else None
    wanted, units = set(grade_ids), {}
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if isinstance(gid, str) and gid in wanted and cell_key(notebook, gid) not in units:
            unit = cell_unit(cell_text(cell.get("source")), cell_key(notebook, gid))
            if unit is not None:
                units[unit.key] = unit
    return units


# --------------------------------------------------------------------------- the assignment

def assignment_spec(course: str | os.PathLike, assignment: str,
                    lib_dir: str | os.PathLike = LIBRARY_DIR) -> AssignmentSpec:
    """The gap functions and answer cells of ``assignment``, with the release's
    version of each (the stub everyone was given).

    Raises
    ------
    ValueError
        If the assignment is not in ``gaps.toml`` or has not been released.
    """
    course, lib_dir = Path(course), Path(lib_dir)
    rows = {row.name: row for row in read_gap_table(course / "gaps.toml")}
    if assignment not in rows:
        raise ValueError(f"no assignment {assignment!r} in {course / 'gaps.toml'}; "
                         f"expected one of {sorted(rows)}.")
    released = course / "release" / assignment
    if not released.is_dir():
        raise ValueError(f"{released} does not exist; run python -m autograder release "
                         "first (the stubs are subtracted from every submission).")
    functions: list[tuple[str, str]] = []
    for module in rows[assignment].modules:
        text = (lib_dir / f"{module}.py").read_text(encoding="utf-8")
        for gap in find_gaps(text, f"{PACKAGE}/{module}.py"):
            if (module, gap.function) not in functions:
                functions.append((module, gap.function))
    stubs: dict[str, Unit] = {}
    for module in rows[assignment].modules:
        path = released / PACKAGE / f"{module}.py"
        names = [f for m, f in functions if m == module]
        if path.is_file():
            stubs.update(module_units(path.read_text(encoding="utf-8"), module, names)[0])
    cells: list[tuple[str, str]] = []
    for nb_path in sorted(released.glob("*.ipynb")):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            meta = nbgrader_meta(cell)
            if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
                cells.append((nb_path.name, meta["grade_id"]))
        stubs.update(notebook_units(nb_path.read_bytes(), nb_path.name,
                                    [g for n, g in cells if n == nb_path.name]))
    return AssignmentSpec(assignment, tuple(functions), tuple(cells), stubs)


# --------------------------------------------------------------------------- hostile files

def list_students(course: str | os.PathLike) -> list[str]:
    """Student folders under ``submitted/`` (real folders with a valid name), sorted."""
    root = Path(course) / "submitted"
    if not root.is_dir():
        return []
    with os.scandir(root) as it:
        return sorted(e.name for e in it
                      if NAME_RE.match(e.name) and e.is_dir(follow_symlinks=False))


def read_submission(course: str | os.PathLike, student: str,
                    spec: AssignmentSpec) -> Submission:
    """Read and normalise one student's units; what is missing or refused is noted."""
    sub = Submission(student, {})
    try:
        root = open_dir(Path(course) / "submitted")
    except OSError as exc:
        raise ValueError(f"no folder {Path(course) / 'submitted'}: {exc.strerror}") from None
    try:
        folder = open_dir_nofollow(root, f"{student}/{spec.assignment}")
    except OSError:
        sub.notes.append(f"no folder {student}/{spec.assignment} (or it is a link)")
        os.close(root)
        return sub
    os.close(root)
    try:
        _read_library(folder, spec, sub)
        for notebook in dict.fromkeys(nb for nb, _ in spec.cells):
            try:
                raw = read_at(folder, notebook, MAX_NOTEBOOK_BYTES)
            except UntrustedFileError as exc:
                sub.notes.append(f"{notebook} left out: {exc}")
                continue
            sub.units.update(notebook_units(raw, notebook,
                                            [g for n, g in spec.cells if n == notebook]))
    finally:
        os.close(folder)
    return sub


def _read_library(folder: int, spec: AssignmentSpec, sub: Submission) -> None:
    try:
        lib = open_dir_nofollow(folder, PACKAGE)
    except OSError:
        sub.notes.append(f"no folder {PACKAGE}/ (or it is a link)")
        return
    try:
        for module in dict.fromkeys(m for m, _ in spec.functions):
            try:
                raw = read_at(lib, f"{module}.py", MAX_MODULE_BYTES)
            except UntrustedFileError as exc:
                sub.notes.append(f"{PACKAGE}/{module}.py left out: {exc}")
                continue
            units, notes = module_units(raw.decode("utf-8", "replace"), module,
                                        [f for m, f in spec.functions if m == module])
            sub.units.update(units)
            sub.notes.extend(notes)
    finally:
        os.close(lib)
