"""The fourth held-out round is usable: every buggy case fails a probe, no correct one does.

Only whether a case fails is checked here, never what the diagnosis says.
"""

from __future__ import annotations

import pytest

from autograder.diagnosis.measure import run_case
from tests.autograder.diagnosis_cases.fourth_round import CASES

# The mistake classes a case may name (the round's brief lists them).
KNOWN_CLASSES = frozenset({
    "missing-upstream", "transposed", "bias-not-summed", "scale-1/N", "sign",
    "mask-boundary", "mask-inverted", "mask-of-output", "derivative-of-input",
    "stride-ignored", "pad-not-cropped", "pool-ties", "pool-wrong-cell", "max-routing",
    "fanout-overwrite", "shared-param-not-summed", "elu-negative", "bn-mean-path",
    "bn-var-path", "bn-eps", "bn-test-update", "bn-test-batch-stats", "bn-momentum",
    "bn-unbiased-var", "init-fan-out", "init-no-2", "numgrad-one-sided",
    "numgrad-not-restored", "mean-on-test",
})

BUGGY = [case for case in CASES if case.expected is not None]
CORRECT = [case for case in CASES if case.expected is None]


def test_names_are_unique_and_prefixed():
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names)
    assert all(name.startswith("fourth_") for name in names)


def test_enough_cases_of_every_known_class():
    assert len(BUGGY) >= 50
    assert len(CORRECT) >= 10
    expected = {case.expected for case in BUGGY}
    assert expected <= KNOWN_CLASSES, expected - KNOWN_CLASSES
    assert expected == KNOWN_CLASSES, KNOWN_CLASSES - expected


@pytest.mark.parametrize("case", BUGGY, ids=lambda case: case.name)
def test_buggy_case_fails_a_probe(case):
    assert run_case(case, 0).failed_probes, f"{case.name} passes every probe of {case.grade_id}"


@pytest.mark.parametrize("case", CORRECT, ids=lambda case: case.name)
def test_correct_case_fails_no_probe(case):
    assert run_case(case, 0).failed_probes == []
