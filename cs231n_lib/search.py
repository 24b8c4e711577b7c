"""Hyperparameter search: log-uniform samples, grid and random trials at equal budget.

A search space maps each hyperparameter's name to a :class:`Range`. Learning
rates and regularisation strengths act multiplicatively (0.001 and 0.01 differ
as much as 0.01 and 0.1), so they are searched on a log scale; a dropout
probability would be searched on a linear one.

At a budget of ``n`` trials a **grid** over ``d`` hyperparameters tries
``k = floor(n ** (1 / d))`` values of each (``k ** d <= n`` trials), while
**random search** draws ``n`` independent values of each. When only a few
hyperparameters matter, random search tries ``n`` distinct values of the
important ones and the grid only ``k``: that is why it finds good settings
with fewer trials (Bergstra & Bengio 2012,
https://www.jmlr.org/papers/v13/bergstra12a.html).

Coarse to fine: search a wide space with short runs, then narrow it around
the best trials (:func:`narrow_space`) and search again with longer runs.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Range", "as_space", "sample_log_uniform", "grid_search_configs",
           "random_search_configs", "narrow_space", "best_trials", "run_trials"]

SCALES = ("log", "linear")


@dataclass(frozen=True)
class Range:
    """The interval one hyperparameter is searched over.

    Attributes
    ----------
    low, high : float
        Bounds, ``low < high``; both > 0 on a log scale.
    scale : str
        ``"log"`` (uniform in the exponent) or ``"linear"``.
    """

    low: float
    high: float
    scale: str = "log"

    def __post_init__(self):
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                    or not math.isfinite(value):
                raise ValueError(f"Range.{name} must be a finite number; got {value!r}.")
        if self.scale not in SCALES:
            raise ValueError(f"Range.scale must be 'log' or 'linear'; got {self.scale!r}.")
        if not self.low < self.high:
            raise ValueError(f"Range needs low < high; got low={self.low!r}, "
                             f"high={self.high!r}. Swap them if they are reversed.")
        if self.scale == "log" and self.low <= 0:
            raise ValueError(f"a log-scale Range needs low > 0; got low={self.low!r}. "
                             "Use scale='linear' for a range that includes 0.")

    def from_unit(self, u) -> np.ndarray:
        """Map numbers ``u`` in [0, 1] onto the range (0 -> low, 1 -> high, on its scale)."""
        u = np.asarray(u, dtype=np.float64)
        if self.scale == "log":
            return self.low * (self.high / self.low) ** u
        return self.low + u * (self.high - self.low)


def as_space(space: Mapping) -> dict[str, Range]:
    """Check a search space; ``(low, high)`` or ``(low, high, scale)`` tuples become Ranges.

    Parameters
    ----------
    space : dict
        name -> ``Range``, ``(low, high)`` (log scale) or ``(low, high, scale)``.

    Returns
    -------
    dict of str -> Range, in the given order.
    """
    if not isinstance(space, Mapping) or not space:
        raise TypeError(f"space must be a non-empty dict such as "
                        f"{{'learning_rate': (1e-4, 1e-1)}}; got {space!r}.")
    out = {}
    for name, value in space.items():
        if isinstance(value, Range):
            out[str(name)] = value
        elif isinstance(value, (tuple, list)) and len(value) in (2, 3):
            out[str(name)] = Range(*value)
        else:
            raise TypeError(f"space[{name!r}] must be a Range or a tuple (low, high) or "
                            f"(low, high, 'log' | 'linear'); got {value!r}.")
    return out


def _check_budget(budget) -> int:
    if isinstance(budget, bool) or not isinstance(budget, numbers.Integral) or budget < 1:
        raise ValueError(f"budget must be a whole number of trials >= 1; got {budget!r}.")
    return int(budget)


def _check_rng(rng) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, e.g. np.random.default_rng(0);"
                        f" got {type(rng).__name__}.")


def sample_log_uniform(rng, low, high, size=None):
    """Numbers whose base-10 exponent is uniform in ``[log10(low), log10(high))``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Used for exactly one call, ``rng.uniform(log10(low), log10(high), size)``.
    low, high : float
        Bounds, ``0 < low < high``.
    size : int or tuple of int, optional
        Output shape (None: one float, as ``rng.uniform`` returns).

    Returns
    -------
    values : ndarray of shape ``size``, or float
        ``10 ** exponent``, each between ``low`` and ``high``.
    """
    _check_rng(rng)
    Range(low, high, "log")  # checks the bounds
    ### BEGIN SOLUTION
    # Hint: one rng.uniform(log10(low), log10(high), size) for the exponents, then 10 ** them
    exponents = rng.uniform(np.log10(low), np.log10(high), size)
    return 10.0 ** exponents
    ### END SOLUTION


def grid_search_configs(space: Mapping, budget: int) -> list[dict[str, float]]:
    """The trials of a grid search that uses at most ``budget`` trials.

    With ``d`` hyperparameters, each gets ``k = floor(budget ** (1 / d))``
    values (compute ``k`` with integers: the largest ``k`` with
    ``k ** d <= budget``), placed at the centres of ``k`` equal cells of its
    range on its own scale: ``Range.from_unit((i + 0.5) / k)`` for
    ``i = 0 .. k - 1``, so one value sits in the middle of the range.

    Parameters
    ----------
    space : dict
        name -> Range (or a tuple, see :func:`as_space`).
    budget : int
        Most trials allowed.

    Returns
    -------
    configs : list of dict
        ``k ** d`` dicts name -> float: every combination, in the order of
        ``itertools.product`` over the names in the space's order (the last
        name varies fastest).
    """
    space = as_space(space)
    budget = _check_budget(budget)
    ### BEGIN SOLUTION
    # Hint: largest k with k ** d <= budget; values r.from_unit((i + 0.5) / k); itertools.product
    d = len(space)
    k = 1
    while (k + 1) ** d <= budget:
        k += 1
    centres = (np.arange(k) + 0.5) / k
    axes = [[float(v) for v in r.from_unit(centres)] for r in space.values()]
    return [dict(zip(space, values, strict=True)) for values in itertools.product(*axes)]
    ### END SOLUTION


def random_search_configs(space: Mapping, budget: int, rng) -> list[dict[str, float]]:
    """The trials of a random search: ``budget`` independent draws from the space.

    For each hyperparameter in the space's order, draw all ``budget`` values
    at once: ``sample_log_uniform(rng, low, high, budget)`` on a log scale,
    ``rng.uniform(low, high, budget)`` on a linear one. Trial ``i`` takes the
    ``i``-th value of each.

    Parameters
    ----------
    space : dict
        name -> Range (or a tuple, see :func:`as_space`).
    budget : int
        Number of trials.
    rng : numpy.random.Generator

    Returns
    -------
    configs : list of dict
        ``budget`` dicts name -> float.
    """
    space = as_space(space)
    budget = _check_budget(budget)
    _check_rng(rng)
    ### BEGIN SOLUTION
    # Hint: per name one draw of budget values (sample_log_uniform or rng.uniform); trial i: value i
    columns = {}
    for name, r in space.items():
        if r.scale == "log":
            columns[name] = sample_log_uniform(rng, r.low, r.high, budget)
        else:
            columns[name] = rng.uniform(r.low, r.high, budget)
    return [{name: float(columns[name][i]) for name in space} for i in range(budget)]
    ### END SOLUTION


def best_trials(configs: Sequence[Mapping], scores: Sequence[float], top: int
                ) -> list[Mapping]:
    """The ``top`` configs with the highest scores (NaN scores count as the worst)."""
    if len(configs) != len(scores) or not configs:
        raise ValueError(f"need one score per config and at least one of each; got "
                         f"{len(configs)} configs and {len(scores)} scores.")
    top = _check_budget(top)
    scores = np.asarray(scores, dtype=np.float64)
    order = np.argsort(np.where(np.isnan(scores), -np.inf, scores), kind="stable")[::-1]
    return [configs[i] for i in order[:top]]


def narrow_space(space: Mapping, configs: Sequence[Mapping], scores: Sequence[float],
                 top: int = 3, margin: float = 0.5) -> dict[str, Range]:
    """The space of the next, finer search: the span of the ``top`` best trials, widened.

    Each range becomes the smallest one holding the best ``top`` trials'
    values, widened on each side by ``margin`` times its width (on its own
    scale) and clipped to the old range.

    Returns
    -------
    dict of str -> Range
    """
    space = as_space(space)
    best = best_trials(configs, scores, top)
    out = {}
    for name, r in space.items():
        values = np.array([c[name] for c in best], dtype=np.float64)
        to_axis = np.log10 if r.scale == "log" else (lambda x: x)
        lo, hi = to_axis(values.min()), to_axis(values.max())
        width = max(hi - lo, 1e-3 * (to_axis(r.high) - to_axis(r.low)))
        lo = max(lo - margin * width, to_axis(r.low))
        hi = min(hi + margin * width, to_axis(r.high))
        back: Callable = (lambda x: 10.0 ** x) if r.scale == "log" else (lambda x: x)
        out[name] = Range(float(back(lo)), float(back(hi)), r.scale)
    return out


def _pool_context():
    import multiprocessing

    # fork shares the parent's imports and data with the workers at no cost; where it
    # does not exist (Windows, macOS defaults) the trials run one after another.
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


def run_trials(trial: Callable[[Mapping], float], configs: Sequence[Mapping],
               jobs: int = 1) -> tuple[list[float], int]:
    """Score every config with ``trial``, in ``jobs`` worker processes where possible.

    Parameters
    ----------
    trial : callable
        ``trial(config) -> score``; a module-level function (or a
        ``functools.partial`` of one), so that workers can receive it.
    configs : sequence of dict
    jobs : int
        Worker processes; 1 runs the trials here, one after another.

    Returns
    -------
    scores : list of float
        In the order of ``configs`` (the same numbers whatever ``jobs`` is,
        since each trial seeds its own randomness).
    jobs_used : int
        1 when the trials ran here: asked to, or a pool could not be started
        (no ``fork`` on this platform, or a process limit, as in a grading
        sandbox).
    """
    jobs = _check_budget(jobs)
    configs = list(configs)
    context = _pool_context() if jobs > 1 and len(configs) > 1 else None
    if context is not None:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        chunk = math.ceil(len(configs) / jobs)
        try:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                return [float(s) for s in pool.map(trial, configs, chunksize=chunk)], jobs
        except (OSError, BrokenProcessPool):
            pass  # no processes to be had here: fall through to the serial run
    return [float(trial(config)) for config in configs], 1
