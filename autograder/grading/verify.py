"""Trusted verdicts: decide points from what the sandbox left, trusting none of it.

The sandboxed runner leaves ``outputs.npz`` (each probe's outputs on the
student's library), ``errors.json`` (each failed probe's traceback) and the
executed notebook. This module reads them with size caps, never follows a
link, never unpickles (``allow_pickle=False``, object and structured dtypes
refused before any allocation), and treats every surprise (wrong types,
missing keys, NaN, shapes that differ from the reference's) as that probe
failing with a note that says why.

Points of a test cell (a code cell with ``grade: true`` and no solution):

* the cell has probes: full points when every probe passes, else zero. The
  nbgrader-style notebook score (zero when the executed cell shows an error)
  is kept as ``notebook_points``; when it disagrees, the row and the result
  carry an integrity flag for the instructor.
  Answer probes count exactly like library probes here.
* the cell has no probe of either kind: the points are the
  notebook score, marked ``trusted: False`` with an ``unverified`` flag,
  because they come from a process that ran student code. When the same
  notebook run passed a probed cell whose probes failed, the run is not
  believed at all and such cells get zero. ``grade_cells`` takes
  ``unprobed="zero"`` to give them nothing in every case.

Answer probes (``autograder.grading.probes.AnswerProbe``) decide cells that check
values typed into the notebook. The notebook run exports those values as JSON
text (``answers.json``); ``load_answers`` parses it strictly (only JSON's
numbers, strings, ``null``, booleans, lists and string-keyed objects, with
caps on size and nesting) and ``judge_answers`` compares them with the
reference answers. Their verdicts count like library probes' verdicts.

Manually graded cells (``grade`` with ``solution``, or markdown) get a row
with ``points: None`` and ``kind: "manual"``.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograder.course import grade_cells as grade_cells_of  # noqa: F401 - one definition
from autograder.course import nbgrader_meta
from autograder.grading.probes import NAME_SEP as SEP
from autograder.untrusted import UntrustedFileError, read_capped  # noqa: F401 - re-exported

NUMERIC_KINDS = "biufc"
MiB = 1024 * 1024

# What a probe that got no output is told: the one wording for grading and regrading.
NO_OUTPUT = "no output came back"
NO_LIBRARY = "the submission has no cs231n_lib/ folder"


def no_usable_outputs(why, ended: str) -> str:
    """The note of every probe when the probe run's outputs file is unusable:
    why it was refused and how the run ended."""
    return f"no usable outputs ({why}); {ended}"


def load_npz(data: bytes, *, max_entry_bytes: int = 64 * MiB,
             max_total_bytes: int = 256 * MiB, max_entries: int = 10_000
             ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Arrays of an untrusted ``.npz``, each checked before it is allocated.

    Returns ``(arrays, bad)``: ``bad`` maps each refused entry to the reason.
    Raises UntrustedFileError when the file as a whole is unusable.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise UntrustedFileError(f"not an .npz archive ({exc})") from None
    if len(infos) > max_entries:
        raise UntrustedFileError(f"{len(infos)} entries, over the cap of {max_entries}")
    arrays: dict[str, np.ndarray] = {}
    bad: dict[str, str] = {}
    total = 0
    for info in infos:
        key = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
        try:
            if not info.filename.endswith(".npy"):
                raise UntrustedFileError("not a .npy entry")
            if info.file_size > max_entry_bytes:
                raise UntrustedFileError(f"{info.file_size} bytes, over the cap")
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise UntrustedFileError(f"unsupported .npy version {version}")
                if dtype.hasobject or dtype.fields is not None or dtype.kind not in NUMERIC_KINDS:
                    raise UntrustedFileError(f"dtype {dtype} is not a plain number type")
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > max_entry_bytes or nbytes > info.file_size:
                    raise UntrustedFileError(f"declares {nbytes} bytes of data, more than "
                                             "the cap or than the entry holds")
                if total + nbytes > max_total_bytes:
                    raise UntrustedFileError("over the total size cap")
            with zf.open(info) as fh:
                arr = np.lib.format.read_array(fh, allow_pickle=False)
            total += arr.nbytes
            arrays[key] = arr
        except (UntrustedFileError, ValueError, OSError, EOFError, zipfile.BadZipFile,
                RuntimeError, TypeError, OverflowError, MemoryError) as exc:
            bad[key] = f"unreadable output {key!r}: {exc}"
    return arrays, bad


def load_errors(data: bytes, max_note: int = 4000) -> dict[str, str]:
    """``errors.json`` as ``{probe name: message}``; anything else is dropped."""
    try:
        raw = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return {}
    if not isinstance(raw, dict):
        return {}
    return {str(k)[:200]: str(v)[-max_note:] for k, v in raw.items() if isinstance(k, str)}


# ---------------------------------------------------------------------------
# Comparing probe outputs.

def plain_outputs(result) -> dict[str, np.ndarray]:
    """A probe's return value as ``{key: numeric ndarray}`` (reference side)."""
    if not isinstance(result, Mapping):
        raise TypeError(f"a probe must return a dict, got {type(result).__name__}")
    out = {}
    for key, value in result.items():
        arr = np.asarray(value)
        if arr.dtype.hasobject or arr.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"output {key!r} has dtype {arr.dtype}, not a number type")
        out[str(key)] = arr
    return out


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """CS231n's relative error ``max |x - y| / max(1e-8, |x| + |y|)``, in float64."""
    x = np.asarray(x, dtype=np.complex128 if np.iscomplexobj(x) else np.float64)
    y = np.asarray(y, dtype=np.complex128 if np.iscomplexobj(y) else np.float64)
    if x.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        err = np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))
    return float(np.max(err))


