"""Name the likely mistake behind wrong probe outputs (trusted side only).

``diagnose_cell`` compares what the student's library returned on a test
cell's failed probes with what every mutant of the catalogue returns on the
same inputs (and the reference with ``dout`` all ones), output by output: the
mutants that explain most of the student's wrong outputs, less those a probe
the student passed rules out, are each probe's candidates; failing any, a
simple relation to the right answer (a constant ratio, a sign flip, a
transpose, a sum left out, zeros, wrong only at x == 0, the border) is. One
class is named for the cell when it is among the candidates of more than half
of its failed probes and no other class ties; otherwise ``None``, and the
caller says so and shows the numbers (:func:`describe_mismatch`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from autograder.diagnosis.catalogue import Mutant, mutants_for
from autograder.diagnosis.mutant_lib import library_dir, mutant_library, reference_copy
from autograder.grading.reference import REFERENCE_LOCK, draw_inputs
from cs231n_lib import relations

#: The student's outputs "are" a mutant's when every one agrees this closely.
MATCH_TOL = 1e-6


#: A mistake of no one function: a backward pass that never multiplies by dout gives
#: what the right one gives with dout all ones. The diagnosis runs the reference on
#: the probe's inputs with dout replaced so, for every probe that has a dout.
UPSTREAM_OF_ONES = Mutant("missing-upstream", "(any)", "backward", None,
                          relations.upstream_of_ones_sentence("{output}"), "", "dout-ones")


@dataclass(frozen=True)
class Diagnosis:
    """The likely mistake behind one failed probe.

    Parameters
    ----------
    cls : str
        Class of mistake (a key of ``catalogue.CLASSES``).
    sentence : str
        One sentence for the student: what is wrong and where to look.
    evidence : dict
        The numbers behind it: the probe, the outputs that differ, the
        student's relative error against the reference and against the
        matching mutant (or the relation's numbers).
    source : str
        ``"mutant <key>"`` or ``"relation <kind>"``.
    """

    cls: str
    sentence: str
    evidence: dict = field(default_factory=dict)
    source: str = ""


def wrong_outputs(reference: Mapping, student: Mapping, tol: float = MATCH_TOL) -> list[str]:
    """The reference's keys whose student output is missing or differs."""
    return [k for k, r in reference.items()
            if k not in student or not relations.agree(student[k], r, tol)]


def _errors(reference: Mapping, student: Mapping) -> dict[str, float]:
    return {k: relations.rel_error(student[k], r) if k in student else float("inf")
            for k, r in reference.items()}


def tied_mutants(reference: Mapping, student: Mapping, mutant_outputs: Mapping,
                 tol: float = MATCH_TOL, ruled_out=frozenset()) -> list[tuple[Mutant, float]]:
    """The mutants that explain the student's outputs on this probe best, closest first.

    Output by output (``cs231n_lib.relations.matching_mistakes``: the notebook's
    checks ask the same question), then entry by entry; the most outputs
    explained, then the fewest outputs the student has right that the mutant gets
    wrong. ``ruled_out`` holds mutants that cannot be the student's mistake (wrong
    on a probe the student got right).
    """
    known = {}
    for mutant, outputs in mutant_outputs.items():
        if isinstance(outputs, BaseException) or mutant in ruled_out:
            continue
        known[mutant] = {k: outputs[k] for k in wrong_outputs(reference, outputs, tol)
                         if k in outputs}
        if mutant is UPSTREAM_OF_ONES:  # all-zero outputs there say nothing of dout
            known[mutant] = {k: v for k, v in known[mutant].items()
                             if np.any(np.abs(np.asarray(v, dtype=np.float64)) > 1e-9)}
    return relations.matching_mistakes(student, known, tol, reference)


def ruled_out_by(passed: Sequence[str], reference_outputs: Mapping[str, Mapping],
                 mutant_outputs_of: Callable[[str], Mapping],
                 tol: float = MATCH_TOL) -> frozenset:
    """The mutants that get wrong some probe the student got right (``passed``, of
    the same test cell): whatever the student did, it was not that mistake.

    ``mutant_outputs_of(probe name)`` gives ``{Mutant: outputs}`` for that probe
    (:func:`mutant_outputs_for_probe` in grading).
    """
    out = set()
    for name in passed:
        for mutant, outputs in mutant_outputs_of(name).items():
            if isinstance(outputs, BaseException) or wrong_outputs(reference_outputs[name],
                                                                   outputs, tol):
                out.add(mutant)
    return frozenset(out)


@dataclass(frozen=True)
class FailedProbe:
    """A probe whose outputs are wrong: what the diagnosis compares.

    ``inputs`` are the probe's inputs (sizes such as N are read from them);
    ``reference`` and ``student`` what the reference and the student's library
    returned on them.
    """

    name: str
    inputs: Mapping
    reference: Mapping
    student: Mapping


def candidates(probe: FailedProbe, mutant_outputs: Mapping, tol: float = MATCH_TOL,
               ruled_out=frozenset()) -> list[Diagnosis]:
    """The diagnoses tied for best on one probe, one per class: the mutants'
    (:func:`tied_mutants`), else a relation to the right output; ``[]`` for none."""
    wrong = wrong_outputs(probe.reference, probe.student, tol)
    if not wrong:
        return []
    errors = _errors(probe.reference, probe.student)
    evidence = {"probe": probe.name, "wrong_outputs": wrong,
                "error_vs_reference": {k: errors[k] for k in wrong}}
    found: dict[str, Diagnosis] = {}
    for mutant, err in tied_mutants(probe.reference, probe.student, mutant_outputs, tol,
                                    ruled_out):
        its_wrong = wrong_outputs(probe.reference, mutant_outputs[mutant], tol)
        output = next((k for k in wrong if k in its_wrong), wrong[0])
        found.setdefault(mutant.cls, Diagnosis(
            mutant.cls, mutant.sentence.replace("{output}", output),
            dict(evidence, error_vs_mutant=err), f"mutant {mutant.key}"))
    if found:
        return list(found.values())
    for key in wrong:
        if key in probe.student:
            named = relation_diagnosis(key, probe.student[key], probe.reference[key],
                                       probe.inputs, evidence, tol)
            if named is not None:
                return [named]
    return []


def diagnose_cell(failed: Sequence[FailedProbe], mutant_outputs_of: Callable[[str], Mapping],
                  tol: float = MATCH_TOL, ruled_out=frozenset()) -> list[Diagnosis | None]:
    """The likely mistake behind a test cell's failed probes, probe by probe.

    One class of mistake is named for the whole cell: the one among the best
    explanations of the most failed probes, when that is more than half of them
    and no other class does as well. Each failed probe it explains gets its
    sentence; every other one gets None (the caller shows the numbers), and
    so does every probe when no class qualifies: a mistake that explains only
    part of what went wrong is not a diagnosis, and two that explain it
    equally well are a guess.

    Parameters
    ----------
    failed : sequence of FailedProbe
        The cell's probes whose outputs came back wrong.
    mutant_outputs_of : callable
        ``probe name -> {Mutant: outputs or the exception}`` on that probe's
        inputs (:func:`mutant_outputs_for_probe`).
    tol : float
        Relative error within which two outputs count as the same.
    ruled_out : set of Mutant
        Mutants the probes the student passed rule out (:func:`ruled_out_by`).

    Returns
    -------
    list of Diagnosis or None
        One per failed probe, in order.
    """
    found = [candidates(p, mutant_outputs_of(p.name), tol, ruled_out) for p in failed]
    votes = Counter(d.cls for ds in found for d in ds)
    ranked = votes.most_common(2)
    if not ranked or 2 * ranked[0][1] <= len(failed) or (
            len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return [None] * len(failed)
    top = ranked[0][0]
    return [next((d for d in ds if d.cls == top), None) for ds in found]


def diagnose(probe_name: str, inputs: Mapping, reference_outputs: Mapping,
             student_outputs: Mapping, mutant_outputs: Mapping,
             tol: float = MATCH_TOL, ruled_out=frozenset()) -> Diagnosis | None:
    """The likely mistake behind one probe whose outputs are wrong, judged alone:
    :func:`diagnose_cell` of that one probe (``mutant_outputs`` are the mutants'
    outputs on its inputs). None when the outputs are right, nothing matches, or
    mutants of two classes match equally well."""
    probe = FailedProbe(probe_name, inputs, reference_outputs, student_outputs)
    return diagnose_cell([probe], lambda _: mutant_outputs, tol, ruled_out)[0]


def _sizes(inputs: Mapping) -> dict[str, float]:
    """Named sizes a wrong factor is often made of, read from the probe's inputs."""
    sizes: dict[str, float] = {}
    for name in ("x", "X_fit", "dout"):
        arr = inputs.get(name)
        if arr is not None and np.ndim(arr) >= 2:
            sizes.setdefault("N", float(np.shape(arr)[0]))
            if np.ndim(arr) == 4:
                n, _, h, w = np.shape(arr)
                sizes.setdefault("N*H*W", float(n * h * w))
    if "fan_in" in inputs and "fan_out" in inputs:
        sizes["sqrt(fan_in / fan_out)"] = float(np.sqrt(inputs["fan_in"] / inputs["fan_out"]))
    return {k: v for k, v in sizes.items() if v > 1.0 or k.startswith("sqrt")}


def relation_diagnosis(key: str, s, r, inputs: Mapping, evidence: dict,
                       tol: float = MATCH_TOL) -> Diagnosis | None:
    """A diagnosis from a relation between the student's ``s`` and the right ``r``
    (``cs231n_lib.relations.explain``: the same words the notebook's checks use)."""
    if relations.rel_error(s, r) < relations.NEAR_MISS:
        return None
    x = inputs.get("x")
    found = relations.find_relation(s, r, tol, x if np.shape(x) == np.shape(r) else None)
    if found is None:
        return None
    cls, sentence = relations.explain(key, found, np.shape(s), _sizes(inputs))
    return Diagnosis(cls, sentence, dict(evidence, output=key, **found.evidence),
                     f"relation {found.kind}")


def describe_mismatch(reference_outputs: Mapping, student_outputs: Mapping) -> str:
    """For a failed probe that no diagnosis explains: the numbers, said plainly."""
    for key in wrong_outputs(reference_outputs, student_outputs):
        if key not in student_outputs:
            return f"no known mistake matches; output {key!r} is missing."
        s = np.asarray(student_outputs[key], dtype=np.float64)
        r = np.asarray(reference_outputs[key], dtype=np.float64)
        if s.shape != r.shape:
            return (f"no known mistake matches; output {key!r} has shape {s.shape}, "
                    f"expected {r.shape}.")
        with np.errstate(all="ignore"):
            err = np.abs(s - r) / np.maximum(1e-8, np.abs(s) + np.abs(r))
        where = np.unravel_index(int(np.nanargmax(np.nan_to_num(err, nan=np.inf))), r.shape)
        idx = tuple(int(i) for i in where)
        return (f"no known mistake matches; output {key!r} differs most at index {idx}: got "
                f"{s[where]:.6g}, expected {r[where]:.6g} (relative error {err[where]:.3g}).")
    return "no known mistake matches."


def cell_class(classes: Sequence[str | None]) -> str | None:
    """The class of mistake of a test cell, from its failed probes' classes (None
    for a failed probe no mistake explains): the class most of them name, when
    it explains more than half of them. A mistake that leaves most of the failed
    probes unexplained is not the whole story, so the cell names none and the
    student gets the numbers instead of a guess."""
    named = [c for c in classes if c]
    if not named:
        return None
    top, count = Counter(named).most_common(1)[0]
    return top if 2 * count > len(classes) else None


def summarize(diagnoses: Sequence[Diagnosis | None]) -> Diagnosis | None:
    """One diagnosis for a test cell (:func:`cell_class` of its failed probes):
    the first of its probes' diagnoses of that class, None when it names none."""
    top = cell_class([d.cls if d is not None else None for d in diagnoses])
    return next((d for d in diagnoses if d is not None and d.cls == top), None)


# --------------------------------------------------------------- mutants' outputs

def run_probe(probe, lib: ModuleType, inputs: Mapping) -> dict | BaseException:
    """``probe.run`` on ``lib`` with copies of ``inputs``, as plain arrays (or the error)."""
    from autograder.grading.verify import plain_outputs

    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            return plain_outputs(probe.run(lib, {k: np.copy(v) for k, v in inputs.items()}))
    except Exception as exc:  # noqa: BLE001 - a mutant that raises matches nothing
        return exc


def _with_ones_upstream(probe, base: str, inputs: Mapping) -> dict:
    """``{UPSTREAM_OF_ONES: the reference's outputs with dout all ones}``, or ``{}``
    for a probe without a ``dout``."""
    dout = inputs.get("dout")
    if dout is None or np.ndim(dout) == 0:
        return {}
    ones = dict(inputs, dout=np.ones_like(np.asarray(dout, dtype=np.float64)))
    return {UPSTREAM_OF_ONES: run_probe(probe, reference_copy(base), ones)}


@functools.lru_cache(maxsize=16)
def _mutant_outputs_cached(probe_set, seed: int, assignment: str, base: str) -> dict:
    inputs = draw_inputs(probe_set.probes, seed, assignment)
    out: dict = {p.name: {} for p in probe_set.probes}
    for mutant in mutants_for(assignment):
        lib = mutant_library(mutant, base)
        for probe in probe_set.probes:
            out[probe.name][mutant] = run_probe(probe, lib, inputs[probe.name])
    for probe in probe_set.probes:
        out[probe.name].update(_with_ones_upstream(probe, base, inputs[probe.name]))
    return out


def mutant_outputs_for(probe_set, seed: int, assignment: str,
                       base: ModuleType | str | os.PathLike | None = None) -> dict:
    """Every mutant's outputs on every probe's inputs for ``seed`` (trusted side).

    Parameters
    ----------
    probe_set : ProbeSet
        The assignment's probes (``load_probe_set``).
    seed : int
        The grading seed: the inputs are drawn exactly as ``reference_for`` draws them.
    assignment : str
        The assignment, which picks the mutants and the inputs' stream.
    base : module, folder or None
        The reference library the mutants are made from.

    Returns
    -------
    dict
        ``probe name -> {Mutant: outputs or the exception raised}``; cached
        per probe set, seed, assignment and library.
    """
    with REFERENCE_LOCK:
        return _mutant_outputs_cached(probe_set, int(seed), assignment, str(library_dir(base)))


@functools.lru_cache(maxsize=256)
def _probe_mutant_outputs(probe_set, seed: int, assignment: str, base: str, name: str) -> dict:
    probe = next(p for p in probe_set.probes if p.name == name)
    inputs = draw_inputs(probe_set.probes, seed, assignment)[name]
    outputs = {mutant: run_probe(probe, mutant_library(mutant, base), inputs)
               for mutant in mutants_for(assignment)}
    return outputs | _with_ones_upstream(probe, base, inputs)


def mutant_outputs_for_probe(probe_set, seed: int, assignment: str, probe_name: str,
                             base: ModuleType | str | os.PathLike | None = None) -> dict:
    """``mutant_outputs_for(...)[probe_name]``, computed for that one probe only.

    Grading asks for a probe's mutants only when a student's output of it is
    wrong, so a class pays for the probes its students got wrong, once per
    worker, not for the whole catalogue on every probe.
    """
    with REFERENCE_LOCK:
        return _probe_mutant_outputs(probe_set, int(seed), assignment,
                                     str(library_dir(base)), probe_name)
