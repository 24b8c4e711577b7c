"""Grade one submission end to end: private copy, sandboxed run, trusted verdict.

``grade_submission(course_root, assignment, student)`` returns plain JSON data
and never raises for anything a student did; bad input (no notebook, a
notebook that is not UTF-8 or not JSON) becomes ``status: "error"`` with a
message meant for the student's report. It writes only inside its own
temporary folder, which it removes: recording results is the coordinator's
job.

Steps:

1. copy ``submitted/<student>/<assignment>/`` to a private folder: regular
   files only (no symlinks, devices or fifos), with caps on size and count;
2. rebuild the notebook in this (trusted) process from plain JSON: every
   locked or test cell comes back from ``source/<assignment>/<assignment>.ipynb``
   by ``grade_id`` (edited cells are overwritten, deleted ones re-inserted),
   nbgrader metadata is taken from the source, outputs are cleared;
3. draw the probes' inputs from the seed and compute the reference outputs
   (and the answer probes' reference answers) with the reference
   ``cs231n_lib``;
4. run ``autograder/runner.py`` in two sandboxes, one after the other: the
   notebook (which also exports the values the answer probes name), then
   the probes (the notebook's processes are all dead before the probes
   start, and nothing they wrote reaches the probes' sandbox). As root, each
   sandbox is forked from a pre-imported helper (``autograder.sandbox.warm``) rather
   than started as new interpreters; the result's ``started`` says which;
5. verify what came back (``autograder.grading.verify``) and build the result.

Layout of the sandbox's folder (``work/``): ``ro/`` (root-owned, read-only
for the student: the runner, the probe files, ``inputs.npz`` and a pristine
copy of the submitted ``cs231n_lib`` that the probes import) and ``rw/``
(the student's uid: ``nb/`` with the submission and the rebuilt notebook,
``out/`` for results, ``home/``, ``tmp/``). Each run starts from this same
prepared folder; only its ``rw/out`` comes back.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.util
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType

import numpy as np

from autograder.course import AUTOGRADER_DIR, PACKAGE
from autograder.grading import verify
from autograder.sandbox import Limits, MiB, WarmStartError, namespaces_available, run_sandboxed
from autograder.sandbox import warm as warm_start

RUNNER_FILE = Path(__file__).resolve().parents[1] / "inside" / "runner.py"
CONTRACT_FILE = Path(__file__).with_name("probes.py")

MAX_SUBMISSION_BYTES = 64 * MiB
MAX_SUBMISSION_FILES = 2000
MAX_NOTEBOOK_BYTES = 32 * MiB
MAX_EXECUTED_BYTES = 64 * MiB
MAX_OUTPUTS_BYTES = 128 * MiB
MAX_ANSWERS_BYTES = 16 * MiB
MAX_FEEDBACK_BYTES = 4 * MiB
DEFAULT_LIMITS = Limits()
SKIPPED_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$")
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# Loading the reference library and computing reference outputs happen once
# per process for many grading threads: one at a time, or a second thread
# finds a half-imported package in sys.modules (and its failures get cached).
REFERENCE_LOCK = threading.RLock()


class SubmissionError(Exception):
    """The submission cannot be graded; the message is for the student."""


# ---------------------------------------------------------------------------
# Step 1: the private copy.

def copy_submission(src: Path, dest: Path, *, max_bytes: int = MAX_SUBMISSION_BYTES,
                    max_files: int = MAX_SUBMISSION_FILES) -> list[str]:
    """Copy regular files and folders of ``src`` into ``dest``, nothing else.

    Returns notes on what was left out. Raises SubmissionError when the
    submission is over the caps.
    """
    notes: list[str] = []
    budget = {"bytes": max_bytes, "files": max_files}

    def walk(src_fd: int, out: Path, rel: str, depth: int) -> None:
        out.mkdir(mode=0o755, exist_ok=True)
        if depth > 20:
            raise SubmissionError(f"folders nested too deep at {rel}")
        with os.scandir(src_fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            here = f"{rel}{entry.name}"
            st = os.stat(entry.name, dir_fd=src_fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                if entry.name in SKIPPED_DIRS:
                    continue
                fd = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                             dir_fd=src_fd)
                try:
                    walk(fd, out / entry.name, here + "/", depth + 1)
                finally:
                    os.close(fd)
            elif stat.S_ISREG(st.st_mode):
                budget["files"] -= 1
                budget["bytes"] -= st.st_size
                if budget["files"] < 0:
                    raise SubmissionError(f"more than {max_files} files in the submission")
                if budget["bytes"] < 0:
                    raise SubmissionError(
                        f"the submission is larger than {max_bytes // MiB} MiB")
                fd = os.open(entry.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK,
                             dir_fd=src_fd)
                try:
                    with open(out / entry.name, "wb") as fh:
                        shutil.copyfileobj(os.fdopen(os.dup(fd), "rb"), fh)
                finally:
                    os.close(fd)
            else:
                kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
                notes.append(f"{here} was left out: {kind}")

    fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        walk(fd, dest, "", 0)
    finally:
        os.close(fd)
    return notes


# ---------------------------------------------------------------------------
# Step 2: the rebuilt notebook.

def _text(source) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def parse_notebook(data: bytes, what: str) -> dict:
    """Decode a submitted notebook, raising SubmissionError with a clear message."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{what} is not UTF-8 text (byte {exc.start}); save it again "
                              "from Jupyter") from None
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SubmissionError(f"{what} is not valid notebook JSON ({exc}); it may be "
                              "damaged: download it again or save it from Jupyter") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise SubmissionError(f"{what} is JSON but not a Jupyter notebook (no list of cells)")
    return nb


