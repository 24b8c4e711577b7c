"""Claim 10: an update-to-weight ratio of about 1e-3 goes with a good learning rate.

The lecture's rule of thumb: watch ``||update|| / ||W||`` per layer; around
``1e-3`` is healthy, far above means the rate is too high, far below too
low. Here one ReLU net is trained from the same initial weights at a range
of learning rates (SGD with momentum). Every step records, per weight
matrix, the ratio of the step actually taken to the weights before it
(:func:`cs231n_lib.babysit.update_ratios`). The speed of each run is the
number of steps until the training accuracy first reaches a target, and the
result names the rate at which that was fastest, next to its ratio.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.babysit import learning_rate_verdict, update_ratios
from cs231n_lib.experiments._common import (
    first_crossing,
    fraction,
    input_dim,
    positive_int,
    positive_numbers,
    prepare,
)
from cs231n_lib.models import FullyConnectedNet
from cs231n_lib.optim import sgd_momentum

__all__ = ["UpdateRatioResult", "update_ratio_sweep", "train_watching_ratios"]


@dataclass(frozen=True)
class UpdateRatioResult:
    """Per-layer update-to-weight ratios and speed of training across learning rates.

    Attributes
    ----------
    learning_rates : ndarray, (n_rates,)
    layers : tuple of str
        The weight matrices watched, ``('W1', ..., 'WL')``.
    ratio : ndarray, (n_rates, n_layers)
        Median over the run's steps of each layer's ratio (nan once the run
        has diverged).
    ratio_history : ndarray, (n_rates, n_steps, n_layers)
        Every step's ratios.
    loss_history : ndarray, (n_rates, n_steps)
    check_steps : ndarray, (n_checks,)
        Steps after which the training accuracy was measured.
    train_accuracy : ndarray, (n_rates, n_checks)
    steps_to_target : ndarray, (n_rates,)
        Interpolated steps to ``target_accuracy``; nan when the run did not
        reach it or did not stay there (its last check is below it: a rate
        that reaches the target fast and then blows up is not a fast rate).
    verdicts : tuple of str
        :func:`cs231n_lib.babysit.learning_rate_verdict` of each loss curve.
    target_accuracy : float
    hidden_dims : tuple of int
    batch_size, seed : int
    """

    learning_rates: np.ndarray
    layers: tuple[str, ...]
    ratio: np.ndarray
    ratio_history: np.ndarray
    loss_history: np.ndarray
    check_steps: np.ndarray
    train_accuracy: np.ndarray
    steps_to_target: np.ndarray
    verdicts: tuple[str, ...]
    target_accuracy: float
    hidden_dims: tuple[int, ...]
    batch_size: int
    seed: int

    @property
    def fastest(self) -> int:
        """Index of the rate that reached the target in the fewest steps (-1: none did)."""
        steps = np.where(np.isnan(self.steps_to_target), np.inf, self.steps_to_target)
        return int(np.argmin(steps)) if np.isfinite(steps.min()) else -1

    def mean_ratio(self) -> np.ndarray:
        """(n_rates,) geometric mean over layers of the median ratios."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.exp(np.mean(np.log(self.ratio), axis=1))


