import warnings

import numpy as np
import pytest

from cs231n_lib.checks import ShapeError
from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.losses import softmax_loss, svm_loss


def scores_clear_of_hinges(rng, N=6, C=5, gap=1e-3):
    """Scores whose SVM margins x_j - x_y + 1 all stay at least gap away from 0."""
    while True:
        x = rng.standard_normal((N, C))
        y = rng.integers(C, size=N)
        margins = x - x[np.arange(N), y][:, None] + 1.0
        margins[np.arange(N), y] = 1.0
        if np.min(np.abs(margins)) > gap:
            return x, y


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_gradient_matches_numerical_gradient(loss_fn, rng):
    x, y = scores_clear_of_hinges(rng)
    _, dx = loss_fn(x, y)
    dx_num = eval_numerical_gradient(lambda x_: loss_fn(x_, y)[0], x, verbose=False)
    assert rel_error(dx, dx_num) < 1e-7


def test_softmax_initial_loss_is_log_c_for_equal_scores():
    loss, dx = softmax_loss(np.zeros((4, 10)), np.array([0, 3, 9, 5]))
    assert loss == pytest.approx(np.log(10), rel=1e-14)
    # Each row of the gradient sums to zero: probabilities minus a one-hot.
    np.testing.assert_allclose(dx.sum(axis=1), 0.0, atol=1e-16)


def test_softmax_is_stable_for_huge_scores():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, 1e4, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dx = softmax_loss(x, np.array([0, 1]))
    assert loss == pytest.approx(0.0, abs=1e-300)
    assert np.all(np.isfinite(dx))
    loss_wrong, _ = softmax_loss(x, np.array([2, 0]))
    assert loss_wrong == pytest.approx((2000.0 + 2e4) / 2)


def test_svm_loss_on_a_hand_computed_case():
    x = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    y = np.array([0, 1, 2])
    loss, dx = svm_loss(x, y)
    # CS231n lecture 3's cat/car/frog example: losses 2.9, 0 and 12.9.
    assert loss == pytest.approx((2.9 + 0.0 + 12.9) / 3)
    expected = np.array([[-1, 1, 0], [0, 0, 0], [1, 1, -2]]) / 3
    np.testing.assert_allclose(dx, expected)


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_labels_out_of_range_are_a_clear_error(loss_fn):
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        loss_fn(np.zeros((2, 3)), np.array([0, 3]))


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_label_count_and_score_shape_are_checked(loss_fn):
    with pytest.raises(ShapeError, match="one label per sample"):
        loss_fn(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ShapeError, match=r"x must have 2 dimensions \(N, C\)"):
        loss_fn(np.zeros(3), np.array([0]))
