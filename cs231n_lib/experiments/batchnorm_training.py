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
reaches the target.
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

__all__ = ["BatchnormResult", "batchnorm_training"]


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
    return BatchnormResult(
        normalizations=normalizations, learning_rates=rates,
        rate_accuracy=np.array([[a for a, _ in row] for row in rate_runs]),
        rate_steps=np.array([[s for _, s in row] for row in rate_runs]),
        weight_scales=scales,
        scale_accuracy=np.array([[a for a, _ in row] for row in scale_runs]),
        scale_steps=np.array([[s for _, s in row] for row in scale_runs]),
        learning_rate=float(learning_rate), target_accuracy=target_accuracy, steps=steps,
        activation=activation, hidden_dims=hidden_dims, num_epochs=num_epochs,
        batch_size=batch_size, seed=int(seed))
