"""The mutant catalogue as the adequacy test of the hidden probes, over many seeds.

Every mutant must lose points under every grading seed: some probe of its
test cell fails. The probes draw non-degenerate sizes plus fixed edge cases
(exact zeros at a mask's kink, ties, a negative PReLU slope on a negative
input, ``fan_in != fan_out``), so no seed lets a typical mistake through.
"""

from __future__ import annotations

import pytest

from autograder.diagnosis.adequacy import survivors
from autograder.diagnosis.catalogue import ASSIGNMENTS

SEEDS = range(200)

# Mistakes that no input can expose in the current probe *calls*. The Value gates
# only ever receive an upstream gradient of 1, or are the first to reach a value
# used twice, in the graphs of backprop/calls.py: they need a new call (every
# gate alone with an upstream gradient other than 1 and its input used twice).
# An inexact restore of x changes its last bits, which no probe with rtol 1e-6
# sees: it needs a probe of x_after with rtol 0. Remove an entry when a probe
# catches it: the assertion below then fails until it is gone.
KNOWN_GAPS: dict[str, set[str]] = {}


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_mutant_loses_points_under_every_seed(assignment):
    missed = survivors(assignment, SEEDS)
    gaps = KNOWN_GAPS.get(assignment, set())
    assert set(missed) == gaps, {k: v[:5] for k, v in missed.items()}
    # a known gap is missed by the calls, not by unlucky draws: every seed misses it
    assert all(len(missed[k]) == len(SEEDS) for k in gaps)
