"""Hostile and broken submissions, for the tests and the demo.

Each kind starts from an honest submission folder (``reference``: every gap
filled in correctly; ``release``: the untouched release) and adds one attack
or one defect. ``HOSTILE[kind].expect`` says what correct grading gives:

``full``
    full marks: the trick neither helps nor hurts a correct solution;
``probed``
    every probed (trusted) test cell keeps its points; notebook-only cells
    may be lost because the trick stopped the notebook;
``zero``
    nothing: the trick tried to earn points the library does not deserve;
``error``
    a clear per-student error (the submission cannot be graded).

``make_hostile(base_dir, dest_dir, kind, ...)`` writes one submission;
``make_hostile_class`` writes one per kind under ``submitted/``. The base
folders usually come from ``autograder.demo.synth.make_submission``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.course import PACKAGE, REPO_ROOT


@dataclass(frozen=True)
class Hostile:
    """One kind of hostile or broken submission."""

    kind: str
    base: str
    expect: str
    what: str


_KINDS = [
    Hostile("infinite_loop", "reference", "full", "a cell that loops forever"),
    Hostile("ignores_sigint", "reference", "probed",
            "a cell that ignores SIGINT, loops forever and leaves a double-forked daemon"),
    Hostile("memory_bomb", "reference", "probed", "a cell that allocates until it is refused"),
    Hostile("fork_bomb", "reference", "probed", "a cell that forks until it is refused"),
    Hostile("sys_exit", "reference", "full", "a cell calling sys.exit()"),
    Hostile("os_exit", "reference", "probed", "a cell calling os._exit(0)"),
    Hostile("kill_kernel", "reference", "probed",
            "a cell that SIGKILLs its kernel and the program running it"),
    Hostile("monkeypatch_numpy", "release", "zero",
            "garbage answers, and numpy's comparisons patched to always agree"),
    Hostile("monkeypatch_checks", "release", "zero",
            "garbage answers, and the library's checkers patched to always pass"),
    Hostile("monkeypatch_builtins", "release", "zero",
            "garbage answers, and builtins (abs, max, AssertionError) patched"),
    Hostile("input_transformer", "release", "zero",
            "an IPython input transformer that turns every later cell into 'pass'"),
    Hostile("pre_run_cell", "release", "zero",
            "garbage answers and a pre_run_cell hook re-patching numpy before every cell"),
    Hostile("edited_tests", "release", "zero", "test cells replaced by a print"),
    Hostile("deleted_tests", "release", "zero", "test cells deleted"),
    Hostile("fake_output", "release", "zero",
            "prints 'All tests passed' and ships fake passing outputs"),
    Hostile("read_secrets", "release", "zero",
            "reads source/, probes, the gradebook and the reference library, and imports "
            "the reference implementation into its own library"),
    Hostile("write_outside", "release", "zero",
            "writes the gradebook, the source notebook and other students' folders"),
    Hostile("big_output", "reference", "full", "prints 100 MB"),
    Hostile("network", "reference", "full", "tries to open network connections"),
    Hostile("malformed_json", "reference", "error", "a truncated notebook file"),
    Hostile("missing_notebook", "reference", "error", "no notebook at all"),
    Hostile("non_utf8", "reference", "error", "a notebook saved as Latin-1"),
    Hostile("slow_correct", "reference", "full", "a correct library that is slow to load"),
]
HOSTILE: dict[str, Hostile] = {h.kind: h for h in _KINDS}


# ---------------------------------------------------------------------------
# Editing a submission.

def _nb_path(folder: Path, assignment: str) -> Path:
    return folder / f"{assignment}.ipynb"


def _load(folder: Path, assignment: str) -> dict:
    return json.loads(_nb_path(folder, assignment).read_text(encoding="utf-8"))


def _save(folder: Path, assignment: str, nb: dict) -> None:
    _nb_path(folder, assignment).write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _nbgrader(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _is_test(cell: dict) -> bool:
    meta = _nbgrader(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.get(
        "cell_type") == "code"


def _code_cell(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
            "execution_count": None}


def _insert_before_tests(folder: Path, assignment: str, source: str) -> None:
    nb = _load(folder, assignment)
    index = next((i for i, c in enumerate(nb["cells"]) if _is_test(c)), len(nb["cells"]))
    nb["cells"].insert(index, _code_cell(source))
    _save(folder, assignment, nb)


def _append_to_library(folder: Path, code: str) -> None:
    init = folder / PACKAGE / "__init__.py"
    if init.is_file():
        init.write_text(init.read_text(encoding="utf-8") + "\n" + code, encoding="utf-8")


_RAISE_STUB = re.compile(r"raise NotImplementedError\((?:[^()]|\([^()]*\))*\)", re.S)


def _garbage_stubs(folder: Path) -> None:
    """Make every stub return a number instead of raising, so tests reach their
    comparisons (which the attack then patches)."""
    for path in sorted((folder / PACKAGE).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        new = _RAISE_STUB.sub("return 0.0", text)
        if new != text:
            path.write_text(new, encoding="utf-8")


PATCH_NUMPY = """import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_almost_equal = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
"""

PATCH_CHECKS = """import sys
for _name, _mod in list(sys.modules.items()):
    if _name.startswith("cs231n_lib") and _mod is not None:
        for _attr in dir(_mod):
            if _attr == "rel_error":
                setattr(_mod, _attr, lambda *a, **k: 0.0)
            elif _attr.startswith(("check_", "require_", "grad_check", "eval_numerical")):
                setattr(_mod, _attr, lambda *a, **k: None)