def compare_outputs(reference: Mapping[str, np.ndarray], student: Mapping[str, np.ndarray],
                    rtol: float) -> tuple[bool, str]:
    """Do the student's outputs match the reference's within ``rtol``?"""
    for key, ref in reference.items():
        if key not in student:
            return False, f"output {key!r} is missing"
        got = student[key]
        if not isinstance(got, np.ndarray) or got.dtype.hasobject or (
                got.dtype.kind not in NUMERIC_KINDS):
            return False, f"output {key!r} is not a numeric array"
        if got.shape != ref.shape:
            return False, f"output {key!r} has shape {got.shape}, expected {ref.shape}"
        if np.iscomplexobj(got) and not np.iscomplexobj(ref):
            return False, f"output {key!r} is complex, expected real numbers"
        with np.errstate(all="ignore"):
            finite = bool(np.all(np.isfinite(got)))
        if not finite and bool(np.all(np.isfinite(ref))):
            return False, f"output {key!r} holds NaN or infinity"
        err = rel_error(ref, got)
        if not (err <= rtol):
            return False, f"output {key!r}: relative error {err:.3g} > {rtol:g}"
    return True, ""


@dataclass
class ProbeVerdict:
    """One probe's outcome, as plain data."""

    name: str
    grade_id: str
    passed: bool
    note: str = ""
    #: "library" (a probe of library code, run in the probe sandbox) or
    #: "answer" (a value the notebook run exported): a notebook that died early
    #: can only cost the latter.
    kind: str = "library"
    #: the class of the likely mistake behind a wrong output ("" when none is named)
    diagnosis: str = ""


def judge_probes(probes: Sequence, reference: Mapping[str, dict | Exception],
                 student_arrays: Mapping[str, np.ndarray], student_bad: Mapping[str, str],
                 student_errors: Mapping[str, str], missing_note: str = "",
                 explain: Callable | None = None) -> list[ProbeVerdict]:
    """Compare every probe's student outputs with the reference outputs.

    ``explain(failed, passed) -> [(note, diagnosis class), ...]``, when given,
    words the wrong outputs of one test cell (``autograder.diagnosis``: the likely
    mistake): ``failed`` holds ``(probe, reference, student, note)`` for each of
    its probes whose outputs came back wrong, ``passed`` names its probes the
    student got right (they rule out the mistakes that would have got them wrong)."""
    verdicts = _compare_probes(probes, reference, student_arrays, student_bad,
                               student_errors, missing_note)
    out = [v for v, _, _ in verdicts]
    if explain is None:
        return out
    for grade_id in dict.fromkeys(p.grade_id for p in probes):
        mine = [i for i, p in enumerate(probes) if p.grade_id == grade_id]
        wrong = [i for i in mine if verdicts[i][2] is not None and not out[i].passed]
        if not wrong:
            continue
        passed = [out[i].name for i in mine if out[i].passed]
        words = explain([(probes[i], verdicts[i][1], verdicts[i][2], out[i].note)
                         for i in wrong], passed)
        for i, (note, diagnosis) in zip(wrong, words, strict=True):
            out[i] = ProbeVerdict(out[i].name, grade_id, False, note, diagnosis=diagnosis)
    return out


