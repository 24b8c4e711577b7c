"""Batch normalisation: gradients, running averages, test mode, spatial version."""

import numpy as np
import pytest

from cs231n_lib.batchnorm import (
    batchnorm_backward,
    batchnorm_backward_alt,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from cs231n_lib.checks import ShapeError
from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error

BACKWARDS = [batchnorm_backward, batchnorm_backward_alt]


@pytest.fixture
def rng():
    return np.random.default_rng(231)


def _bn_inputs(rng, N=6, D=5):
    x = 3.0 * rng.standard_normal((N, D)) + 2.0
    gamma = rng.standard_normal(D)
    beta = rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    return x, gamma, beta, dout


def _train_out(x, gamma, beta):
    # A fresh bn_param each call: the numerical gradient must not see the
    # running averages drift between evaluations.
    return batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]


@pytest.mark.parametrize("backward", BACKWARDS, ids=lambda f: f.__name__)
def test_batchnorm_backward_matches_numerical_gradients(rng, backward):
    x, gamma, beta, dout = _bn_inputs(rng)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = backward(dout, cache)

    dx_num = eval_numerical_gradient_array(lambda v: _train_out(v, gamma, beta), x, dout)
    dgamma_num = eval_numerical_gradient_array(lambda v: _train_out(x, v, beta), gamma, dout)
    dbeta_num = eval_numerical_gradient_array(lambda v: _train_out(x, gamma, v), beta, dout)
    assert dx.shape == x.shape and dgamma.shape == gamma.shape and dbeta.shape == beta.shape
    assert rel_error(dx, dx_num) < 1e-7
    assert rel_error(dgamma, dgamma_num) < 1e-7
    assert rel_error(dbeta, dbeta_num) < 1e-7


def test_alt_backward_equals_staged_backward(rng):
    x, gamma, beta, dout = _bn_inputs(rng, N=64, D=33)
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    staged = batchnorm_backward(dout, cache)
    alt = batchnorm_backward_alt(dout, cache)
    for a, b in zip(staged, alt, strict=True):
        assert rel_error(a, b) < 1e-10


def test_train_mode_normalises_each_feature(rng):
    x = rng.normal(loc=[5.0, -3.0, 0.0, 12.0], scale=[2.0, 0.1, 7.0, 1.0], size=(200, 4))
    out, _ = batchnorm_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    # Population std; eps = 1e-5 pulls it a hair below 1 for the narrowest feature.
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=1e-3)


def test_gamma_and_beta_set_the_output_scale_and_shift(rng):
    x = rng.standard_normal((500, 3))
    gamma, beta = np.array([1.0, 3.0, 0.5]), np.array([0.0, -2.0, 11.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-4)


def test_running_averages_follow_the_momentum_formula(rng):
    D = 3
    bn_param = {"mode": "train", "momentum": 0.8}
    expected_mean, expected_var = np.zeros(D), np.ones(D)
    for _ in range(5):
        x = rng.normal(loc=4.0, scale=2.0, size=(10, D))
        batchnorm_forward(x, np.ones(D), np.zeros(D), bn_param)
        expected_mean = 0.8 * expected_mean + 0.2 * x.mean(axis=0)
        expected_var = 0.8 * expected_var + 0.2 * x.var(axis=0)
        np.testing.assert_allclose(bn_param["running_mean"], expected_mean, rtol=1e-12)
        np.testing.assert_allclose(bn_param["running_var"], expected_var, rtol=1e-12)


def test_running_averages_start_at_zero_mean_unit_variance_with_momentum_09(rng):
    x = rng.standard_normal((8, 2))
    bn_param = {"mode": "train"}
    batchnorm_forward(x, np.ones(2), np.zeros(2), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.9 + 0.1 * x.var(axis=0))


def test_test_mode_uses_running_averages_and_leaves_them_alone(rng):
    D = 4
    running_mean = rng.standard_normal(D)
    running_var = rng.uniform(0.5, 2.0, D)
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    bn_param = {"mode": "test", "eps": 1e-5,
                "running_mean": running_mean.copy(), "running_var": running_var.copy()}
    x = rng.standard_normal((7, D))
    out, _ = batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_array_equal(bn_param["running_mean"], running_mean)
    np.testing.assert_array_equal(bn_param["running_var"], running_var)


def test_test_mode_after_training_matches_the_training_distribution(rng):
    # After many training batches from one distribution, test mode on a new
    # batch from it gives roughly zero-mean, unit-variance features.
    D = 3
    bn_param = {"mode": "train"}
    loc, scale = np.array([3.0, -1.0, 10.0]), np.array([2.0, 0.5, 4.0])
    for _ in range(200):
        batchnorm_forward(rng.normal(loc, scale, (50, D)), np.ones(D), np.zeros(D), bn_param)
    bn_param["mode"] = "test"
    out, _ = batchnorm_forward(rng.normal(loc, scale, (2000, D)), np.ones(D), np.zeros(D),
                               bn_param)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=0.15)
    np.testing.assert_allclose(out.std(axis=0), 1.0, atol=0.15)


def test_eps_is_read_from_bn_param():
    x = np.array([[0.0], [2.0]])  # variance 1
    out, _ = batchnorm_forward(x, np.ones(1), np.zeros(1), {"mode": "train", "eps": 3.0})
    np.testing.assert_allclose(out[:, 0], [-0.5, 0.5])


