"""Classification losses on class scores: softmax (cross-entropy) and multiclass SVM.

Both take scores ``x: (N, C)`` and labels ``y: (N,)`` in ``[0, C)`` and
return ``(loss, dx)``, the loss averaged over the N samples and its gradient
with respect to the scores.
"""

from __future__ import annotations

import numpy as np

from cs231n_lib.checks import require_array, require_labels


def _check_scores(x, y):
    x = require_array("x", x, ndim=2, layout="(N, C): one row of class scores per sample")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    y = require_labels(y, x.shape[0], x.shape[1])
    return x, y


def softmax_loss(x, y):
    """Softmax cross-entropy loss and its gradient.

    ``loss = -mean_i log(exp(x[i, y_i]) / sum_j exp(x[i, j]))``. Scores are
    shifted by their row maximum first, which leaves the probabilities
    unchanged and keeps ``exp`` from overflowing.

    Parameters
    ----------
    x : ndarray, (N, C)
        Class scores.
    y : ndarray of int, (N,)
        Correct class of each sample, in ``[0, C)``.

    Returns
    -------
    loss : float
    dx : ndarray, (N, C)
        ``(softmax(x) - onehot(y)) / N``.
    """
    x, y = _check_scores(x, y)
    N = x.shape[0]
    rows = np.arange(N)
    shifted = x - x.max(axis=1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_probs = shifted - log_norm
    loss = float(-log_probs[rows, y].mean())
    dx = np.exp(log_probs)
    dx[rows, y] -= 1.0
    dx /= N
    return loss, dx


def svm_loss(x, y, delta=1.0):
    """Multiclass SVM (hinge) loss and its gradient.

    ``loss = mean_i sum_{j != y_i} max(0, x[i, j] - x[i, y_i] + delta)``.

    Parameters
    ----------
    x : ndarray, (N, C)
        Class scores.
    y : ndarray of int, (N,)
        Correct class of each sample, in ``[0, C)``.
    delta : float
        The margin (1 in CS231n).

    Returns
    -------
    loss : float
    dx : ndarray, (N, C)
        The (sub)gradient; at a margin of exactly 0 the hinge counts as inactive.
    """
    x, y = _check_scores(x, y)
    N = x.shape[0]
    rows = np.arange(N)
    correct = x[rows, y][:, None]
    margins = np.maximum(0.0, x - correct + delta)
    margins[rows, y] = 0.0
    loss = float(margins.sum() / N)
    active = (margins > 0).astype(x.dtype)
    # The correct class's score appears in every active margin with sign -1.
    active[rows, y] = -active.sum(axis=1)
    dx = active / N
    return loss, dx
