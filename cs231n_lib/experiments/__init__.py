"""Measured reproductions of the lectures' claims, one module per claim.

Each function runs a small, seeded experiment on the library's own layers,
models and Solver and returns a frozen dataclass of plain numbers and
arrays: a notebook plots it (:mod:`cs231n_lib.experiments.plots`), a test
checks its pattern, and ``python tools/make_results.py`` writes them all to
``docs/results.md``. The same seed gives the same numbers.

==================================  ===========================================
function                            claim
==================================  ===========================================
``init_depth``                      1. initialisation and depth (10 x 500 net)
``saturation_gradients``            2. saturated units kill the gradient
``relu_vs_tanh``                    3. ReLU converges faster than tanh
``dead_relus``                      4. dead ReLUs after a big step / bad bias
``batchnorm_training``              5. batchnorm: faster, tolerant of rate/init
``zero_centering``                  6. zero-centred data trains faster
``small_data_checks``               7. overfit ~50 examples; initial loss log(C)
``random_vs_grid``                  8. random beats grid search at equal budget
``fine_tuning``                     9. fine-tuning beats random init on little data
``update_ratio_sweep``              10. update/weight ratio ~1e-3 at a good rate
==================================  ===========================================

The training experiments take ``data=None`` (the embedded default: the
digits, or CIFAR-10 once downloaded) or CS231n-style splits, and
``num_train`` to keep them to seconds on two cores.
"""

from cs231n_lib.experiments.batchnorm_training import BatchnormResult, batchnorm_training
from cs231n_lib.experiments.dead_relu import DeadReluResult, dead_fraction, dead_relus
from cs231n_lib.experiments.fine_tuning import FineTuningResult, fine_tuning
from cs231n_lib.experiments.init_depth import InitDepthResult, init_depth
from cs231n_lib.experiments.random_search import SearchResult, random_vs_grid
from cs231n_lib.experiments.relu_vs_tanh import ConvergenceResult, relu_vs_tanh
from cs231n_lib.experiments.saturation import SaturationResult, saturation_gradients
from cs231n_lib.experiments.small_data import SmallDataResult, small_data_checks
from cs231n_lib.experiments.update_ratio import UpdateRatioResult, update_ratio_sweep
from cs231n_lib.experiments.zero_centering import ZeroCenteringResult, zero_centering

__all__ = [
    "init_depth", "InitDepthResult",
    "saturation_gradients", "SaturationResult",
    "relu_vs_tanh", "ConvergenceResult",
    "dead_relus", "dead_fraction", "DeadReluResult",
    "batchnorm_training", "BatchnormResult",
    "zero_centering", "ZeroCenteringResult",
    "small_data_checks", "SmallDataResult",
    "random_vs_grid", "SearchResult",
    "fine_tuning", "FineTuningResult",
    "update_ratio_sweep", "UpdateRatioResult",
]
