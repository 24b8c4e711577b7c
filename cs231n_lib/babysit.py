"""Watching a net train: the update-to-weight ratio and a verdict on the learning rate.

Two numbers the lecture's recipe reads while training runs (lecture 6,
"babysitting the learning process"):

- the **update-to-weight ratio** of a layer, ``||update|| / ||W||``: how far
  one step moves the weights, relative to their size. About ``1e-3`` is
  healthy; far above it the learning rate is too high (each step rewrites a
  good share of the weights), far below it too low (nothing moves);
- the **loss curve** of a short run at one learning rate: barely moving
  means the rate is too low, growing or NaN means it is too high.

For plain SGD the update is ``learning_rate * dW``; with momentum (or any
other rule) pass the step actually taken, ``W_after - W_before``, as ``dw``
with ``learning_rate=1``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from cs231n_lib.checks import require_array, require_same_shape

__all__ = ["update_to_weight_ratio", "update_ratios", "learning_rate_verdict", "VERDICTS"]

VERDICTS = ("too low", "ok", "too high")
"""What :func:`learning_rate_verdict` can answer."""


def _check_rate(learning_rate) -> float:
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real) \
            or not math.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be a finite number > 0; got {learning_rate!r}. "
                         "For a step you already took, pass the step as dw and 1.0 here.")
    return float(learning_rate)


def update_to_weight_ratio(w, dw, learning_rate) -> float:
    """Ratio of the size of one SGD update to the size of the weights, ``||lr dw|| / ||w||``.

    Parameters
    ----------
    w : ndarray, any shape, e.g. (D, M)
        A layer's weights before the step (not all zero).
    dw : ndarray, same shape as ``w``
        Their gradient (or, with ``learning_rate=1``, the step itself).
    learning_rate : float
        The step size, > 0.

    Returns
    -------
    ratio : float
        ``||learning_rate * dw||_2 / ||w||_2``, both norms over every entry
        (the Frobenius norm of a matrix). About 1e-3 is healthy.
    """
    w = require_array("w", w)
    dw = require_array("dw", dw)
    require_same_shape("w", w, "dw", dw)
    learning_rate = _check_rate(learning_rate)
    if not np.any(w):
        raise ValueError("w is all zeros, so the ratio has no size to compare with. Use it "
                         "for weight matrices, not for biases (which start at 0).")
    ### BEGIN SOLUTION
    # Hint: the norm of the scaled update over the norm of w; np.linalg.norm(x) of a flat x
    update_norm = np.linalg.norm(learning_rate * dw.ravel())
    return float(update_norm / np.linalg.norm(w.ravel()))
    ### END SOLUTION


def update_ratios(before: Mapping[str, np.ndarray], after: Mapping[str, np.ndarray],
                  names: Sequence[str] | None = None) -> dict[str, float]:
    """The update-to-weight ratio of every weight matrix over one step that was taken.

    Parameters
    ----------
    before, after : dict of ndarray
        ``model.params`` copied before the step, and after it.
    names : sequence of str, optional
        Which parameters; default: every name starting with ``"W"`` (biases,
        gammas and betas start at 0 or 1 and are left out).

    Returns
    -------
    dict
        name -> ``||after - before|| / ||before||``.
    """
    if names is None:
        names = [name for name in before if name.startswith("W")]
    missing = [name for name in names if name not in before or name not in after]
    if missing:
        raise KeyError(f"no parameter {', '.join(missing)} in both before and after; they "
                       f"have {sorted(before)} and {sorted(after)}.")
    return {name: update_to_weight_ratio(before[name], after[name] - before[name], 1.0)
            for name in names}


def _loss_window(loss_history, window) -> tuple[np.ndarray, int]:
    losses = require_array("loss_history", loss_history, ndim=1, layout="(num_steps,)")
    if losses.size < 2:
        raise ValueError(f"loss_history needs at least 2 losses to show a trend; got "
                         f"{losses.size}. Train for a few more steps.")
    if window is None:
        window = max(1, losses.size // 10)
    if isinstance(window, bool) or not isinstance(window, numbers.Integral) \
            or not 1 <= window <= losses.size // 2:
        raise ValueError(f"window must be a whole number from 1 to half the history "
                         f"({losses.size // 2}); got {window!r}.")
    return losses.astype(np.float64), int(window)


def learning_rate_verdict(loss_history, tolerance: float = 0.05, window: int | None = None,
                          blowup: float = 3.0) -> str:
    """Read a short run's loss curve: was the learning rate "too low", "ok" or "too high"?

    The rules, in this order:

    1. any loss that is NaN or infinite, or larger than ``blowup`` times the
       first loss: ``"too high"`` (the run exploded, even if the loss came
       back down afterwards, as it does when the explosion killed every ReLU);
    2. ``start`` is the mean of the first ``window`` losses, ``end`` the mean
       of the last ``window``; if ``end > start * (1 + tolerance)``:
       ``"too high"`` (the loss grew);
    3. if ``end > start * (1 - tolerance)``: ``"too low"`` (it barely moved);
    4. otherwise ``"ok"``.

    Parameters
    ----------
    loss_history : sequence of float, (num_steps,)
        The loss after each step, at least 2 of them.
    tolerance : float
        Relative change of the loss that counts as "moved", in (0, 1).
    window : int, optional
        Losses averaged at each end (minibatch losses are noisy); default
        ``max(1, num_steps // 10)``.
    blowup : float
        How many times the first loss counts as an explosion, > 1.

    Returns
    -------
    verdict : str
        One of ``VERDICTS``.
    """
    if isinstance(tolerance, bool) or not isinstance(tolerance, numbers.Real) \
            or not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be a fraction strictly between 0 and 1; "
                         f"got {tolerance!r}.")
    if isinstance(blowup, bool) or not isinstance(blowup, numbers.Real) or not blowup > 1:
        raise ValueError(f"blowup must be a number > 1 (a factor over the first loss); "
                         f"got {blowup!r}.")
    losses, window = _loss_window(loss_history, window)
    ### BEGIN SOLUTION
    # Hint: rule 1 (NaN, inf, > blowup * first loss), then start/end = window means vs tolerance
    if not np.all(np.isfinite(losses)) or losses.max() > blowup * losses[0]:
        return "too high"
    start, end = losses[:window].mean(), losses[-window:].mean()
    if end > start * (1 + tolerance):
        return "too high"
    if end > start * (1 - tolerance):
        return "too low"
    return "ok"
    ### END SOLUTION
