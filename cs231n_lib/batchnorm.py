"""Batch normalisation (Ioffe & Szegedy 2015) for affine and conv layers.

``batchnorm_forward`` normalises each of the D features of a minibatch
``x: (N, D)`` with the minibatch's own mean and variance in train mode, and
with running averages of them in test mode; a learned scale ``gamma`` and
shift ``beta`` follow. ``spatial_batchnorm_forward`` does the same for conv
activations ``x: (N, C, H, W)``, one mean and variance per channel over N, H
and W.

Two backward passes are provided on purpose: ``batchnorm_backward`` walks the
computational graph of the forward pass one stage at a time (lecture 4's
method), ``batchnorm_backward_alt`` uses the simplified closed form that
falls out of doing the algebra once. They must agree to rounding error.

The running averages live *in* ``bn_param`` (CS231n's convention) so that a
model can keep one dict per layer and hand it back on every call.
"""

from __future__ import annotations

import numpy as np

from cs231n_lib.checks import ShapeError, require_array, require_dim, require_same_shape

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
]

BN_PARAM_EXAMPLE = "{'mode': 'train', 'eps': 1e-5, 'momentum': 0.9}"
MODES = ("train", "test")


def _check_bn_param(bn_param) -> str:
    """Return the mode of a ``bn_param`` dict, or raise an error that shows a good one."""
    if not isinstance(bn_param, dict):
        raise TypeError(f"bn_param must be a dict; got {type(bn_param).__name__}. "
                        f"For example: bn_param = {BN_PARAM_EXAMPLE}")
    if "mode" not in bn_param:
        raise KeyError(f"bn_param has no 'mode'; set it to 'train' while training and to "
                       f"'test' when evaluating. For example: bn_param = {BN_PARAM_EXAMPLE}")
    mode = bn_param["mode"]
    if mode not in MODES:
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test'; got {mode!r}. "
                         f"For example: bn_param = {BN_PARAM_EXAMPLE}")
    return mode


def _check_scale_shift(gamma, beta, num_features: int, what: str):
    gamma = require_array("gamma", gamma, ndim=1, layout="(D,)")
    beta = require_array("beta", beta, ndim=1, layout="(D,)")
    require_dim("gamma", gamma.shape[0], num_features, what="its length",
                fix=f"Give one scale per {what}.")
    require_dim("beta", beta.shape[0], num_features, what="its length",
                fix=f"Give one shift per {what}.")
    return gamma, beta