"""

PATCH_BUILTINS = """import builtins
builtins.abs = lambda x: 0 * x
builtins.max = lambda *a, **k: 0.0
builtins.AssertionError = type("AssertionError", (Warning,), {})
"""

IGNORE_SIGINT = """import os, signal, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(1)
    os._exit(0)
while True:
    pass
"""

MEMORY_BOMB = """blocks = []
try:
    while True:
        blocks.append(bytearray(64 * 1024 * 1024))
except MemoryError:
    print("refused after", len(blocks), "blocks")
    raise
"""

FORK_BOMB = """import os, time
children = 0
try:
    while True:
        if os.fork() == 0:
            while True:
                time.sleep(1)
        children += 1
except OSError as exc:
    print("fork refused after", children, "children:", exc)
"""

BIG_OUTPUT = """chunk = "x" * 1_000_000
for _ in range(100):
    print(chunk)
"""

NETWORK = """import socket
for host, port in [("1.1.1.1", 80), ("8.8.8.8", 53), ("example.com", 443)]:
    try:
        socket.create_connection((host, port), timeout=3).close()
        print("CONNECTED to", host)
    except OSError as exc:
        print("no network to", host, ":", exc)
"""


def _read_secrets_cell(targets: Sequence[str]) -> str:
    return f"""import os
for target in {list(targets)!r}:
    try:
        if os.path.isdir(target):
            for root, dirs, files in os.walk(target):
                for name in files:
                    path = os.path.join(root, name)
                    print("READ", path, open(path, errors="replace").read()[:4000])
        else:
            print("READ", target, open(target, errors="replace").read()[:4000])
    except Exception as exc:
        print("refused", target, type(exc).__name__)
"""


def _steal_reference(reference_lib_dir: str) -> str:
    """Library code that replaces its own modules by the reference's, if it can."""
    return f"""import importlib.util as _iu, os as _os, sys as _sys
try:
    for _f in sorted(_os.listdir({reference_lib_dir!r})):
        if _f.endswith(".py") and _f != "__init__.py":
            _name = __name__ + "." + _f[:-3]
            _spec = _iu.spec_from_file_location(_name, _os.path.join({reference_lib_dir!r}, _f))
            _mod = _iu.module_from_spec(_spec)
            _sys.modules[_name] = _mod
            _spec.loader.exec_module(_mod)
            globals()[_f[:-3]] = _mod
    print("STOLE THE REFERENCE")
except Exception as _exc:
    print("could not steal the reference:", type(_exc).__name__)
"""


