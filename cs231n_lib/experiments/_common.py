"""What the training experiments share: prepared data, a seeded Solver run, crossings.

Every training experiment takes ``data=None`` (the embedded default from
:func:`cs231n_lib.data.load_default`: CIFAR-10 when it has been downloaded,
the digits otherwise) or a dict in CS231n's form. It fits its preprocessing
on the training split only and applies the same numbers to validation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from cs231n_lib.checks import require_array
from cs231n_lib.preprocess import MeanImage
from cs231n_lib.solver import Solver

_KEYS = ("X_train", "y_train", "X_val", "y_val")


def load_raw(data: Mapping | None, *, num_train: int | None = None,
             num_val: int | None = None, seed: int = 0) -> dict:
    """Training and validation splits, not yet centred or scaled.

    Parameters
    ----------
    data : dict or None
        ``X_train: (N, ...)``, ``y_train: (N,)``, ``X_val``, ``y_val``; None
        loads the default data without subtracting its mean.
    num_train, num_val : int, optional
        Keep only the first this many examples of each split (CIFAR-10's
        49,000 would take minutes per experiment, not seconds).
    seed : int
        Seeds the default data's split.

    Returns
    -------
    dict
        ``X_train, y_train, X_val, y_val`` as float64 / int64 arrays.
    """
    if data is None:
        from cs231n_lib.data import load_default  # imports scikit-learn: only when needed

        data = load_default(seed=seed, subtract_mean=False)
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be None (the default data) or a dict with keys "
                        f"{', '.join(_KEYS)}; got {type(data).__name__}.")
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise KeyError(f"data is missing {', '.join(missing)}; it needs {', '.join(_KEYS)} "
                       "(see cs231n_lib.data.load_default()).")
    out = {}
    for split, limit in (("train", num_train), ("val", num_val)):
        X = require_array(f"X_{split}", data[f"X_{split}"], layout="(N, ...)")
        y = require_array(f"y_{split}", data[f"y_{split}"], ndim=1, layout="(N,)")
        if X.ndim < 2 or len(X) != len(y) or len(X) == 0:
            raise ValueError(f"X_{split} must be (N, ...) with N >= 1 and one label per "
                             f"example; got X_{split} {X.shape} and y_{split} {y.shape}.")
        keep = slice(None) if limit is None else slice(0, int(limit))
        out[f"X_{split}"] = np.asarray(X[keep], dtype=np.float64)
        out[f"y_{split}"] = np.asarray(y[keep], dtype=np.int64)
    return out


def prepare(data: Mapping | None, *, center: bool = True, num_train: int | None = None,
            num_val: int | None = None, seed: int = 0) -> dict:
    """Default data, centred with the training mean image and scaled to unit spread.

    The scale is one number, the standard deviation of the (centred)
    training pixels, so that a net's first layer sees inputs of size about
    1 whichever data set arrives. With ``center=False`` the same number
    divides the raw data, which then stays all-positive.

    Returns
    -------
    dict
        ``X_train, y_train, X_val, y_val``; ``num_classes`` (int).
    """
    raw = load_raw(data, num_train=num_train, num_val=num_val, seed=seed)
    X_train, X_val = raw["X_train"], raw["X_val"]
    if center:
        centering = MeanImage().fit(X_train)
        X_train, X_val = centering.transform(X_train), centering.transform(X_val)
    spread = float(X_train.std())
    if not spread > 0:
        raise ValueError("the training images are all equal (standard deviation 0); "
                         "there is nothing to learn from.")
    num_classes = int(max(raw["y_train"].max(), raw["y_val"].max())) + 1
    return {"X_train": X_train / spread, "y_train": raw["y_train"],
            "X_val": X_val / spread, "y_val": raw["y_val"], "num_classes": num_classes}


def input_dim(data: Mapping) -> int:
    """Features per example of ``data['X_train']``."""
    return math.prod(data["X_train"].shape[1:])


def train(model, data: Mapping, *, learning_rate: float, num_epochs: int,
          batch_size: int = 50, update_rule: str = "sgd_momentum", seed: int = 0) -> Solver:
    """Train ``model`` in place with the library's Solver; quiet, seeded, no restoring.

    Training accuracy is measured on the whole training split after the first
    step and after every epoch (``solver.train_acc_history``).
    """
    solver = Solver(model, {k: data[k] for k in _KEYS}, update_rule=update_rule,
                    optim_config={"learning_rate": float(learning_rate)},
                    batch_size=batch_size, num_epochs=num_epochs, verbose=False,
                    num_train_samples=None, seed=seed, restore_best=False)
    # A diverging run overflows in the softmax; that is a measured outcome here,
    # not an error, so numpy's warnings stay quiet for the length of it.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        solver.train()
    return solver


def check_epochs(solver: Solver) -> np.ndarray:
    """The epoch (a fraction for the first check) of each entry of the accuracy history."""
    per_epoch = max(len(solver.y_train) // solver.batch_size, 1)
    epochs = np.arange(len(solver.train_acc_history), dtype=np.float64)
    if len(solver.train_acc_history) == solver.num_epochs + 1:
        epochs[0] = 1.0 / per_epoch  # the first check follows the first step
    else:
        epochs += 1.0  # one step per epoch: the first check ends epoch 1
    return epochs


def first_crossing(x: Sequence[float], values: Sequence[float], target: float) -> float:
    """Where ``values`` first reaches ``target``, interpolated linearly along ``x``.

    Returns ``nan`` when it never does: "did not reach the target in this
    budget" is a result, not an error.
    """
    x = np.asarray(x, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    reached = np.flatnonzero(values >= target)
    if reached.size == 0:
        return math.nan
    i = int(reached[0])
    if i == 0:
        return float(x[0])
    low, high = values[i - 1], values[i]
    share = (target - low) / (high - low)
    return float(x[i - 1] + share * (x[i] - x[i - 1]))


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive whole number; got {value!r}.")
    return int(value)


def fraction(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not 0 < value < 1:
        raise ValueError(f"{name} must be a fraction strictly between 0 and 1; got {value!r}.")
    return float(value)


def positive_numbers(name: str, values) -> tuple[float, ...]:
    values = tuple(values)
    if not values or any(isinstance(v, bool) or not isinstance(v, (int, float, np.number))
                         or not math.isfinite(v) or v <= 0 for v in values):
        raise ValueError(f"{name} must be a non-empty sequence of positive numbers; "
                         f"got {values!r}.")
    return tuple(float(v) for v in values)
