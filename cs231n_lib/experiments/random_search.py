"""Claim 8: random search beats grid search at equal budget (Bergstra & Bengio 2012).

Two hyperparameters of a small ReLU net are searched on a log scale: the
learning rate (which matters a lot) and the L2 strength (which, at this
scale, matters little). At each budget ``n`` a grid tries
``floor(sqrt(n))`` learning rates, random search ``n``. Every trial is one
short training run from the same initial weights, scored by its validation
accuracy; the random search is repeated with many seeds, the grid has one
answer.

The importance of each hyperparameter is measured from the random trials
themselves: the spread of the mean score over bins of its values.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.experiments._common import input_dim, positive_int, prepare, train
from cs231n_lib.models import FullyConnectedNet
from cs231n_lib.search import (
    as_space,
    grid_search_configs,
    random_search_configs,
    run_trials,
)

__all__ = ["SearchResult", "random_vs_grid", "score_trial", "DEFAULT_SPACE"]

DEFAULT_SPACE = {"learning_rate": (1e-4, 1.0, "log"), "reg": (1e-5, 1e-1, "log")}
"""The space searched: both hyperparameters on a log scale."""


@dataclass(frozen=True)
class SearchResult:
    """Best validation accuracy of grid and random searches at equal budgets.

    Attributes
    ----------
    names : tuple of str
        The hyperparameters, in the space's order.
    budgets : ndarray of int, (n_budgets,)
        Trials allowed; the grid uses the largest square number within each.
    grid_trials : ndarray of int, (n_budgets,)
        Trials the grid actually ran.
    grid_best : ndarray, (n_budgets,)
        Best validation accuracy of the grid.
    random_best : ndarray, (n_budgets, n_repeats)
        Best validation accuracy of each repeated random search.
    grid_configs, grid_scores : ndarray, (n_grid, n_names) and (n_grid,)
        The largest grid's trials (values per name) and their scores.
    random_configs, random_scores : ndarray, (n_random, n_names) and (n_random,)
        The first repeat of the largest random search.
    importance : ndarray, (n_names,)
        Per hyperparameter: max minus min of the mean score over
        ``num_bins`` equal bins (on its scale) of all random trials.
    jobs_used : int
        Worker processes the trials ran in.
    hidden_dims : tuple of int
    num_epochs, num_train, seed : int
    """

    names: tuple[str, ...]
    budgets: np.ndarray
    grid_trials: np.ndarray
    grid_best: np.ndarray
    random_best: np.ndarray
    grid_configs: np.ndarray
    grid_scores: np.ndarray
    random_configs: np.ndarray
    random_scores: np.ndarray
    importance: np.ndarray
    jobs_used: int
    hidden_dims: tuple[int, ...]
    num_epochs: int
    num_train: int
    seed: int

    @property
    def win_rate(self) -> np.ndarray:
        """Per budget: share of random searches whose best beats the grid's best."""
        return np.mean(self.random_best > self.grid_best[:, None], axis=1)

    @property
    def tie_rate(self) -> np.ndarray:
        """Per budget: share of random searches whose best equals the grid's best."""
        return np.mean(self.random_best == self.grid_best[:, None], axis=1)

    def distinct(self, name: str) -> tuple[int, int]:
        """(grid, random) numbers of distinct values of ``name`` tried at the largest budget."""
        k = self.names.index(name)
        return (len(np.unique(self.grid_configs[:, k])),
                len(np.unique(self.random_configs[:, k])))


def score_trial(config: Mapping[str, float], data: Mapping, hidden_dims: tuple[int, ...],
                num_epochs: int, seed: int) -> float:
    """Validation accuracy of one short training run with ``config``'s learning rate and reg.

    The weights start from the same draw (``seed``) in every trial, so that
    only the hyperparameters differ between trials.
    """
    model = FullyConnectedNet(hidden_dims, input_dim=input_dim(data),
                              num_classes=data["num_classes"], weight_init="he",
                              reg=float(config.get("reg", 0.0)), seed=seed)
    solver = train(model, data, learning_rate=float(config["learning_rate"]),
                   num_epochs=num_epochs, seed=seed)
    return float(solver.val_acc_history[-1])


