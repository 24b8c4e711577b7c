"""Activation functions of lecture 6, forward and backward, CS231n style.

Every ``*_forward`` returns ``(out, cache)`` and every ``*_backward`` takes
``(dout, cache)``. The elementwise ones accept any shape. Gradients at the
kink x = 0 use the left branch (ReLU's gradient there is 0), a convention:
gradient checks should keep inputs away from 0.

``ACTIVATIONS`` maps a name to a pair ``(f, df)`` of plain elementwise
functions built from the layers here, for plots and experiments.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from cs231n_lib.checks import ShapeError, require_array, require_dim, require_same_shape


def _float_array(name, x, *, ndim=None, layout=None):
    x = require_array(name, x, ndim=ndim, layout=layout)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def _check_dout(dout, x):
    dout = require_array("dout", dout)
    require_same_shape("dout", dout, "the forward input x", x)
    return dout


def _require_scalar(name, value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number (a float such as 0.01); "
                        f"got {type(value).__name__} {value!r}.")
    return float(value)


# --------------------------------------------------------------------- ReLU
def relu_forward(x):
    """ReLU: ``out = max(0, x)`` elementwise.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape as x
    cache : ndarray
        x.
    """
    x = _float_array("x", x)
    # ReLU is the worked example of this module, not a gap: the conv and
    # backprop releases come before the activations one and need it whole.
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of ReLU: the gradient flows only where x > 0.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : ndarray
        x from :func:`relu_forward`.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    x = cache
    dout = _check_dout(dout, x)
    # The max gate routes: the upstream gradient passes only where x won.
    dx = dout * (x > 0)
    return dx


# --------------------------------------------------------------- leaky ReLU
def leaky_relu_forward(x, alpha=0.01):
    """Leaky ReLU: ``out = x`` where x > 0, ``alpha * x`` elsewhere.

    Parameters
    ----------
    x : ndarray, any shape
    alpha : float
        Slope for negative inputs (fixed, not learned).

    Returns
    -------
    out : ndarray, same shape as x
    cache : tuple
        ``(x, alpha)``.
    """
    x = _float_array("x", x)
    alpha = _require_scalar("alpha", alpha)
    ### BEGIN SOLUTION
    # Hint: np.where picks, per element, x or alpha times x (x exactly 0 goes to the alpha side)
    out = np.where(x > 0, x, alpha * x)
    ### END SOLUTION
    cache = (x, alpha)
    return out, cache


def leaky_relu_backward(dout, cache):
    """Backward pass of leaky ReLU.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : tuple
        ``(x, alpha)`` from :func:`leaky_relu_forward`.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    x, alpha = cache
    dout = _check_dout(dout, x)
    ### BEGIN SOLUTION
    # Hint: the local slope is 1 where x > 0 and alpha elsewhere (at exactly 0 too)
    dx = dout * np.where(x > 0, 1.0, alpha)
    ### END SOLUTION
    return dx


# -------------------------------------------------------------------- PReLU
def _prelu_alpha(x, alpha):
    """Check alpha against x; return it broadcastable to x and whether it was a scalar."""
    if np.ndim(alpha) == 0:
        return np.asarray(_require_scalar("alpha", alpha), dtype=np.float64), True
    alpha = _float_array("alpha", alpha, ndim=1, layout="(D,) or (C,)")
    if x.ndim == 2:
        require_dim("alpha", alpha.shape[0], x.shape[1], what="the length",
                    fix=f"for x: (N, D) = {x.shape} give one alpha per feature, (D,), "
                        "or a single scalar.")
        return alpha[None, :], False
    if x.ndim == 4:
        require_dim("alpha", alpha.shape[0], x.shape[1], what="the length",
                    fix=f"for x: (N, C, H, W) = {x.shape} give one alpha per channel, (C,), "
                        "or a single scalar.")
        return alpha[None, :, None, None], False
    raise ShapeError(f"a per-feature alpha of shape {alpha.shape} needs x: (N, D) or "
                     f"(N, C, H, W); got x of shape {x.shape}. Use a scalar alpha for "
                     "other shapes.")


def prelu_forward(x, alpha):
    """Parametric ReLU (He et al. 2015): ``out = x`` where x > 0, ``alpha * x`` elsewhere.

    Unlike leaky ReLU, alpha is a parameter learned by backprop.

    Parameters
    ----------
    x : ndarray, (N, D) or (N, C, H, W)
        Any shape when alpha is a scalar.
    alpha : float or ndarray
        A scalar, or one slope per feature, ``(D,)``, for x: (N, D), or one
        per channel, ``(C,)``, for x: (N, C, H, W).

    Returns
    -------
    out : ndarray, same shape as x
    cache : tuple
        ``(x, alpha_b, scalar)``: x, alpha broadcastable to x, and whether
        alpha was a scalar.
    """
    x = _float_array("x", x, layout="(N, D) or (N, C, H, W)")
    alpha_b, scalar = _prelu_alpha(x, alpha)
    ### BEGIN SOLUTION
    # Hint: as leaky ReLU, with alpha_b (alpha already broadcast to x's layout) as the slope
    out = np.where(x > 0, x, alpha_b * x)
    ### END SOLUTION
    cache = (x, alpha_b, scalar)
    return out, cache


