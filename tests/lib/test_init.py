"""Weight initialisation: shapes, statistics, reproducibility, errors."""

import numpy as np
import pytest

from cs231n_lib.init import he, initialize, scaled_random, small_random, xavier

FAN_IN, FAN_OUT = 500, 400  # 200,000 draws: the sample std is within ~0.3% of the target


@pytest.mark.parametrize("make, target", [
    (lambda rng: small_random(FAN_IN, FAN_OUT, rng), 0.01),
    (lambda rng: small_random(FAN_IN, FAN_OUT, rng, std=0.05), 0.05),
    (lambda rng: scaled_random(FAN_IN, FAN_OUT, rng, 1.0), 1.0),
    (lambda rng: scaled_random(FAN_IN, FAN_OUT, rng, 0.3), 0.3),
    (lambda rng: xavier(FAN_IN, FAN_OUT, rng), 1 / np.sqrt(FAN_IN)),
    (lambda rng: he(FAN_IN, FAN_OUT, rng), np.sqrt(2 / FAN_IN)),
    (lambda rng: initialize("small", FAN_IN, FAN_OUT, rng), 0.01),
    (lambda rng: initialize("xavier", FAN_IN, FAN_OUT, rng), 1 / np.sqrt(FAN_IN)),
    (lambda rng: initialize("he", FAN_IN, FAN_OUT, rng), np.sqrt(2 / FAN_IN)),
    (lambda rng: initialize(0.2, FAN_IN, FAN_OUT, rng), 0.2),
])
def test_statistics_match_the_scheme(make, target):
    w = make(np.random.default_rng(0))
    assert w.shape == (FAN_IN, FAN_OUT)
    assert w.dtype == np.float64
    assert w.std() == pytest.approx(target, rel=0.02)
    assert abs(w.mean()) < 0.02 * target


def test_he_is_xavier_times_sqrt_two_for_the_same_draw():
    a = xavier(64, 32, np.random.default_rng(5))
    b = he(64, 32, np.random.default_rng(5))
    np.testing.assert_allclose(b, a * np.sqrt(2.0), rtol=1e-12)


@pytest.mark.parametrize("scheme", ["small", "xavier", "he", 0.5])
def test_same_seed_same_weights(scheme):
    a = initialize(scheme, 30, 20, np.random.default_rng(42))
    b = initialize(scheme, 30, 20, np.random.default_rng(42))
    c = initialize(scheme, 30, 20, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_zero_scale_gives_zeros():
    np.testing.assert_array_equal(initialize(0.0, 3, 2, np.random.default_rng(0)),
                                  np.zeros((3, 2)))


@pytest.mark.parametrize("scheme, exc, match", [
    ("kaiming", ValueError, "'small', 'xavier', 'he'"),
    (None, TypeError, "NoneType"),
    (True, TypeError, "bool"),
    (-1.0, ValueError, ">= 0"),
    (float("nan"), ValueError, "finite"),
])
def test_unknown_schemes_are_clear_errors(scheme, exc, match):
    with pytest.raises(exc, match=match):
        initialize(scheme, 3, 2, np.random.default_rng(0))


def test_generator_and_fans_are_checked():
    with pytest.raises(TypeError, match="default_rng"):
        xavier(3, 2, 0)
    with pytest.raises(TypeError, match="Generator"):
        he(3, 2, np.random.RandomState(0))
    with pytest.raises(ValueError, match="fan_in"):
        small_random(0, 2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="fan_out"):
        xavier(3, 2.5, np.random.default_rng(0))