def _released_text(source: str) -> str:
    """A cell's text as released (hidden tests removed), for spotting edits."""
    kept, inside = [], False
    for line in source.splitlines():
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _is_restored(meta: dict) -> bool:
    """Cells nbgrader overwrites from the source: locked ones and test cells."""
    return bool(meta.get("locked")) or (bool(meta.get("grade")) and not meta.get("solution"))


def _fresh_cell(kind: str, source: str, metadata: dict) -> dict:
    cell = {"cell_type": kind, "metadata": metadata, "source": source}
    if kind == "code":
        cell.update(outputs=[], execution_count=None)
    return cell


def rebuild_notebook(submitted: dict, source: dict) -> tuple[dict, list[str]]:
    """The notebook to run: the student's answers, the source's locked and test cells.

    Returns the notebook and notes (restored or re-inserted cells, stripped
    metadata) for the instructor.
    """
    notes: list[str] = []
    src_cells = [c for c in source.get("cells", []) if isinstance(c, dict)]
    by_id = {}
    for c in src_cells:
        meta = verify.nbgrader_meta(c)
        if meta.get("grade_id"):
            by_id[meta["grade_id"]] = c
    restored_ids = {gid for gid, c in by_id.items() if _is_restored(verify.nbgrader_meta(c))}

    out: list[tuple[str | None, dict]] = []
    seen: set[str] = set()
    for cell in submitted["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        gid = verify.nbgrader_meta(cell).get("grade_id")
        gid = gid if isinstance(gid, str) else None
        if gid in by_id and gid not in seen:
            seen.add(gid)
            ref = by_id[gid]
            ref_meta = {"nbgrader": dict(verify.nbgrader_meta(ref))}
            if gid in restored_ids:
                if _released_text(_text(cell.get("source"))) != _released_text(
                        _text(ref.get("source"))):
                    notes.append(f"cell {gid} was edited; restored from the source")
                out.append((gid, _fresh_cell(ref["cell_type"], _text(ref.get("source")),
                                             ref_meta)))
            else:
                out.append((gid, _fresh_cell(ref["cell_type"], _text(cell.get("source")),
                                             ref_meta)))
            continue
        if gid is not None:
            notes.append(f"a cell claiming grade_id {gid!r} lost its nbgrader metadata")
        out.append((None, _fresh_cell(cell["cell_type"], _text(cell.get("source")), {})))

    # Deleted cells come back after the nearest earlier source cell still present.
    for k, ref in enumerate(src_cells):
        gid = verify.nbgrader_meta(ref).get("grade_id")
        if gid not in restored_ids or gid in seen:
            continue
        notes.append(f"cell {gid} was deleted; re-inserted from the source")
        position = 0
        for prev in reversed(src_cells[:k]):
            pid = verify.nbgrader_meta(prev).get("grade_id")
            hits = [i for i, (g, _) in enumerate(out) if pid and g == pid]
            if hits:
                position = hits[0] + 1
                break
        out.insert(position, (gid, _fresh_cell(ref["cell_type"], _text(ref.get("source")),
                                               {"nbgrader": dict(verify.nbgrader_meta(ref))})))
        seen.add(gid)

    cells = []
    for i, (_, cell) in enumerate(out):
        cell["id"] = f"cell-{i}"
        cells.append(cell)
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3",
                               "language": "python"},
                "language_info": {"name": "python"}}
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": metadata, "cells": cells}, notes