def prelu_backward(dout, cache):
    """Backward pass of PReLU.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : tuple
        From :func:`prelu_forward`.

    Returns
    -------
    dx : ndarray, same shape as x
    dalpha : float or ndarray
        Same shape as alpha: a scalar, ``(D,)`` or ``(C,)``.
    """
    x, alpha_b, scalar = cache
    dout = _check_dout(dout, x)
    ### BEGIN SOLUTION
    # Hint: dalpha sums over every axis alpha was shared across (alpha's shape)
    negative = x <= 0
    dx = dout * np.where(negative, alpha_b, 1.0)
    # alpha is shared across every axis it was broadcast over, so its
    # gradient sums over them (a scalar alpha: over all of x).
    dalpha_full = dout * np.where(negative, x, 0.0)
    if scalar:
        dalpha = np.float64(dalpha_full.sum())
    else:
        shared_axes = tuple(ax for ax in range(x.ndim) if ax != 1)
        dalpha = dalpha_full.sum(axis=shared_axes)
    ### END SOLUTION
    return dx, dalpha


# ---------------------------------------------------------------------- ELU
def elu_forward(x, alpha=1.0):
    """ELU (Clevert et al. 2015): ``x`` where x > 0, ``alpha * (exp(x) - 1)`` elsewhere.

    Parameters
    ----------
    x : ndarray, any shape
    alpha : float
        Value the output saturates to for very negative x is ``-alpha``.

    Returns
    -------
    out : ndarray, same shape as x
    cache : tuple
        ``(x, out, alpha)``.
    """
    x = _float_array("x", x)
    alpha = _require_scalar("alpha", alpha)
    ### BEGIN SOLUTION
    # Hint: np.where computes both branches: keep exp away from large positive x
    # exp only of the non-positive part: exp(large x) would overflow in the
    # branch np.where throws away.
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    ### END SOLUTION
    cache = (x, out, alpha)
    return out, cache


def elu_backward(dout, cache):
    """Backward pass of ELU.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : tuple
        ``(x, out, alpha)`` from :func:`elu_forward`.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    x, out, alpha = cache
    dout = _check_dout(dout, x)
    ### BEGIN SOLUTION
    # Hint: 1 where x > 0; elsewhere the derivative of alpha (exp(x) - 1), written with out
    # For x <= 0: d/dx alpha (exp(x) - 1) = alpha exp(x) = out + alpha.
    dx = dout * np.where(x > 0, 1.0, out + alpha)
    ### END SOLUTION
    return dx


# ------------------------------------------------------------------ sigmoid
def sigmoid_forward(x):
    """Sigmoid: ``out = 1 / (1 + exp(-x))``, without overflow for large |x|.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape as x, values in [0, 1]
    cache : ndarray
        out (the local gradient needs only the output).
    """
    x = _float_array("x", x)
    ### BEGIN SOLUTION
    # Hint: exp(-x) overflows for x << 0; there use the equal exp(x) / (1 + exp(x))
    # exp of a non-positive number never overflows: for x >= 0 use
    # 1 / (1 + exp(-x)), for x < 0 the equal form exp(x) / (1 + exp(x)).
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    ### END SOLUTION
    cache = out
    return out, cache


def sigmoid_backward(dout, cache):
    """Backward pass of the sigmoid: local gradient ``s * (1 - s)``.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : ndarray
        The forward output s.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    s = cache
    dout = _check_dout(dout, s)
    ### BEGIN SOLUTION
    # Hint: the cache holds the output s; the sigmoid's derivative can be written with s alone
    dx = dout * s * (1.0 - s)
    ### END SOLUTION
    return dx


# --------------------------------------------------------------------- tanh
def tanh_forward(x):
    """Hyperbolic tangent: squashes to (-1, 1), zero-centred.

    Parameters
    ----------
    x : ndarray, any shape

    Returns
    -------
    out : ndarray, same shape as x
    cache : ndarray
        out.
    """
    x = _float_array("x", x)
    ### BEGIN SOLUTION
    # Hint: numpy has it, and it does not overflow
    out = np.tanh(x)
    ### END SOLUTION
    cache = out
    return out, cache