def _as_matrix(configs: Sequence[Mapping], names: Sequence[str]) -> np.ndarray:
    return np.array([[c[n] for n in names] for c in configs], dtype=np.float64)


def _importance(space, configs: np.ndarray, scores: np.ndarray, num_bins: int) -> np.ndarray:
    spreads = []
    for k, r in enumerate(space.values()):
        axis = np.log10(configs[:, k]) if r.scale == "log" else configs[:, k]
        low, high = (np.log10([r.low, r.high]) if r.scale == "log" else (r.low, r.high))
        bins = np.clip(((axis - low) / (high - low) * num_bins).astype(int), 0, num_bins - 1)
        means = [scores[bins == b].mean() for b in range(num_bins) if np.any(bins == b)]
        spreads.append(max(means) - min(means))
    return np.array(spreads)


def random_vs_grid(data: Mapping | None = None, *, space: Mapping | None = None,
                   budgets: Sequence[int] = (9, 16, 25), num_repeats: int = 20,
                   hidden_dims: Sequence[int] = (50,), num_epochs: int = 2,
                   num_train: int = 1000, num_bins: int = 5, jobs: int = 1,
                   seed: int = 0) -> SearchResult:
    """Grid against random search over learning rate and regularisation, equal budgets.

    Parameters
    ----------
    data : dict or None
        CS231n-style splits; None uses the default data.
    space : dict, optional
        name -> range (see :func:`cs231n_lib.search.as_space`); must name
        ``learning_rate``; default :data:`DEFAULT_SPACE`.
    budgets : sequence of int
        Trials per search.
    num_repeats : int
        Random searches per budget (seeds ``seed + 1 ...``).
    hidden_dims : sequence of int
        The ReLU net trained in each trial.
    num_epochs : int
        Epochs per trial (a coarse search: short runs).
    num_train : int
        Training examples.
    num_bins : int
        Bins per hyperparameter for its importance.
    jobs : int
        Worker processes for the trials (the result does not depend on it).
    seed : int

    Returns
    -------
    SearchResult
    """
    space = as_space(DEFAULT_SPACE if space is None else space)
    if "learning_rate" not in space:
        raise KeyError(f"space must include 'learning_rate'; got {sorted(space)}.")
    budgets = [positive_int("budgets", b) for b in budgets]
    num_repeats = positive_int("num_repeats", num_repeats)
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    prepared = prepare(data, num_train=positive_int("num_train", num_train), seed=seed)
    trial = functools.partial(score_trial, data=prepared, hidden_dims=hidden_dims,
                              num_epochs=positive_int("num_epochs", num_epochs), seed=seed)

    grids = [grid_search_configs(space, b) for b in budgets]
    randoms = [random_search_configs(space, b, np.random.default_rng(seed + 1 + r))
               for b in budgets for r in range(num_repeats)]
    everything = [c for configs in grids + randoms for c in configs]
    scores, jobs_used = run_trials(trial, everything, jobs=jobs)
    scores = np.array(scores)

    grid_best, at = [], 0
    for configs in grids:
        grid_best.append(scores[at:at + len(configs)].max())
        at += len(configs)
    random_start = at
    random_best = np.zeros((len(budgets), num_repeats))
    for i, b in enumerate(budgets):
        for r in range(num_repeats):
            random_best[i, r] = scores[at:at + b].max()
            at += b
    names = tuple(space)
    all_random = _as_matrix([c for configs in randoms for c in configs], names)
    last_grid_start = random_start - len(grids[-1])
    first_of_last = random_start + sum(budgets[:-1]) * num_repeats
    return SearchResult(
        names=names, budgets=np.array(budgets), grid_trials=np.array([len(g) for g in grids]),
        grid_best=np.array(grid_best), random_best=random_best,
        grid_configs=_as_matrix(grids[-1], names),
        grid_scores=scores[last_grid_start:random_start],
        random_configs=_as_matrix(randoms[(len(budgets) - 1) * num_repeats], names),
        random_scores=scores[first_of_last:first_of_last + budgets[-1]],
        importance=_importance(space, all_random, scores[random_start:], num_bins),
        jobs_used=jobs_used, hidden_dims=hidden_dims, num_epochs=int(num_epochs),
        num_train=int(num_train), seed=int(seed))
