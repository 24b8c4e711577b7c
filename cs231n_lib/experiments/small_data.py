"""Claim 7: check the model on a little data before training on a lot (lecture 6).

Two sanity checks, measured with :mod:`cs231n_lib.sanity`:

- overfit ~50 training examples with regularisation off: the training
  accuracy climbs to 100% (and validation accuracy stays low: memorising is
  not learning);
- the initial softmax loss of a net with small random weights is about
  ``log(C)`` for C classes. Measured for several C (the data restricted to
  its first C classes), next to a net with large weights, whose initial loss
  is far from ``log(C)``: the kind of number the check is there to catch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.experiments._common import input_dim, positive_int, prepare
from cs231n_lib.models import FullyConnectedNet
from cs231n_lib.sanity import initial_loss_check, overfit_small_data

__all__ = ["SmallDataResult", "small_data_checks"]


@dataclass(frozen=True)
class SmallDataResult:
    """Overfitting a small set, and initial losses against log(C).

    Attributes
    ----------
    num_examples : int
        Size of the small training set.
    train_acc_history, val_acc_history : ndarray, (n_checks,)
        Accuracy after the first step and after every epoch.
    epochs_to_perfect : int or None
        First epoch at 100% training accuracy.
    num_classes : ndarray, (n_counts,)
        The C of each initial-loss measurement.
    initial_loss : ndarray, (n_counts,)
        Softmax loss before training, weights 0.01 * randn.
    initial_loss_large : ndarray, (n_counts,)
        The same with weights ``large_scale * randn``.
    large_scale : float
    hidden_dims : tuple of int
    seed : int
    """

    num_examples: int
    train_acc_history: np.ndarray
    val_acc_history: np.ndarray
    epochs_to_perfect: int | None
    num_classes: np.ndarray
    initial_loss: np.ndarray
    initial_loss_large: np.ndarray
    large_scale: float
    hidden_dims: tuple[int, ...]
    seed: int

    @property
    def log_c(self) -> np.ndarray:
        """``log(C)`` for each measured C."""
        return np.log(self.num_classes)

    @property
    def max_relative_deviation(self) -> float:
        """Largest ``|loss - log C| / log C`` of the small-weight nets."""
        return float(np.max(np.abs(self.initial_loss - self.log_c) / self.log_c))


def small_data_checks(data: Mapping | None = None, *, num_examples: int = 50,
                      hidden_dims: Sequence[int] = (100, 100), num_epochs: int = 30,
                      class_counts: Sequence[int] = (2, 3, 5, 7, 10),
                      large_scale: float = 0.3, num_loss_examples: int = 500,
                      seed: int = 0) -> SmallDataResult:
    """Overfit a small set; measure the initial loss against log(C).

    Parameters
    ----------
    data : dict or None
        CS231n-style splits; None uses the default data.
    num_examples : int
        Examples to memorise.
    hidden_dims : sequence of int
        A ReLU FullyConnectedNet, regularisation off.
    num_epochs : int
        Epochs of the overfitting run (batches of 25, SGD with momentum).
    class_counts : sequence of int
        Each C for the initial loss; at most the data's number of classes.
    large_scale : float
        Weight standard deviation of the contrasting nets.
    num_loss_examples : int
        Examples averaged in each initial loss.
    seed : int

    Returns
    -------
    SmallDataResult
    """
    num_examples = positive_int("num_examples", num_examples)
    num_epochs = positive_int("num_epochs", num_epochs)
    num_loss_examples = positive_int("num_loss_examples", num_loss_examples)
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    prepared = prepare(data, seed=seed)
    available = prepared["num_classes"]
    counts = [int(c) for c in class_counts]
    if not counts or any(not 2 <= c <= available for c in counts):
        raise ValueError(f"class_counts must be numbers of classes from 2 to the data's "
                         f"{available}; got {tuple(class_counts)!r}.")

    def net(num_classes, weight_init):
        return FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                                 num_classes=num_classes, weight_init=weight_init, reg=0.0,
                                 seed=seed)

    overfit = overfit_small_data(lambda: net(available, "he"), prepared, num_examples,
                                 num_epochs=num_epochs, seed=seed)

    small, large = [], []
    for c in counts:
        keep = np.flatnonzero(prepared["y_train"] < c)[:num_loss_examples]
        X, y = prepared["X_train"][keep], prepared["y_train"][keep]
        small.append(initial_loss_check(net(c, "small"), X, y, c).loss)
        with np.errstate(over="ignore"):
            large.append(initial_loss_check(net(c, float(large_scale)), X, y, c).loss)
    return SmallDataResult(num_examples=num_examples,
                           train_acc_history=np.array(overfit.train_acc_history),
                           val_acc_history=np.array(overfit.val_acc_history),
                           epochs_to_perfect=overfit.epochs_to_perfect,
                           num_classes=np.array(counts), initial_loss=np.array(small),
                           initial_loss_large=np.array(large), large_scale=float(large_scale),
                           hidden_dims=hidden_dims, seed=int(seed))
