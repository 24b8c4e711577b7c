"""Cases of the batchnorm assignment: forward (train and test), backward, spatial."""

from __future__ import annotations

import numpy as np

from autograder.diagnosis.measure import Case


def _state(x, bn_param):
    d = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(d))
    rv = bn_param.get("running_var", np.ones(d))
    return bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9), rm, rv


def _forward(x, gamma, beta, bn_param, *, var_of, std_of, test_update=False,
             test_batch=False, blend=None):
    """A student's forward pass; the keywords say how each step is written."""
    eps, m, rm, rv = _state(x, bn_param)
    blend = blend or (lambda old, new: m * old + (1 - m) * new)
    cache = None
    if bn_param["mode"] == "train":
        mu = np.mean(x, axis=0)
        var = var_of(x, mu)
        xhat = (x - mu) / std_of(var, eps)
        out = gamma * xhat + beta
        std = np.sqrt(var + eps)
        cache = (x - mu, gamma, std, 1 / std)
        rm, rv = blend(rm, mu), blend(rv, var)
    elif test_batch:
        mu, var = x.mean(0), x.var(0)
        out = gamma * (x - mu) / np.sqrt(var + eps) + beta
    else:
        if test_update:
            rm, rv = blend(rm, x.mean(0)), blend(rv, x.var(0))
        out = gamma * (x - rm) / np.sqrt(rv + eps) + beta
    bn_param["running_mean"], bn_param["running_var"] = rm, rv
    return out, cache


def _biased(x, mu):
    return np.mean((x - mu) ** 2, axis=0)


def _root(var, eps):
    return np.sqrt(var + eps)


def bn_sample_variance(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param,
                    var_of=lambda x, mu: ((x - mu) ** 2).sum(0) / (x.shape[0] - 1), std_of=_root)


def bn_eps_on_std(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, var_of=_biased,
                    std_of=lambda var, eps: np.sqrt(var) + eps)


def bn_eps_squared(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, var_of=_biased,
                    std_of=lambda var, eps: np.sqrt(var + eps ** 2))


def bn_test_refreshes(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, var_of=_biased, std_of=_root, test_update=True)


def bn_test_own_stats(x, gamma, beta, bn_param):
    return _forward(x, gamma, beta, bn_param, var_of=_biased, std_of=_root, test_batch=True)


def bn_momentum_on_new(x, gamma, beta, bn_param):
    m = bn_param.get("momentum", 0.9)
    return _forward(x, gamma, beta, bn_param, var_of=_biased, std_of=_root,
                    blend=lambda old, new: (1 - m) * old + m * new)


def bn_xhat_explicit(x, gamma, beta, bn_param):
    """Correct: x_hat built explicitly, np.var for the variance."""
    return _forward(x, gamma, beta, bn_param, var_of=lambda x, mu: np.var(x, axis=0),
                    std_of=_root)


def _unpack(cache):
    xc, gamma, std, istd = cache
    return xc, gamma, istd, xc * istd, xc.shape[0]


def staged_skips_mu(dout, cache):
    xc, gamma, istd, xhat, n = _unpack(cache)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xc, axis=0)
    dvar = divar * -0.5 * istd ** 3
    dx = dxhat * istd + dvar * 2 * xc / n
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def staged_var_not_averaged(dout, cache):
    xc, gamma, istd, xhat, n = _unpack(cache)
    dxhat = dout * gamma
    dvar = np.sum(dxhat * xc, axis=0) * -0.5 * istd ** 3
    dxc = dxhat * istd + 2 * xc * dvar
    dx = dxc - np.sum(dxc, axis=0) / n
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def staged_dgamma_rows(dout, cache):
    xc, gamma, istd, xhat, n = _unpack(cache)
    dx, _, dbeta = staged_means(dout, cache)
    return dx, dout * xhat, dbeta


def staged_means(dout, cache):
    """Correct: each stage written with means instead of sums over N."""
    xc, gamma, istd, xhat, n = _unpack(cache)
    g = dout * gamma
    dxc = g * istd - xc * istd ** 3 * np.mean(g * xc, axis=0)
    dx = dxc - dxc.mean(axis=0)
    return dx, (dout * xhat).sum(0), dout.sum(0)


