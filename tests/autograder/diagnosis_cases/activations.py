"""Cases of the activations assignment: backward passes of every activation."""

from __future__ import annotations

import numpy as np

from autograder.diagnosis.measure import Case


def sigmoid_local_only(dout, cache):
    return cache * (1 - cache)


def sigmoid_of_cache(dout, cache):
    e = np.exp(-cache)
    return dout * e / (1 + e) ** 2


def sigmoid_flipped(dout, cache):
    return dout * cache * (cache - 1)


def sigmoid_expanded(dout, cache):
    """Correct: s - s**2 instead of s (1 - s)."""
    return dout * (cache - cache ** 2)


def tanh_local_only(dout, cache):
    return 1 - np.square(cache)


def tanh_of_cache(dout, cache):
    return dout / np.cosh(cache) ** 2


def leaky_zero_passes(dout, cache):
    x, alpha = cache
    dx = dout.copy()
    dx[x < 0] *= alpha
    return dx


def leaky_swapped_sides(dout, cache):
    x, alpha = cache
    return dout * np.where(x < 0, 1.0, alpha)


def leaky_masked_copy(dout, cache):
    """Correct: a copy scaled in place where x <= 0."""
    x, alpha = cache
    dx = np.array(dout, dtype=np.float64)
    dx[x <= 0] *= alpha
    return dx


def prelu_batch_sum_only(dout, cache):
    x, a, scalar = cache
    neg = x <= 0
    return dout * np.where(neg, a, 1), np.sum(dout * x * neg, axis=0)


def prelu_output_sign(dout, cache):
    x, a, scalar = cache
    out = np.where(x > 0, x, a * x)
    pos = out > 0
    dx = np.where(pos, dout, a * dout)
    contrib = np.where(pos, 0.0, x * dout)
    if scalar:
        return dx, contrib.sum()
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    return dx, contrib.sum(axis=axes)


def prelu_einsum(dout, cache):
    """Correct: dalpha by einsum over the shared axes."""
    x, a, scalar = cache
    neg_x = np.minimum(x, 0.0)
    dx = dout * np.where(x > 0, 1.0, a)
    if scalar:
        return dx, float(np.sum(dout * neg_x))
    spec = "nd,nd->d" if x.ndim == 2 else "nchw,nchw->c"
    return dx, np.einsum(spec, dout, neg_x)


def elu_forgot_alpha(dout, cache):
    x, out, alpha = cache
    return np.where(x > 0, dout, dout * np.exp(np.clip(x, None, 0)))


def elu_slope_is_out(dout, cache):
    x, out, alpha = cache
    slope = np.ones_like(x)
    slope[x <= 0] = out[x <= 0]
    return dout * slope


def elu_left_open(dout, cache):
    x, out, alpha = cache
    return np.where(x < 0, dout * alpha * np.exp(np.minimum(x, 0)), dout)


def elu_explicit_exp(dout, cache):
    """Correct: alpha exp(x) from x itself (clipped so exp never overflows)."""
    x, out, alpha = cache
    return np.where(x > 0, dout, dout * alpha * np.exp(np.minimum(x, 0.0)))


def maxout_broadcast(dout, cache):
    x, w, b, winner = cache
    k = w.shape[2]
    dz = np.broadcast_to(dout[:, :, None], dout.shape + (k,))
    return (np.einsum("nmk,dmk->nd", dz, w), np.einsum("nd,nmk->dmk", x, dz),
            dz.sum(axis=0))


def maxout_db_rows(dout, cache):
    x, w, b, winner = cache
    dz = (np.arange(w.shape[2]) == winner[:, :, None]) * dout[:, :, None]
    return (np.einsum("nmk,dmk->nd", dz, w), np.einsum("nd,nmk->dmk", x, dz), dz)


def maxout_one_hot(dout, cache):
    """Correct: a one-hot mask of the winners, then einsums."""
    x, w, b, winner = cache
    dz = (np.arange(w.shape[2]) == winner[:, :, None]) * dout[:, :, None]
    return (np.einsum("nmk,dmk->nd", dz, w), np.einsum("nd,nmk->dmk", x, dz), dz.sum(0))


def _case(name, function, impl, expected, grade_id):
    return Case(name, "activations", "activations", function, impl, expected, grade_id)


CASES = (
    _case("sigmoid_local_only", "sigmoid_backward", sigmoid_local_only, "missing-upstream",
          "test_sigmoid"),
    _case("sigmoid_of_cache", "sigmoid_backward", sigmoid_of_cache, "derivative-of-input",
          "test_sigmoid"),
    _case("sigmoid_flipped", "sigmoid_backward", sigmoid_flipped, "sign", "test_sigmoid"),
    _case("sigmoid_expanded", "sigmoid_backward", sigmoid_expanded, None, "test_sigmoid"),
    _case("tanh_local_only", "tanh_backward", tanh_local_only, "missing-upstream", "test_tanh"),
    _case("tanh_of_cache", "tanh_backward", tanh_of_cache, "derivative-of-input", "test_tanh"),
    _case("leaky_zero_passes", "leaky_relu_backward", leaky_zero_passes, "mask-boundary",
          "test_leaky_relu"),
    _case("leaky_swapped_sides", "leaky_relu_backward", leaky_swapped_sides, "mask-inverted",
          "test_leaky_relu"),
    _case("leaky_masked_copy", "leaky_relu_backward", leaky_masked_copy, None,
          "test_leaky_relu"),
    _case("prelu_batch_sum_only", "prelu_backward", prelu_batch_sum_only,
          "shared-param-not-summed", "test_prelu"),
    _case("prelu_output_sign", "prelu_backward", prelu_output_sign, "mask-of-output",
          "test_prelu"),
    _case("prelu_einsum", "prelu_backward", prelu_einsum, None, "test_prelu"),
    _case("elu_forgot_alpha", "elu_backward", elu_forgot_alpha, "elu-negative", "test_elu"),
    _case("elu_slope_is_out", "elu_backward", elu_slope_is_out, "elu-negative", "test_elu"),
    _case("elu_left_open", "elu_backward", elu_left_open, "mask-boundary", "test_elu"),
    _case("elu_explicit_exp", "elu_backward", elu_explicit_exp, None, "test_elu"),
    _case("maxout_broadcast", "maxout_backward", maxout_broadcast, "max-routing",
          "test_maxout"),
    _case("maxout_db_rows", "maxout_backward", maxout_db_rows, "bias-not-summed",
          "test_maxout"),
    _case("maxout_one_hot", "maxout_backward", maxout_one_hot, None, "test_maxout"),
)
