"""The mutant catalogue as the adequacy test of the hidden probes.

Every mutant is a typical mistake, so every mutant must lose points under
every grading seed: at least one probe of its test cell must fail. A mutant
that survives some seed means the probes' inputs can be degenerate (one
sample, one channel, ``fan_in == fan_out``, no ties) and two students with
the same bug could get different scores.
"""

from __future__ import annotations

from collections.abc import Iterable

from autograder.course import COURSE_ROOT
from autograder.diagnosis import diagnose as dg
from autograder.diagnosis.catalogue import mutants_for
from autograder.grading.probes import load_probe_set, probe_folder
from autograder.grading.reference import reference_for, reference_library


def caught(mutant, probe_set, reference, mutant_outputs) -> bool:
    """Does some probe of the mutant's cell fail (or raise) on this seed's inputs?"""
    for probe in probe_set.probes:
        if probe.grade_id != mutant.grade_id:
            continue
        got = mutant_outputs[probe.name][mutant]
        if isinstance(got, BaseException) or dg.wrong_outputs(
                reference.outputs[probe.name], got, probe.rtol):
            return True
    return False


def survivors(assignment: str, seeds: Iterable[int], course=COURSE_ROOT) -> dict[str, list[int]]:
    """Mutant key -> the seeds under which no probe of its cell fails.

    Parameters
    ----------
    assignment : str
    seeds : iterable of int
        Grading seeds to try.
    course : path
        The course folder whose ``probes/<assignment>/`` is judged.

    Returns
    -------
    dict
        Empty when every mutant loses points under every seed.
    """
    folder = probe_folder(course, assignment)
    probe_set = load_probe_set(folder)
    lib = reference_library(None)
    missed: dict[str, list[int]] = {}
    for seed in seeds:
        reference = reference_for(folder, seed, assignment, lib)
        outputs = dg.mutant_outputs_for(probe_set, seed, assignment)
        for mutant in mutants_for(assignment):
            if not caught(mutant, probe_set, reference, outputs):
                missed.setdefault(mutant.key, []).append(seed)
    return missed
