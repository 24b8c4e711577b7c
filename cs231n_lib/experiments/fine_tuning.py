"""Claim 9: fine-tuning pretrained weights beats random initialisation on little data.

The notes' "pre-training or fine-tuning" point, at toy scale: a ReLU net is
pretrained on one half of the classes (the first half of the labels, all of
their training examples), then its last layer is replaced by a fresh one for
the other half and the whole net is trained on a *small* set of those
classes. The same net, trained the same way from its random initialisation,
is the baseline: identical last layer, learning rate, minibatches and
budget, so only the starting point of the hidden layers differs.

The count is the gradient steps until the validation accuracy (on the new
classes) first reaches a target, over several seeds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.experiments._common import (
    first_crossing,
    fraction,
    input_dim,
    positive_int,
    prepare,
    train,
)
from cs231n_lib.models import FullyConnectedNet

__all__ = ["FineTuningResult", "fine_tuning", "split_classes"]

CONDITIONS = ("fine-tuned", "random init")


@dataclass(frozen=True)
class FineTuningResult:
    """Validation accuracy on the new classes while training from two starting points.

    Attributes
    ----------
    conditions : tuple of str
        ``('fine-tuned', 'random init')``.
    pretrain_classes, new_classes : tuple of int
        The labels of the two halves.
    pretrain_accuracy : ndarray, (n_seeds,)
        Validation accuracy of each pretrained net on its own classes.
    steps : ndarray, (n_checks,)
        Gradient steps at each check (0: before training).
    val_accuracy : ndarray, (2, n_seeds, n_checks)
        Validation accuracy on the new classes per condition, seed and check.
    steps_to_target : ndarray, (2, n_seeds)
        Interpolated steps to ``target_accuracy``; nan: not reached.
    target_accuracy : float
    num_examples : int
        Training examples of the new classes.
    learning_rate : float
    hidden_dims : tuple of int
    seeds : tuple of int
    """

    conditions: tuple[str, ...]
    pretrain_classes: tuple[int, ...]
    new_classes: tuple[int, ...]
    pretrain_accuracy: np.ndarray
    steps: np.ndarray
    val_accuracy: np.ndarray
    steps_to_target: np.ndarray
    target_accuracy: float
    num_examples: int
    learning_rate: float
    hidden_dims: tuple[int, ...]
    seeds: tuple[int, ...]

    def median_steps(self, condition: str) -> float:
        """Median over seeds of the steps to the target (nan if most never got there)."""
        steps = self.steps_to_target[self.conditions.index(condition)]
        return float(np.median(np.where(np.isnan(steps), np.inf, steps))) \
            if np.mean(np.isnan(steps)) <= 0.5 else float("nan")

    @property
    def speedup(self) -> float:
        """Median steps from random initialisation over median steps fine-tuned.

        inf when the fine-tuned nets were at the target before any step.
        """
        tuned, scratch = self.median_steps("fine-tuned"), self.median_steps("random init")
        return scratch / tuned if tuned > 0 else float("inf")

    @property
    def final_accuracy(self) -> np.ndarray:
        """(2,) mean over seeds of the last check's validation accuracy."""
        return self.val_accuracy[:, :, -1].mean(axis=1)


def split_classes(data: Mapping, classes: Sequence[int], limit: int | None = None) -> dict:
    """The examples of ``classes`` only, relabelled ``0 .. len(classes) - 1``.

    ``limit`` keeps the first this many training examples (validation is kept whole).
    """
    out = {"num_classes": len(classes)}
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        keep = np.flatnonzero(np.isin(y, classes))
        if split == "train" and limit is not None:
            keep = keep[:limit]
        relabel = np.full(int(max(y.max(), max(classes))) + 1, -1)
        relabel[list(classes)] = np.arange(len(classes))
        out[f"X_{split}"], out[f"y_{split}"] = X[keep], relabel[y[keep]]
    return out


def _accuracy(model, data: Mapping) -> float:
    return float(np.mean(model.loss(data["X_val"]).argmax(axis=1) == data["y_val"]))


