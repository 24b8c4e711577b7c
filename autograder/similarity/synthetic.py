"""A synthetic backprop class with independent solutions and planted copies.

Honest students are dealt one of five solutions per function
(``autograder.similarity.variants``) with their own names and formulas. A
planted copy takes another student's library and disguises it with any of
:data:`TRANSFORMS`:

``rename``
    every local name changed (parameters stay: callers pass them by keyword);
``reorder``
    adjacent independent statements swapped;
``reformat``
    docstring dropped, two-space indentation, redundant parentheses, double
    quotes, blank lines and comments added;
``dead_code``
    unused assignments, ``if False:`` blocks and empty loops inserted.

Every transformation keeps the code correct. Fixtures only: nothing on the
grading path imports this module.
"""

from __future__ import annotations

import ast
import random
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import COURSE_ROOT, LIBRARY_DIR, PACKAGE
from autograder.release.gaps import find_gaps, strip_markers, stub_source
from autograder.similarity.variants import FUNCTIONS, solution

ASSIGNMENT = "backprop"
MODULES = ("graph", "gradient_check", "affine")
TRANSFORMS = ("rename", "reorder", "reformat", "dead_code")


@dataclass
class SyntheticClass:
    """Who is who in a synthetic class: ``planted`` holds (original, copy, transforms)."""

    course: Path
    students: list[str]
    planted: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def planted_pairs(self) -> set[frozenset[str]]:
        return {frozenset((a, b)) for a, b, _ in self.planted}


# --------------------------------------------------------------------------- dealing

def _reference(lib_dir: Path, module: str) -> str:
    return (lib_dir / f"{module}.py").read_text(encoding="utf-8")


def deal(texts: dict[str, str], rng: random.Random, lib_dir: Path = LIBRARY_DIR,
         variant: int | None = None) -> dict[str, str]:
    """Module texts with each reference gap body of :data:`FUNCTIONS` replaced by
    a solution drawn from ``rng`` (texts without the reference body stay as they
    are); ``variant`` picks the same template for every function instead."""
    out = dict(texts)
    for (module, function), (templates, _) in FUNCTIONS.items():
        if module not in out:
            continue
        source = _reference(lib_dir, module)
        for gap in find_gaps(source, f"{PACKAGE}/{module}.py"):
            if gap.function != function:
                continue
            old = "\n".join(gap.body) + "\n"
            pick = rng.randrange(len(templates)) if variant is None else variant
            body = perturb(solution(module, function, pick, rng), rng)
            new = "".join(gap.indent + line if line.strip() else "\n"
                          for line in body.splitlines(keepends=True))
            out[module] = out[module].replace(old, new, 1)
    return out


def diversify(lib_folder: Path, rng: random.Random, lib_dir: Path = LIBRARY_DIR) -> bool:
    """Deal solutions into a synthetic submission's library in place; True if any changed."""
    files = {m: lib_folder / f"{m}.py" for m in MODULES}
    texts = {m: f.read_text(encoding="utf-8") for m, f in files.items()
             if f.is_file() and not f.is_symlink()}
    dealt = deal(texts, rng, lib_dir)
    changed = {m: t for m, t in dealt.items() if t != texts[m]}
    for module, text in changed.items():
        (lib_folder / f"{module}.py").write_text(text, encoding="utf-8")
    return bool(changed)


# --------------------------------------------------------------------------- transformations

_FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}


