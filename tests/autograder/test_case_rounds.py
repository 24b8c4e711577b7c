"""The blind rounds of diagnosis cases are usable measurements.

Each buggy case fails a probe of its test cell and each correct one fails
none (grading seed 0): otherwise a case would only blur the rates. Names are
unique and carry their round, and every class of mistake the issue lists has
a case. Only whether a case fails is looked at here, never what the
diagnosis says of it (``test_diagnosis_rates.py`` does that).
"""

from __future__ import annotations

import pytest
from diagnosis_cases import ROUNDS

from autograder.diagnosis.measure import run_case

#: The classes of mistake the issue asks the diagnosis to name (a round covers them all).
ISSUE_CLASSES = frozenset({
    "missing-upstream", "transposed", "bias-not-summed", "scale-1/N", "sign",
    "mask-boundary", "mask-inverted", "mask-of-output", "derivative-of-input",
    "stride-ignored", "pad-not-cropped", "pool-ties", "pool-wrong-cell", "max-routing",
    "fanout-overwrite", "shared-param-not-summed", "elu-negative", "bn-mean-path",
    "bn-var-path", "bn-eps", "bn-test-update", "bn-test-batch-stats", "bn-momentum",
    "bn-unbiased-var", "init-fan-out", "init-no-2", "numgrad-one-sided",
    "numgrad-not-restored", "mean-on-test",
})
#: The rounds written with the issue's whole list of classes in hand, and the least
#: number of buggy and of correct cases each was asked for.
ASKED = {"third": (40, 8), "fourth": (50, 10)}
BLIND = {name: cases for name, cases in ROUNDS if name in ASKED}
CASES = [case for cases in BLIND.values() for case in cases]


@pytest.mark.parametrize("name", sorted(BLIND))
def test_a_round_is_large_named_by_round_and_covers_every_class(name):
    cases = BLIND[name]
    buggy = [c for c in cases if c.expected is not None]
    least_buggy, least_correct = ASKED[name]
    assert len(buggy) >= least_buggy and len(cases) - len(buggy) >= least_correct
    assert all(c.name.startswith(f"{name}_") for c in cases)
    assert {c.expected for c in buggy} == ISSUE_CLASSES


def test_names_are_unique_across_rounds():
    names = [case.name for _, cases in ROUNDS for case in cases]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("case", [c for c in CASES if c.expected is not None],
                         ids=lambda c: c.name)
def test_a_buggy_case_fails_some_probe(case):
    assert run_case(case, 0).failed_probes, f"{case.name} passes every probe of {case.grade_id}"


@pytest.mark.parametrize("case", [c for c in CASES if c.expected is None],
                         ids=lambda c: c.name)
def test_a_correct_case_fails_no_probe(case):
    assert run_case(case, 0).failed_probes == []