# ---------------------------------------------------------------------------
# Step 3: probes, inputs and reference outputs (trusted side).

def load_probe_file(path: Path) -> tuple[list, list]:
    """``(PROBES, ANSWER_PROBES)`` of a probe file (trusted instructor code)."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"_course_probes_{digest}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    probes = list(getattr(module, "PROBES", []))
    answer_probes = list(getattr(module, "ANSWER_PROBES", []))
    names = [p.name for p in probes + answer_probes]
    if len(set(names)) != len(names) or any(verify.SEP in n or "/" in n for n in names):
        raise ValueError(f"{path}: probe names must be unique and free of '::' and '/'")
    for probe in answer_probes:
        names = list(probe.variables) + ([probe.function] if probe.function else [])
        if not all(isinstance(n, str) and n.isidentifier() for n in names):
            raise ValueError(f"{path}: answer probe {probe.name}: variables and function "
                             "must be Python names")
    return probes, answer_probes


def load_probes(path: Path) -> list:
    """The ``PROBES`` of a probe file (trusted instructor code)."""
    return load_probe_file(path)[0]


def load_package(path: str | os.PathLike, alias: str | None = None) -> ModuleType:
    """Import the package folder ``path`` under ``alias`` (for a reference library
    kept somewhere other than the installed ``cs231n_lib``)."""
    path = Path(path)
    alias = alias or f"_reference_{path.name}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    with REFERENCE_LOCK:
        if alias in sys.modules:
            return sys.modules[alias]
        spec = importlib.util.spec_from_file_location(alias, path / "__init__.py",
                                                      submodule_search_locations=[str(path)])
        module = importlib.util.module_from_spec(spec)
        # In sys.modules before it runs (its relative imports need that), so
        # only under the lock: another thread must never see it half-built.
        sys.modules[alias] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(alias, None)
            raise
        return module


def _draw_inputs(probes: Sequence, seed: int, assignment: str) -> dict[str, dict]:
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(zlib.crc32(assignment.encode()),)))
    inputs = {}
    for probe in probes:
        drawn = verify.plain_outputs(probe.make_inputs(rng))
        inputs[probe.name] = drawn
    return inputs


@dataclass(frozen=True)
class Reference:
    """What the trusted side prepares once per probe file, seed and library."""

    probes: list
    inputs: dict            # probe name -> input arrays
    outputs: dict           # probe name -> reference outputs, or the exception
    answer_probes: list
    answer_inputs: dict     # answer probe name -> the function's input arrays
    answers: dict           # answer probe name -> reference answers, or the exception


def _reference_answers(probe, lib: ModuleType, inputs: dict) -> dict:
    # The inputs travel as Python literals of floats: nan and inf have none.
    if not all(np.all(np.isfinite(v)) for v in inputs.values()):
        raise ValueError("the inputs of an answer probe must be finite")
    given = {k: v.copy() for k, v in inputs.items()}
    with contextlib.redirect_stdout(io.StringIO()):
        raw = probe.expected(lib, given)
    answers = {str(k): verify.reference_answer(v) for k, v in dict(raw).items()}
    wanted = set(probe.variables) | (set(inputs) if probe.function else set())
    if set(answers) != wanted:
        raise ValueError(f"expected() gives {sorted(answers)}, the probe exports "
                         f"{sorted(wanted)}")
    return answers


@functools.lru_cache(maxsize=32)
def _reference_cached(probes_file: str, mtime: float, seed: int, assignment: str,
                      lib_name: str) -> Reference:
    probes, answer_probes = load_probe_file(Path(probes_file))
    lib = sys.modules[lib_name]
    inputs = _draw_inputs(probes, seed, assignment)
    reference: dict[str, dict | Exception] = {}
    for probe in probes:
        try:
            given = {k: v.copy() for k, v in inputs[probe.name].items()}
            # Checkers print their progress; the grader's own output stays clean.
            with contextlib.redirect_stdout(io.StringIO()):
                reference[probe.name] = verify.plain_outputs(probe.run(lib, given))
        except Exception as exc:  # noqa: BLE001 - an instructor bug, reported per probe
            reference[probe.name] = exc
    # Their own stream of the seed: adding answer probes changes no library input.
    answer_inputs = _draw_inputs(answer_probes, seed, assignment + "/answers")
    answers: dict[str, dict | Exception] = {}
    for probe in answer_probes:
        try:
            answers[probe.name] = _reference_answers(probe, lib, answer_inputs[probe.name])
        except Exception as exc:  # noqa: BLE001 - an instructor bug, reported per probe
            answers[probe.name] = exc
    return Reference(probes, inputs, reference, answer_probes, answer_inputs, answers)


def reference_for(probes_file: Path, seed: int, assignment: str, lib: ModuleType) -> Reference:
    """The probes of ``probes_file`` with their inputs and reference results
    (cached per file, its mtime, the seed and the library; thread-safe)."""
    with REFERENCE_LOCK:
        sys.modules.setdefault(lib.__name__, lib)
        return _reference_cached(str(probes_file), probes_file.stat().st_mtime, seed,
                                 assignment, lib.__name__)


# ---------------------------------------------------------------------------
# Step 5 helpers: feedback notebook.

def hidden_lines(source_nb: dict) -> list[str]:
    """Lines between the hidden-test markers of the source notebook."""
    lines = []
    for cell in source_nb.get("cells", []):
        inside = False
        for line in _text(cell.get("source")).splitlines():
            if HIDDEN_BEGIN in line:
                inside = True
            elif HIDDEN_END in line:
                inside = False
            elif inside and len(line.strip()) >= 6:
                lines.append(line.strip())
    return lines


def feedback_notebook(executed, hidden: Sequence[str], cap: int = MAX_FEEDBACK_BYTES
                      ) -> dict | None:
    """A sanitised copy of the executed notebook: plain cells, outputs capped,
    hidden tests removed from every source and hidden-test lines from every
    output."""
    if not isinstance(executed, dict) or not isinstance(executed.get("cells"), list):
        return None

    def scrub(text: str) -> str:
        # Tracebacks colour each token, so match on the text without ANSI codes.
        if not any(h in ANSI_RE.sub("", text) for h in hidden):
            return text
        return "\n".join("[hidden test line removed]"
                         if any(h in ANSI_RE.sub("", ln) for h in hidden) else ln
                         for ln in text.split("\n"))

    def clean(value):
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        return value if isinstance(value, int | float | bool) or value is None else str(value)

    cells = []
    for cell in executed["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        meta = verify.nbgrader_meta(cell)
        source = _text(cell.get("source"))
        if HIDDEN_BEGIN in source:
            source = _released_text(source) + "\n"
        new = {"cell_type": cell["cell_type"], "source": source,
               "metadata": {"nbgrader": clean(meta)} if meta else {}}
        if cell["cell_type"] == "code":
            outputs = cell.get("outputs")
            new["outputs"] = clean(outputs) if isinstance(outputs, list) else []
            count = cell.get("execution_count")
            new["execution_count"] = count if isinstance(count, int) else None
        cells.append(new)
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": cells}
    # Over the cap: drop outputs from the largest cells first.
    while len(json.dumps(nb)) > cap:
        sized = [(len(json.dumps(c.get("outputs", []))), c) for c in cells if c.get("outputs")]
        if not sized:
            break
        _, biggest = max(sized, key=lambda t: t[0])
        biggest["outputs"] = [{"output_type": "stream", "name": "stderr",
                               "text": "[output removed: the notebook was too large]\n"}]
    return nb


# ---------------------------------------------------------------------------
# The whole thing.

def _error_result(student: str, assignment: str, message: str, max_score: float,
                  timings: dict, limits: Limits) -> dict:
    return {"student": student, "assignment": assignment, "status": "error", "error": message,
            "cells": [], "score": 0.0, "max_score": max_score, "flags": [],
            "notes": [], "limits": {"requested": limits.to_json(), "in_force": {}},
            "timings": timings, "notebook": None}


def _sandbox_env(work: Path) -> dict[str, str]:
    rw = work / "rw"
    return {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(rw / "home"), "TMPDIR": str(rw / "tmp"), "LANG": "C.UTF-8",
        "IPYTHONDIR": str(rw / "home" / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(rw / "home" / ".jupyter"),
        "JUPYTER_DATA_DIR": str(rw / "home" / ".local" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(rw / "tmp" / "jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1", "MPLCONFIGDIR": str(rw / "tmp" / "matplotlib"),
        "PYTHONNOUSERSITE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        # glibc reserves 64 MiB of address space per thread arena; RLIMIT_AS counts it.
        "MALLOC_ARENA_MAX": "2",
    }


def _reference_library(reference_lib: ModuleType | str | os.PathLike | None) -> ModuleType:
    if reference_lib is None:
        return importlib.import_module(PACKAGE)
    if isinstance(reference_lib, ModuleType):
        return reference_lib
    return load_package(reference_lib)


def grade_submission(course_root: str | os.PathLike, assignment: str, student: str, *,
                     limits: Limits | dict = DEFAULT_LIMITS, seed: int | None = None,
                     work_root: str | os.PathLike | None = None,
                     reference_lib: ModuleType | str | os.PathLike | None = None,
                     unprobed: str = "notebook", hide: Sequence[str] = (),
                     warm: bool = True) -> dict:
    """Grade ``submitted/<student>/<assignment>/`` of the course at ``course_root``.

    Parameters
    ----------
    course_root : path
        The nbgrader course (``source/``, ``submitted/``, ``probes/``).
    assignment, student : str
        Folder names.
    limits : Limits or dict
        Sandbox limits (a dict of ``Limits`` fields also works).
    seed : int, optional
        Seed of the probes' inputs. Give one per grading run: every
        submission of the run then gets the same inputs and the reference
        outputs are computed once. Default: fresh random inputs.
    work_root : path, optional
        Where the private temporary folder goes (default: the system's).
    reference_lib : module or path, optional
        The reference library (default: the installed ``cs231n_lib``).
    unprobed : {"notebook", "zero"}
        Points of a test cell that no probe decides (see ``autograder.grading.verify``).
    hide : sequence of path
        More paths to hide from the student's code (the course folder, the
        reference library and this package are always hidden).
    warm : bool
        Fork the sandboxes from this thread's pre-imported helper
        (``autograder.sandbox.warm``) where the full sandbox is available; False
        starts new interpreters every time (a cold start).

    Returns
    -------
    dict
        Plain JSON data: ``student``, ``assignment``, ``status`` ('graded' or
        'error'), ``error``, ``cells`` (one row per grade cell: ``grade_id``,
        ``notebook``, ``kind``, ``points``, ``max_points``, ``notebook_points``,
        ``trusted``, ``flags``, ``probes``), ``score``, ``max_score``,
        ``flags``, ``notes``, ``limits`` (``requested``, ``in_force``),
        ``timings``, ``notebook`` (the executed notebook for feedback,
        sanitised and size-capped, or None).
    """
    t0 = time.monotonic()
    timings: dict[str, float] = {}
    if isinstance(limits, dict):
        limits = Limits(**limits)
    course = Path(course_root).resolve()
    source_path = course / "source" / assignment / f"{assignment}.ipynb"
    if not NAME_RE.match(student or "") or not NAME_RE.match(assignment or ""):
        return _error_result(student, assignment, f"invalid student or assignment name "
                             f"{student!r}/{assignment!r}", 0.0, timings, limits)
    source_nb = json.loads(source_path.read_text(encoding="utf-8"))
    grade_cells = verify.grade_cells_of(source_nb)
    max_score = sum(c["max_points"] for c in grade_cells if c["kind"] == "test")
    with REFERENCE_LOCK:
        lib = _reference_library(reference_lib)
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little")
    probes_file = course / "probes" / f"{assignment}.py"
    if probes_file.is_file():
        ref = reference_for(probes_file, seed, assignment, lib)
    else:
        ref = Reference([], {}, {}, [], {}, {})
    timings["reference"] = round(time.monotonic() - t0, 3)

    base = Path(tempfile.mkdtemp(prefix="grade-", dir=work_root))
    try:
        return _grade_in(base, course, assignment, student, limits, source_nb, grade_cells,
                         max_score, ref, probes_file, lib, unprobed, hide, timings, t0, warm)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _answer_requests(ref: Reference) -> list[dict]:
    """The notebook run's export requests, one per answer probe (plain JSON)."""
    return [{"grade_id": p.grade_id, "name": p.name, "variables": list(p.variables),
             "function": p.function,
             "inputs": [[k, np.asarray(v, dtype=np.float64).tolist()]
                        for k, v in ref.answer_inputs[p.name].items()] if p.function else []}
            for p in ref.answer_probes]