def perturb(body: str, rng: random.Random) -> str:
    """An honest student's own touches on a solution: operands of ``+`` and ``*``
    and sides of ``<`` in either order, independent statements in either order
    (each a coin flip; all exact in floating point)."""
    tree = ast.parse(body)
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult)) \
                and rng.random() < 0.5:
            node.left, node.right = node.right, node.left
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 \
                and type(node.ops[0]) in _FLIPPED and rng.random() < 0.5:
            node.left, node.comparators = node.comparators[0], [node.left]
            node.ops = [_FLIPPED[type(node.ops[0])]()]
    _reorder(tree, rng, chance=0.5)
    _hoist(tree, rng, chance=0.5)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _hoist(tree: ast.AST, rng: random.Random, chance: float) -> None:
    """Give a part of an assignment's value a name of its own, on the line before
    (``a = f(b) * c`` -> ``t = f(b)``, ``a = t * c``), and write ``n = n + 1`` as
    ``n += 1`` or back: the same computation in the same order."""
    count = 0
    for node in list(ast.walk(tree)):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if not isinstance(block, list):
                continue
            out = []
            for stmt in block:
                if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) \
                        and rng.random() < chance:
                    stmt = ast.Assign([ast.Name(stmt.target.id, ast.Store())], ast.BinOp(
                        ast.Name(stmt.target.id, ast.Load()), stmt.op, stmt.value))
                elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, (ast.BinOp, ast.Call)):
                    parts = ([("left", stmt.value.left), ("right", stmt.value.right)]
                             if isinstance(stmt.value, ast.BinOp) else
                             [(i, a) for i, a in enumerate(stmt.value.args)])
                    parts = [(k, e) for k, e in parts if isinstance(e, (ast.BinOp, ast.Call))]
                    if parts and rng.random() < chance:
                        where, expr = rng.choice(parts)
                        temp = f"part{count}"
                        count += 1
                        out.append(ast.Assign([ast.Name(temp, ast.Store())], expr))
                        if isinstance(where, str):
                            setattr(stmt.value, where, ast.Name(temp, ast.Load()))
                        else:
                            stmt.value.args[where] = ast.Name(temp, ast.Load())
                out.append(stmt)
            setattr(node, name, out)


def _rename(tree: ast.FunctionDef, rng: random.Random) -> None:
    params = {a.arg for a in ast.walk(tree.args) if isinstance(a, ast.arg)}
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
             and isinstance(n.ctx, ast.Store)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n is not tree
              for a in ast.walk(n.args) if isinstance(a, ast.arg)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n is not tree}
    stems = ["tmp", "aux", "val", "q", "z", "var", "item"]
    mapping = {name: f"{rng.choice(stems)}{i}" for i, name in enumerate(sorted(bound - params))}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in mapping:
            node.id = mapping[node.id]
        elif isinstance(node, ast.arg) and node.arg in mapping:
            node.arg = mapping[node.arg]
        elif isinstance(node, ast.FunctionDef) and node is not tree and node.name in mapping:
            node.name = mapping[node.name]


def _effects(stmt: ast.stmt) -> tuple[set[str], set[str]] | None:
    """(names written, names read) of a simple statement, None if it calls out."""
    if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        return None
    written, read = set(), set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Attribute):
                return None  # f(x), print(...): order may matter
            base = func.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name) and base.id != "np":
                written.add(base.id)  # a method may change its object (append)
        elif isinstance(node, ast.Name):
            (written if isinstance(node.ctx, ast.Store) else read).add(node.id)
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
    for target in targets:
        base = target
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if isinstance(base, ast.Name):
            written.add(base.id)
    return written, read


def _reorder(tree: ast.AST, rng: random.Random, chance: float = 1.0) -> None:
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if not isinstance(block, list):
                continue
            i = 0
            while i < len(block) - 1:
                a, b = _effects(block[i]), _effects(block[i + 1]) if isinstance(
                    block[i + 1], ast.stmt) else None
                if a and b and not (a[0] & (b[0] | b[1])) and not (b[0] & a[1]) \
                        and rng.random() < chance:
                    block[i], block[i + 1] = block[i + 1], block[i]
                    i += 2
                else:
                    i += 1


_DEAD = ["unused_{k} = {n} * 2", "if False:\n    print('debug {k}')",
         "for _ in range(0):\n    pass", "check_{k} = len([])", "assert True"]


def _dead_code(tree: ast.FunctionDef, rng: random.Random) -> None:
    body = tree.body
    start = 1 if body and isinstance(body[0], ast.Expr) else 0
    for k in range(3):
        stmt = ast.parse(rng.choice(_DEAD).format(k=k, n=rng.randint(2, 99))).body[0]
        body.insert(rng.randint(start, max(start, len(body) - 1)), stmt)


