"""Typical mistakes of the activations assignment: every activation's backward pass."""

from __future__ import annotations

import numpy as np

from autograder.diagnosis.catalogue import Mutant


def sigmoid_no_upstream(dout, cache):
    s = cache
    return s * (1.0 - s) + 0.0 * dout


def sigmoid_of_input(dout, cache):
    # treats the cached output as if it were x and applies the sigmoid again
    s = 1.0 / (1.0 + np.exp(-cache))
    return dout * s * (1.0 - s)


def tanh_no_upstream(dout, cache):
    return 1.0 - cache * cache + 0.0 * dout


def tanh_of_input(dout, cache):
    return dout * (1.0 - np.tanh(cache) ** 2)


def tanh_sign(dout, cache):
    return dout * (cache * cache - 1.0)


def leaky_mask_boundary(dout, cache):
    x, alpha = cache
    return dout * np.where(x >= 0, 1.0, alpha)


def leaky_mask_inverted(dout, cache):
    x, alpha = cache
    return dout * np.where(x > 0, alpha, 1.0)


def leaky_mask_inverted_strict(dout, cache):
    x, alpha = cache
    return dout * np.where(x < 0, 1.0, alpha)


def leaky_no_upstream(dout, cache):
    x, alpha = cache
    return np.where(x > 0, 1.0, alpha) + 0.0 * dout


def _prelu_dalpha(x, dout, scalar, sum_axes):
    """dalpha summed over ``sum_axes`` only (a scalar alpha: not summed at all)."""
    full = dout * np.where(x <= 0, x, 0.0)
    return full if scalar else full.sum(axis=sum_axes)


def prelu_channel_batch_only(dout, cache):
    x, alpha_b, scalar = cache
    dx = dout * np.where(x <= 0, alpha_b, 1.0)
    return dx, _prelu_dalpha(x, dout, scalar, (0,))


def prelu_mask_of_output(dout, cache):
    x, alpha_b, scalar = cache
    out = np.where(x > 0, x, alpha_b * x)
    negative = out <= 0
    dx = dout * np.where(negative, alpha_b, 1.0)
    full = dout * np.where(negative, x, 0.0)
    if scalar:
        return dx, np.float64(full.sum())
    return dx, full.sum(axis=tuple(a for a in range(x.ndim) if a != 1))


def prelu_dalpha_of_alpha(dout, cache):
    x, alpha_b, scalar = cache
    dx = dout * np.where(x <= 0, alpha_b, 1.0)
    full = dout * np.where(x <= 0, alpha_b, 0.0)
    if scalar:
        return dx, np.float64(full.sum())
    return dx, full.sum(axis=tuple(a for a in range(x.ndim) if a != 1))


def elu_without_alpha(dout, cache):
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))


def elu_out_only(dout, cache):
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, out)


def elu_alpha_times_out(dout, cache):
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, alpha * out)


def elu_mask_boundary(dout, cache):
    x, out, alpha = cache
    return dout * np.where(x >= 0, 1.0, out + alpha)


def maxout_every_piece(dout, cache):
    x, w, b, winner = cache
    n, d = x.shape
    _, m, k = w.shape
    dz = np.repeat(dout[:, :, None], k, axis=2)
    rows = dz.reshape(n, m * k)
    return rows @ w.reshape(d, m * k).T, (x.T @ rows).reshape(d, m, k), dz.sum(axis=0)


def maxout_db_not_summed(dout, cache):
    x, w, b, winner = cache
    n, d = x.shape
    _, m, k = w.shape
    dz = np.zeros((n, m, k))
    np.put_along_axis(dz, winner[:, :, None], dout[:, :, None], axis=2)
    rows = dz.reshape(n, m * k)
    return rows @ w.reshape(d, m * k).T, (x.T @ rows).reshape(d, m, k), dz


_A = "activations.py"

