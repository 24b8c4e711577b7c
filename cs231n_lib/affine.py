"""Fully connected (affine) layer: ``out = x.reshape(N, D) @ w + b``.

Lecture 4's vectorised example: the gradient of a matrix product is another
matrix product (``dw = x^T dout``, ``dx = dout w^T``), and the shapes alone
say which one.
"""

from __future__ import annotations

import math

from cs231n_lib.checks import ShapeError, require_array, require_dim


def _check_affine_inputs(x, w, b):
    x = require_array("x", x, layout="(N, d_1, ..., d_k)")
    if x.ndim < 2:
        raise ShapeError(f"x must have at least 2 dimensions (N, d_1, ..., d_k); got shape "
                         f"{x.shape}. For a single sample use x[None] to make it (1, D).")
    w = require_array("w", w, ndim=2, layout="(D, M)")
    b = require_array("b", b, ndim=1, layout="(M,)")
    D = math.prod(x.shape[1:])
    require_dim("w", w.shape[0], D, what="the number of rows (D)",
                fix=f"x has shape {x.shape}, i.e. D = {' * '.join(map(str, x.shape[1:]))} "
                    f"= {D} features per sample, so w must be ({D}, M); got {w.shape}.")
    require_dim("b", b.shape[0], w.shape[1], what="the length (M)",
                fix=f"b needs one bias per output column of w {w.shape}.")
    return x, w, b


def affine_forward(x, w, b):
    """Forward pass of a fully connected layer.

    Each sample is flattened to a row of ``D = d_1 * ... * d_k`` numbers.

    Parameters
    ----------
    x : ndarray, (N, d_1, ..., d_k)
        A minibatch of N samples.
    w : ndarray, (D, M)
        Weights.
    b : ndarray, (M,)
        Biases.

    Returns
    -------
    out : ndarray, (N, M)
    cache : tuple
        ``(x, w, b)`` for :func:`affine_backward`.
    """
    x, w, b = _check_affine_inputs(x, w, b)
    ### BEGIN SOLUTION
    # Hint: flatten each sample to a row of D numbers first: x.reshape(N, -1)
    out = x.reshape(x.shape[0], -1) @ w + b
    ### END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of a fully connected layer.

    Parameters
    ----------
    dout : ndarray, (N, M)
        Upstream gradient.
    cache : tuple
        ``(x, w, b)`` from :func:`affine_forward`.

    Returns
    -------
    dx : ndarray, (N, d_1, ..., d_k)
        Gradient with respect to x, in x's original shape.
    dw : ndarray, (D, M)
    db : ndarray, (M,)
    """
    x, w, b = cache
    dout = require_array("dout", dout, ndim=2, layout="(N, M)")
    expected = (x.shape[0], w.shape[1])
    if dout.shape != expected:
        raise ShapeError(f"dout must have the forward output's shape (N, M) = {expected}; "
                         f"got {dout.shape}.")
    ### BEGIN SOLUTION
    # Hint: let the shapes pick each matrix product; dx returns to x's shape
    x_rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_rows.T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db
