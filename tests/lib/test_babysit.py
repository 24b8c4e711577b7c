"""The update-to-weight ratio and the learning-rate verdict of a loss curve."""

import math

import numpy as np
import pytest

from cs231n_lib.babysit import (
    VERDICTS,
    learning_rate_verdict,
    update_ratios,
    update_to_weight_ratio,
)


def test_ratio_is_the_norm_of_the_scaled_update_over_the_norm_of_w(rng):
    w, dw = rng.standard_normal((7, 3)), rng.standard_normal((7, 3))
    expected = math.sqrt(np.sum((0.01 * dw) ** 2)) / math.sqrt(np.sum(w ** 2))
    assert update_to_weight_ratio(w, dw, 0.01) == pytest.approx(expected, rel=1e-12)
    assert isinstance(update_to_weight_ratio(w, dw, 0.01), float)


def test_ratio_uses_every_entry_of_a_conv_filter_bank(rng):
    w, dw = rng.standard_normal((4, 3, 3, 5)), rng.standard_normal((4, 3, 3, 5))
    flat = update_to_weight_ratio(w.reshape(4, -1), dw.reshape(4, -1), 0.1)
    assert update_to_weight_ratio(w, dw, 0.1) == pytest.approx(flat, rel=1e-12)


def test_ratio_is_linear_in_the_rate_and_scale_free_in_w(rng):
    w, dw = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    base = update_to_weight_ratio(w, dw, 1e-3)
    assert update_to_weight_ratio(w, dw, 1e-2) == pytest.approx(10 * base, rel=1e-12)
    assert update_to_weight_ratio(10 * w, 10 * dw, 1e-3) == pytest.approx(base, rel=1e-12)


@pytest.mark.parametrize("w, dw, rate, error", [
    (np.zeros((3, 2)), np.ones((3, 2)), 0.1, "all zeros"),
    (np.ones((3, 2)), np.ones((2, 3)), 0.1, "shape"),
    (np.ones((3, 2)), np.ones((3, 2)), 0.0, "learning_rate"),
    (np.ones((3, 2)), np.ones((3, 2)), float("nan"), "learning_rate"),
])
def test_ratio_rejects_what_it_cannot_measure(w, dw, rate, error):
    with pytest.raises(ValueError, match=error):
        update_to_weight_ratio(w, dw, rate)


def test_update_ratios_measure_the_step_taken_on_weights_only(rng):
    before = {"W1": rng.standard_normal((4, 3)), "b1": np.zeros(3),
              "W2": rng.standard_normal((3, 2))}
    after = {name: value + 0.01 * rng.standard_normal(value.shape)
             for name, value in before.items()}
    ratios = update_ratios(before, after)
    assert set(ratios) == {"W1", "W2"}
    for name in ratios:
        step = after[name] - before[name]
        assert ratios[name] == pytest.approx(np.linalg.norm(step) / np.linalg.norm(before[name]))
    with pytest.raises(KeyError, match="W3"):
        update_ratios(before, after, ["W3"])


def noisy(values, rng, spread=0.02):
    return np.asarray(values) * (1 + spread * rng.standard_normal(len(values)))


def test_verdicts_on_typical_loss_curves(rng):
    steps = np.arange(100)
    assert learning_rate_verdict(noisy(2.3 - 1e-4 * steps, rng)) == "too low"
    assert learning_rate_verdict(noisy(2.3 * np.exp(-steps / 40), rng)) == "ok"
    assert learning_rate_verdict(noisy(2.3 * np.exp(steps / 60), rng)) == "too high"
    exploded = np.r_[2.3 * np.ones(10), np.nan * np.ones(90)]
    assert learning_rate_verdict(exploded) == "too high"
    assert learning_rate_verdict(np.r_[2.3, 1e5, 2.3 * np.ones(98)]) == "too high"


def test_verdict_rules_at_their_boundaries():
    # window 1: start is the first loss, end the last
    assert learning_rate_verdict([1.0, 1.049], window=1) == "too low"
    assert learning_rate_verdict([1.0, 1.051], window=1) == "too high"
    assert learning_rate_verdict([1.0, 0.951], window=1) == "too low"
    assert learning_rate_verdict([1.0, 0.949], window=1) == "ok"
    assert learning_rate_verdict([1.0, 0.5], tolerance=0.6, window=1) == "too low"
    assert learning_rate_verdict([1.0, 2.9, 1.0, 0.5], window=1) == "ok"
    assert learning_rate_verdict([1.0, 3.1, 1.0, 0.5], window=1) == "too high"
    assert learning_rate_verdict([1.0, 3.1, 1.0, 0.5], window=1, blowup=4.0) == "ok"


def test_verdict_averages_the_default_window_at_each_end():
    # 20 losses, window 2: start = mean(1.0, 0.8) = 0.9, end = mean(0.9, 0.9) = 0.9
    losses = np.r_[1.0, 0.8, np.full(16, 0.5), 0.9, 0.9]
    assert learning_rate_verdict(losses) == "too low"
    assert learning_rate_verdict(losses, window=1) == "ok"
    assert learning_rate_verdict(losses) in VERDICTS


@pytest.mark.parametrize("kwargs, error", [
    ({"loss_history": [2.3]}, "at least 2"),
    ({"loss_history": [2.3, 2.2], "tolerance": 1.5}, "tolerance"),
    ({"loss_history": [2.3, 2.2, 2.1], "window": 2}, "window"),
    ({"loss_history": [2.3, 2.2], "blowup": 1.0}, "blowup"),
])
def test_verdict_rejects_bad_arguments(kwargs, error):
    with pytest.raises(ValueError, match=error):
        learning_rate_verdict(**kwargs)