def _compare_probes(probes: Sequence, reference: Mapping, student_arrays: Mapping,
                    student_bad: Mapping, student_errors: Mapping,
                    missing_note: str) -> list[tuple[ProbeVerdict, dict | None, dict | None]]:
    """Each probe's verdict, with the reference's and the student's outputs when
    both came back and could be compared (else None)."""
    verdicts = []
    for probe in probes:
        ref = reference.get(probe.name)
        if isinstance(ref, Exception) or ref is None:
            verdicts.append((ProbeVerdict(probe.name, probe.grade_id, False,
                                          f"the reference failed on this probe: {ref!r}"),
                             None, None))
            continue
        prefix = probe.name + SEP
        mine = {k[len(prefix):]: v for k, v in student_arrays.items() if k.startswith(prefix)}
        bad = [v for k, v in student_bad.items() if k.startswith(prefix)]
        if probe.name in student_errors:
            note = "raised: " + _last_line(student_errors[probe.name])
        elif bad:
            note = bad[0]
        elif not mine:
            note = missing_note or NO_OUTPUT
        else:
            passed, note = compare_outputs(ref, mine, probe.rtol)
            verdicts.append((ProbeVerdict(probe.name, probe.grade_id, passed, note), ref, mine))
            continue
        verdicts.append((ProbeVerdict(probe.name, probe.grade_id, False, note), None, None))
    return verdicts


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else text[:500]


# ---------------------------------------------------------------------------
# Answers typed into the notebook.

MAX_ANSWER_TEXT = 4 * MiB       # characters of one probe's exported JSON text
MAX_ANSWER_ITEMS = 200_000      # numbers, strings and items in one exported value
MAX_ANSWER_DEPTH = 20           # nesting of lists and dicts
MAX_ANSWER_STRING = 10_000
ANSWER_SCALARS = (type(None), bool, int, float, str)


class AnswerError(ValueError):
    """An exported or reference answer is not plain data."""