def _write_outside_cell(targets: Sequence[str]) -> str:
    return f"""import os
for target in {list(targets)!r}:
    try:
        with open(target, "a") as fh:
            fh.write("HACKED")
        print("WROTE", target)
    except Exception as exc:
        print("refused", target, type(exc).__name__)
    try:
        os.remove(target)
        print("REMOVED", target)
    except Exception as exc:
        print("refused removing", target, type(exc).__name__)
"""


# ---------------------------------------------------------------------------
# Building submissions.

def make_hostile(base_dir: Path, dest_dir: Path, kind: str, *, assignment: str,
                 course_root: Path, reference_lib_dir: Path | None = None,
                 other_students: Iterable[str] = (), slow_seconds: float = 3.0) -> Path:
    """Write the ``kind`` variant of the submission ``base_dir`` to ``dest_dir``.

    Parameters
    ----------
    base_dir : Path
        An honest submission (``HOSTILE[kind].base`` says which one the
        expectation assumes).
    dest_dir : Path
        Replaced if it exists.
    kind : str
        A key of :data:`HOSTILE`.
    assignment : str
        The notebook is ``<assignment>.ipynb``.
    course_root : Path
        The course under attack (its ``source/``, ``probes/``, gradebook and
        ``submitted/`` are the targets of ``read_secrets`` and ``write_outside``).
    reference_lib_dir : Path, optional
        The reference library that ``read_secrets`` tries to import
        (default: this repository's ``cs231n_lib``).
    other_students : iterable of str
        Whose folders ``write_outside`` tries to overwrite.
    slow_seconds : float
        How long ``slow_correct``'s library takes to import.
    """
    if kind not in HOSTILE:
        raise ValueError(f"unknown hostile kind {kind!r}; known: {sorted(HOSTILE)}")
    base_dir, dest_dir, course_root = Path(base_dir), Path(dest_dir), Path(course_root)
    ref_dir = Path(reference_lib_dir) if reference_lib_dir else REPO_ROOT / PACKAGE
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    shutil.copytree(base_dir, dest_dir, symlinks=True)
    nb_file = _nb_path(dest_dir, assignment)
    secrets = [str(course_root / "source"), str(course_root / "probes"),
               str(course_root / "gradebook.db"), str(course_root / "autograded"),
               str(ref_dir), str(REPO_ROOT / "autograder")]
    outside = [str(course_root / "gradebook.db"),
               str(course_root / "source" / assignment / f"{assignment}.ipynb")]
    outside += [str(course_root / "submitted" / s / assignment / f"{assignment}.ipynb")
                for s in other_students]

    if kind == "infinite_loop":
        _insert_before_tests(dest_dir, assignment, "while True:\n    pass\n")
    elif kind == "ignores_sigint":
        _insert_before_tests(dest_dir, assignment, IGNORE_SIGINT)
    elif kind == "memory_bomb":
        _insert_before_tests(dest_dir, assignment, MEMORY_BOMB)
    elif kind == "fork_bomb":
        _insert_before_tests(dest_dir, assignment, FORK_BOMB)
    elif kind == "sys_exit":
        _insert_before_tests(dest_dir, assignment, "import sys\nsys.exit(0)\n")
    elif kind == "os_exit":
        _insert_before_tests(dest_dir, assignment, "import os\nos._exit(0)\n")
    elif kind == "kill_kernel":
        _insert_before_tests(dest_dir, assignment, "import os, signal\n"
                             "os.kill(os.getppid(), signal.SIGKILL)\n"
                             "os.kill(os.getpid(), signal.SIGKILL)\n")
    elif kind == "monkeypatch_numpy":
        _garbage_stubs(dest_dir)
        _insert_before_tests(dest_dir, assignment, PATCH_NUMPY)
        _append_to_library(dest_dir, PATCH_NUMPY)
    elif kind == "monkeypatch_checks":
        _garbage_stubs(dest_dir)
        _insert_before_tests(dest_dir, assignment, PATCH_NUMPY + PATCH_CHECKS)
    elif kind == "monkeypatch_builtins":
        _garbage_stubs(dest_dir)
        _insert_before_tests(dest_dir, assignment, PATCH_BUILTINS)
        _append_to_library(dest_dir, PATCH_BUILTINS)
    elif kind == "input_transformer":
        _insert_before_tests(dest_dir, assignment, "get_ipython().input_transformers_cleanup"
                             ".append(lambda lines: ['pass\\n'])\n")
    elif kind == "pre_run_cell":
        _garbage_stubs(dest_dir)
        _insert_before_tests(dest_dir, assignment, "def _cheat(*args):\n"
                             + "".join("    " + ln + "\n" for ln in PATCH_NUMPY.splitlines())
                             + "get_ipython().events.register('pre_run_cell', _cheat)\n")
    elif kind in ("edited_tests", "deleted_tests", "fake_output"):
        nb = _load(dest_dir, assignment)
        if kind == "deleted_tests":
            nb["cells"] = [c for c in nb["cells"] if not _is_test(c)]
        for cell in nb["cells"]:
            if _is_test(cell) and kind == "edited_tests":
                cell["source"] = "print('All tests passed!')\n"
            elif _is_test(cell):
                cell["outputs"] = [{"output_type": "stream", "name": "stdout",
                                    "text": "All tests passed!\n"}]
                cell["execution_count"] = 1
        if kind == "fake_output":
            nb["cells"].append(_code_cell("print('All tests passed! Score: 100/100')\n"))
        _save(dest_dir, assignment, nb)
    elif kind == "read_secrets":
        _insert_before_tests(dest_dir, assignment, _read_secrets_cell(secrets))
        _append_to_library(dest_dir, _steal_reference(str(ref_dir)))
    elif kind == "write_outside":
        _insert_before_tests(dest_dir, assignment, _write_outside_cell(outside))
        _append_to_library(dest_dir, _write_outside_cell(outside))
    elif kind == "big_output":
        _insert_before_tests(dest_dir, assignment, BIG_OUTPUT)
    elif kind == "network":
        _insert_before_tests(dest_dir, assignment, NETWORK)
    elif kind == "malformed_json":
        text = nb_file.read_text(encoding="utf-8")
        nb_file.write_text(text[: len(text) // 2], encoding="utf-8")
    elif kind == "missing_notebook":
        nb_file.unlink()
    elif kind == "non_utf8":
        nb = _load(dest_dir, assignment)
        nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {},
                               "source": "Résumé of my café notes"})
        nb_file.write_bytes(json.dumps(nb, ensure_ascii=False).encode("latin-1"))
    elif kind == "slow_correct":
        _append_to_library(dest_dir, f"import time as _time\n_time.sleep({slow_seconds!r})\n")
    return dest_dir


def make_hostile_class(course_root: Path, assignment: str, *, reference_dir: Path,
                       release_dir: Path, kinds: Iterable[str] | None = None,
                       prefix: str = "hostile-", reference_lib_dir: Path | None = None,
                       other_students: Iterable[str] = (), slow_seconds: float = 3.0
                       ) -> dict[str, Hostile]:
    """One submission per kind at ``submitted/<prefix><kind>/<assignment>/``.

    Returns ``{student id: Hostile}`` so a caller can compare grades with
    each kind's ``expect``.
    """
    course_root = Path(course_root)
    made = {}
    for kind in kinds or list(HOSTILE):
        spec = HOSTILE[kind]
        base = reference_dir if spec.base == "reference" else release_dir
        student = f"{prefix}{kind.replace('_', '-')}"
        make_hostile(base, course_root / "submitted" / student / assignment, kind,
                     assignment=assignment, course_root=course_root,
                     reference_lib_dir=reference_lib_dir, other_students=other_students,
                     slow_seconds=slow_seconds)
        made[student] = spec
    return made