MUTANTS = [
    Mutant("missing-upstream", "activations", "sigmoid_backward", sigmoid_no_upstream,
           f"sigmoid_backward ({_A}) returns the local gradient s (1 - s) without "
           "multiplying it by dout, the upstream gradient.", "test_sigmoid"),
    Mutant("derivative-of-input", "activations", "sigmoid_backward", sigmoid_of_input,
           f"sigmoid_backward ({_A}) treats the cache as the input x and applies the sigmoid "
           "again; the cache already holds the output s, and the local gradient is written "
           "with s.", "test_sigmoid"),
    Mutant("missing-upstream", "activations", "tanh_backward", tanh_no_upstream,
           f"tanh_backward ({_A}) returns the local gradient without multiplying it by dout, "
           "the upstream gradient.", "test_tanh"),
    Mutant("derivative-of-input", "activations", "tanh_backward", tanh_of_input,
           f"tanh_backward ({_A}) treats the cache as the input x and applies tanh again; "
           "the cache already holds the output, and the local gradient is written with it.",
           "test_tanh"),
    Mutant("sign", "activations", "tanh_backward", tanh_sign,
           f"tanh_backward ({_A}): the sign of the gradient is flipped; tanh rises "
           "everywhere, so its local gradient is positive.", "test_tanh"),
    Mutant("mask-boundary", "activations", "leaky_relu_backward", leaky_mask_boundary,
           f"leaky_relu_backward ({_A}): at x == 0 exactly the slope should be alpha (the "
           "left branch, as in the forward pass's x > 0 test); check > against >=.",
           "test_leaky_relu"),
    Mutant("mask-inverted", "activations", "leaky_relu_backward", leaky_mask_inverted,
           f"leaky_relu_backward ({_A}) uses slope alpha for positive inputs and 1 for "
           "negative ones: the mask is on the wrong side.", "test_leaky_relu"),
    Mutant("mask-inverted", "activations", "leaky_relu_backward", leaky_mask_inverted_strict,
           f"leaky_relu_backward ({_A}) uses slope 1 for negative inputs and alpha for the "
           "others: the mask is on the wrong side.", "test_leaky_relu", "strict"),
    Mutant("missing-upstream", "activations", "leaky_relu_backward", leaky_no_upstream,
           f"leaky_relu_backward ({_A}) returns the local slope without multiplying it by "
           "dout, the upstream gradient.", "test_leaky_relu"),
    Mutant("shared-param-not-summed", "activations", "prelu_backward",
           prelu_channel_batch_only,
           f"prelu_backward ({_A}): dalpha is not summed over every axis alpha is shared "
           "across; it must come out with alpha's shape (scalar, (D,) or (C,)).", "test_prelu"),
    Mutant("mask-of-output", "activations", "prelu_backward", prelu_mask_of_output,
           f"prelu_backward ({_A}) picks the negative branch from the output's sign; with a "
           "negative alpha the output of a negative x is positive: use the input x.",
           "test_prelu"),
    Mutant("transposed", "activations", "prelu_backward", prelu_dalpha_of_alpha,
           f"prelu_backward ({_A}): dalpha uses alpha where x belongs; on the negative "
           "branch out = alpha * x, so d out / d alpha is x.", "test_prelu"),
    Mutant("elu-negative", "activations", "elu_backward", elu_without_alpha,
           f"elu_backward ({_A}): the negative branch's slope lacks the factor alpha "
           "(d/dx of alpha (exp(x) - 1)).", "test_elu"),
    Mutant("elu-negative", "activations", "elu_backward", elu_out_only,
           f"elu_backward ({_A}): the negative branch's slope is the output itself; it is "
           "alpha exp(x), which is the output plus alpha.", "test_elu", "out"),
    Mutant("elu-negative", "activations", "elu_backward", elu_alpha_times_out,
           f"elu_backward ({_A}): the negative branch's slope is alpha times the output; it "
           "is alpha exp(x), which is the output plus alpha.", "test_elu", "alpha-out"),
    Mutant("mask-boundary", "activations", "elu_backward", elu_mask_boundary,
           f"elu_backward ({_A}): at x == 0 exactly the slope should come from the left "
           "branch, as in the forward pass's x > 0 test; check > against >=.", "test_elu"),
    Mutant("max-routing", "activations", "maxout_backward", maxout_every_piece,
           f"maxout_backward ({_A}) sends each unit's gradient to all of its pieces; only "
           "the piece that won the max (the cached winner) gets it.", "test_maxout"),
    Mutant("bias-not-summed", "activations", "maxout_backward", maxout_db_not_summed,
           f"maxout_backward ({_A}): db keeps one entry per sample; the biases are shared by "
           "the batch, so db sums over it.", "test_maxout"),
]