def reference_answer(value: Any, _depth: int = 0) -> Any:
    """A reference answer as plain data (trusted side: numpy arrays and scalars
    become lists and numbers, tuples become lists)."""
    if _depth > MAX_ANSWER_DEPTH:
        raise AnswerError("a reference answer is nested too deep")
    if isinstance(value, np.ndarray | np.generic):
        if value.dtype.hasobject or value.dtype.kind not in NUMERIC_KINDS + "U":
            raise AnswerError(f"a reference answer has dtype {value.dtype}")
        return reference_answer(value.tolist(), _depth + 1)
    if type(value) in ANSWER_SCALARS:
        return value
    if isinstance(value, list | tuple):
        return [reference_answer(v, _depth + 1) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise AnswerError("a reference answer has a dict key that is not a string")
        return {k: reference_answer(v, _depth + 1) for k, v in value.items()}
    raise AnswerError(f"a reference answer is a {type(value).__name__}")


def check_student_answer(value: Any) -> Any:
    """``value`` if it is plain data within the caps, else AnswerError.

    Exact types only (no subclasses): None, bool, int, float, str, list and
    dict with string keys.
    """
    budget = [MAX_ANSWER_ITEMS]

    def walk(v: Any, depth: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise AnswerError(f"more than {MAX_ANSWER_ITEMS} items")
        kind = type(v)
        if kind is str:
            if len(v) > MAX_ANSWER_STRING:
                raise AnswerError(f"a string of more than {MAX_ANSWER_STRING} characters")
            return
        if kind in ANSWER_SCALARS:
            return
        if depth >= MAX_ANSWER_DEPTH:
            raise AnswerError(f"nested more than {MAX_ANSWER_DEPTH} deep")
        if kind is list:
            for item in v:
                walk(item, depth + 1)
        elif kind is dict:
            for key, item in v.items():
                if type(key) is not str:
                    raise AnswerError("a dict key that is not a string")
                walk(item, depth + 1)
        else:
            raise AnswerError(f"a {kind.__name__}, not plain data")

    walk(value, 0)
    return value


def parse_export(text: Any) -> dict[str, tuple[bool, Any]]:
    """One probe's exported JSON text as ``{key: (True, value) | (False, why)}``."""
    if type(text) is not str or len(text) > MAX_ANSWER_TEXT:
        raise AnswerError("the exported answers are not text of a sensible size")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise AnswerError(f"the exported answers are not JSON ({str(exc)[:200]})") from None
    if type(raw) is not dict:
        raise AnswerError("the exported answers are not a JSON object")
    out: dict[str, tuple[bool, Any]] = {}
    for key, entry in raw.items():
        if type(entry) is not dict or len(entry) != 1:
            raise AnswerError(f"the export of {key[:100]!r} is malformed")
        if "value" in entry:
            try:
                out[key] = (True, check_student_answer(entry["value"]))
            except AnswerError as exc:
                out[key] = (False, str(exc))
        elif "missing" in entry:
            out[key] = (False, str(entry["missing"])[:300])
        else:
            raise AnswerError(f"the export of {key[:100]!r} is malformed")
    return out


def load_answers(data: bytes) -> dict[str, dict[str, tuple[bool, Any]] | str]:
    """``answers.json`` as ``{probe name: parsed export | why it is missing}``."""
    try:
        raw = json.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        raise UntrustedFileError("answers.json is not JSON") from None
    if type(raw) is not dict:
        raise UntrustedFileError("answers.json is not a JSON object")
    out: dict[str, dict[str, tuple[bool, Any]] | str] = {}
    for name, entry in raw.items():
        if type(entry) is dict and "text" in entry:
            try:
                out[name] = parse_export(entry["text"])
            except AnswerError as exc:
                out[name] = str(exc)
        elif type(entry) is dict and "error" in entry:
            out[name] = str(entry["error"])[:500]
        else:
            out[name] = "malformed entry in answers.json"
    return out


def _close(expected: int | float, got: int | float, rtol: float, atol: float) -> bool:
    try:
        e, g = float(expected), float(got)
    except OverflowError:
        return expected == got
    if not (math.isfinite(e) and math.isfinite(g)):
        return e == g and not math.isnan(e)
    if abs(e - g) <= atol:
        return True
    return abs(e - g) / max(1e-8, abs(e) + abs(g)) <= rtol


def compare_answer(expected: Any, got: Any, rtol: float, atol: float, where: str
                   ) -> tuple[bool, str]:
    """Does the student's plain ``got`` match ``expected``? The note names the
    place that differs but never shows the expected value."""
    wrong = (False, f"{where} is not the expected answer")
    if type(expected) is bool or expected is None or type(expected) is str:
        return (True, "") if type(got) is type(expected) and got == expected else wrong
    if type(expected) in (int, float):
        if type(got) not in (int, float):
            return False, f"{where} is not a number (got {type(got).__name__})"
        return (True, "") if _close(expected, got, rtol, atol) else wrong
    if type(expected) is list:
        if type(got) is not list:
            return False, f"{where} is not a list (got {type(got).__name__})"
        if len(got) != len(expected):
            return False, f"{where} has {len(got)} items, expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got, strict=True)):
            ok, note = compare_answer(e, g, rtol, atol, f"{where}[{i}]")
            if not ok:
                return ok, note
        return True, ""
    if type(expected) is dict:
        if type(got) is not dict:
            return False, f"{where} is not a dict (got {type(got).__name__})"
        if set(got) != set(expected):
            return False, f"{where} has keys {sorted(got)[:10]}, expected {sorted(expected)}"
        for key in expected:
            ok, note = compare_answer(expected[key], got[key], rtol, atol, f"{where}[{key!r}]")
            if not ok:
                return ok, note
        return True, ""
    return False, f"{where}: the reference answer is not plain data"


def _answer_verdict(name: str, grade_id: str, passed: bool, note: str = "") -> ProbeVerdict:
    return ProbeVerdict(name, grade_id, passed, note, kind="answer")


def judge_answers(probes: Sequence, expected: Mapping[str, dict | Exception],
                  answers: Mapping[str, dict | str], missing_note: str = ""
                  ) -> list[ProbeVerdict]:
    """Compare every answer probe's exported values with its reference answers."""
    verdicts = []
    for probe in probes:
        ref = expected.get(probe.name)
        if isinstance(ref, Exception) or ref is None:
            verdicts.append(_answer_verdict(probe.name, probe.grade_id, False,
                                         f"the reference failed on this probe: {ref!r}"))
            continue
        got = answers.get(probe.name)
        if got is None:
            verdicts.append(_answer_verdict(probe.name, probe.grade_id, False,
                                         missing_note or "no answers came back"))
            continue
        if isinstance(got, str):
            verdicts.append(_answer_verdict(probe.name, probe.grade_id, False,
                                         f"not exported: {got}"))
            continue
        passed, note = True, ""
        for key, value in ref.items():
            found = got.get(key)
            if found is None:
                passed, note = False, f"{key} was not exported"
            elif not found[0]:
                passed, note = False, f"{key}: {found[1]}"
            else:
                passed, note = compare_answer(value, found[1], probe.rtol, probe.atol, key)
            if not passed:
                break
        verdicts.append(_answer_verdict(probe.name, probe.grade_id, passed, note))
    return verdicts


# ---------------------------------------------------------------------------
# Notebook scores and cell rows.

def notebook_scores(executed: Mapping | None, grade_cells: Sequence[dict]
                    ) -> dict[str, tuple[float, str]]:
    """nbgrader-style score of each test cell in the executed notebook.

    A test cell earns its points when it ran and shows no error output; a
    cell missing from the notebook or never executed earns zero.
    """
    found: dict[str, Mapping] = {}
    cells = executed.get("cells", []) if isinstance(executed, Mapping) else []
    for cell in cells if isinstance(cells, list) else []:
        gid = nbgrader_meta(cell).get("grade_id")
        if isinstance(gid, str) and gid not in found:
            found[gid] = cell
    scores = {}
    for gc in grade_cells:
        if gc["kind"] != "test":
            continue
        cell = found.get(gc["grade_id"])
        if cell is None:
            scores[gc["grade_id"]] = (0.0, "missing from the executed notebook")
            continue
        outputs = cell.get("outputs")
        outputs = outputs if isinstance(outputs, list) else []
        if any(isinstance(o, Mapping) and o.get("output_type") == "error" for o in outputs):
            scores[gc["grade_id"]] = (0.0, "error output")
        elif cell.get("execution_count") is None:
            scores[gc["grade_id"]] = (0.0, "not executed")
        else:
            scores[gc["grade_id"]] = (gc["max_points"], "")
    return scores


@dataclass
class CellRow:
    """One grade cell's result, as the gradebook and the reports see it."""

    grade_id: str
    notebook: str
    kind: str
    points: float | None
    max_points: float
    notebook_points: float | None
    trusted: bool
    flags: list[str] = field(default_factory=list)
    probes: list[dict] = field(default_factory=list)


def grade_cells(notebook: str, grade_cells: Sequence[dict], verdicts: Sequence[ProbeVerdict],
                nb_scores: Mapping[str, tuple[float, str]], *, unprobed: str = "notebook",
                notebook_incomplete: str = "") -> list[CellRow]:
    """Decide each grade cell's points (see the module docstring for the rules)."""
    if unprobed not in ("notebook", "zero"):
        raise ValueError(f"unprobed must be 'notebook' or 'zero', got {unprobed!r}")
    by_cell: dict[str, list[ProbeVerdict]] = {}
    for v in verdicts:
        by_cell.setdefault(v.grade_id, []).append(v)
    # A notebook run that passed a test its probes failed was tampered with
    # (or its tests are weaker than the probes): its word counts for nothing.
    doubtful = [gc["grade_id"] for gc in grade_cells if gc["kind"] == "test"
                and by_cell.get(gc["grade_id"])
                and not all(v.passed for v in by_cell[gc["grade_id"]])
                and nb_scores.get(gc["grade_id"], (0.0, ""))[0] > 0]
    rows = []
    for gc in grade_cells:
        gid, mx = gc["grade_id"], gc["max_points"]
        if gc["kind"] == "manual":
            rows.append(CellRow(gid, notebook, "manual", None, mx, None, True, ["manual"]))
            continue
        nb_points, nb_note = nb_scores.get(gid, (0.0, "missing"))
        mine = by_cell.get(gid, [])
        flags: list[str] = []
        if mine:
            passed = all(v.passed for v in mine)
            points = mx if passed else 0.0
            trusted = True
            if nb_points != points:
                why = f" ({nb_note})" if nb_note else ""
                if notebook_incomplete and nb_note.startswith(("not executed", "missing")):
                    flags.append(f"notebook incomplete: {notebook_incomplete}")
                else:
                    flags.append(f"integrity: notebook run gives {nb_points:g}{why}, "
                                 f"probes give {points:g}")
        else:
            trusted = False
            if unprobed == "notebook" and not doubtful:
                points = nb_points
                flags.append("unverified: no probe decides this cell; points from the "
                             "notebook run")
            else:
                points = 0.0
                flags.append("unverified: no probe decides this cell; zero because "
                             + ("the notebook run passed tests that the probes failed ("
                                + ", ".join(doubtful) + ")" if doubtful else
                                "unprobed cells get no points"))
        rows.append(CellRow(gid, notebook, "test", points, mx, nb_points, trusted, flags,
                            [{"name": v.name, "kind": v.kind, "passed": v.passed, "note": v.note,
                              "diagnosis": v.diagnosis} for v in mine]))
    known = {gc["grade_id"] for gc in grade_cells}
    for gid in sorted(set(by_cell) - known):
        for row in rows[:1]:
            row.flags.append(f"probe(s) name grade_id {gid!r}, which the notebook lacks")
    return rows
