"""Probes of the training assignment (lecture 6): babysitting the learning process, search.

The update-to-weight ratio is compared on non-square weight matrices and on
conv filter banks, at rates over several decades. The learning-rate verdict
reads a batch of loss curves of every kind (flat, falling, growing, with a
spike, with a NaN, flat under heavy noise), with drawn tolerances and
windows; each verdict comes back as the codes of its characters, since only
numbers cross the sandbox. The
samplers get a generator in a known state: their values are compared, and so
is the generator's next draw, which shows whether they took exactly the draws
their docstrings name. The grid is compared on spaces of 1 to 3 dimensions,
mixed log and linear, with budgets that are and are not powers.

Two test cells check answers typed into the notebook; their answer probes
state the reference answers: the initial softmax loss of a 5-class net,
``log 5``, and the distinct learning rates of 27 trials over 3
hyperparameters, 3 for a grid (``3 ** 3 = 27``) and 27 for random search.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe

from . import calls

# --------------------------------------------------------- update-to-weight ratio

def _ratio_inputs(rng):
    rows, cols = int(rng.integers(2, 40)), int(rng.integers(2, 40))
    if rows == cols:
        cols += 1  # a transposed gradient must not fit
    filters = tuple(int(v) for v in rng.integers(2, 6, size=4))
    return {"w": rng.standard_normal((rows, cols)) * rng.uniform(0.01, 2.0),
            "dw": rng.standard_normal((rows, cols)) * rng.uniform(0.01, 2.0),
            "w_conv": rng.standard_normal(filters), "dw_conv": rng.standard_normal(filters),
            "rates": 10.0 ** rng.uniform(-6, 0, size=3)}


def _ratio_edge_inputs(rng):
    """A single row and a single column of weights (a transposed update must not fit either)."""
    n = int(rng.integers(2, 30))
    return {"w": rng.standard_normal((1, n)), "dw": rng.standard_normal((1, n)),
            "w_conv": rng.standard_normal((n, 1)), "dw_conv": rng.standard_normal((n, 1)),
            "rates": 10.0 ** rng.uniform(-4, 0, size=2)}


# --------------------------------------------------------- learning-rate verdict

def _curve(rng, kind, n):
    steps = np.arange(n, dtype=np.float64)
    start = rng.uniform(0.5, 4.0)
    noise = 1 + rng.uniform(0.0, 0.03) * rng.standard_normal(n)
    if kind == 0:    # flat, or drifting a little either way
        return start * (1 + rng.uniform(-0.04, 0.04) * steps / n) * noise
    if kind == 1:    # falling
        return start * np.exp(-steps / rng.uniform(n / 8, n)) * noise
    if kind == 2:    # growing
        return start * np.exp(steps / rng.uniform(n / 8, n)) * noise
    if kind == 5:    # flat but very noisy: single losses say little, the windows' means more
        return start * (1 + rng.uniform(0.2, 0.4) * rng.standard_normal(n))
    curve = start * np.exp(-steps / n) * noise
    if kind == 3:    # a spike somewhere, then back down
        curve[int(rng.integers(1, n))] = start * rng.uniform(2.0, 50.0)
    return curve  # kind 4 turns NaN from some step on: see _verdict_inputs


def _verdict_inputs(rng):
    n = int(rng.integers(20, 120))
    kinds = np.concatenate([np.arange(6), np.full(3, 5), rng.integers(0, 6, size=5)])
    curves = np.stack([_curve(rng, int(k), n) for k in kinds])
    # NaN would not compare equal to itself in the inputs, so it is planted in the run
    nan_from = np.where(kinds == 4, rng.integers(1, n, size=len(kinds)), n)
    return {"curves": curves, "nan_from": nan_from, "tolerance": np.float64(rng.uniform(0.02, 0.2)),
            "window": np.int64(rng.integers(1, n // 2 + 1)),
            "blowup": np.float64(rng.uniform(1.5, 10.0))}


def _short_verdict_inputs(rng):
    """Histories of 2 and 3 losses: the default window is a single loss at each end."""
    start = rng.uniform(0.5, 4.0, size=(6, 1))
    changes = np.array([[1.0, 0.5], [1.0, 0.99], [1.0, 1.2], [1.0, 1.01], [1.0, 0.94],
                        [1.0, 1.06]]) * (1 + 0.005 * rng.standard_normal((6, 2)))
    pairs = start * changes
    triples = np.concatenate([pairs[:, :1], pairs[:, :1] * rng.uniform(0.5, 5.0, (6, 1)),
                              pairs[:, 1:]], axis=1)
    return {"pairs": pairs, "triples": triples}


# --------------------------------------------------------- samplers

def _log_uniform_inputs(rng):
    low = 10.0 ** rng.uniform(-8, 1)
    return {"seed": np.int64(rng.integers(0, 2**31)), "low": np.float64(low),
            "high": np.float64(low * 10.0 ** rng.uniform(0.5, 6)),
            "shape": rng.integers(2, 30, size=2)}


def _space_inputs(rng):
    d = int(rng.integers(1, 4))
    lows = 10.0 ** rng.uniform(-6, 0, size=d)
    is_log = rng.integers(0, 2, size=d)
    is_log[0] = 1  # at least one log range
    lows = np.where(is_log == 1, lows, rng.uniform(-2, 1, size=d))
    return {"lows": lows, "highs": lows + np.where(is_log == 1, lows * 10.0 ** rng.uniform(
                0.5, 4, size=d), rng.uniform(0.5, 3, size=d)),
            "is_log": is_log, "budget": np.int64(rng.integers(1, 70)),
            "seed": np.int64(rng.integers(0, 2**31))}


def _power_budget_inputs(rng):
    inputs = _space_inputs(rng)
    d = len(inputs["lows"])
    inputs["budget"] = np.int64(int(rng.integers(2, 6)) ** d)  # exactly k ** d
    return inputs


PROBES = [
    Probe("test_update_ratio", "update_ratio", _ratio_inputs, calls.ratio,
          checks="the ratio for a non-square matrix and a conv filter bank"),
    Probe("test_update_ratio", "update_ratio_row_and_column", _ratio_edge_inputs, calls.ratio,
          checks="the ratio for a single row and a single column of weights"),
    Probe("test_learning_rate_verdict", "learning_rate_verdict", _verdict_inputs,
          calls.verdict,
          checks="verdicts on flat, falling, growing, spiking, NaN and noisy curves"),
    Probe("test_learning_rate_verdict", "learning_rate_verdict_short", _short_verdict_inputs,
          calls.short_verdict, checks="verdicts on histories of 2 and 3 losses"),
    Probe("test_sample_log_uniform", "sample_log_uniform", _log_uniform_inputs,
          calls.log_uniform,
          checks="log-uniform samples and the draws they take from the generator"),
    Probe("test_grid_and_random", "grid_any_budget", _space_inputs, calls.grid_trials,
          checks="a grid with a budget that is not a power"),
    Probe("test_grid_and_random", "grid_power_budget", _power_budget_inputs, calls.grid_trials,
          checks="a grid with a budget k ** d"),
    Probe("test_grid_and_random", "random_search", _space_inputs, calls.random_trials,
          checks="random search at the same budget"),
]


# ------------------------------------------------------------ notebook answers

def _loss_five_expected(lib, inputs):
    """Equal scores for 5 classes: each gets probability 1/5, and the loss is log 5."""
    return {"expected_loss_5": math.log(5)}


def _search_counts_expected(lib, inputs):
    """27 trials, 3 hyperparameters: a grid of 3 values each; random search 27 values."""
    return {"grid_rates": 3, "random_rates": 27}


ANSWER_PROBES = [
    AnswerProbe("test_initial_loss_five", "loss_five", ("expected_loss_5",),
                _loss_five_expected, rtol=1e-3, checks="your initial softmax loss for 5 classes"),
    AnswerProbe("test_search_counts", "search_counts", ("grid_rates", "random_rates"),
                _search_counts_expected,
                checks="your counts of distinct learning rates, grid and random"),
]
