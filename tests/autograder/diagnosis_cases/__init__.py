"""Implementations of library functions, buggy and correct, to measure the diagnosis.

Written apart from the mutant catalogue (``autograder/diagnosis/mutants``): the
same kinds of mistake in other code, the way a student might write them, and
correct implementations in unusual forms that must get no diagnosis. One
module per assignment; ``ALL_CASES`` gathers them.
"""

from __future__ import annotations

from . import activations, backprop, batchnorm, conv, initialization, second_round, third_round

#: Each round was written apart from the catalogue, run once with the catalogue frozen
#: (its held-out rate, quoted in docs/diagnosis.md), then learnt from: all are in-sample now.
ROUNDS = (
    ("first", backprop.CASES + conv.CASES + activations.CASES + initialization.CASES
     + batchnorm.CASES),
    ("second", second_round.CASES),
    ("third", third_round.CASES),
)
#: The newest round: the one written blind to the diagnosis as it stands.
LATEST_ROUND = third_round.CASES
ALL_CASES = tuple(case for _, cases in ROUNDS for case in cases)
