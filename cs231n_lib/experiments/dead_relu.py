"""Claim 4: dead ReLUs (lecture 6).

A ReLU unit whose input is negative for every example outputs 0 and passes
back no gradient, so its weights stop changing: it is dead. Two ways to kill
units, each measured against a healthy run of the same net:

- one gradient step with a far too large learning rate (it throws weights
  and biases far into the negative region);
- a negative initial bias.

After the event the net is trained normally; the dead share is measured on
the whole training set right after the event and again after training.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.experiments._common import (
    input_dim,
    positive_int,
    positive_numbers,
    prepare,
    train,
)
from cs231n_lib.models import FullyConnectedNet
from cs231n_lib.optim import sgd

__all__ = ["DeadReluResult", "dead_relus", "dead_fraction"]


def dead_fraction(model: FullyConnectedNet, X: np.ndarray) -> np.ndarray:
    """Share of each hidden layer's units that output 0 on every row of ``X``.

    Parameters
    ----------
    model : FullyConnectedNet
        With ReLU units.
    X : ndarray, (N, d_1, ..., d_k)

    Returns
    -------
    ndarray, (num_layers - 1,)
    """
    recording = model.record_activations
    model.record_activations = True
    try:
        model.loss(X)
        layers = list(model.activations)
    finally:
        model.record_activations = recording
    return np.array([np.mean(np.all(h <= 0, axis=0)) for h in layers])


@dataclass(frozen=True)
class DeadReluResult:
    """Dead units after a large step or a negative bias, and in a healthy run.

    Dead shares are per hidden layer: arrays end in ``(num_hidden_layers,)``.

    Attributes
    ----------
    healthy_dead : ndarray, (n_layers,)
        After normal training from a normal start.
    healthy_accuracy : float
        Its final training accuracy.
    step_sizes : ndarray, (n_steps,)
        Learning rates of the one large step.
    step_dead_before, step_dead_after : ndarray, (n_steps, n_layers)
        Right after the large step; after the normal training that follows.
    step_accuracy : ndarray, (n_steps,)
        Final training accuracy.
    biases : ndarray, (n_biases,)
        Initial value of every hidden bias.
    bias_dead_before, bias_dead_after : ndarray, (n_biases, n_layers)
    bias_accuracy : ndarray, (n_biases,)
    learning_rate : float
        Of the normal training.
    num_epochs, seed : int
    hidden_dims : tuple of int
    """

    healthy_dead: np.ndarray
    healthy_accuracy: float
    step_sizes: np.ndarray
    step_dead_before: np.ndarray
    step_dead_after: np.ndarray
    step_accuracy: np.ndarray
    biases: np.ndarray
    bias_dead_before: np.ndarray
    bias_dead_after: np.ndarray
    bias_accuracy: np.ndarray
    learning_rate: float
    num_epochs: int
    seed: int
    hidden_dims: tuple[int, ...]

    @staticmethod
    def overall(dead: np.ndarray, hidden_dims: Sequence[int]) -> np.ndarray:
        """Share of all hidden units that are dead, from per-layer shares ``(..., n_layers)``."""
        sizes = np.asarray(hidden_dims, dtype=np.float64)
        return np.asarray(dead) @ sizes / sizes.sum()


def dead_relus(data: Mapping | None = None, *, hidden_dims: Sequence[int] = (100, 100),
               step_sizes: Sequence[float] = (1.0, 3.0, 10.0, 30.0),
               biases: Sequence[float] = (-0.5, -1.0, -2.0, -3.0),
               learning_rate: float = 0.01, num_epochs: int = 3, batch_size: int = 50,
               num_train: int | None = 2000, seed: int = 0) -> DeadReluResult:
    """Measure dead ReLU units after a bad step or a bad bias, and in a healthy run.

    Parameters
    ----------
    data : dict or None
        CS231n-style splits; None uses the default data.
    hidden_dims : sequence of int
        Hidden layers of a ReLU FullyConnectedNet with He weights.
    step_sizes : sequence of float
        Learning rates of the single large SGD step, taken on the first
        ``batch_size`` training examples before normal training.
    biases : sequence of float
        Negative starting values for every hidden bias (the ``-`` is yours to
        give: ``-2.0``).
    learning_rate : float
        Of the normal training that follows (SGD with momentum).
    num_epochs, batch_size : int
    num_train : int or None
        Training examples kept.
    seed : int

    Returns
    -------
    DeadReluResult
    """
    step_sizes = np.array(positive_numbers("step_sizes", step_sizes))
    biases = np.array([float(b) for b in biases])
    if biases.size == 0:
        raise ValueError("biases must hold at least one starting bias, e.g. (-2.0,).")
    (learning_rate,) = positive_numbers("learning_rate", (learning_rate,))
    num_epochs = positive_int("num_epochs", num_epochs)
    batch_size = positive_int("batch_size", batch_size)
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    if not hidden_dims:
        raise ValueError("hidden_dims must name at least one hidden layer: a net without "
                         "ReLU units has none to die.")
    prepared = prepare(data, num_train=num_train, seed=seed)
    X = prepared["X_train"]

    def fresh():
        return FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                                 num_classes=prepared["num_classes"], activation="relu",
                                 weight_init="he", seed=seed)

    def finish(model):
        solver = train(model, prepared, learning_rate=learning_rate, num_epochs=num_epochs,
                       batch_size=batch_size, seed=seed)
        return dead_fraction(model, X), solver.train_acc_history[-1]

    healthy_dead, healthy_accuracy = finish(fresh())

    step_before, step_after, step_accuracy = [], [], []
    for size in step_sizes:
        model = fresh()
        _, grads = model.loss(X[:batch_size], prepared["y_train"][:batch_size])
        for name in model.params:
            model.params[name], _ = sgd(model.params[name], grads[name],
                                        {"learning_rate": float(size)})
        step_before.append(dead_fraction(model, X))
        dead, accuracy = finish(model)
        step_after.append(dead)
        step_accuracy.append(accuracy)

    bias_before, bias_after, bias_accuracy = [], [], []
    for bias in biases:
        model = fresh()
        for i in range(1, len(hidden_dims) + 1):
            model.params[f"b{i}"] = np.full_like(model.params[f"b{i}"], bias)
        bias_before.append(dead_fraction(model, X))
        dead, accuracy = finish(model)
        bias_after.append(dead)
        bias_accuracy.append(accuracy)

    return DeadReluResult(healthy_dead=healthy_dead, healthy_accuracy=float(healthy_accuracy),
                          step_sizes=step_sizes, step_dead_before=np.array(step_before),
                          step_dead_after=np.array(step_after),
                          step_accuracy=np.array(step_accuracy), biases=biases,
                          bias_dead_before=np.array(bias_before),
                          bias_dead_after=np.array(bias_after),
                          bias_accuracy=np.array(bias_accuracy),
                          learning_rate=float(learning_rate), num_epochs=num_epochs,
                          seed=int(seed), hidden_dims=hidden_dims)