def _running_stats(bn_param: dict, num_features: int, dtype):
    """Fetch (or create as zeros / ones) the running mean and variance kept in ``bn_param``."""
    running_mean = bn_param.get("running_mean")
    running_var = bn_param.get("running_var")
    if running_mean is None:
        running_mean = np.zeros(num_features, dtype=dtype)
    if running_var is None:
        running_var = np.ones(num_features, dtype=dtype)
    for name, value in (("running_mean", running_mean), ("running_var", running_var)):
        if np.shape(value) != (num_features,):
            raise ShapeError(f"bn_param[{name!r}] has shape {np.shape(value)} but x has "
                             f"{num_features} features; was this bn_param made for another "
                             "layer? Give each layer its own bn_param dict.")
    return running_mean, running_var


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of batch normalisation.

    Train mode normalises with the minibatch statistics and updates the
    running averages kept in ``bn_param``::

        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var  = momentum * running_var  + (1 - momentum) * sample_var

    Test mode normalises with those running averages and leaves them alone.
    The variance is the biased one (divided by N), as in the paper's
    normalisation step.

    Parameters
    ----------
    x : ndarray, shape (N, D)
        A minibatch of N samples with D features.
    gamma : ndarray, shape (D,)
        Scale, one per feature.
    beta : ndarray, shape (D,)
        Shift, one per feature.
    bn_param : dict
        - ``'mode'``: ``'train'`` or ``'test'`` (required);
        - ``'eps'``: added to the variance for numerical stability (default 1e-5);
        - ``'momentum'``: decay of the running averages (default 0.9);
        - ``'running_mean'``, ``'running_var'``: arrays of shape (D,), created
          as zeros and ones on first use and updated in place of the dict's
          entries in train mode.

    Returns
    -------
    out : ndarray, shape (N, D)
    cache : tuple or None
        ``(x_centered, gamma, std, inv_std)`` for the backward passes in train
        mode (``x_centered = x - mean``, shape (N, D); ``std = sqrt(var + eps)``
        and ``inv_std = 1 / std``, shape (D,)); ``None`` in test mode.
    """
    mode = _check_bn_param(bn_param)
    x = require_array("x", x, ndim=2, layout="(N, D)")
    N, D = x.shape
    gamma, beta = _check_scale_shift(gamma, beta, D, "feature (column of x)")
    if mode == "train" and N < 2:
        raise ShapeError(f"train-mode batch normalisation needs at least 2 samples to estimate "
                         f"a variance; got x of shape {x.shape}. Use a larger minibatch.")
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    running_mean, running_var = _running_stats(bn_param, D, x.dtype)

    out, cache = None, None
    ### BEGIN SOLUTION
    # Hint: train: normalise by batch mean/variance, update running averages; test: use those.
    if mode == "train":
        sample_mean = x.mean(axis=0)
        x_centered = x - sample_mean
        sample_var = np.einsum("nd,nd->d", x_centered, x_centered) / N
        std = np.sqrt(sample_var + eps)
        inv_std = 1.0 / std
        # out = gamma * x_hat + beta with x_hat = x_centered * inv_std; folding inv_std
        # into gamma's scale saves a pass over (N, D), and the backward passes rebuild
        # x_hat from x_centered when they need it.
        out = x_centered * (gamma * inv_std)
        out += beta

        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
        cache = (x_centered, gamma, std, inv_std)
    else:
        # gamma folds into the scale: one pass over x fewer.
        scale = gamma / np.sqrt(running_var + eps)
        out = x - running_mean
        out *= scale
        out += beta
    ### END SOLUTION

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def _check_cache(cache, dout, function: str):
    if cache is None:
        raise ValueError(f"{function} got cache=None: the forward pass ran in test mode, which "
                         "keeps nothing for a backward pass. Run batchnorm_forward with "
                         "bn_param['mode'] = 'train' before backpropagating.")
    dout = require_array("dout", dout, ndim=2, layout="(N, D)")
    require_same_shape("dout", dout, "the forward pass's x", cache[0])
    return dout


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalisation, one stage of the graph at a time.

    The forward pass is the chain ``mu = mean(x)``, ``xc = x - mu``,
    ``var = mean(xc**2)``, ``std = sqrt(var + eps)``, ``istd = 1 / std``,
    ``x_hat = xc * istd``, ``out = gamma * x_hat + beta``; this walks it
    backwards, adding gradients where a value fans out (``xc`` feeds both the
    variance and ``x_hat``; ``x`` feeds both ``mu`` and ``xc``).

    Parameters
    ----------
    dout : ndarray, shape (N, D)
        Upstream gradient.
    cache : tuple
        From ``batchnorm_forward`` in train mode.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma : ndarray, shape (D,)
    dbeta : ndarray, shape (D,)
    """
    dout = _check_cache(cache, dout, "batchnorm_backward")
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    # Hint: walk the forward graph back one stage at a time; add gradients where values fan out.
    x_centered, gamma, std, inv_std = cache
    N = dout.shape[0]
    x_hat = x_centered * inv_std

    # out = gamma * x_hat + beta
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = x_centered * inv_std  (mul gate: each input gets the other one)
    dx_centered = dx_hat * inv_std
    dinv_std = (dx_hat * x_centered).sum(axis=0)
    # inv_std = 1 / std
    dstd = -dinv_std / std**2
    # std = sqrt(var + eps)
    dvar = dstd * 0.5 / std
    # var = mean(x_centered**2): every row receives dvar / N, times 2 * x_centered
    dx_centered += 2.0 * x_centered * dvar / N
    # x_centered = x - mu  (x fans out into mu as well)
    dmu = -dx_centered.sum(axis=0)
    dx = dx_centered
    # mu = mean(x): every row receives dmu / N
    dx += dmu / N
    ### END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalisation in the simplified closed form.

    With ``g = dout * gamma`` (the gradient on ``x_hat``) the algebra
    collapses to ``dx = istd / N * (N * g - sum(g) - x_hat * sum(g * x_hat))``,
    sums over the batch axis: one expression instead of a chain of stages.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
        Upstream gradient.
    cache : tuple
        From ``batchnorm_forward`` in train mode.

    Returns
    -------
    dx : ndarray, shape (N, D)
    dgamma : ndarray, shape (D,)
    dbeta : ndarray, shape (D,)
    """
    dout = _check_cache(cache, dout, "batchnorm_backward_alt")
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    # Hint: dbeta and dgamma first; dx then needs only those two sums and x_hat (Part 3's formula)
    x_centered, gamma, _, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("nd,nd->d", dout, x_centered) * inv_std  # sum(dout * x_hat)
    # With g = dout * gamma, sum(g) = gamma * dbeta and sum(g * x_hat) = gamma * dgamma, so
    # dx = gamma * istd * (dout - dbeta / N - x_hat * dgamma / N), built in one buffer
    # (x_hat = x_centered * istd).
    dx = x_centered * (-inv_std * dgamma / N)
    dx += dout
    dx -= dbeta / N
    dx *= gamma * inv_std
    ### END SOLUTION
    return dx, dgamma, dbeta


def _check_spatial_x(x, name="x"):
    return require_array(name, x, ndim=4, layout="(N, C, H, W)")


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of spatial batch normalisation for conv activations.

    Each channel is one feature: its mean and variance are taken over N, H
    and W together, so every position of a feature map is normalised the
    same way (what keeps the layer convolutional).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma : ndarray, shape (C,)
        Scale, one per channel.
    beta : ndarray, shape (C,)
        Shift, one per channel.
    bn_param : dict
        As for ``batchnorm_forward`` (running averages have shape (C,)).

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : tuple
        For ``spatial_batchnorm_backward`` (``None`` in test mode).
    """
    _check_bn_param(bn_param)
    x = _check_spatial_x(x)
    N, C, H, W = x.shape
    _check_scale_shift(gamma, beta, C, "channel of x")
    out, cache = None, None
    ### BEGIN SOLUTION
    # Hint: channels last, reshape to (N*H*W, C), call batchnorm_forward, undo the reshape.
    # Put channels last so that each row is one (n, h, w) position: then the
    # per-feature statistics of plain batch normalisation are per channel.
    x_rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    out_rows, cache = batchnorm_forward(x_rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalisation.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
        Upstream gradient.
    cache : tuple
        From ``spatial_batchnorm_forward`` in train mode.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dgamma : ndarray, shape (C,)
    dbeta : ndarray, shape (C,)
    """
    dout = _check_spatial_x(dout, "dout")
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    # Hint: the same reshapes as the forward pass around batchnorm_backward_alt.
    N, C, H, W = dout.shape
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout_rows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return dx, dgamma, dbeta
