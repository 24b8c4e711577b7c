"""Implementations of library functions, buggy and correct, to measure the diagnosis.

Written apart from the mutant catalogue (``autograder/diagnosis/mutants``): the
same kinds of mistake in other code, the way a student might write them, and
correct implementations in unusual forms that must get no diagnosis. One
module per assignment; ``ALL_CASES`` gathers them.
"""

from __future__ import annotations

from . import (
    activations,
    backprop,
    batchnorm,
    conv,
    fourth_round,
    initialization,
    second_round,
    third_round,
)

#: Each round was written apart from the catalogue and run once with the catalogue frozen
#: (its held-out rate, quoted in docs/diagnosis.md); all but the latest were learnt from.
ROUNDS = (
    ("first", backprop.CASES + conv.CASES + activations.CASES + initialization.CASES
     + batchnorm.CASES),
    ("second", second_round.CASES),
    ("third", third_round.CASES),
    ("fourth", fourth_round.CASES),
)
#: The newest round: written blind to the diagnosis as it stands, and not learnt from.
LATEST_ROUND = fourth_round.CASES
ALL_CASES = tuple(case for _, cases in ROUNDS for case in cases)
