"""The third round's cases in ``diagnosis_cases.third_round`` are what they claim to be.

A buggy case that passes every probe, or a correct one that fails a probe,
would only blur the measurement of the diagnosis, so each case is judged once
(grading seed 0) on the probes of its test cell: a buggy one must fail at
least one, a correct one none. Only ``failed_probes`` is looked at.
"""

from __future__ import annotations

import pytest
from diagnosis_cases.third_round import CASES

from autograder.diagnosis.catalogue import CLASSES
from autograder.diagnosis.measure import run_case

# The mistake classes the cases may name, as the measurement defines them.
KNOWN_CLASSES = frozenset({
    "missing-upstream", "transposed", "bias-not-summed", "scale-1/N", "sign",
    "mask-boundary", "mask-inverted", "mask-of-output", "derivative-of-input",
    "stride-ignored", "pad-not-cropped", "pool-ties", "pool-wrong-cell", "max-routing",
    "fanout-overwrite", "shared-param-not-summed", "elu-negative", "bn-mean-path",
    "bn-var-path", "bn-eps", "bn-test-update", "bn-test-batch-stats", "bn-momentum",
    "bn-unbiased-var", "init-fan-out", "init-no-2", "numgrad-one-sided",
    "numgrad-not-restored", "mean-on-test",
})

BUGGY = [c for c in CASES if c.expected is not None]
CORRECT = [c for c in CASES if c.expected is None]


def test_the_set_is_large_named_uniquely_and_covers_every_class():
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    assert all(name.startswith("third_") for name in names)
    assert len(BUGGY) >= 40 and len(CORRECT) >= 8
    unknown = {c.expected for c in BUGGY} - (KNOWN_CLASSES & set(CLASSES))
    assert not unknown, f"cases name classes that are not in the catalogue: {unknown}"
    assert {c.expected for c in BUGGY} == KNOWN_CLASSES


@pytest.mark.parametrize("case", BUGGY, ids=lambda c: c.name)
def test_a_buggy_case_fails_some_probe(case):
    assert run_case(case, 0).failed_probes, f"{case.name} passes every probe of {case.grade_id}"


@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.name)
def test_a_correct_case_fails_no_probe(case):
    assert run_case(case, 0).failed_probes == []
