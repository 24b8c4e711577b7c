"""Update rules: values worked by hand, state carried between steps, bad input."""

import numpy as np
import pytest

from cs231n_lib.checks import ShapeError
from cs231n_lib.optim import UPDATE_RULES, sgd, sgd_momentum


def test_sgd_steps_against_the_gradient():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    dw = np.array([[0.5, 1.0], [-2.0, 4.0]])
    next_w, config = sgd(w, dw, {"learning_rate": 0.1})
    np.testing.assert_allclose(next_w, [[0.95, -2.1], [0.7, -0.4]])
    assert config["learning_rate"] == 0.1


def test_sgd_fills_default_learning_rate_and_leaves_w_alone():
    w = np.ones(3)
    next_w, config = sgd(w, np.ones(3))
    assert config["learning_rate"] == 1e-2
    np.testing.assert_allclose(next_w, 0.99)
    np.testing.assert_array_equal(w, 1.0)


def test_momentum_by_hand():
    # v = 0.5 * 1 - 0.1 * 2 = 0.3 ; w = 1 + 0.3
    config = {"learning_rate": 0.1, "momentum": 0.5, "velocity": np.array([1.0])}
    next_w, config = sgd_momentum(np.array([1.0]), np.array([2.0]), config)
    np.testing.assert_allclose(config["velocity"], [0.3])
    np.testing.assert_allclose(next_w, [1.3])


def test_momentum_carries_velocity_between_steps():
    w = np.array([0.0])
    dw = np.array([1.0])
    config = {"learning_rate": 1.0, "momentum": 0.9}
    w, config = sgd_momentum(w, dw, config)
    w, config = sgd_momentum(w, dw, config)
    # Steps: -1, then 0.9 * -1 - 1 = -1.9.
    np.testing.assert_allclose(config["velocity"], [-1.9])
    np.testing.assert_allclose(w, [-2.9])


def test_momentum_zero_is_sgd():
    rng = np.random.default_rng(0)
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    a, _ = sgd(w, dw, {"learning_rate": 0.03})
    b, _ = sgd_momentum(w, dw, {"learning_rate": 0.03, "momentum": 0.0})
    np.testing.assert_allclose(a, b)


def test_momentum_beats_sgd_in_a_narrow_valley():
    # f(w) = 0.5 * (w0^2 + 100 w1^2): plain SGD must use a small step for the
    # steep axis and crawls along the flat one.
    scale = np.array([1.0, 100.0])

    def run(rule, config, steps=100):
        w = np.array([10.0, 1.0])
        for _ in range(steps):
            w, config = rule(w, scale * w, config)
        return 0.5 * np.sum(scale * w ** 2)

    plain = run(sgd, {"learning_rate": 0.015})
    heavy = run(sgd_momentum, {"learning_rate": 0.015, "momentum": 0.9})
    assert heavy < plain / 100


def test_update_rules_by_name():
    assert UPDATE_RULES == {"sgd": sgd, "sgd_momentum": sgd_momentum}


@pytest.mark.parametrize("rule", [sgd, sgd_momentum])
def test_gradient_of_another_shape_is_a_clear_error(rule):
    with pytest.raises(ShapeError, match=r"dw has shape \(3,\) but w has shape \(2,\)"):
        rule(np.zeros(2), np.zeros(3))


def test_velocity_of_another_parameter_is_a_clear_error():
    config = {"velocity": np.zeros(5)}
    with pytest.raises(ShapeError, match="own config dict"):
        sgd_momentum(np.zeros(2), np.zeros(2), config)


@pytest.mark.parametrize("bad", [{"learning_rate": -1.0}, {"learning_rate": np.nan}])
def test_bad_learning_rate(bad):
    with pytest.raises(ValueError, match="learning_rate"):
        sgd(np.zeros(2), np.zeros(2), bad)


def test_bad_momentum():
    with pytest.raises(ValueError, match=r"momentum.*\[0, 1\)"):
        sgd_momentum(np.zeros(2), np.zeros(2), {"momentum": 1.5})


def test_config_must_be_a_dict():
    with pytest.raises(TypeError, match="config must be a dict"):
        sgd(np.zeros(2), np.zeros(2), 0.1)
