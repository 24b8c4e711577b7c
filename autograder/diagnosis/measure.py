"""How often the diagnosis names the right mistake, on implementations written apart.

A :class:`Case` is one implementation of one library function: buggy (with
the class of its mistake) or correct. :func:`run_case` swaps it into a copy of
the reference library, runs the probes of its test cell on the inputs of a
grading seed, diagnoses every failed probe against the mutants exactly as
grading would, and records the cell's verdict. :func:`rates` turns many such
outcomes into the figures of ``docs/diagnosis.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from autograder.course import COURSE_ROOT
from autograder.diagnosis import diagnose as dg
from autograder.diagnosis.mutant_lib import library_with
from autograder.grading.probes import load_probe_set, probe_folder
from autograder.grading.reference import reference_for, reference_library


@dataclass(frozen=True)
class Case:
    """One implementation of a library function, for the measurement.

    Parameters
    ----------
    name : str
        Unique among the cases.
    assignment, module, function : str
        Where it goes (``function`` may be ``"Class.method"``).
    implementation : callable
        The function, with the reference's signature.
    expected : str or None
        The class of its mistake; None for a correct implementation.
    grade_id : str
        The test cell whose probes judge it.
    """

    name: str
    assignment: str
    module: str
    function: str
    implementation: Callable
    expected: str | None
    grade_id: str


@dataclass
class Outcome:
    """What happened to one case under one seed.

    ``verdict`` is one of: ``named`` (the expected class), ``misnamed``
    (another class), ``unnamed`` (failed, no diagnosis), ``undetected`` (a
    buggy case that passed every probe), ``clean`` (a correct case that
    passed), ``accused`` (a correct case given a diagnosis), ``failed`` (a
    correct case that failed a probe without a diagnosis).
    """

    case: Case
    seed: int
    verdict: str
    named: str | None = None
    sentence: str = ""
    failed_probes: list[str] = field(default_factory=list)


def _verdict(case: Case, failed: list[str], diagnosis) -> str:
    if case.expected is None:
        if diagnosis is not None:
            return "accused"
        return "failed" if failed else "clean"
    if not failed:
        return "undetected"
    if diagnosis is None:
        return "unnamed"
    return "named" if diagnosis.cls == case.expected else "misnamed"


def run_case(case: Case, seed: int, course=COURSE_ROOT) -> Outcome:
    """Judge ``case`` on the probes of its cell for ``seed`` and diagnose what failed."""
    folder = probe_folder(course, case.assignment)
    probe_set = load_probe_set(folder)
    reference = reference_for(folder, seed, case.assignment, reference_library(None))
    mutants = dg.mutant_outputs_for(probe_set, seed, case.assignment)
    lib = library_with(case.module, case.function, case.implementation, f"case:{case.name}")
    probes = [p for p in probe_set.probes if p.grade_id == case.grade_id]
    got = {p.name: dg.run_probe(p, lib, reference.inputs[p.name]) for p in probes}
    failed = [p.name for p in probes if isinstance(got[p.name], BaseException)
              or dg.wrong_outputs(reference.outputs[p.name], got[p.name], p.rtol)]
    ruled_out = dg.ruled_out_by([p.name for p in probes if p.name not in failed],
                                reference.outputs, mutants.__getitem__)
    wrong = [dg.FailedProbe(name, reference.inputs[name], reference.outputs[name], got[name])
             for name in failed if not isinstance(got[name], BaseException)]
    diagnoses = dg.diagnose_cell(wrong, mutants.__getitem__, ruled_out=ruled_out)
    diagnosis = dg.summarize(diagnoses)
    return Outcome(case, seed, _verdict(case, failed, diagnosis),
                   diagnosis.cls if diagnosis else None,
                   diagnosis.sentence if diagnosis else "", failed)


def run_cases(cases: Iterable[Case], seeds: Sequence[int]) -> list[Outcome]:
    """Every case under every seed."""
    return [run_case(case, seed) for case in cases for seed in seeds]


@dataclass(frozen=True)
class Rates:
    """The measurement's figures.

    ``named_right`` is the share of buggy runs whose cell diagnosis names the
    expected class; ``false_diagnosis`` the share of all diagnoses given that
    name a wrong class (or accuse a correct case); ``accused`` counts the
    correct runs given any diagnosis.
    """

    buggy_runs: int
    named: int
    misnamed: int
    correct_runs: int
    accused: int
    correct_failed: int

    @property
    def named_right(self) -> float:
        return self.named / self.buggy_runs if self.buggy_runs else 0.0

    @property
    def false_diagnosis(self) -> float:
        given = self.named + self.misnamed + self.accused
        return (self.misnamed + self.accused) / given if given else 0.0


def rates(outcomes: Iterable[Outcome]) -> Rates:
    """Count the verdicts of ``outcomes``."""
    outcomes = list(outcomes)
    buggy = [o for o in outcomes if o.case.expected is not None]
    correct = [o for o in outcomes if o.case.expected is None]
    return Rates(len(buggy), sum(o.verdict == "named" for o in buggy),
                 sum(o.verdict == "misnamed" for o in buggy), len(correct),
                 sum(o.verdict == "accused" for o in correct),
                 sum(o.verdict == "failed" for o in correct))
