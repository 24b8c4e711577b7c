"""Words for a test cell's wrong probe outputs: the likely mistake, or the numbers.

Grading and regrading both judge the probes with ``verify.judge_probes``; this
builds the ``explain`` they give it. It diagnoses a cell's failed probes
(``autograder.diagnosis.diagnose_cell``) against the mutant catalogue, here on
the trusted side, from the plain outputs the sandbox returned (or the
evidence kept of them): no student code runs, and no hidden input goes out.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from autograder.diagnosis.diagnose import (
    FailedProbe,
    describe_mismatch,
    diagnose_cell,
    mutant_outputs_for_probe,
    ruled_out_by,
)
from autograder.grading.reference import Reference


def cell_explainer(reference: Reference, seed: int, assignment: str,
                   lib: ModuleType | None, notes: list[str]) -> Callable:
    """``explain(failed, passed) -> [(note, diagnosis class), ...]`` for ``judge_probes``.

    Parameters
    ----------
    reference : Reference
        The probes, their inputs and the reference outputs for ``seed``.
    seed : int
        The grading seed (the mutants run on the inputs it drew).
    assignment : str
        Picks the mutants.
    lib : module or None
        The reference library the mutants are made from.
    notes : list of str
        Where a failure of the catalogue itself is noted (it costs the wording
        only, never a score).
    """

    def mutants_on(name: str) -> dict:
        return mutant_outputs_for_probe(reference.probe_set, seed, assignment, name, lib)

    def explain(failed: list, passed: list) -> list[tuple[str, str]]:
        try:
            ruled_out = ruled_out_by(passed, reference.outputs, mutants_on)
            found = diagnose_cell([FailedProbe(p.name, reference.inputs.get(p.name, {}),
                                               ref, mine) for p, ref, mine, _ in failed],
                                  mutants_on, ruled_out=ruled_out)
        except Exception as exc:  # noqa: BLE001 - an instructor bug costs the wording only
            notes.append(f"no diagnosis for {failed[0][0].grade_id}: the mutant catalogue "
                         f"failed ({exc!r})")
            found = [None] * len(failed)
        return [(f"{d.sentence} ({note})", d.cls) if d is not None
                else (f"{note}; {describe_mismatch(ref, mine)}", "")
                for d, (_, ref, mine, note) in zip(found, failed, strict=True)]

    return explain
