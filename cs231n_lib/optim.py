"""First-order update rules with CS231n's API.

Every rule has the signature::

    next_w, config = update(w, dw, config=None)

where ``w`` is a parameter array, ``dw`` the gradient of the loss with respect
to it (same shape), and ``config`` a dict of hyperparameters plus whatever
state the rule carries between steps (the velocity for momentum). A rule fills
in its defaults when ``config`` is None or lacks a key, and returns the config
to be passed back on the next step, so one config dict belongs to one
parameter array.

``w`` is never modified in place: the caller decides where ``next_w`` goes.
"""

from __future__ import annotations

import numpy as np

from cs231n_lib.checks import ShapeError, require_array, require_same_shape

__all__ = ["sgd", "sgd_momentum", "UPDATE_RULES"]


def _check_step(w, dw, config) -> tuple[np.ndarray, np.ndarray, dict]:
    w = require_array("w", w)
    dw = require_array("dw", dw)
    require_same_shape("dw", dw, "w", w)
    if config is None:
        config = {}
    elif not isinstance(config, dict):
        raise TypeError(f"config must be a dict of hyperparameters or None; "
                        f"got {type(config).__name__}.")
    return w, dw, config


def _check_positive(name: str, value) -> None:
    if not np.isscalar(value) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative finite number; got {value!r}.")


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: ``w - learning_rate * dw``.

    Parameters
    ----------
    w : ndarray, any shape
        Current parameter values.
    dw : ndarray, same shape as ``w``
        Gradient of the loss with respect to ``w``.
    config : dict or None
        ``learning_rate`` (float, default 1e-2).

    Returns
    -------
    next_w : ndarray, same shape as ``w``
        Updated parameters (a new array; ``w`` is unchanged).
    config : dict
        The config with its defaults filled in.
    """
    w, dw, config = _check_step(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    _check_positive("config['learning_rate']", config["learning_rate"])

    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum.

    The velocity is a running sum of past steps, decayed by ``momentum``::

        v = momentum * v - learning_rate * dw
        next_w = w + v

    so a direction the gradient keeps pointing in gathers speed, while a
    direction in which it flips sign (the zig-zag of a narrow valley) cancels.

    Parameters
    ----------
    w : ndarray, any shape
        Current parameter values.
    dw : ndarray, same shape as ``w``
        Gradient of the loss with respect to ``w``.
    config : dict or None
        ``learning_rate`` (float, default 1e-2); ``momentum`` (float in
        [0, 1), default 0.9; 0 gives plain SGD); ``velocity`` (ndarray shaped
        like ``w``, default zeros; carried between steps).

    Returns
    -------
    next_w : ndarray, same shape as ``w``
        Updated parameters (a new array; ``w`` is unchanged).
    config : dict
        The config holding the new ``velocity``.
    """
    w, dw, config = _check_step(w, dw, config)
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    _check_positive("config['learning_rate']", config["learning_rate"])
    momentum = config["momentum"]
    if not np.isscalar(momentum) or not 0 <= momentum < 1:
        raise ValueError(f"config['momentum'] must be a number in [0, 1); got {momentum!r}. "
                         "0.9 is the usual choice.")
    v = config.get("velocity")
    if v is None:
        v = np.zeros_like(w)
    elif np.shape(v) != w.shape:
        raise ShapeError(f"config['velocity'] has shape {np.shape(v)} but w has shape "
                         f"{w.shape}; each parameter array needs its own config dict.")

    v = momentum * v - config["learning_rate"] * dw
    next_w = w + v

    config["velocity"] = v
    return next_w, config


UPDATE_RULES = {"sgd": sgd, "sgd_momentum": sgd_momentum}
"""Update rules by name, as the Solver's ``update_rule`` accepts them."""