def train_watching_ratios(model, data: Mapping, *, learning_rate: float, num_steps: int,
                          batch_size: int = 50, check_every: int = 5, seed: int = 0) -> dict:
    """SGD with momentum on ``model``, recording each step's update-to-weight ratios.

    Returns
    -------
    dict
        ``layers`` (tuple of str), ``ratios: (num_steps, n_layers)``,
        ``loss: (num_steps,)``, ``check_steps``, ``train_accuracy`` (one per
        check, the whole training split). A run whose loss stops being
        finite stops there; the rest is nan.
    """
    rng = np.random.default_rng(seed)
    X, y = data["X_train"], data["y_train"]
    layers = tuple(name for name in model.params if name.startswith("W"))
    ratios = np.full((num_steps, len(layers)), np.nan)
    losses = np.full(num_steps, np.nan)
    checks, accuracy = [], []
    configs = {name: {"learning_rate": float(learning_rate)} for name in model.params}
    for step in range(num_steps):
        batch = rng.choice(len(y), batch_size, replace=False)
        loss, grads = model.loss(X[batch], y[batch])
        losses[step] = loss
        if not np.isfinite(loss):
            break
        before = {name: model.params[name] for name in layers}
        for name, w in model.params.items():
            model.params[name], configs[name] = sgd_momentum(w, grads[name], configs[name])
        step_ratios = update_ratios(before, model.params, layers)
        ratios[step] = [step_ratios[name] for name in layers]
        if (step + 1) % check_every == 0:
            checks.append(step + 1)
            accuracy.append(float(np.mean(model.loss(X).argmax(axis=1) == y)))
    missing = num_steps // check_every - len(checks)
    checks += [check_every * (len(checks) + k + 1) for k in range(missing)]
    accuracy += [np.nan] * missing
    return {"layers": layers, "ratios": ratios, "loss": losses,
            "check_steps": np.array(checks, dtype=np.float64), "train_accuracy":
            np.array(accuracy)}


def update_ratio_sweep(data: Mapping | None = None, *,
                       learning_rates: Sequence[float] = tuple(np.geomspace(1e-4, 1.0, 13)),
                       hidden_dims: Sequence[int] = (100, 100), num_steps: int = 200,
                       batch_size: int = 50, check_every: int = 5,
                       target_accuracy: float = 0.9, num_train: int = 1000,
                       seed: int = 0) -> UpdateRatioResult:
    """Train one net from the same start at each learning rate; watch the ratios.

    Parameters
    ----------
    data : dict or None
        CS231n-style splits; None uses the default data.
    learning_rates : sequence of float
        For SGD with momentum 0.9.
    hidden_dims : sequence of int
        ReLU net, He initialisation, no regularisation.
    num_steps, batch_size, check_every : int
        Steps per run; minibatch size; steps between accuracy checks.
    target_accuracy : float
        Training accuracy that counts as trained.
    num_train : int
        Training examples.
    seed : int

    Returns
    -------
    UpdateRatioResult
    """
    rates = positive_numbers("learning_rates", learning_rates)
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    num_steps = positive_int("num_steps", num_steps)
    check_every = positive_int("check_every", check_every)
    target_accuracy = fraction("target_accuracy", target_accuracy)
    prepared = prepare(data, num_train=positive_int("num_train", num_train), seed=seed)
    runs = []
    for rate in rates:
        model = FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                                  num_classes=prepared["num_classes"], weight_init="he",
                                  seed=seed)
        # a diverging run overflows on the way to NaN: a measured outcome, not an error
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            runs.append(train_watching_ratios(model, prepared, learning_rate=rate,
                                              num_steps=num_steps, batch_size=batch_size,
                                              check_every=check_every, seed=seed))
    ratio_history = np.stack([run["ratios"] for run in runs])
    diverged = np.array([not np.all(np.isfinite(run["loss"])) for run in runs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a run that diverged at once: all nan
        median = np.nanmedian(ratio_history, axis=1)
    median[diverged] = np.nan
    check_steps = runs[0]["check_steps"]
    accuracy = np.stack([run["train_accuracy"] for run in runs])
    return UpdateRatioResult(
        learning_rates=np.array(rates), layers=runs[0]["layers"], ratio=median,
        ratio_history=ratio_history, loss_history=np.stack([run["loss"] for run in runs]),
        check_steps=check_steps, train_accuracy=accuracy,
        steps_to_target=np.array([first_crossing(check_steps, np.nan_to_num(a, nan=0.0),
                                                 target_accuracy)
                                  if a[-1] >= target_accuracy else np.nan for a in accuracy]),
        verdicts=tuple(learning_rate_verdict(run["loss"]) for run in runs),
        target_accuracy=target_accuracy, hidden_dims=hidden_dims,
        batch_size=int(batch_size), seed=int(seed))
