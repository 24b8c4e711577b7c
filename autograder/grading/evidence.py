"""What a grading decided on, kept so that a regrade can decide again without a sandbox.

The sandbox returns plain data (``outputs.npz``, ``errors.json``,
``answers.json``, the executed notebook) and the trusted side judges it. This
module keeps that data next to the record, with what it was computed on: the
seed, a digest of each probe's drawn inputs, of ``calls.py``, of the source
notebook and of the submission. When only the *judging* changed (a tolerance,
an expected answer, the reference library), ``autograder.grading.regrade``
judges the stored data again; when what the sandbox computed on changed (new
inputs, a new ``calls.py``), the submission must run again.

The evidence is a JSON object (``probe outputs`` as the untrusted ``.npz``
bytes in base64, read back with the same hostile-data loader as at grading);
the recorder writes it to ``grading/<assignment>/evidence/<student>.json``,
never to the gradebook.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from autograder.course import SKIPPED_NAMES
from autograder.grading import verify
from autograder.grading.reference import Reference
from autograder.untrusted import UntrustedFileError, digest_tree, read_capped

VERSION = 1
EVIDENCE_DIR = "evidence"
MiB = 1024 * 1024
# Above these the data is not kept; a regrade then runs the submission again.
MAX_KEPT_OUTPUTS = 16 * MiB
MAX_KEPT_ANSWERS = 4 * MiB


# --------------------------------------------------------------------------- digests

def arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of ``arrays`` (in name order)."""
    h = hashlib.sha256()
    for key in sorted(arrays):
        arr = np.ascontiguousarray(arrays[key])
        h.update(f"{key}|{arr.dtype.str}|{arr.shape}|".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


def json_digest(value) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


def file_digest(path: Path | None) -> str:
    """SHA-256 of a trusted file's bytes; "" when there is none."""
    if path is None or not Path(path).is_file():
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def submission_digest(folder: Path) -> str:
    """The submission's digest (as ``autograder.grading.record.submission_digest``)."""
    return digest_tree(folder, skip=SKIPPED_NAMES.__contains__)


def source_digest(source_nb: Mapping) -> str:
    """Changes when the notebook that runs (its test cells, their points) changes."""
    return json_digest(source_nb)


def _reference_digest(value) -> str:
    if isinstance(value, Exception) or value is None:
        return f"failed: {value!r}"[:300]
    if all(isinstance(v, np.ndarray) for v in value.values()):
        return arrays_digest(value)
    return json_digest(value)


def judged_with(ref: Reference) -> dict[str, dict]:
    """Per probe: what the sandbox computed on (``inputs``, ``request``) and what
    judged it (``rtol``, ``atol``, a digest of the ``reference`` result)."""
    out = {}
    for p in ref.probes:
        out[p.name] = {"grade_id": p.grade_id, "kind": "library", "call": p.call,
                       "inputs": arrays_digest(ref.inputs[p.name]), "rtol": p.rtol,
                       "atol": 0.0, "reference": _reference_digest(ref.outputs.get(p.name))}
    for p in ref.answer_probes:
        request = {"variables": list(p.variables), "function": p.function,
                   "inputs": arrays_digest(ref.answer_inputs[p.name]) if p.function else ""}
        out[p.name] = {"grade_id": p.grade_id, "kind": "answer", "request": json_digest(request),
                       "rtol": p.rtol, "atol": p.atol,
                       "reference": _reference_digest(ref.answers.get(p.name))}
    return out


# --------------------------------------------------------------------------- collecting

def _kept(back: Path, name: str, cap: int, keep: int) -> tuple[bytes | None, str, bool]:
    """``(bytes, why not read, kept)``: the file, or the reason it could not be read;
    ``kept`` is False when it was read but is too large to keep."""
    try:
        data = read_capped(back, name, cap)
    except UntrustedFileError as exc:
        return None, str(exc), True
    return (data, "", True) if len(data) <= keep else (None, "", False)


def collect(job, nb_run, probe_run, prepared, nb_scores: Mapping, incomplete: str,
            run_flags: list[str]) -> dict:
    """The evidence of one grading (plain JSON data), from the trusted ``GradingJob``,
    the two runs' outcomes and what the verdict step computed."""
    from autograder.grading.grade import MAX_ANSWERS_BYTES, MAX_OUTPUTS_BYTES

    outputs, why, outputs_kept = _kept(probe_run.back, "outputs.npz", MAX_OUTPUTS_BYTES,
                                       MAX_KEPT_OUTPUTS)
    outputs_note = verify.no_usable_outputs(why, probe_run.result.ended) if why else ""
    try:
        errors = verify.load_errors(read_capped(probe_run.back, "errors.json", 4 * MiB))
    except UntrustedFileError:
        errors = {}
    answers, why, answers_kept = _kept(nb_run.back, "answers.json", MAX_ANSWERS_BYTES,
                                       MAX_KEPT_ANSWERS)
    answers_note = (f"no usable answers ({why}); the notebook run {nb_run.result.ended}"
                    if why else "")
    return {
        "version": VERSION, "seed": job.seed, "unprobed": job.unprobed,
        "calls_digest": file_digest(job.reference.probe_set.calls_file),
        "source_digest": source_digest(job.source_nb),
        "submission_digest": submission_digest(
            job.course / "submitted" / job.student / job.assignment),
        "probes": judged_with(job.reference),
        "has_library": bool(prepared.has_library),
        "outputs_npz": base64.b64encode(outputs).decode() if outputs is not None else None,
        "outputs_note": outputs_note, "outputs_kept": outputs_kept, "errors": errors,
        "probe_ended": probe_run.result.ended,
        "answers_json": answers.decode("utf-8", errors="replace") if answers is not None
        else None,
        "answers_note": answers_note, "answers_kept": answers_kept,
        "answers_ended": nb_run.result.ended,
        "notebook_scores": {gid: [float(p), str(n)] for gid, (p, n) in nb_scores.items()},
        "notebook_incomplete": incomplete, "run_flags": list(run_flags),
    }


# --------------------------------------------------------------------------- judging again

def probe_verdicts(ref: Reference, evidence: Mapping, explain=None) -> list:
    """The library probes of ``ref`` judged on the stored outputs (as ``grade`` does;
    ``explain`` as ``judge_probes`` takes it words the wrong ones)."""
    arrays, bad, note = {}, {}, verify.NO_OUTPUT
    raw = evidence.get("outputs_npz")
    if raw is None:
        note = evidence.get("outputs_note") or verify.NO_OUTPUT
    else:
        try:
            arrays, bad = verify.load_npz(base64.b64decode(raw))
        except UntrustedFileError as exc:
            note = verify.no_usable_outputs(exc, evidence.get("probe_ended", "unknown"))
    if not evidence.get("has_library", True):
        note = verify.NO_LIBRARY
    return verify.judge_probes(ref.probes, ref.outputs, arrays, bad,
                               evidence.get("errors") or {}, note, explain=explain)


def answer_verdicts(ref: Reference, evidence: Mapping) -> list:
    """The answer probes of ``ref`` judged on the stored answers."""
    answers: dict = {}
    note = (f"no answers came back from the notebook run "
            f"({evidence.get('answers_ended', 'unknown')})")
    text = evidence.get("answers_json")
    if evidence.get("answers_note"):
        note = evidence["answers_note"]
    elif text is not None and ref.answer_probes:
        try:
            answers = verify.load_answers(text.encode("utf-8"))
        except UntrustedFileError as exc:
            note = (f"no usable answers ({exc}); the notebook run "
                    f"{evidence.get('answers_ended', 'unknown')}")
    return verify.judge_answers(ref.answer_probes, ref.answers, answers, note)


# --------------------------------------------------------------------------- files

def evidence_path(course: str | Path, assignment: str, student: str) -> Path:
    return Path(course) / "grading" / assignment / EVIDENCE_DIR / f"{student}.json"


def load_evidence(course: str | Path, assignment: str, student: str) -> dict | None:
    """The stored evidence of one submission, or None (never kept, or unreadable)."""
    try:
        data = json.loads(evidence_path(course, assignment, student).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == VERSION else None
