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
import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
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
    Hostile("steal_answer_key", "release", "zero",
            "searches the sandbox for probes, hidden tests and answer keys, prints what it "
            "finds compressed and base64-encoded, and sets every answer it can read off"),
    Hostile("planted_links", "reference", "full",
            "links left in the submitted folder (as an unzip keeps them): timestamp.txt to "
            "the grader's /proc/self/environ, others to system files"),
    Hostile("setsid_hog", "reference", "probed",
            "busy children that each start a session of their own, to take CPU from the "
            "students graded beside it"),
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


# Its key words are joined at run time, so that the notebook holding this very
# cell does not count as a find.
STEAL_ANSWER_KEY = """import base64, os, re, sys, zlib
if "_leaks" not in globals():
    _words = ("BEGIN " + "HIDDEN TESTS", "ANSWER" + "_PROBES", "def " + "expected",
              "Answer" + "Probe(", "PRO" + "BES = [")
    _leaks = {}
    _here = os.getcwd()
    _roots = {_here, os.path.dirname(_here), os.path.dirname(os.path.dirname(_here)),
              os.path.dirname(os.path.dirname(os.path.dirname(_here))),
              os.environ.get("HOME", ""), os.environ.get("TMPDIR", ""), "/tmp"}
    # The interpreter's own folders hold only public packages.
    _public = tuple(os.path.realpath(p) for p in {sys.prefix, sys.base_prefix})
    for _root in sorted(r for r in _roots if r and r != "/"):
        for _dir, _subdirs, _files in os.walk(_root):
            if os.path.realpath(_dir).startswith(_public):
                _subdirs[:] = []
                continue
            for _name in _files:
                _path = os.path.join(_dir, _name)
                try:
                    if os.path.getsize(_path) < (4 << 20):
                        with open(_path, errors="replace") as _fh:
                            _text = _fh.read()
                        if any(_w in _text for _w in _words):
                            _leaks[_path] = _text
                except OSError:
                    pass
    for _path, _text in sorted(_leaks.items()):
        print("LEAKED", _path, base64.b64encode(zlib.compress(_text.encode())).decode())
    print("searched", len(_leaks), "leak(s)")
for _text in _leaks.values():
    for _name, _value in re.findall(r'"([A-Za-z_]\\w*)":\\s*(-?\\d+(?:\\.\\d+)?|"[^"]*")', _text):
        try:
            globals()[_name] = eval(_value)
        except Exception:
            pass
"""

SETSID_HOG = """import os, time
_end = time.monotonic() + 15
_hogs = []
for _ in range(6):
    _pid = os.fork()
    if _pid == 0:
        os.setsid()
        while time.monotonic() < _end:
            pass
        os._exit(0)
    _hogs.append(_pid)
for _pid in _hogs:
    os.waitpid(_pid, 0)
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
    secrets = [str(course_root / "source"), str(course_root / "probes"),
               str(course_root / "gradebook.db"), str(course_root / "autograded"),
               str(ref_dir)]
    # The grader's trusted side; ``autograder/inside`` is public and may be read.
    secrets += [str(p) for p in sorted((REPO_ROOT / "autograder").iterdir())
                if p.name not in ("__init__.py", "inside", "__pycache__")]
    outside = [str(course_root / "gradebook.db"),
               str(course_root / "source" / assignment / f"{assignment}.ipynb")]
    outside += [str(course_root / "submitted" / s / assignment / f"{assignment}.ipynb")
                for s in other_students]

    target = _Target(dest_dir, assignment, secrets, outside, ref_dir, slow_seconds)
    _BUILDERS[kind](target)
    return dest_dir


# ---------------------------------------------------------------------------
# One builder per kind: what it does to an honest copy of the submission.

@dataclass(frozen=True)
class _Target:
    folder: Path
    assignment: str
    secrets: list
    outside: list
    reference_lib: Path
    slow_seconds: float

    def before_tests(self, source: str) -> None:
        _insert_before_tests(self.folder, self.assignment, source)

    def before_every_test(self, source: str) -> None:
        nb = _load(self.folder, self.assignment)
        cells = []
        for cell in nb["cells"]:
            if _is_test(cell):
                cells.append(_code_cell(source))
            cells.append(cell)
        nb["cells"] = cells
        _save(self.folder, self.assignment, nb)

    def library(self, code: str) -> None:
        _append_to_library(self.folder, code)


def _patched(target: _Target, cell: str, library: str = "") -> None:
    _garbage_stubs(target.folder)
    target.before_tests(cell)
    if library:
        target.library(library)


def _tests_replaced(target: _Target, kind: str) -> None:
    nb = _load(target.folder, target.assignment)
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
    _save(target.folder, target.assignment, nb)


def _non_utf8(target: _Target) -> None:
    nb = _load(target.folder, target.assignment)
    nb["cells"].insert(0, {"cell_type": "markdown", "metadata": {},
                           "source": "R\u00e9sum\u00e9 of my caf\u00e9 notes"})
    _nb_path(target.folder, target.assignment).write_bytes(
        json.dumps(nb, ensure_ascii=False).encode("latin-1"))


def _malformed(target: _Target) -> None:
    path = _nb_path(target.folder, target.assignment)
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")


def _planted_links(target: _Target) -> None:
    """Links a manual copy or an unzip could leave in submitted/: the trusted
    steps that read the folder (recording reads timestamp.txt) must not follow
    them to the grader's own environment or to a system file."""
    (target.folder / "timestamp.txt").unlink(missing_ok=True)
    os.symlink("/proc/self/environ", target.folder / "timestamp.txt")
    os.symlink("/etc/passwd", target.folder / "passwords.txt")
    os.symlink("/proc/self/environ", target.folder / PACKAGE / "environ.py")