def _grade_in(base, course, assignment, student, limits, source_nb, grade_cells, max_score,
              ref, probes_file, lib, unprobed, hide, timings, t0, warm=True):
    probes, inputs, reference = ref.probes, ref.inputs, ref.outputs
    work = base / "work"
    ro, rw = work / "ro", work / "rw"
    nb_dir = rw / "nb"
    for d in (ro, rw / "out", rw / "home", rw / "tmp"):
        d.mkdir(parents=True)
    submitted = course / "submitted" / student / assignment
    notebook_name = f"{assignment}.ipynb"
    notes: list[str] = []
    try:
        if submitted.is_symlink() or not submitted.is_dir():
            raise SubmissionError(f"no submission folder submitted/{student}/{assignment}/")
        notes += copy_submission(submitted, nb_dir)
        nb_file = nb_dir / notebook_name
        if nb_file.is_symlink() or not nb_file.is_file():
            found = sorted(p.name for p in nb_dir.glob("*.ipynb"))
            raise SubmissionError(
                f"the notebook {notebook_name} is missing from the submission"
                + (f" (found: {', '.join(found)}; rename yours to {notebook_name})"
                   if found else ""))
        if nb_file.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise SubmissionError(f"{notebook_name} is larger than "
                                  f"{MAX_NOTEBOOK_BYTES // MiB} MiB; clear its outputs")
        submitted_nb = parse_notebook(nb_file.read_bytes(), notebook_name)
    except SubmissionError as exc:
        timings["total"] = round(time.monotonic() - t0, 3)
        return _error_result(student, assignment, str(exc), max_score, timings, limits)
    prepared, rebuild_notes = rebuild_notebook(submitted_nb, source_nb)
    notes += rebuild_notes
    nb_file.write_text(json.dumps(prepared))

    # The read-only side: runner, probe files, inputs, pristine library copy.
    shutil.copyfile(RUNNER_FILE, ro / "runner.py")
    shutil.copyfile(CONTRACT_FILE, ro / "probe_contract.py")
    if probes:
        shutil.copyfile(probes_file, ro / "probes.py")
    (ro / "lib").mkdir()
    if (nb_dir / PACKAGE).is_dir():
        shutil.copytree(nb_dir / PACKAGE, ro / "lib" / PACKAGE)
        missing_lib = ""
    else:
        missing_lib = f"the submission has no {PACKAGE}/ folder"
        notes.append(missing_lib)
    np.savez(ro / "inputs.npz", **{f"{p}{verify.SEP}{k}": v for p, arrays in inputs.items()
                                   for k, v in arrays.items()})
    out = rw / "out"
    n_probes = len(probes)
    # Two sandboxed runs share the submission's wall limit: the notebook,
    # then the probes (at least their reserve, more if the notebook was quick).
    total = max(6.0, float(limits.submission_seconds))
    probe_reserve = min(0.5 * total, 20.0 + 2.0 * n_probes)
    config = {
        "notebook": str(nb_dir / notebook_name), "executed": str(out / "executed.ipynb"),
        "cell_seconds": limits.cell_seconds, "output_bytes": limits.output_bytes,
        # The runner's own start-up and the saving of the notebook come out
        # of the notebook run's wall limit too.
        "notebook_seconds": max(1.0, (total - probe_reserve) * 0.85 - 3.0),
        "probe_seconds": limits.cell_seconds, "probe_names": [p.name for p in probes],
        "probes_file": str(ro / "probes.py"), "contract_file": str(ro / "probe_contract.py"),
        "library_dir": str(ro / "lib"), "inputs": str(ro / "inputs.npz"),
        "probe_dir": str(out / "probes"), "outputs": str(out / "outputs.npz"),
        "errors": str(out / "errors.json"), "notebook_report": str(out / "notebook.json"),
        "probe_report": str(out / "probes.json"), "runner_file": str(ro / "runner.py"),
        "answers": _answer_requests(ref), "answers_file": str(out / "answers.json"),
    }
    (ro / "config.json").write_text(json.dumps(config))
    timings["prepare"] = round(time.monotonic() - t0 - timings["reference"], 3)

    hidden_paths = [str(course), str(AUTOGRADER_DIR)]
    lib_file = getattr(lib, "__file__", None)
    if lib_file:
        hidden_paths.append(str(Path(lib_file).resolve().parent))
    hidden_paths += [str(Path(h).resolve()) for h in hide]

    def run(phase: str, seconds: float, cwd: Path):
        config["probe_total_seconds"] = max(1.0, seconds - 2.0)
        (ro / "config.json").write_text(json.dumps(config))
        args = [phase, str(ro / "config.json")]
        kwargs = dict(writable=["rw"], collect=["rw/out"], cwd=str(cwd), hide=hidden_paths,
                      env=_sandbox_env(work), result_dir=str(base / f"result-{phase}"),
                      entry=("runner", args))
        wall_limited = replace(limits, submission_seconds=seconds)
        argv = [sys.executable, "-I", "-B", str(ro / "runner.py"), *args]
        res = None
        if warm and namespaces_available():
            try:
                with warm_start.borrow() as starter:
                    res = run_sandboxed(argv, str(work), wall_limited, starter=starter,
                                        **kwargs)
            except WarmStartError as exc:
                # The helper failed (the next run gets a new one): start cold.
                notes.append(f"the {phase} run started cold: {exc}")
                shutil.rmtree(base / f"result-{phase}", ignore_errors=True)
        if res is None:
            res = run_sandboxed(argv, str(work), wall_limited, **kwargs)
        if "sandbox setup failed" in res.note:
            raise RuntimeError(f"the sandbox could not be built: {res.note}")
        timings[f"sandbox_{phase}"] = round(res.wall_seconds, 3)
        return res, base / f"result-{phase}" / "rw" / "out"

    nb_run, nb_back = run("notebook", total - probe_reserve, nb_dir)
    probe_run, back = run("probes", max(probe_reserve, total - nb_run.wall_seconds),
                          rw / "tmp")

    t_verify = time.monotonic()
    flags: list[str] = []
    for phase, res in (("notebook", nb_run), ("probes", probe_run)):
        if res.ended == "timeout":
            flags.append(f"time limit: the {phase} run was stopped after "
                         f"{res.wall_seconds:.0f} s (submission limit "
                         f"{limits.submission_seconds:g} s)")
        elif res.ended == "killed-by-limit":
            flags.append(f"resource limit: the {phase} run was killed by the kernel")
        elif res.ended == "crashed":
            said = [ln for ln in res.stderr_tail.splitlines()
                    if ln.strip() and "Kernel is running over TCP" not in ln]
            flags.append(f"the {phase} run crashed (exit {res.exit_code}, signal "
                         f"{res.signal})" + (f": {' / '.join(said[-3:])[-300:]}" if said else ""))

    arrays, bad, errors = {}, {}, {}
    missing_note = "no output came back"
    try:
        arrays, bad = verify.load_npz(verify.read_capped(back, "outputs.npz", MAX_OUTPUTS_BYTES))
    except verify.UntrustedFileError as exc:
        missing_note = f"no usable outputs ({exc}); {probe_run.ended}"
    try:
        errors = verify.load_errors(verify.read_capped(back, "errors.json", 4 * MiB))
    except verify.UntrustedFileError:
        pass
    if missing_lib:
        missing_note = missing_lib
    verdicts = verify.judge_probes(probes, reference, arrays, bad, errors, missing_note)
    answers: dict = {}
    answers_note = f"no answers came back from the notebook run ({nb_run.ended})"
    if ref.answer_probes:
        try:
            answers = verify.load_answers(verify.read_capped(nb_back, "answers.json",
                                                             MAX_ANSWERS_BYTES))
        except verify.UntrustedFileError as exc:
            answers_note = f"no usable answers ({exc}); the notebook run {nb_run.ended}"
    verdicts += verify.judge_answers(ref.answer_probes, ref.answers, answers, answers_note)

    executed = None
    try:
        executed = json.loads(verify.read_capped(nb_back, "executed.ipynb",
                                                 MAX_EXECUTED_BYTES))
    except (verify.UntrustedFileError, ValueError, RecursionError) as exc:
        notes.append(f"no executed notebook came back: {exc}")
    incomplete = ""
    try:
        report = json.loads(verify.read_capped(nb_back, "notebook.json", 4 * MiB))
        cells_report = report.get("cells", []) if isinstance(report, dict) else []
        stops = [str(c.get("note", ""))[:300] for c in cells_report
                 if isinstance(c, dict) and c.get("status") == "not-run"]
        incomplete = stops[0] if stops else ""
        timeouts = [str(c.get("grade_id") or i) for i, c in enumerate(cells_report)
                    if isinstance(c, dict) and c.get("status") == "timeout"]
        if timeouts:
            notes.append(f"cell(s) {', '.join(timeouts)} hit the {limits.cell_seconds:g} s "
                         "cell time limit")
    except (verify.UntrustedFileError, ValueError, RecursionError, AttributeError):
        incomplete = f"the notebook run left no report ({nb_run.ended})"
    nb_scores = verify.notebook_scores(executed, grade_cells)
    rows = verify.grade_cells(assignment, grade_cells, verdicts, nb_scores,
                              unprobed=unprobed, notebook_incomplete=incomplete)
    for row in rows:
        flags += [f"{row.grade_id}: {f}" for f in row.flags
                  if f.startswith(("integrity", "unverified"))]
    score = sum(r.points for r in rows if r.kind == "test" and r.points is not None)
    timings["verify"] = round(time.monotonic() - t_verify, 3)
    timings["total"] = round(time.monotonic() - t0, 3)
    return {
        "student": student, "assignment": assignment, "status": "graded", "error": None,
        "cells": [asdict(r) for r in rows], "score": float(score),
        "max_score": float(max_score), "flags": flags,
        "notes": notes + [f"{phase} run: {res.note}" for phase, res in
                          (("notebook", nb_run), ("probes", probe_run)) if res.note],
        "limits": {"requested": limits.to_json(), "in_force": nb_run.limits_in_force,
                   "ended": {"notebook": nb_run.ended, "probes": probe_run.ended}},
        "timings": timings,
        # How the sandboxes started: "warm" (forked from a pre-imported helper)
        # or "cold" (new interpreters); scores never depend on it.
        "started": "warm" if nb_run.warm and probe_run.warm else "cold",
        "notebook": feedback_notebook(executed, hidden_lines(source_nb)),
    }