def alt_no_mean_term(dout, cache):
    xc, gamma, istd, xhat, n = _unpack(cache)
    dx = gamma * istd * (dout - xhat * np.mean(dout * xhat, axis=0))
    return dx, np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)


def alt_forgot_n(dout, cache):
    xc, gamma, istd, xhat, n = _unpack(cache)
    dgamma, dbeta = np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
    dx = (gamma * istd / n) * (dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def alt_times_n(dout, cache):
    """Correct: the textbook form with N * dout inside the bracket."""
    xc, gamma, istd, xhat, n = _unpack(cache)
    dgamma, dbeta = np.sum(dout * xhat, axis=0), np.sum(dout, axis=0)
    dx = (1.0 / n) * gamma * istd * (n * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def spatial_plain_reshape(x, gamma, beta, bn_param):
    from cs231n_lib.batchnorm import batchnorm_forward

    n, c, h, w = x.shape
    out, cache = batchnorm_forward(np.reshape(x, (-1, c)), gamma, beta, bn_param)
    return np.reshape(out, x.shape), cache


def spatial_back_without_transpose(x, gamma, beta, bn_param):
    from cs231n_lib.batchnorm import batchnorm_forward

    n, c, h, w = x.shape
    rows = np.moveaxis(x, 1, -1).reshape(-1, c)
    out, cache = batchnorm_forward(rows, gamma, beta, bn_param)
    return out.reshape(n, c, h, w), cache


def spatial_moveaxis(x, gamma, beta, bn_param):
    """Correct: moveaxis there and back."""
    from cs231n_lib.batchnorm import batchnorm_forward

    n, c, h, w = x.shape
    out, cache = batchnorm_forward(np.moveaxis(x, 1, -1).reshape(-1, c), gamma, beta, bn_param)
    return np.moveaxis(out.reshape(n, h, w, c), -1, 1), cache


def _case(name, function, impl, expected, grade_id):
    return Case(name, "batchnorm", "batchnorm", function, impl, expected, grade_id)


_TR, _TE = "test_batchnorm_forward_train", "test_batchnorm_forward_test"
_ST, _ALT = "test_batchnorm_backward", "test_batchnorm_backward_alt"
_SF = "test_spatial_batchnorm_forward"

CASES = (
    _case("bn_sample_variance", "batchnorm_forward", bn_sample_variance, "bn-unbiased-var", _TR),
    _case("bn_eps_on_std", "batchnorm_forward", bn_eps_on_std, "bn-eps", _TR),
    _case("bn_eps_squared", "batchnorm_forward", bn_eps_squared, "bn-eps", _TR),
    _case("bn_test_refreshes", "batchnorm_forward", bn_test_refreshes, "bn-test-update", _TE),
    _case("bn_test_own_stats", "batchnorm_forward", bn_test_own_stats, "bn-test-batch-stats",
          _TE),
    _case("bn_momentum_on_new", "batchnorm_forward", bn_momentum_on_new, "bn-momentum", _TR),
    _case("bn_xhat_explicit", "batchnorm_forward", bn_xhat_explicit, None, _TR),
    _case("staged_skips_mu", "batchnorm_backward", staged_skips_mu, "bn-mean-path", _ST),
    _case("staged_var_not_averaged", "batchnorm_backward", staged_var_not_averaged,
          "scale-1/N", _ST),
    _case("staged_dgamma_rows", "batchnorm_backward", staged_dgamma_rows, "bias-not-summed",
          _ST),
    _case("staged_means", "batchnorm_backward", staged_means, None, _ST),
    _case("alt_no_mean_term", "batchnorm_backward_alt", alt_no_mean_term, "bn-mean-path", _ALT),
    _case("alt_forgot_n", "batchnorm_backward_alt", alt_forgot_n, "scale-1/N", _ALT),
    _case("alt_times_n", "batchnorm_backward_alt", alt_times_n, None, _ALT),
    _case("spatial_plain_reshape", "spatial_batchnorm_forward", spatial_plain_reshape,
          "layout", _SF),
    _case("spatial_back_without_transpose", "spatial_batchnorm_forward",
          spatial_back_without_transpose, "layout", _SF),
    _case("spatial_moveaxis", "spatial_batchnorm_forward", spatial_moveaxis, None, _SF),
)