_BUILDERS: dict[str, Callable[[_Target], None]] = {
    "infinite_loop": lambda t: t.before_tests("while True:\n    pass\n"),
    "ignores_sigint": lambda t: t.before_tests(IGNORE_SIGINT),
    "memory_bomb": lambda t: t.before_tests(MEMORY_BOMB),
    "fork_bomb": lambda t: t.before_tests(FORK_BOMB),
    "sys_exit": lambda t: t.before_tests("import sys\nsys.exit(0)\n"),
    "os_exit": lambda t: t.before_tests("import os\nos._exit(0)\n"),
    "kill_kernel": lambda t: t.before_tests("import os, signal\n"
                                            "os.kill(os.getppid(), signal.SIGKILL)\n"
                                            "os.kill(os.getpid(), signal.SIGKILL)\n"),
    "monkeypatch_numpy": lambda t: _patched(t, PATCH_NUMPY, PATCH_NUMPY),
    "monkeypatch_checks": lambda t: _patched(t, PATCH_NUMPY + PATCH_CHECKS),
    "monkeypatch_builtins": lambda t: _patched(t, PATCH_BUILTINS, PATCH_BUILTINS),
    "input_transformer": lambda t: t.before_tests(
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"),
    "pre_run_cell": lambda t: _patched(t, "def _cheat(*args):\n" + "".join(
        "    " + ln + "\n" for ln in PATCH_NUMPY.splitlines())
        + "get_ipython().events.register('pre_run_cell', _cheat)\n"),
    "edited_tests": lambda t: _tests_replaced(t, "edited_tests"),
    "deleted_tests": lambda t: _tests_replaced(t, "deleted_tests"),
    "fake_output": lambda t: _tests_replaced(t, "fake_output"),
    "read_secrets": lambda t: (t.before_tests(_read_secrets_cell(t.secrets)),
                               t.library(_steal_reference(str(t.reference_lib)))),
    "steal_answer_key": lambda t: t.before_every_test(STEAL_ANSWER_KEY),
    "planted_links": _planted_links,
    "setsid_hog": lambda t: t.before_tests(SETSID_HOG),
    "write_outside": lambda t: (t.before_tests(_write_outside_cell(t.outside)),
                                t.library(_write_outside_cell(t.outside))),
    "big_output": lambda t: t.before_tests(BIG_OUTPUT),
    "network": lambda t: t.before_tests(NETWORK),
    "malformed_json": _malformed,
    "missing_notebook": lambda t: _nb_path(t.folder, t.assignment).unlink(),
    "non_utf8": _non_utf8,
    "slow_correct": lambda t: t.library(
        f"import time as _time\n_time.sleep({t.slow_seconds!r})\n"),
}


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