def _reformat_lines(text: str) -> str:
    out = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        code = line.strip()
        assign = re.match(r"^([\w\[\]\., ]+?) = (.+)$", code)
        if assign and not code.endswith(":"):
            code = f"{assign[1]} = ({assign[2]})  # set {assign[1].split('[')[0]}"
        if '"' not in code:
            code = code.replace("'", '"')
        out.append(" " * (indent // 2) + code)
        if not code.endswith(":"):
            out.append("")
    return "\n".join(out) + "\n"


def transform_function(source: str, transforms: Iterable[str], rng: random.Random) -> str:
    """A function's source (at column 0) disguised by ``transforms``, in that order."""
    transforms = list(transforms)
    unknown = set(transforms) - set(TRANSFORMS)
    if unknown:
        raise ValueError(f"unknown transformation(s) {sorted(unknown)}; expected any of "
                         f"{TRANSFORMS}")
    tree = ast.parse(source).body[0]
    steps = {"rename": _rename, "reorder": _reorder, "dead_code": _dead_code}
    for name in transforms:
        if name in steps:
            steps[name](tree, rng)
    if "reformat" in transforms and isinstance(tree.body[0], ast.Expr) and len(tree.body) > 1:
        tree.body = tree.body[1:]
    text = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return _reformat_lines(text) if "reformat" in transforms else text


def disguise(texts: dict[str, str], transforms: Iterable[str], rng: random.Random
             ) -> dict[str, str]:
    """Module texts with every function of :data:`FUNCTIONS` disguised."""
    transforms = tuple(transforms)
    out = dict(texts)
    for module, function in FUNCTIONS:
        if module not in out:
            continue
        lines = out[module].splitlines(keepends=True)
        node = next(n for n in ast.parse(out[module]).body
                    if isinstance(n, ast.FunctionDef) and n.name == function)
        old = "".join(lines[node.lineno - 1:node.end_lineno])
        new = transform_function(old, transforms, rng)
        out[module] = "".join(lines[:node.lineno - 1]) + new + "".join(lines[node.end_lineno:])
    return out


def plant_copy(course: Path, original: str, copier: str, transforms: Iterable[str],
               rng: random.Random, assignment: str = ASSIGNMENT) -> None:
    """Make ``copier``'s library a disguised copy of ``original``'s (other files kept)."""
    src = Path(course) / "submitted" / original / assignment / PACKAGE
    dst = Path(course) / "submitted" / copier / assignment / PACKAGE
    texts = {m: (src / f"{m}.py").read_text(encoding="utf-8") for m in MODULES
             if (src / f"{m}.py").is_file()}
    dst.mkdir(parents=True, exist_ok=True)
    for module, text in disguise(texts, transforms, rng).items():
        (dst / f"{module}.py").write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- a class

def make_class(root: Path, honest: int, copies: Iterable[tuple[str, ...]] = (), *,
               seed: int = 0, lib_dir: Path = LIBRARY_DIR) -> SyntheticClass:
    """Write a course under ``root``: ``gaps.toml``, the backprop release's library
    and ``honest`` independent submissions, plus one planted copy per entry of
    ``copies`` (each a tuple of transformations) of a distinct honest student.

    Only the three backprop modules are written per student (all that the
    comparison reads), so a class of 1,000 takes seconds to write.
    """
    root = Path(root)
    copies = list(copies)
    if len(copies) > honest:
        raise ValueError(f"{len(copies)} copies need at least as many honest students; "
                         f"got {honest}")
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(COURSE_ROOT / "gaps.toml", root / "gaps.toml")
    released = root / "release" / ASSIGNMENT / PACKAGE
    released.mkdir(parents=True, exist_ok=True)
    reference = {}
    for module in MODULES:
        source, display = _reference(lib_dir, module), f"{PACKAGE}/{module}.py"
        (released / f"{module}.py").write_text(stub_source(source, display, ASSIGNMENT))
        reference[module] = strip_markers(source, display)
    width = len(str(honest + len(copies)))
    ids = [f"s{i:0{width}d}" for i in range(honest + len(copies))]
    rng.shuffle(ids)  # a copier's number says nothing about whom they copied
    students = ids[:honest]
    for student in students:
        _write(root, student, deal(reference, rng, lib_dir))
    truth = SyntheticClass(root, sorted(ids))
    originals = rng.sample(students, len(copies))
    for original, copier, transforms in zip(originals, ids[honest:], copies, strict=True):
        plant_copy(root, original, copier, transforms, rng)
        truth.planted.append((original, copier, tuple(transforms)))
    return truth


def _write(root: Path, student: str, texts: dict[str, str]) -> None:
    folder = root / "submitted" / student / ASSIGNMENT / PACKAGE
    folder.mkdir(parents=True, exist_ok=True)
    for module, text in texts.items():
        (folder / f"{module}.py").write_text(text, encoding="utf-8")
