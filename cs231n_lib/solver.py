"""Minibatch training of a classification model, with CS231n's ``Solver`` API.

A model is anything with

- ``model.params``: a dict from parameter names to arrays, and
- ``model.loss(X, y=None)``: the class scores ``(N, C)`` when ``y`` is None;
  ``(loss, grads)`` otherwise, ``grads`` keyed like ``params``.

Typical use::

    solver = Solver(model, data, update_rule="sgd_momentum",
                    optim_config={"learning_rate": 1e-2}, lr_decay=0.95,
                    batch_size=100, num_epochs=10, seed=0)
    solver.train()
    solver.loss_history, solver.train_acc_history, solver.val_acc_history

After ``train()`` the model holds the parameters that scored best on the
validation set. Training is deterministic given ``seed`` and the model's own
initial parameters: the solver draws minibatches and accuracy subsamples from
its own ``np.random.Generator`` and never touches numpy's global state.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import numpy as np
from tqdm.auto import tqdm

from cs231n_lib.checks import require_array
from cs231n_lib.optim import UPDATE_RULES

__all__ = ["Solver", "load_checkpoint"]

_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")


class Solver:
    """Train a model with minibatch gradient descent and keep its history.

    Parameters
    ----------
    model : object
        Has ``params`` (dict of arrays) and ``loss(X, y=None)`` (see module
        docstring).
    data : dict
        ``X_train: (N_train, ...)``, ``y_train: (N_train,)``,
        ``X_val: (N_val, ...)``, ``y_val: (N_val,)``; integer labels.
    update_rule : str or callable
        A name from ``cs231n_lib.optim.UPDATE_RULES`` (``'sgd'``,
        ``'sgd_momentum'``) or a function ``(w, dw, config) -> (next_w, config)``.
    optim_config : dict, optional
        Hyperparameters for the update rule (``learning_rate``, ``momentum``).
        Each parameter array gets its own copy, since rules keep per-parameter
        state in it.
    lr_decay : float
        The learning rate is multiplied by this after every epoch.
    batch_size : int
        Examples per gradient step.
    num_epochs : int
        Passes over the training set; an epoch is ``max(N_train // batch_size, 1)``
        steps.
    print_every : int
        How often (in steps) the progress bar's loss is refreshed.
    verbose : bool
        Show a progress bar and one line per accuracy check; False is silent.
    num_train_samples : int or None
        Training examples used to measure training accuracy (None: all).
    num_val_samples : int or None
        Validation examples used to measure validation accuracy (None: all).
    checkpoint_name : str or None
        If given, ``f"{checkpoint_name}_epoch_{epoch}.npz"`` is written after
        every epoch (read back with ``load_checkpoint``).
    seed : int or None
        Seeds the solver's random generator (minibatches, subsamples).
    restore_best : bool
        Put the best-on-validation parameters back into the model at the end
        of ``train()`` (CS231n's behaviour). False leaves the last ones.

    Attributes
    ----------
    loss_history : list of float
        The minibatch loss of every step.
    train_acc_history, val_acc_history : list of float
        Accuracies measured after the first step and after every epoch
        (``num_epochs + 1`` entries when an epoch has more than one step).
    best_val_acc : float
    best_params : dict of ndarray
        Copies of the parameters that reached ``best_val_acc``.
    epoch : int
        Epochs completed.
    """

    def __init__(self, model, data, *, update_rule: str | Callable = "sgd",
                 optim_config: Mapping | None = None, lr_decay: float = 1.0,
                 batch_size: int = 100, num_epochs: int = 10, print_every: int = 10,
                 verbose: bool = True, num_train_samples: int | None = 1000,
                 num_val_samples: int | None = None, checkpoint_name: str | None = None,
                 seed: int | None = 0, restore_best: bool = True):
        _check_model(model)
        self.model = model
        self.X_train, self.y_train, self.X_val, self.y_val = _check_data(data)

        self.update_rule_name, self.update_rule = _resolve_update_rule(update_rule)
        if optim_config is not None and not isinstance(optim_config, Mapping):
            raise TypeError("optim_config must be a dict such as {'learning_rate': 1e-3}; "
                            f"got {type(optim_config).__name__}.")
        self.optim_config = dict(optim_config or {})
        if not np.isscalar(lr_decay) or not 0 < lr_decay <= 1:
            raise ValueError(f"lr_decay must be a number in (0, 1]; got {lr_decay!r}.")
        self.lr_decay = float(lr_decay)
        self.batch_size = _positive_int("batch_size", batch_size)
        self.num_epochs = _positive_int("num_epochs", num_epochs)
        self.print_every = _positive_int("print_every", print_every)
        self.num_train_samples = _optional_positive_int("num_train_samples", num_train_samples)
        self.num_val_samples = _optional_positive_int("num_val_samples", num_val_samples)
        self.verbose = bool(verbose)
        self.checkpoint_name = checkpoint_name
        self.seed = seed
        self.restore_best = bool(restore_best)
        self._reset()

    def _reset(self) -> None:
        """Clear the history; give every parameter its own optimiser config."""
        self.rng = np.random.default_rng(self.seed)
        self.epoch = 0
        self.best_val_acc = -1.0
        self.best_params: dict[str, np.ndarray] = {}
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.optim_configs = {name: _copy_config(self.optim_config)
                              for name in self.model.params}

    def _step(self) -> float:
        """One gradient step on a random minibatch; returns its loss."""
        num_train = self.X_train.shape[0]
        # Without replacement, unless the batch is bigger than the whole set.
        batch = self.rng.choice(num_train, self.batch_size,
                                replace=self.batch_size > num_train)
        loss, grads = self.model.loss(self.X_train[batch], self.y_train[batch])
        loss = float(loss)
        self.loss_history.append(loss)

        missing = set(self.model.params) - set(grads)
        if missing:
            raise KeyError(f"model.loss returned no gradient for {sorted(missing)}; "
                           "grads must have one entry per key of model.params.")
        for name, w in self.model.params.items():
            next_w, config = self.update_rule(w, grads[name], self.optim_configs[name])
            self.model.params[name] = next_w
            self.optim_configs[name] = config
        return loss

    def check_accuracy(self, X, y, num_samples: int | None = None,
                       batch_size: int = 100) -> float:
        """Fraction of examples whose highest score is the true class.

        Parameters
        ----------
        X : ndarray, (N, ...)
            Inputs in the model's layout.
        y : ndarray, (N,)
            Integer labels.
        num_samples : int or None
            If given and smaller than N, measure on that many examples drawn
            (without replacement) from the solver's generator.
        batch_size : int
            Examples per forward pass, to bound memory.

        Returns
        -------
        float in [0, 1]
        """
        X = require_array("X", X)
        y = _check_labels("y", y, X.shape[0])
        batch_size = _positive_int("batch_size", batch_size)
        num_samples = _optional_positive_int("num_samples", num_samples)
        N = X.shape[0]
        if N == 0:
            raise ValueError("check_accuracy needs at least one example; X is empty.")
        if num_samples is not None and N > num_samples:
            keep = self.rng.choice(N, num_samples, replace=False)
            X, y, N = X[keep], y[keep], num_samples

        predictions = []
        for start in range(0, N, batch_size):
            scores = self.model.loss(X[start:start + batch_size])
            predictions.append(np.argmax(scores, axis=1))
        return float(np.mean(np.concatenate(predictions) == y))

    def train(self) -> Solver:
        """Run ``num_epochs`` epochs of minibatch updates; returns the solver.

        A second call continues where the first stopped: parameters,
        optimiser state (velocities, decayed learning rates), the random
        generator, the histories and the epoch count all carry over, so
        ``num_epochs=1`` and repeated calls train epoch by epoch with a
        measurement in between.
        """
        num_train = self.X_train.shape[0]
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        num_iterations = self.num_epochs * iterations_per_epoch

        bar = tqdm(total=num_iterations, desc="training", unit="step",
                   disable=not self.verbose, leave=False)
        try:
            for t in range(num_iterations):
                loss = self._step()
                if t % self.print_every == 0 or t == num_iterations - 1:
                    bar.set_postfix(loss=f"{loss:.4f}", refresh=False)
                bar.update(1)

                epoch_end = (t + 1) % iterations_per_epoch == 0
                if epoch_end:
                    self.epoch += 1
                    for config in self.optim_configs.values():
                        if "learning_rate" in config:
                            config["learning_rate"] *= self.lr_decay

                if t == 0 or epoch_end:
                    self._record_accuracy(bar)
                    if epoch_end and self.checkpoint_name is not None:
                        self._save_checkpoint()
        finally:
            bar.close()

        if self.restore_best and self.best_params:
            for name, value in self.best_params.items():
                self.model.params[name] = value.copy()
        return self

    def _record_accuracy(self, bar) -> None:
        train_acc = self.check_accuracy(self.X_train, self.y_train,
                                        num_samples=self.num_train_samples)
        val_acc = self.check_accuracy(self.X_val, self.y_val,
                                      num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if self.verbose:
            bar.write(f"(Epoch {self.epoch} / {self.num_epochs}) "
                      f"train acc: {train_acc:.3f}; val acc: {val_acc:.3f}")
        if val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_params = {name: np.array(w, copy=True)
                                for name, w in self.model.params.items()}

    def _save_checkpoint(self) -> str:
        """Write parameters, optimiser state and history to ``.npz`` (no pickle)."""
        arrays: dict[str, np.ndarray] = {
            "update_rule": np.array(self.update_rule_name),
            "lr_decay": np.array(self.lr_decay),
            "batch_size": np.array(self.batch_size),
            "num_epochs": np.array(self.num_epochs),
            "epoch": np.array(self.epoch),
            "loss_history": np.asarray(self.loss_history, dtype=np.float64),
            "train_acc_history": np.asarray(self.train_acc_history, dtype=np.float64),
            "val_acc_history": np.asarray(self.val_acc_history, dtype=np.float64),
        }
        for name, w in self.model.params.items():
            arrays[f"params.{name}"] = np.asarray(w)
        for name, config in self.optim_configs.items():
            for key, value in config.items():
                arrays[f"optim.{name}.{key}"] = np.asarray(value)
        path = f"{self.checkpoint_name}_epoch_{self.epoch}.npz"
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        np.savez(path, **arrays)
        if self.verbose:
            tqdm.write(f"Saved checkpoint {path}")
        return path


def load_checkpoint(path) -> dict:
    """Read a checkpoint written by ``Solver`` (``.npz``, loaded without pickle).

    Returns
    -------
    dict
        ``params`` (dict of arrays), ``optim_configs`` (dict of dicts),
        ``loss_history``, ``train_acc_history``, ``val_acc_history`` (lists),
        and ``update_rule``, ``lr_decay``, ``batch_size``, ``num_epochs``,
        ``epoch``.
    """
    result: dict = {"params": {}, "optim_configs": {}}
    with np.load(path, allow_pickle=False) as archive:
        for key in archive.files:
            value = archive[key]
            if key.startswith("params."):
                result["params"][key[len("params."):]] = value
            elif key.startswith("optim."):
                name, _, setting = key[len("optim."):].rpartition(".")
                result["optim_configs"].setdefault(name, {})[setting] = (
                    value.item() if value.ndim == 0 else value)
            elif key.endswith("_history"):
                result[key] = value.tolist()
            else:
                result[key] = value.item()
    return result


def _check_model(model) -> None:
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not callable(getattr(model, "loss", None)):
        raise TypeError("model must have a dict `params` and a method `loss(X, y=None)`; "
                        f"got {type(model).__name__}.")


def _check_data(data) -> tuple[np.ndarray, ...]:
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict with keys {', '.join(_DATA_KEYS)}; "
                        f"got {type(data).__name__}.")
    missing = [k for k in _DATA_KEYS if k not in data]
    if missing:
        raise KeyError(f"data is missing {', '.join(missing)}; it needs "
                       f"{', '.join(_DATA_KEYS)} (see cs231n_lib.data.load_default()).")
    out = []
    for split in ("train", "val"):
        X = require_array(f"X_{split}", data[f"X_{split}"])
        if X.ndim < 2 or X.shape[0] == 0:
            raise ValueError(f"X_{split} must be (N, ...) with N >= 1; got shape {X.shape}.")
        y = data[f"y_{split}"]
        out += [X, _check_labels(f"y_{split}", y, X.shape[0])]
    return tuple(out)


def _check_labels(name: str, y, num_examples: int) -> np.ndarray:
    y = require_array(name, y, ndim=1, layout="(N,)")
    if y.shape[0] != num_examples:
        raise ValueError(f"{name} has {y.shape[0]} labels but there are {num_examples} "
                         "examples; give one label per example.")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class indices; got dtype {y.dtype}. "
                        "Convert with y.astype(np.int64).")
    if y.size and y.min() < 0:
        raise ValueError(f"{name} must hold class indices >= 0; got {y.min()}.")
    return y


def _resolve_update_rule(rule) -> tuple[str, Callable]:
    if callable(rule):
        return getattr(rule, "__name__", "custom"), rule
    if isinstance(rule, str) and rule in UPDATE_RULES:
        return rule, UPDATE_RULES[rule]
    raise ValueError(f"update_rule must be one of {', '.join(map(repr, UPDATE_RULES))} "
                     f"or a function (w, dw, config) -> (next_w, config); got {rule!r}.")


def _copy_config(config: Mapping) -> dict:
    # Arrays (a starting velocity) are copied so that parameters share no state.
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in config.items()}


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive whole number; got {value!r}.")
    return int(value)


def _optional_positive_int(name: str, value) -> int | None:
    return None if value is None else _positive_int(name, value)