@pytest.mark.parametrize("bn_param", [{}, {"momentum": 0.9}])
def test_missing_mode_is_a_clear_error_with_an_example(bn_param):
    with pytest.raises(KeyError, match=r"'mode'.*For example: bn_param = \{'mode': 'train'"):
        batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), bn_param)


@pytest.mark.parametrize("mode", ["training", "eval", None, "Train"])
def test_wrong_mode_is_a_clear_error_with_an_example(mode):
    with pytest.raises(ValueError, match=r"'train' or 'test'.*For example: bn_param = "):
        batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {"mode": mode})


def test_spatial_checks_mode_too():
    with pytest.raises(KeyError, match="For example"):
        spatial_batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(3), np.zeros(3), {})


def test_gamma_of_the_wrong_length_is_a_clear_error():
    with pytest.raises(ShapeError, match=r"gamma: its length is 4 but must be 3"):
        batchnorm_forward(np.ones((2, 3)), np.ones(4), np.zeros(3), {"mode": "train"})


def test_x_of_the_wrong_rank_is_a_clear_error():
    with pytest.raises(ShapeError, match=r"x must have 2 dimensions \(N, D\)"):
        batchnorm_forward(np.ones((2, 3, 4)), np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ShapeError, match=r"x must have 4 dimensions \(N, C, H, W\)"):
        spatial_batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {"mode": "train"})


def test_running_stats_of_another_layer_are_refused():
    bn_param = {"mode": "test", "running_mean": np.zeros(5), "running_var": np.ones(5)}
    with pytest.raises(ShapeError, match="its own bn_param"):
        batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), bn_param)


def test_backward_after_test_mode_is_a_clear_error():
    out, cache = batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {"mode": "test"})
    with pytest.raises(ValueError, match="test mode"):
        batchnorm_backward(np.ones_like(out), cache)


def test_single_sample_train_batch_is_refused():
    with pytest.raises(ShapeError, match="at least 2 samples"):
        batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3), {"mode": "train"})


def _spatial_inputs(rng, N=2, C=3, H=4, W=5):
    x = 2.0 * rng.standard_normal((N, C, H, W)) + 1.0
    gamma = rng.standard_normal(C)
    beta = rng.standard_normal(C)
    dout = rng.standard_normal((N, C, H, W))
    return x, gamma, beta, dout


def _spatial_train_out(x, gamma, beta):
    return spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})[0]


def test_spatial_backward_matches_numerical_gradients(rng):
    x, gamma, beta, dout = _spatial_inputs(rng)
    _, cache = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)

    dx_num = eval_numerical_gradient_array(lambda v: _spatial_train_out(v, gamma, beta), x, dout)
    dgamma_num = eval_numerical_gradient_array(
        lambda v: _spatial_train_out(x, v, beta), gamma, dout)
    dbeta_num = eval_numerical_gradient_array(
        lambda v: _spatial_train_out(x, gamma, v), beta, dout)
    assert dx.shape == x.shape
    assert rel_error(dx, dx_num) < 1e-7
    assert rel_error(dgamma, dgamma_num) < 1e-7
    assert rel_error(dbeta, dbeta_num) < 1e-7


def _as_rows(a):
    N, C, H, W = a.shape
    return a.transpose(0, 2, 3, 1).reshape(-1, C)


def _from_rows(rows, shape):
    N, C, H, W = shape
    return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("mode", ["train", "test"])
def test_spatial_equals_plain_batchnorm_on_channels_last_rows(rng, mode):
    x, gamma, beta, dout = _spatial_inputs(rng, N=3, C=4, H=5, W=2)
    running = {"running_mean": rng.standard_normal(4), "running_var": rng.uniform(1, 2, 4)}
    spatial_param = {"mode": mode, "momentum": 0.7, **{k: v.copy() for k, v in running.items()}}
    plain_param = {"mode": mode, "momentum": 0.7, **{k: v.copy() for k, v in running.items()}}

    out, cache = spatial_batchnorm_forward(x, gamma, beta, spatial_param)
    rows_out, rows_cache = batchnorm_forward(_as_rows(x), gamma, beta, plain_param)
    np.testing.assert_allclose(out, _from_rows(rows_out, x.shape), rtol=1e-12)
    for key in running:
        np.testing.assert_allclose(spatial_param[key], plain_param[key], rtol=1e-12)
    if mode == "train":
        dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
        rows_dx, rows_dgamma, rows_dbeta = batchnorm_backward(_as_rows(dout), rows_cache)
        np.testing.assert_allclose(dx, _from_rows(rows_dx, x.shape), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(dgamma, rows_dgamma, rtol=1e-9)
        np.testing.assert_allclose(dbeta, rows_dbeta, rtol=1e-9)


def test_spatial_statistics_are_per_channel(rng):
    x = rng.standard_normal((4, 3, 6, 6)) * np.array([1.0, 5.0, 0.2])[None, :, None, None]
    x += np.array([-4.0, 0.0, 9.0])[None, :, None, None]
    out, _ = spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, atol=1e-3)


def test_forward_does_not_modify_its_inputs(rng):
    x, gamma, beta, dout = _bn_inputs(rng)
    copies = [a.copy() for a in (x, gamma, beta, dout)]
    _, cache = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    batchnorm_backward(dout, cache)
    batchnorm_backward_alt(dout, cache)
    for a, b in zip((x, gamma, beta, dout), copies, strict=True):
        np.testing.assert_array_equal(a, b)
