"""Implementations of library functions, buggy and correct, to measure the diagnosis.

Written apart from the mutant catalogue (``autograder/diagnosis/mutants``): the
same kinds of mistake in other code, the way a student might write them, and
correct implementations in unusual forms that must get no diagnosis. One
module per assignment; ``ALL_CASES`` gathers them.
"""

from __future__ import annotations

from . import activations, backprop, batchnorm, conv, initialization, second_round, unseen

#: Cases the catalogue was tuned on (after their first run), then the held-out ones:
#: written blind to the catalogue, and run only once it was frozen.
TUNED_CASES = (backprop.CASES + conv.CASES + activations.CASES + initialization.CASES
               + batchnorm.CASES + second_round.CASES)
HELD_OUT_CASES = unseen.CASES
ALL_CASES = TUNED_CASES + HELD_OUT_CASES