def _fine_tune_run(prepared, new, *, pretrained, hidden_dims, learning_rate, num_epochs,
                   batch_size, seed) -> list[float]:
    """Validation accuracy before training and after each epoch, from one starting point."""
    model = FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                              num_classes=new["num_classes"], weight_init="he", seed=seed)
    if pretrained is not None:
        # every hidden layer from the pretrained net; the new last layer stays as drawn
        for i in range(1, len(hidden_dims) + 1):
            model.params[f"W{i}"] = pretrained.params[f"W{i}"].copy()
            model.params[f"b{i}"] = pretrained.params[f"b{i}"].copy()
    before = _accuracy(model, new)
    solver = train(model, new, learning_rate=learning_rate, num_epochs=num_epochs,
                   batch_size=batch_size, seed=seed)
    return [before, *solver.val_acc_history[-num_epochs:]]


def fine_tuning(data: Mapping | None = None, *, hidden_dims: Sequence[int] = (100, 100),
                num_examples: int = 50, pretrain_epochs: int = 10, num_epochs: int = 15,
                learning_rate: float = 0.02, batch_size: int = 10,
                target_accuracy: float = 0.8, seeds: Sequence[int] = tuple(range(10))
                ) -> FineTuningResult:
    """Fine-tune a net pretrained on half of the classes against random initialisation.

    Parameters
    ----------
    data : dict or None
        CS231n-style splits; None uses the default data.
    hidden_dims : sequence of int
        The ReLU net (He initialisation).
    num_examples : int
        Training examples of the new classes (little data, as fine-tuning assumes).
    pretrain_epochs : int
        Epochs on every training example of the first half of the classes.
    num_epochs : int
        Epochs on the new classes, for both conditions.
    learning_rate : float
        SGD with momentum, the same for pretraining and both conditions.
    batch_size : int
    target_accuracy : float
        Validation accuracy on the new classes that counts as trained.
    seeds : sequence of int
        Each seed draws new initial weights and minibatches for all three nets.

    Returns
    -------
    FineTuningResult
    """
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    num_epochs = positive_int("num_epochs", num_epochs)
    target_accuracy = fraction("target_accuracy", target_accuracy)
    prepared = prepare(data, seed=0)
    half = prepared["num_classes"] // 2
    old_classes = tuple(range(half))
    new_classes = tuple(range(half, prepared["num_classes"]))
    old = split_classes(prepared, old_classes)
    new = split_classes(prepared, new_classes, positive_int("num_examples", num_examples))

    pretrain_acc, curves = [], np.zeros((2, len(seeds), num_epochs + 1))
    for s, seed in enumerate(seeds):
        base = FullyConnectedNet(hidden_dims, input_dim=input_dim(prepared),
                                 num_classes=len(old_classes), weight_init="he",
                                 seed=1000 + seed)
        train(base, old, learning_rate=learning_rate,
              num_epochs=positive_int("pretrain_epochs", pretrain_epochs),
              batch_size=batch_size, seed=seed)
        pretrain_acc.append(_accuracy(base, old))
        for c, pretrained in enumerate((base, None)):
            curves[c, s] = _fine_tune_run(prepared, new, pretrained=pretrained,
                                          hidden_dims=hidden_dims,
                                          learning_rate=learning_rate, num_epochs=num_epochs,
                                          batch_size=batch_size, seed=seed)
    steps_per_epoch = max(len(new["y_train"]) // batch_size, 1)
    steps = np.arange(num_epochs + 1) * steps_per_epoch
    to_target = np.array([[first_crossing(steps, curve, target_accuracy) for curve in runs]
                          for runs in curves])
    return FineTuningResult(conditions=CONDITIONS, pretrain_classes=old_classes,
                            new_classes=new_classes, pretrain_accuracy=np.array(pretrain_acc),
                            steps=steps.astype(np.float64), val_accuracy=curves,
                            steps_to_target=to_target, target_accuracy=target_accuracy,
                            num_examples=len(new["y_train"]),
                            learning_rate=float(learning_rate), hidden_dims=hidden_dims,
                            seeds=tuple(int(s) for s in seeds))
