import warnings

import numpy as np
import pytest

from cs231n_lib import activations as act
from cs231n_lib.checks import ShapeError
from cs231n_lib.gradient_check import check_gradients, eval_numerical_gradient_array, rel_error


def away_from_zero(rng, shape, gap=0.1):
    """Random inputs with |x| >= gap, so no centred difference straddles the kink at 0."""
    x = rng.standard_normal(shape)
    return np.where(x >= 0, x + gap, x - gap)


def numeric_dx(forward, x, dout, **kwargs):
    return eval_numerical_gradient_array(lambda x_: forward(x_, **kwargs)[0], x, dout)


ELEMENTWISE = [
    (act.relu_forward, act.relu_backward, {}),
    (act.leaky_relu_forward, act.leaky_relu_backward, {"alpha": 0.1}),
    (act.elu_forward, act.elu_backward, {"alpha": 1.5}),
    (act.sigmoid_forward, act.sigmoid_backward, {}),
    (act.tanh_forward, act.tanh_backward, {}),
]


@pytest.mark.parametrize("forward, backward, kwargs", ELEMENTWISE,
                         ids=[f.__name__ for f, _, _ in ELEMENTWISE])
@pytest.mark.parametrize("shape", [(5, 7), (2, 3, 4, 4)])
def test_elementwise_backward_matches_numerical_gradient(forward, backward, kwargs, shape, rng):
    x = away_from_zero(rng, shape)
    dout = rng.standard_normal(shape)
    out, cache = forward(x, **kwargs)
    assert out.shape == x.shape
    dx = backward(dout, cache)
    assert rel_error(dx, numeric_dx(forward, x, dout, **kwargs)) < 1e-7


def test_forward_values_on_known_points():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    np.testing.assert_array_equal(act.relu_forward(x)[0], [0, 0, 0, 0.5, 2])
    np.testing.assert_allclose(act.leaky_relu_forward(x)[0], [-0.02, -0.005, 0, 0.5, 2])
    np.testing.assert_allclose(act.elu_forward(x, alpha=2.0)[0],
                               [2 * np.expm1(-2), 2 * np.expm1(-0.5), 0, 0.5, 2])
    np.testing.assert_allclose(act.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-15)
    np.testing.assert_allclose(act.tanh_forward(x)[0], np.tanh(x), rtol=1e-15)


def test_relu_passes_gradient_only_where_positive():
    x = np.array([-1.0, 0.0, 3.0])
    dx = act.relu_backward(np.array([5.0, 5.0, 5.0]), act.relu_forward(x)[1])
    np.testing.assert_array_equal(dx, [0.0, 0.0, 5.0])


def test_leaky_relu_slope_is_alpha_below_zero_and_one_above():
    x = np.array([-3.0, -1e-3, 1e-3, 3.0])
    out, cache = act.leaky_relu_forward(x, alpha=0.2)
    np.testing.assert_allclose(out, [-0.6, -2e-4, 1e-3, 3.0])
    np.testing.assert_allclose(act.leaky_relu_backward(np.ones(4), cache), [0.2, 0.2, 1, 1])
    assert act.leaky_relu_forward(x)[0][0] == pytest.approx(-0.03)  # default alpha = 0.01


def test_elu_is_continuous_at_zero_with_slope_one_for_alpha_one():
    eps = 1e-9
    x = np.array([-eps, 0.0, eps])
    out, cache = act.elu_forward(x, alpha=1.0)
    assert np.max(np.abs(out)) < 2 * eps
    np.testing.assert_allclose(act.elu_backward(np.ones(3), cache), 1.0, rtol=1e-8)


def test_elu_saturates_at_minus_alpha_and_does_not_overflow_for_large_x():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = act.elu_forward(np.array([-800.0, 800.0]), alpha=0.7)
        dx = act.elu_backward(np.ones(2), cache)
    np.testing.assert_allclose(out, [-0.7, 800.0])
    np.testing.assert_allclose(dx, [0.0, 1.0], atol=1e-300)


def test_sigmoid_is_stable_at_plus_minus_800():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            out, cache = act.sigmoid_forward(x)
            dx = act.sigmoid_backward(np.ones_like(x), cache)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert out[0] == 0.0 and out[-1] == 1.0 and out[2] == 0.5
    assert out[1] == pytest.approx(np.exp(-40.0), rel=1e-12)  # tiny but not rounded to 0
    assert dx[2] == 0.25
    assert dx[0] < 1e-300 and dx[-1] < 1e-300


