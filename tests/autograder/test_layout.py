"""The layout keeps its promises: imports run one way, and what runs inside the
sandbox imports nothing of the trusted side."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AUTOGRADER = REPO / "autograder"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
# What the runner drives: the Jupyter client stack, numpy, and the *student's*
# cs231n_lib (imported from the sandbox's read-only copy of the submission);
# never the course, the reference library or a trusted module of the autograder.
INSIDE_THIRD_PARTY = {"numpy", "nbformat", "nbclient", "jupyter_client", "ipykernel",
                      "cs231n_lib"}


def _imports(path: Path) -> set[str]:
    """Every module name a file imports, at any depth (relative imports resolved)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            else:
                found.add(node.module)
    return found


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", _files(AUTOGRADER / "inside"), ids=lambda p: p.name)
def test_inside_imports_only_the_standard_library_numpy_and_jupyter(path):
    for name in _imports(path):
        if name.startswith("autograder."):
            assert name.startswith("autograder.inside"), (path.name, name)
        else:
            assert _top(name) in STDLIB | INSIDE_THIRD_PARTY, (path.name, name)


@pytest.mark.parametrize("path", _files(AUTOGRADER / "sandbox") + [AUTOGRADER / "untrusted.py"],
                         ids=lambda p: p.name)
def test_the_sandbox_imports_only_the_standard_library(path):
    for name in _imports(path):
        if name.startswith("autograder"):
            assert name.startswith(("autograder.sandbox", "autograder.untrusted",
                                    "autograder.inside")), (path.name, name)
        else:
            assert _top(name) in STDLIB, (path.name, name)


def test_the_package_init_is_tiny_and_imports_nothing_but_sys():
    # It is imported inside the sandbox, next to student code.
    assert _imports(AUTOGRADER / "__init__.py") == {"sys"}


@pytest.mark.parametrize("path", _files(AUTOGRADER / "grading"), ids=lambda p: p.name)
def test_grading_never_reaches_into_the_demo_or_the_student_tools(path):
    for name in _imports(path):
        assert not name.startswith(("autograder.demo", "autograder.student", "autograder.cli")), (
            path.name, name)


@pytest.mark.parametrize("path", _files(REPO / "cs231n_lib"), ids=lambda p: p.name)
def test_the_library_knows_nothing_above_it(path):
    for name in _imports(path):
        assert _top(name) != "autograder", (path.name, name)


@pytest.mark.parametrize("folder", sorted(p for p in (REPO / "assignments" / "probes").iterdir()
                                          if p.is_dir()), ids=lambda p: p.name)
def test_probe_calls_hold_nothing_that_decides_a_score(folder):
    """calls.py enters the sandbox: numpy and the standard library only, and no
    probe record, tolerance or expected answer."""
    calls = folder / "calls.py"
    for name in _imports(calls):
        assert _top(name) in STDLIB | {"numpy"}, (folder.name, name)
    tree = ast.parse(calls.read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords}
    for word in ("Probe", "AnswerProbe", "PROBES", "ANSWER_PROBES", "rtol", "atol", "expected"):
        assert word not in names, (folder.name, word)


def test_test_modules_have_unique_names():
    """pytest imports test modules by their base name (no packages under tests/):
    two with one name stop the whole run at collection."""
    names = [p.name for p in (REPO / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def _long_functions(folder: Path, limit: int) -> list[str]:
    found = []
    for path in _files(folder):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(
                    getattr(body[0], "value", None), ast.Constant):
                body = body[1:]  # the docstring is not code to read through
            if body and node.end_lineno - body[0].lineno + 1 > limit:
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name}")
    return found


def test_no_autograder_function_is_longer_than_a_screen():
    assert not _long_functions(AUTOGRADER, 60)
