"""The two sanity checks to run before training on a lot of data (lecture 6).

1. **Initial loss.** With small random weights every class gets about the
   same score, so the softmax gives each of the C classes probability about
   1/C and the loss is about ``-log(1/C) = log(C)`` (2.303 for 10 classes).
   A loss far from that means a bug in the loss, the initialisation or the
   data. Check it with regularisation off: the penalty adds to the loss.
2. **Overfit a small set.** A correct model and training loop, with
   regularisation off, can memorise ~50 examples: training accuracy reaches
   100%. If it cannot, something is broken before any tuning matters.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from cs231n_lib.checks import require_array
from cs231n_lib.solver import Solver

__all__ = ["InitialLossResult", "initial_loss_check", "OverfitResult", "overfit_small_data"]


@dataclass(frozen=True)
class InitialLossResult:
    """Outcome of :func:`initial_loss_check`.

    Attributes
    ----------
    loss : float
        The model's loss on the given examples, before any training.
    expected : float
        ``log(num_classes)``.
    num_classes : int
    relative_deviation : float
        ``|loss - expected| / expected``.
    tolerance : float
        The check passes when ``relative_deviation <= tolerance``.
    """

    loss: float
    expected: float
    num_classes: int
    relative_deviation: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.relative_deviation <= self.tolerance)

    def __str__(self) -> str:
        verdict = "pass" if self.passed else "FAIL"
        return (f"initial loss {self.loss:.4f}, log({self.num_classes}) = {self.expected:.4f}: "
                f"{100 * self.relative_deviation:.1f}% off "
                f"(tolerance {100 * self.tolerance:.0f}%): {verdict}")


def initial_loss_check(model, X, y, num_classes: int, tolerance: float = 0.05
                       ) -> InitialLossResult:
    """Compare an untrained model's softmax loss with ``log(num_classes)``.

    Parameters
    ----------
    model : object
        Has ``loss(X, y) -> (loss, grads)`` (CS231n's convention); untrained,
        ideally with ``reg = 0``.
    X : ndarray, (N, ...)
        Inputs in the model's layout; a few hundred examples average out the
        noise of any single one.
    y : ndarray of int, (N,)
        Labels in ``[0, num_classes)``.
    num_classes : int
        C, at least 2.
    tolerance : float
        Largest relative deviation from ``log(C)`` that passes (5%).

    Returns
    -------
    InitialLossResult
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 2:
        raise ValueError(f"num_classes must be a whole number >= 2; got {num_classes!r}.")
    if not np.isscalar(tolerance) or not tolerance > 0:
        raise ValueError(f"tolerance must be a positive number such as 0.05; got {tolerance!r}.")
    X = require_array("X", X)
    loss, _ = model.loss(X, y)
    loss = float(loss)
    expected = math.log(num_classes)
    return InitialLossResult(loss=loss, expected=expected, num_classes=int(num_classes),
                             relative_deviation=abs(loss - expected) / expected,
                             tolerance=float(tolerance))


@dataclass(frozen=True)
class OverfitResult:
    """Outcome of :func:`overfit_small_data`.

    Attributes
    ----------
    num_examples : int
        Size of the small training set.
    train_acc_history : list of float
        Training accuracy on all of the small set, after the first step and
        after every epoch.
    val_acc_history : list of float
        Validation accuracy at the same points (it should stay low: the
        model memorises, it does not generalise).
    loss_history : list of float
        Minibatch loss of every step.
    epochs_to_perfect : int or None
        First epoch after which training accuracy was 100% (0 means after
        the first step), None if it never was.
    epochs : list of int
        The epoch of each entry of the accuracy histories (0 is after the
        first step; it is missing when an epoch is a single step).
    """

    num_examples: int
    train_acc_history: list[float]
    val_acc_history: list[float]
    loss_history: list[float] = field(repr=False)
    epochs_to_perfect: int | None
    epochs: list[int] = field(repr=False, default_factory=list)

    @property
    def final_train_acc(self) -> float:
        return self.train_acc_history[-1]

    @property
    def passed(self) -> bool:
        """True when training accuracy ended at 100%."""
        return self.final_train_acc == 1.0

    def __str__(self) -> str:
        verdict = "pass" if self.passed else "FAIL"
        when = (f"reached 100% after epoch {self.epochs_to_perfect}"
                if self.epochs_to_perfect is not None else "never reached 100%")
        return (f"overfit {self.num_examples} examples: training accuracy "
                f"{100 * self.final_train_acc:.0f}% ({when}; "
                f"validation {100 * self.val_acc_history[-1]:.0f}%): {verdict}")


def overfit_small_data(model_factory: Callable[[], object], data: Mapping,
                       num_examples: int = 50, *, num_epochs: int = 20, batch_size: int = 25,
                       update_rule="sgd_momentum", optim_config: Mapping | None = None,
                       seed: int | None = 0, verbose: bool = False) -> OverfitResult:
    """Train a fresh model on the first ``num_examples`` training examples.

    Parameters
    ----------
    model_factory : callable
        ``model_factory()`` returns a new, untrained model (``params`` and
        ``loss``) with regularisation off.
    data : dict
        ``X_train``, ``y_train``, and optionally ``X_val``, ``y_val`` (used
        only to show that memorising does not generalise; the small set
        itself stands in when they are missing).
    num_examples : int
        How many training examples to memorise (~50).
    num_epochs, batch_size, update_rule, optim_config, seed, verbose
        Passed to :class:`~cs231n_lib.solver.Solver`; the default
        ``optim_config`` is ``{'learning_rate': 0.05, 'momentum': 0.9}``.

    Returns
    -------
    OverfitResult
        ``result.passed`` is True when training accuracy ended at 100%.
    """
    for key in ("X_train", "y_train"):
        if key not in data:
            raise KeyError(f"data is missing {key}; give at least X_train and y_train.")
    available = len(data["X_train"])
    if isinstance(num_examples, bool) or not isinstance(num_examples, (int, np.integer)) \
            or not 1 <= num_examples <= available:
        raise ValueError(f"num_examples must be a whole number from 1 to the {available} "
                         f"training examples available; got {num_examples!r}.")
    X_small = data["X_train"][:num_examples]
    y_small = data["y_train"][:num_examples]
    small = {"X_train": X_small, "y_train": y_small,
             "X_val": data.get("X_val", X_small), "y_val": data.get("y_val", y_small)}
    if optim_config is None:
        optim_config = {"learning_rate": 0.05, "momentum": 0.9}

    solver = Solver(model_factory(), small, update_rule=update_rule,
                    optim_config=optim_config, batch_size=min(batch_size, num_examples),
                    num_epochs=num_epochs, num_train_samples=None, verbose=verbose,
                    seed=seed, restore_best=False)
    solver.train()

    # With one step per epoch the first check is also the end of epoch 1.
    first_epoch = 1 if len(solver.train_acc_history) == num_epochs else 0
    epochs = [first_epoch + i for i in range(len(solver.train_acc_history))]
    perfect = [e for e, acc in zip(epochs, solver.train_acc_history, strict=True) if acc == 1.0]
    return OverfitResult(num_examples=int(num_examples),
                         train_acc_history=list(solver.train_acc_history),
                         val_acc_history=list(solver.val_acc_history),
                         loss_history=list(solver.loss_history),
                         epochs_to_perfect=perfect[0] if perfect else None,
                         epochs=epochs)