def test_tanh_is_zero_centred_and_saturates():
    out, cache = act.tanh_forward(np.array([-50.0, 0.0, 50.0]))
    np.testing.assert_array_equal(out, [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(act.tanh_backward(np.ones(3), cache), [0.0, 1.0, 0.0])


# ------------------------------------------------------------------- PReLU
@pytest.mark.parametrize("x_shape, alpha_shape", [
    ((6, 5), ()),           # one shared slope
    ((6, 5), (5,)),         # one per feature
    ((3, 4, 3, 3), (4,)),   # one per channel
    ((3, 4, 3, 3), ()),
])
def test_prelu_gradients_for_x_and_alpha_in_every_shape(x_shape, alpha_shape, rng):
    x = away_from_zero(rng, x_shape)
    alpha = 0.1 + 0.3 * rng.random(alpha_shape)
    if alpha_shape == ():
        alpha = float(alpha)
    report = check_gradients(act.prelu_forward, act.prelu_backward, [x, alpha], rng=rng)
    assert report.passed, str(report)
    assert [row.name for row in report.rows] == ["x", "alpha"]
    assert report["alpha"].shape == alpha_shape
    _, dalpha = act.prelu_backward(np.ones(x_shape), act.prelu_forward(x, alpha)[1])
    assert np.shape(dalpha) == alpha_shape


def test_prelu_alpha_applies_per_channel():
    x = -np.ones((1, 2, 2, 2))
    out, _ = act.prelu_forward(x, np.array([0.1, 0.5]))
    np.testing.assert_allclose(out[0, 0], -0.1)
    np.testing.assert_allclose(out[0, 1], -0.5)


def test_prelu_equals_leaky_relu_for_a_scalar_alpha(rng):
    x = rng.standard_normal((4, 3))
    np.testing.assert_array_equal(act.prelu_forward(x, 0.2)[0],
                                  act.leaky_relu_forward(x, 0.2)[0])


@pytest.mark.parametrize("x_shape, alpha, fragment", [
    ((6, 5), np.ones(4), "one alpha per feature"),
    ((2, 3, 4, 4), np.ones(4), "one alpha per channel"),
    ((2, 3, 4), np.ones(3), "needs x: (N, D) or (N, C, H, W)"),
    ((6, 5), np.ones((5, 1)), "alpha must have 1 dimensions"),
])
def test_prelu_rejects_alpha_of_the_wrong_shape(x_shape, alpha, fragment):
    with pytest.raises(ShapeError) as err:
        act.prelu_forward(np.ones(x_shape), alpha)
    assert fragment in str(err.value)


def test_scalar_slopes_must_be_numbers():
    with pytest.raises(TypeError, match="alpha must be a real number"):
        act.leaky_relu_forward(np.ones(3), alpha="0.1")


# ------------------------------------------------------------------ maxout
def maxout_inputs(rng, N=5, D=4, M=3, k=3, gap=1e-2):
    """Random maxout inputs whose winning piece leads the runner-up by at least gap."""
    while True:
        x = rng.standard_normal((N, D))
        w = rng.standard_normal((D, M, k))
        b = rng.standard_normal((M, k))
        z = np.sort(np.einsum("nd,dmk->nmk", x, w) + b, axis=2)
        if np.min(z[:, :, -1] - z[:, :, -2]) > gap:
            return x, w, b


def test_maxout_forward_is_the_max_of_the_pieces(rng):
    x, w, b = maxout_inputs(rng)
    out, _ = act.maxout_forward(x, w, b)
    expected = np.max(np.einsum("nd,dmk->nmk", x, w) + b, axis=2)
    assert out.shape == (5, 3)
    assert rel_error(out, expected) < 1e-14


def test_maxout_gradients_for_x_w_and_b(rng):
    x, w, b = maxout_inputs(rng)
    report = check_gradients(act.maxout_forward, act.maxout_backward, [x, w, b], rng=rng)
    assert report.passed, str(report)
    assert set(report.errors) == {"x", "w", "b"}


def test_maxout_with_a_zero_piece_is_relu(rng):
    x = away_from_zero(rng, (4, 3))
    w = np.zeros((3, 3, 2))
    w[:, :, 0] = np.eye(3)
    out, cache = act.maxout_forward(x, w, np.zeros((3, 2)))
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    dx, _, _ = act.maxout_backward(np.ones((4, 3)), cache)
    np.testing.assert_array_equal(dx, (x > 0).astype(float))


@pytest.mark.parametrize("x_shape, w_shape, b_shape, fragment", [
    ((5, 4, 1), (4, 3, 2), (3, 2), "x must have 2 dimensions"),
    ((5, 4), (4, 6), (3, 2), "w must have 3 dimensions"),
    ((5, 4), (3, 3, 2), (3, 2), "so w must be (4, M, k)"),
    ((5, 4), (4, 3, 2), (2, 3), "b must be (M, k) = (3, 2)"),
])
def test_maxout_rejects_mismatched_shapes(x_shape, w_shape, b_shape, fragment):
    with pytest.raises(ShapeError) as err:
        act.maxout_forward(np.ones(x_shape), np.ones(w_shape), np.ones(b_shape))
    assert fragment in str(err.value)


@pytest.mark.parametrize("forward, backward, kwargs", ELEMENTWISE,
                         ids=[f.__name__ for f, _, _ in ELEMENTWISE])
def test_backward_rejects_dout_of_another_shape(forward, backward, kwargs):
    _, cache = forward(np.ones((3, 4)), **kwargs)
    with pytest.raises(ShapeError, match="dout has shape"):
        backward(np.ones((4, 3)), cache)


# ------------------------------------------------------ plot helpers
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu"])
def test_activations_table_gives_function_and_derivative(name, rng):
    f, df = act.ACTIVATIONS[name]
    x = away_from_zero(rng, (50,))
    h = 1e-6
    np.testing.assert_allclose(df(x), (f(x + h) - f(x - h)) / (2 * h), rtol=1e-6, atol=1e-9)
    assert f(np.array([2.0])).shape == (1,)


def test_activations_table_accepts_python_scalars_and_lists():
    f, df = act.ACTIVATIONS["sigmoid"]
    assert float(f(0.0)) == 0.5
    np.testing.assert_allclose(df([0.0, 0.0]), [0.25, 0.25])
