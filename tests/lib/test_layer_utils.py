"""Sandwich layers: same output as their layers run by hand, correct gradients."""

import numpy as np
import pytest

from cs231n_lib.activations import relu_forward, tanh_forward
from cs231n_lib.affine import affine_forward
from cs231n_lib.batchnorm import batchnorm_forward
from cs231n_lib.conv import conv_forward_naive, max_pool_forward_naive
from cs231n_lib.gradient_check import check_gradients
from cs231n_lib.layer_utils import (
    ACTIVATION_LAYERS,
    affine_batchnorm_relu_backward,
    affine_batchnorm_relu_forward,
    affine_norm_activation_backward,
    affine_norm_activation_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)


def affine_inputs(rng, N=6, D=(2, 3), M=5):
    x = rng.standard_normal((N, *D))
    w = rng.standard_normal((int(np.prod(D)), M)) / np.sqrt(np.prod(D))
    b = rng.standard_normal(M)
    gamma = 1.0 + 0.2 * rng.standard_normal(M)
    beta = 0.2 * rng.standard_normal(M)
    return x, w, b, gamma, beta


def test_activation_choices():
    assert sorted(ACTIVATION_LAYERS) == ["elu", "leaky_relu", "relu", "sigmoid", "tanh"]


def test_affine_relu_is_affine_then_relu(rng):
    x, w, b, _, _ = affine_inputs(rng)
    out, _ = affine_relu_forward(x, w, b)
    np.testing.assert_array_equal(out, relu_forward(affine_forward(x, w, b)[0])[0])


def test_affine_relu_gradients(rng):
    x, w, b, _, _ = affine_inputs(rng)
    report = check_gradients(affine_relu_forward, affine_relu_backward, [x, w, b], rng=rng)
    assert [row.name for row in report.rows] == ["x", "w", "b"]
    assert report.passed, str(report)


def test_affine_batchnorm_relu_is_the_three_layers(rng):
    x, w, b, gamma, beta = affine_inputs(rng)
    out, _ = affine_batchnorm_relu_forward(x, w, b, gamma, beta, {"mode": "train"})
    a = affine_forward(x, w, b)[0]
    expected = relu_forward(batchnorm_forward(a, gamma, beta, {"mode": "train"})[0])[0]
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_affine_batchnorm_relu_gradients(rng):
    x, w, b, gamma, beta = affine_inputs(rng)

    def forward(x, w, b, gamma, beta):
        return affine_batchnorm_relu_forward(x, w, b, gamma, beta, {"mode": "train"})

    report = check_gradients(forward, affine_batchnorm_relu_backward, [x, w, b, gamma, beta],
                             rng=rng)
    assert [row.name for row in report.rows] == ["x", "w", "b", "gamma", "beta"]
    assert_passed_but_bias(report, forward, affine_batchnorm_relu_backward, x, w, b, gamma, beta)


def assert_passed_but_bias(report, forward, backward, *inputs):
    """Every row passes, except b, whose gradient must be 0.

    A batchnorm subtracts the batch mean, which cancels a bias before it: the
    true gradient of b is exactly 0, and a relative error against 0 measures
    only the rounding noise of the centred difference.
    """
    failed = [row.name for row in report.rows if not row.passed]
    assert failed in ([], ["b"]), str(report)
    out, cache = forward(*inputs)
    db = backward(np.ones_like(out), cache)[2]
    np.testing.assert_allclose(db, 0.0, atol=1e-12)


@pytest.mark.parametrize("activation", sorted(ACTIVATION_LAYERS))
@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_generic_sandwich_gradients(rng, activation, normalization):
    x, w, b, gamma, beta = affine_inputs(rng)
    if normalization is None:
        def forward(x, w, b):
            return affine_norm_activation_forward(x, w, b, activation=activation)
        inputs = [x, w, b]
    else:
        def forward(x, w, b, gamma, beta):
            return affine_norm_activation_forward(x, w, b, gamma, beta, {"mode": "train"},
                                                  activation=activation)
        inputs = [x, w, b, gamma, beta]
    report = check_gradients(forward, affine_norm_activation_backward, inputs, rng=rng)
    assert len(report.rows) == len(inputs)
    if normalization is None:
        assert report.passed, str(report)
    else:
        assert_passed_but_bias(report, forward, affine_norm_activation_backward, *inputs)


def test_generic_sandwich_uses_the_chosen_activation(rng):
    x, w, b, _, _ = affine_inputs(rng)
    out, _ = affine_norm_activation_forward(x, w, b, activation="tanh")
    np.testing.assert_array_equal(out, tanh_forward(affine_forward(x, w, b)[0])[0])


def test_batchnorm_sandwich_updates_running_averages_and_uses_them_in_test_mode(rng):
    x, w, b, gamma, beta = affine_inputs(rng)
    bn_param = {"mode": "train"}
    affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param)
    assert bn_param["running_mean"].shape == (5,)
    bn_param["mode"] = "test"
    out_one, _ = affine_batchnorm_relu_forward(x[:1], w, b, gamma, beta, bn_param)
    out_all, _ = affine_batchnorm_relu_forward(x, w, b, gamma, beta, bn_param)
    # Test mode treats every sample on its own.
    np.testing.assert_allclose(out_one[0], out_all[0], rtol=1e-12)


def test_unknown_activation_lists_the_choices(rng):
    x, w, b, _, _ = affine_inputs(rng)
    with pytest.raises(ValueError, match="activation must be one of 'relu'.*got 'softplus'"):
        affine_norm_activation_forward(x, w, b, activation="softplus")


def test_batchnorm_without_gamma_is_a_clear_error(rng):
    x, w, b, _, beta = affine_inputs(rng)
    with pytest.raises(ValueError, match="batchnorm needs gamma and beta"):
        affine_norm_activation_forward(x, w, b, None, beta, {"mode": "train"})
    with pytest.raises(ValueError, match="bn_param is None"):
        affine_batchnorm_relu_forward(x, w, b, np.ones(5), beta, None)


def conv_inputs(rng, N=2, C=3, H=6, W=6, F=4, k=3):
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, k, k)) / np.sqrt(C * k * k)
    b = rng.standard_normal(F)
    return x, w, b


def test_conv_relu_matches_the_naive_layers(rng):
    x, w, b = conv_inputs(rng)
    conv_param = {"stride": 1, "pad": 1}
    out, _ = conv_relu_forward(x, w, b, conv_param)
    expected = relu_forward(conv_forward_naive(x, w, b, conv_param)[0])[0]
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_conv_relu_gradients(rng):
    x, w, b = conv_inputs(rng)
    conv_param = {"stride": 1, "pad": 1}
    report = check_gradients(conv_relu_forward, conv_relu_backward,
                             [x, w, b, conv_param], rng=rng)
    assert [row.name for row in report.rows] == ["x", "w", "b"]
    assert report.passed, str(report)


def test_conv_relu_pool_matches_the_naive_layers(rng):
    x, w, b = conv_inputs(rng)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, _ = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
    a = relu_forward(conv_forward_naive(x, w, b, conv_param)[0])[0]
    expected = max_pool_forward_naive(a, pool_param)[0]
    assert out.shape == (2, 4, 3, 3)
    np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)


def test_conv_relu_pool_gradients(rng):
    x, w, b = conv_inputs(rng)
    conv_param = {"stride": 1, "pad": 1}
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    report = check_gradients(conv_relu_pool_forward, conv_relu_pool_backward,
                             [x, w, b, conv_param, pool_param], rng=rng)
    assert [row.name for row in report.rows] == ["x", "w", "b"]
    assert report.passed, str(report)
