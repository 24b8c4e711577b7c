"""Claim 5: batch normalisation (Ioffe & Szegedy 2015).

The paper's Figure 1 trains a net of three fully connected hidden layers of
100 sigmoid units on MNIST with and without batch normalisation: with it,
training is faster and reaches a higher accuracy; its abstract reports the
same accuracy in 14 times fewer steps on ImageNet, higher learning rates and
less care about initialisation.

Here: the same architecture (sigmoid by default) on the default data, with
and without ``normalization='batchnorm'``, over a grid of learning rates
(Xavier weights) and a grid of initial weight scales (at one learning rate).
For each run: the training-accuracy curve and the steps until it first
reaches the target. As in the paper's panels (b, c), one more pair of runs
follows the input of one sigmoid of the last hidden layer through training,
at the learning rate that suited the plain net best: its 15th, 50th and
85th percentiles over the validation set (one batch, normalised with its
own statistics as in training) before training and after every epoch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.experiments._common import (
    check_epochs,
    first_crossing,
    fraction,
    input_dim,
    positive_int,
    positive_numbers,
    prepare,
    train,
)
from cs231n_lib.models import FullyConnectedNet
from cs231n_lib.solver import Solver

__all__ = ["BatchnormResult", "batchnorm_training", "PERCENTILES"]

#: The percentiles of a unit's input that the paper's Figure 1 (b, c) follows.
PERCENTILES = (15, 50, 85)


@dataclass(frozen=True)
class BatchnormResult:
    """Training with and without batchnorm over learning rates and initial scales.

    The first axis of every array is ``normalizations`` (None, 'batchnorm').

    Attributes
    ----------
    normalizations : tuple
        ``(None, 'batchnorm')``.
    learning_rates : ndarray, (n_rates,)
    rate_accuracy : ndarray, (2, n_rates, n_checks)
        Training accuracy per check, Xavier weights.
    rate_steps : ndarray, (2, n_rates)
        Steps to the target accuracy (nan: not within the budget).
    weight_scales : ndarray, (n_scales,)
        Standard deviations of the initial weights.
    scale_accuracy : ndarray, (2, n_scales, n_checks)
        At ``learning_rate``.
    scale_steps : ndarray, (2, n_scales)
    learning_rate : float
        Of the weight-scale runs.
    unit_percentiles : ndarray, (2, num_epochs + 1, 3)
        The 15th, 50th, 85th percentiles (``PERCENTILES``) over the validation
        set of the input of one sigmoid (unit 0 of the last hidden layer), at
        the start and after every epoch; empty ``(2, 0, 3)`` unless the
        activation is sigmoid.
    distribution_rate : float
        Learning rate of those runs: the plain net's fastest on the grid.
    target_accuracy : float
    steps : ndarray, (n_checks,)
        Gradient steps taken at each check.
    activation : str
    hidden_dims : tuple of int
    num_epochs, batch_size, seed : int
    """

    normalizations: tuple
    learning_rates: np.ndarray
    rate_accuracy: np.ndarray
    rate_steps: np.ndarray
    weight_scales: np.ndarray
    scale_accuracy: np.ndarray
    scale_steps: np.ndarray
    learning_rate: float
    unit_percentiles: np.ndarray
    distribution_rate: float
    target_accuracy: float
    steps: np.ndarray
    activation: str
    hidden_dims: tuple[int, ...]
    num_epochs: int
    batch_size: int
    seed: int

    def fastest(self, normalization) -> float:
        """Fewest steps to the target over the learning-rate grid (nan if never)."""
        row = self.rate_steps[self.normalizations.index(normalization)]
        return float(np.nanmin(row)) if np.isfinite(row).any() else math.nan

    @property
    def speedup(self) -> float:
        """Fastest steps without batchnorm divided by fastest steps with it."""
        return self.fastest(None) / self.fastest("batchnorm")

    def drift(self, normalization) -> float:
        """How far the unit's median input wandered during training (highest minus
        lowest), in units of its average spread (85th minus 15th percentile);
        nan without sigmoid data."""
        p = self.unit_percentiles[self.normalizations.index(normalization)]
        if p.size == 0:
            return math.nan
        return float(np.ptp(p[:, 1]) / np.mean(p[:, 2] - p[:, 0]))

    def trained(self, normalization, which: str = "rates") -> int:
        """How many runs of a grid (``'rates'`` or ``'scales'``) reached the target."""
        steps = self.rate_steps if which == "rates" else self.scale_steps
        return int(np.isfinite(steps[self.normalizations.index(normalization)]).sum())


def batchnorm_training(data: Mapping | None = None, *,
                       hidden_dims: Sequence[int] = (100, 100, 100), activation: str = "sigmoid",
                       learning_rates: Sequence[float] = (0.003, 0.03, 0.3, 3.0),
                       weight_scales: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0),
                       learning_rate: float = 0.03, target_accuracy: float = 0.9,
                       num_epochs: int = 8, batch_size: int = 50,
                       num_train: int | None = 2000, seed: int = 0) -> BatchnormResult:
    """Train the same net with and without batchnorm; steps to a target accuracy.

    Parameters
    ----------
    data : dict or None
        CS231n-style splits; None uses the default data.
    hidden_dims : sequence of int
        The paper's three hidden layers of 100 units.
    activation : str
        The paper's sigmoid; any name FullyConnectedNet accepts.
    learning_rates : sequence of float
        For the learning-rate grid (SGD with momentum, Xavier weights).
    weight_scales : sequence of float
        Initial weight standard deviations for the initialisation grid.
    learning_rate : float
        Of the initialisation grid.
    target_accuracy : float
        Training accuracy to reach.
    num_epochs, batch_size : int
    num_train : int or None
    seed : int

    Returns
    -------
    BatchnormResult
    """
    rates = np.array(positive_numbers("learning_rates", learning_rates))
    scales = np.array(positive_numbers("weight_scales", weight_scales))
    (learning_rate,) = positive_numbers("learning_rate", (learning_rate,))
    target_accuracy = fraction("target_accuracy", target_accuracy)
    num_epochs = positive_int("num_epochs", num_epochs)
    batch_size = positive_int("batch_size", batch_size)
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    prepared = prepare(data, num_train=num_train, seed=seed)
    normalizations = (None, "batchnorm")
    steps = None

    def run(normalization, weight_init, rate):
        nonlocal steps
        model = FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                                  num_classes=prepared["num_classes"], activation=activation,
                                  weight_init=weight_init, normalization=normalization,
                                  seed=seed)
        solver = train(model, prepared, learning_rate=rate, num_epochs=num_epochs,
                       batch_size=batch_size, seed=seed)
        per_epoch = max(len(prepared["y_train"]) // batch_size, 1)
        steps = check_epochs(solver) * per_epoch
        accuracy = np.asarray(solver.train_acc_history)
        return accuracy, first_crossing(steps, accuracy, target_accuracy)

    rate_runs = [[run(n, "xavier", r) for r in rates] for n in normalizations]
    scale_runs = [[run(n, float(s), learning_rate) for s in scales] for n in normalizations]
    plain_steps = np.array([s for _, s in rate_runs[0]])
    distribution_rate = (float(rates[np.nanargmin(plain_steps)])
                         if np.isfinite(plain_steps).any() else learning_rate)
    if activation == "sigmoid":
        percentiles = np.array([
            _unit_input_percentiles(
                FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                                  num_classes=prepared["num_classes"], activation=activation,
                                  weight_init="xavier", normalization=n, seed=seed),
                prepared, learning_rate=distribution_rate, num_epochs=num_epochs,
                batch_size=batch_size, seed=seed)
            for n in normalizations])
    else:
        percentiles = np.empty((2, 0, len(PERCENTILES)))
    return BatchnormResult(
        normalizations=normalizations, learning_rates=rates,
        rate_accuracy=np.array([[a for a, _ in row] for row in rate_runs]),
        rate_steps=np.array([[s for _, s in row] for row in rate_runs]),
        weight_scales=scales,
        scale_accuracy=np.array([[a for a, _ in row] for row in scale_runs]),
        scale_steps=np.array([[s for _, s in row] for row in scale_runs]),
        learning_rate=float(learning_rate), unit_percentiles=percentiles,
        distribution_rate=distribution_rate,
        target_accuracy=target_accuracy, steps=steps,
        activation=activation, hidden_dims=hidden_dims, num_epochs=num_epochs,
        batch_size=batch_size, seed=int(seed))


def _unit_input_percentiles(model, data: Mapping, *, learning_rate: float, num_epochs: int,
                            batch_size: int, seed: int) -> np.ndarray:
    """Percentiles of one sigmoid's input over the validation set, before and after each epoch.

    Returns
    -------
    ndarray, (num_epochs + 1, len(PERCENTILES))
    """
    solver = Solver(model, {k: data[k] for k in ("X_train", "y_train", "X_val", "y_val")},
                    update_rule="sgd_momentum", optim_config={"learning_rate": learning_rate},
                    batch_size=batch_size, num_epochs=1, verbose=False, num_train_samples=None,
                    seed=seed, restore_best=False)

    def measure():
        # A training-mode pass (batch statistics, as the sigmoid sees them while
        # learning); it would move batchnorm's running averages, so they are put back.
        saved = [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in p.items()}
                 for p in model.bn_params]
        model.record_activations = True
        try:
            model.loss(data["X_val"], data["y_val"])
            output = model.activations[-1][:, 0]
        finally:
            model.record_activations = False
            for param, kept in zip(model.bn_params, saved, strict=True):
                param.clear()
                param.update(kept)
        # The sigmoid is one to one, so the input's percentiles are the logit of
        # the output's; the clip keeps a fully saturated unit finite.
        p = np.clip(np.percentile(output, PERCENTILES), 1e-12, 1 - 1e-12)
        return np.log(p / (1 - p))

    rows = [measure()]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for _ in range(num_epochs):
            solver.train()  # one more epoch: the Solver keeps its state between calls
            rows.append(measure())
    return np.array(rows)
