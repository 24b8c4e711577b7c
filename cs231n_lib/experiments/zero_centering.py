"""Claim 6: zero-centred data trains faster (lecture 6).

When every input of a unit is positive, the gradients on all of its weights
share one sign (the sign of the upstream gradient), so a step can only move
all the weights up or all down together and reaching a mixed-sign solution
takes zig-zag steps. Subtracting the mean training image removes that.

Here the same net is trained on the same data twice: centred with the mean
training image, and raw (all pixels >= 0). Both are divided by the same one
number, so only the centring differs. For each, a grid of learning rates;
the count is the epochs to a training accuracy.
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

__all__ = ["ZeroCenteringResult", "zero_centering"]


@dataclass(frozen=True)
class ZeroCenteringResult:
    """Training on centred and on raw data over a grid of learning rates.

    Attributes
    ----------
    conditions : tuple of str
        ``('centred', 'raw')``.
    input_mean : ndarray, (2,)
        Mean of the training inputs as the net sees them.
    learning_rates : ndarray, (n_rates,)
    accuracy : ndarray, (2, n_rates, n_checks)
        Training accuracy per check.
    epochs : ndarray, (n_checks,)
    epochs_to_target : ndarray, (2, n_rates)
        nan when a run did not reach the target.
    target_accuracy : float
    activation : str
    hidden_dims : tuple of int
    num_epochs, batch_size, seed : int
    """

    conditions: tuple[str, ...]
    input_mean: np.ndarray
    learning_rates: np.ndarray
    accuracy: np.ndarray
    epochs: np.ndarray
    epochs_to_target: np.ndarray
    target_accuracy: float
    activation: str
    hidden_dims: tuple[int, ...]
    num_epochs: int
    batch_size: int
    seed: int

    def fastest(self, condition: str) -> float:
        """Fewest epochs to the target over the grid (nan if never)."""
        row = self.epochs_to_target[self.conditions.index(condition)]
        return float(np.nanmin(row)) if np.isfinite(row).any() else math.nan

    @property
    def ratio(self) -> float:
        """Fastest raw run's epochs divided by fastest centred run's epochs."""
        return self.fastest("raw") / self.fastest("centred")

    @property
    def faster_at(self) -> int:
        """Learning rates at which the centred run reached the target first (or alone)."""
        centred, raw = self.epochs_to_target
        centred = np.where(np.isfinite(centred), centred, np.inf)
        raw = np.where(np.isfinite(raw), raw, np.inf)
        return int(np.sum((centred < raw) & np.isfinite(centred)))


def zero_centering(data: Mapping | None = None, *, hidden_dims: Sequence[int] = (100,),
                   activation: str = "tanh",
                   learning_rates: Sequence[float] = (0.001, 0.003, 0.01, 0.03, 0.1),
                   target_accuracy: float = 0.95, num_epochs: int = 6, batch_size: int = 50,
                   num_train: int | None = 2000, seed: int = 0) -> ZeroCenteringResult:
    """Train the same net on centred and on raw inputs; epochs to a training accuracy.

    Parameters
    ----------
    data : dict or None
        CS231n-style splits, *not* mean-subtracted (raw pixels); None loads
        the default data raw.
    hidden_dims : sequence of int
    activation : str
        tanh by default: zero-centred itself, so the data is the only
        off-centre thing.
    learning_rates : sequence of float
        SGD with momentum; Xavier weights.
    target_accuracy : float
    num_epochs, batch_size : int
    num_train : int or None
    seed : int

    Returns
    -------
    ZeroCenteringResult
    """
    rates = np.array(positive_numbers("learning_rates", learning_rates))
    target_accuracy = fraction("target_accuracy", target_accuracy)
    num_epochs = positive_int("num_epochs", num_epochs)
    batch_size = positive_int("batch_size", batch_size)
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    conditions = ("centred", "raw")
    means, accuracy, crossings, epochs = [], [], [], None
    for condition in conditions:
        prepared = prepare(data, center=condition == "centred", num_train=num_train, seed=seed)
        means.append(float(prepared["X_train"].mean()))
        row, row_crossings = [], []
        for rate in rates:
            model = FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                                      num_classes=prepared["num_classes"],
                                      activation=activation, weight_init="xavier", seed=seed)
            solver = train(model, prepared, learning_rate=rate, num_epochs=num_epochs,
                           batch_size=batch_size, seed=seed)
            epochs = check_epochs(solver)
            acc = np.asarray(solver.train_acc_history)
            row.append(acc)
            row_crossings.append(first_crossing(epochs, acc, target_accuracy))
        accuracy.append(row)
        crossings.append(row_crossings)
    return ZeroCenteringResult(conditions=conditions, input_mean=np.array(means),
                               learning_rates=rates, accuracy=np.array(accuracy),
                               epochs=epochs, epochs_to_target=np.array(crossings),
                               target_accuracy=target_accuracy, activation=activation,
                               hidden_dims=hidden_dims, num_epochs=num_epochs,
                               batch_size=batch_size, seed=int(seed))
