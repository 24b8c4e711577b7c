"""The diagnosis measured on implementations written apart from the catalogue.

The target of the issue: at least 80% of the buggy implementations named
with their class, no correct implementation accused (or failing a probe).
``python tools/diagnosis_rates.py`` writes the same figures to
``docs/diagnosis.md``.
"""

from __future__ import annotations

import pytest
from diagnosis_cases import ALL_CASES, LATEST_ROUND

from autograder.diagnosis.catalogue import CLASSES
from autograder.diagnosis.measure import rates, run_case, run_cases


def test_the_case_set_is_large_enough():
    buggy = [c for c in ALL_CASES if c.expected is not None]
    correct = [c for c in ALL_CASES if c.expected is None]
    assert len(buggy) >= 40 and len(correct) >= 6
    assert len({c.name for c in ALL_CASES}) == len(ALL_CASES)
    assert all(c.expected in CLASSES for c in buggy)
    assert {c.assignment for c in ALL_CASES} == {"backprop", "conv", "activations",
                                                   "initialization", "batchnorm"}


def test_one_buggy_and_one_correct_case():
    buggy = next(c for c in ALL_CASES if c.name == "affine_einsum_dw_swapped")
    correct = next(c for c in ALL_CASES if c.name == "affine_einsum")
    assert run_case(buggy, 0).verdict == "named"
    clean = run_case(correct, 0)
    assert clean.verdict == "clean" and clean.failed_probes == []


@pytest.mark.slow
def test_named_right_at_least_80_percent_and_no_correct_case_accused():
    outcomes = run_cases(ALL_CASES, seeds=(0, 1))
    r = rates(outcomes)
    assert r.named_right >= 0.80, r
    assert r.accused == 0 and r.correct_failed == 0, r
    assert r.misnamed == 0, [(o.case.name, o.named) for o in outcomes
                             if o.verdict == "misnamed"]
    latest = rates(o for o in outcomes if o.case in LATEST_ROUND)
    assert latest.buggy_runs > 0 and latest.accused == 0