def tanh_backward(dout, cache):
    """Backward pass of tanh: local gradient ``1 - tanh(x)**2``.

    Parameters
    ----------
    dout : ndarray, same shape as x
    cache : ndarray
        The forward output.

    Returns
    -------
    dx : ndarray, same shape as x
    """
    t = cache
    dout = _check_dout(dout, t)
    ### BEGIN SOLUTION
    # Hint: the cache holds t = tanh(x); write the derivative of tanh with t alone
    dx = dout * (1.0 - t * t)
    ### END SOLUTION
    return dx


# ------------------------------------------------------------------- maxout
def maxout_forward(x, w, b):
    """Maxout (Goodfellow et al. 2013): each unit is the max of k affine pieces.

    ``out[n, m] = max_j (x[n] @ w[:, m, j] + b[m, j])``. With k = 2 and one
    piece fixed at 0 this is ReLU; it doubles (k-folds) the parameters.

    Parameters
    ----------
    x : ndarray, (N, D)
    w : ndarray, (D, M, k)
        Weights of the k pieces of each of the M units.
    b : ndarray, (M, k)
        Biases of the pieces.

    Returns
    -------
    out : ndarray, (N, M)
    cache : tuple
        ``(x, w, b, winner)`` where ``winner: (N, M)`` is the index of the
        piece that was the max.
    """
    x = _float_array("x", x, ndim=2, layout="(N, D)")
    w = _float_array("w", w, ndim=3, layout="(D, M, k)")
    b = _float_array("b", b, ndim=2, layout="(M, k)")
    require_dim("w", w.shape[0], x.shape[1], what="the first dimension (D)",
                fix=f"x is (N, D) = {x.shape}, so w must be ({x.shape[1]}, M, k); "
                    f"got {w.shape}.")
    if b.shape != w.shape[1:]:
        raise ShapeError(f"b must be (M, k) = {w.shape[1:]} to match w {w.shape}; "
                         f"got {b.shape}.")
    ### BEGIN SOLUTION
    # Hint: all pieces as z: (N, M, k); keep each unit's winning index for backward
    N, D = x.shape
    _, M, k = w.shape
    z = (x @ w.reshape(D, M * k)).reshape(N, M, k) + b
    winner = z.argmax(axis=2)
    out = np.take_along_axis(z, winner[:, :, None], axis=2)[:, :, 0]
    ### END SOLUTION
    cache = (x, w, b, winner)
    return out, cache


def maxout_backward(dout, cache):
    """Backward pass of maxout: the max routes each unit's gradient to its winning piece.

    Parameters
    ----------
    dout : ndarray, (N, M)
    cache : tuple
        From :func:`maxout_forward`.

    Returns
    -------
    dx : ndarray, (N, D)
    dw : ndarray, (D, M, k)
    db : ndarray, (M, k)
    """
    x, w, b, winner = cache
    dout = require_array("dout", dout, ndim=2, layout="(N, M)")
    if dout.shape != winner.shape:
        raise ShapeError(f"dout must have the forward output's shape (N, M) = {winner.shape}; "
                         f"got {dout.shape}.")
    ### BEGIN SOLUTION
    # Hint: the max routes dout[n, m] to the winning piece; then an affine backward
    N, D = x.shape
    _, M, k = w.shape
    dz = np.zeros((N, M, k), dtype=np.result_type(dout, w))
    np.put_along_axis(dz, winner[:, :, None], dout[:, :, None], axis=2)
    dz_rows = dz.reshape(N, M * k)
    dx = dz_rows @ w.reshape(D, M * k).T
    dw = (x.T @ dz_rows).reshape(D, M, k)
    db = dz.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db


# ------------------------------------------------- elementwise plot helpers
def _elementwise(forward, backward, **kwargs):
    """Turn a forward/backward pair into plain functions ``f(x)`` and ``f'(x)``."""

    def f(x):
        return forward(np.asarray(x, dtype=np.float64), **kwargs)[0]

    def df(x):
        out, cache = forward(np.asarray(x, dtype=np.float64), **kwargs)
        return backward(np.ones_like(out), cache)

    f.__name__ = forward.__name__.removesuffix("_forward")
    df.__name__ = f.__name__ + "_grad"
    return f, df


#: name -> (f, df): elementwise activation and its derivative on any array,
#: computed by the layer functions above (so a plot shows what they compute).
ACTIVATIONS = {
    "sigmoid": _elementwise(sigmoid_forward, sigmoid_backward),
    "tanh": _elementwise(tanh_forward, tanh_backward),
    "relu": _elementwise(relu_forward, relu_backward),
    "leaky_relu": _elementwise(leaky_relu_forward, leaky_relu_backward),
    "elu": _elementwise(elu_forward, elu_backward),
}
