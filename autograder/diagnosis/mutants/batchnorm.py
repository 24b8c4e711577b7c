"""Typical mistakes of the batchnorm assignment: forward (train, test), backward, spatial."""

from __future__ import annotations

import numpy as np

from autograder.diagnosis.catalogue import Mutant
from cs231n_lib import batchnorm as _bn


def _forward(x, gamma, beta, bn_param, *, ddof=0, eps_inside=True, test_update=False,
             test_batch=False, momentum_swapped=False, eps_left_out=False):
    """batchnorm_forward with one thing changed by the keywords (defaults: the reference)."""
    mode = bn_param["mode"]
    eps = 0.0 if eps_left_out else bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    n, d = x.shape
    running_mean, running_var = _bn._running_stats(bn_param, d, x.dtype)
    cache = None
    if mode == "train" or test_update or test_batch:
        mean, var = x.mean(axis=0), x.var(axis=0, ddof=ddof)
        std = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
        out = gamma * (x - mean) / std + beta
        cache = (x - mean, gamma, std, 1.0 / std)
        keep, new = (1 - momentum, momentum) if momentum_swapped else (momentum, 1 - momentum)
        if mode == "train" or test_update:
            running_mean = keep * running_mean + new * mean
            running_var = keep * running_var + new * var
    if mode == "test":
        cache = None
        if not test_batch:
            out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache


def bn_unbiased(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, ddof=1)


def bn_eps_outside(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, eps_inside=False)


def bn_eps_left_out(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, eps_left_out=True)


def bn_test_updates(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, test_update=True)


def bn_test_batch(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, test_batch=True)


def bn_momentum_swapped(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, momentum_swapped=True)


def _backward(dout, cache, *, mean_path=True, var_path=True, var_scale=1.0,
              dgamma_summed=True):
    """The staged backward pass with one path changed by the keywords."""
    xc, gamma, std, istd = cache
    n = dout.shape[0]
    x_hat = xc * istd
    dgamma = (dout * x_hat).sum(axis=0) if dgamma_summed else dout * x_hat
    dx_hat = dout * gamma
    dxc = dx_hat * istd
    dvar = -0.5 * (dx_hat * xc).sum(axis=0) * istd ** 3
    if var_path:
        dxc = dxc + 2.0 * xc * dvar / n * var_scale
    dx = dxc - dxc.mean(axis=0) if mean_path else dxc
    return dx, dgamma, dout.sum(axis=0)


def staged_no_mean(dout, cache):
    return _backward(dout, cache, mean_path=False)


def staged_no_var(dout, cache):
    return _backward(dout, cache, var_path=False)


def staged_var_times_n(dout, cache):
    return _backward(dout, cache, var_scale=dout.shape[0])


def staged_var_sign(dout, cache):
    return _backward(dout, cache, var_scale=-1.0)


def alt_no_var(dout, cache):
    return _backward(dout, cache, var_path=False)


def staged_dgamma_not_summed(dout, cache):
    return _backward(dout, cache, dgamma_summed=False)


def alt_no_mean(dout, cache):
    return _backward(dout, cache, mean_path=False)


def alt_missing_n(dout, cache):
    xc, gamma, std, istd = cache
    n = dout.shape[0]
    x_hat = xc * istd
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx = gamma * istd / n * (dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def spatial_no_transpose(x, gamma, beta, bn_param):
    n, c, h, w = x.shape
    rows = x.reshape(n * h * w, c)
    out, cache = _bn.batchnorm_forward(rows, gamma, beta, bn_param)
    return out.reshape(n, c, h, w), cache


def spatial_not_transposed_back(x, gamma, beta, bn_param):
    n, c, h, w = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)
    out, cache = _bn.batchnorm_forward(rows, gamma, beta, bn_param)
    return out.reshape(n, c, h, w), cache


def spatial_backward_no_transpose(dout, cache):
    n, c, h, w = dout.shape
    dx, dgamma, dbeta = _bn.batchnorm_backward_alt(dout.reshape(n * h * w, c), cache)
    return dx.reshape(n, c, h, w), dgamma, dbeta


_B = "batchnorm.py"
_F = f"batchnorm_forward ({_B})"
_TRAIN = "test_batchnorm_forward_train"
_TEST = "test_batchnorm_forward_test"
_STAGED = "test_batchnorm_backward"
_ALT = "test_batchnorm_backward_alt"

MUTANTS = [
    Mutant("bn-unbiased-var", "batchnorm", "batchnorm_forward", bn_unbiased,
           f"{_F} uses the unbiased variance (divided by N - 1); batch normalisation "
           "divides by N, as in the paper's normalisation step.", _TRAIN),
    Mutant("bn-eps", "batchnorm", "batchnorm_forward", bn_eps_outside,
           f"{_F} adds eps to the standard deviation; it belongs under the square root, "
           "added to the variance.", _TRAIN),
    Mutant("bn-eps", "batchnorm", "batchnorm_forward", bn_eps_left_out,
           f"{_F} divides by the standard deviation without eps (or with a negligible one): "
           "eps, added to the variance under the square root, keeps a batch with a constant "
           "feature from dividing by zero.", _TRAIN, "left-out"),
    Mutant("bn-test-update", "batchnorm", "batchnorm_forward", bn_test_updates,
           f"{_F} updates the running averages in test mode; test mode only reads them.",
           _TEST),
    Mutant("bn-test-batch-stats", "batchnorm", "batchnorm_forward", bn_test_batch,
           f"{_F} normalises test batches with their own mean and variance; test mode uses "
           "the running averages.", _TEST),
    Mutant("bn-momentum", "batchnorm", "batchnorm_forward", bn_momentum_swapped,
           f"{_F}: the running averages give the new batch the weight momentum; momentum "
           "is the weight of the old running value.", _TRAIN),
    Mutant("bn-mean-path", "batchnorm", "batchnorm_backward", staged_no_mean,
           f"batchnorm_backward ({_B}) leaves out the path through the mean: x feeds mu as "
           "well as x - mu, and both gradients add up.", _STAGED),
    Mutant("bn-var-path", "batchnorm", "batchnorm_backward", staged_no_var,
           f"batchnorm_backward ({_B}) leaves out the path through the variance: x - mu "
           "feeds the variance as well as x_hat.", _STAGED),
    Mutant("sign", "batchnorm", "batchnorm_backward", staged_var_sign,
           f"batchnorm_backward ({_B}): the path through the variance has the wrong sign; "
           "d(1/sqrt(v))/dv = -1/2 v^(-3/2), and the minus is easy to lose.", _STAGED),
    Mutant("scale-1/N", "batchnorm", "batchnorm_backward", staged_var_times_n,
           f"batchnorm_backward ({_B}): the variance stage's gradient lacks its 1/N (the "
           "variance is a mean over the batch).", _STAGED),
    Mutant("bias-not-summed", "batchnorm", "batchnorm_backward", staged_dgamma_not_summed,
           f"batchnorm_backward ({_B}): dgamma keeps one row per sample; gamma is shared by "
           "the batch, so its gradient sums over it.", _STAGED),
    Mutant("bn-mean-path", "batchnorm", "batchnorm_backward_alt", alt_no_mean,
           f"batchnorm_backward_alt ({_B}) lacks the term of the batch mean of the upstream "
           "gradient (the path through mu).", _ALT),
    Mutant("bn-var-path", "batchnorm", "batchnorm_backward_alt", alt_no_var,
           f"batchnorm_backward_alt ({_B}) lacks the term through the variance (x_hat "
           "times the batch mean of dout * x_hat).", _ALT),
    Mutant("scale-1/N", "batchnorm", "batchnorm_backward_alt", alt_missing_n,
           f"batchnorm_backward_alt ({_B}): the two batch sums inside the bracket need their "
           "1/N (they are means).", _ALT),
    Mutant("layout", "batchnorm", "spatial_batchnorm_forward", spatial_no_transpose,
           f"spatial_batchnorm_forward ({_B}) reshapes (N, C, H, W) to rows without moving "
           "the channels last first, so a row mixes channels.", "test_spatial_batchnorm_forward"),
    Mutant("layout", "batchnorm", "spatial_batchnorm_forward", spatial_not_transposed_back,
           f"spatial_batchnorm_forward ({_B}) moves the channels last on the way in but "
           "only reshapes on the way out: the rows must be turned back to (N, H, W, C) and "
           "the channels moved back to axis 1.", "test_spatial_batchnorm_forward", "out"),
    Mutant("layout", "batchnorm", "spatial_batchnorm_backward", spatial_backward_no_transpose,
           f"spatial_batchnorm_backward ({_B}) reshapes dout without moving the channels "
           "last first, so a row mixes channels.", "test_spatial_batchnorm_backward"),
]
