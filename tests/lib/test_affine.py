import numpy as np
import pytest

from cs231n_lib.affine import affine_backward, affine_forward
from cs231n_lib.checks import ShapeError
from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error


def test_forward_matches_the_definition_on_a_known_case():
    x = np.arange(2 * 2 * 3, dtype=np.float64).reshape(2, 2, 3)
    w = np.linspace(-1, 1, 6 * 2).reshape(6, 2)
    b = np.array([0.5, -0.5])
    out, _ = affine_forward(x, w, b)
    expected = np.array([x[0].ravel() @ w + b, x[1].ravel() @ w + b])
    assert out.shape == (2, 2)
    assert rel_error(out, expected) < 1e-14


def test_backward_matches_numerical_gradients_and_keeps_x_shape(rng):
    x = rng.standard_normal((4, 2, 3, 2))
    w = rng.standard_normal((12, 5))
    b = rng.standard_normal(5)
    dout = rng.standard_normal((4, 5))
    _, cache = affine_forward(x, w, b)
    dx, dw, db = affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    dx_num = eval_numerical_gradient_array(lambda x_: affine_forward(x_, w, b)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda w_: affine_forward(x, w_, b)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda b_: affine_forward(x, w, b_)[0], b, dout)
    assert rel_error(dx, dx_num) < 1e-7
    assert rel_error(dw, dw_num) < 1e-7
    assert rel_error(db, db_num) < 1e-7


def test_backward_is_exact_on_a_small_case():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    dout = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    dx, dw, db = affine_backward(dout, affine_forward(x, w, np.zeros(3))[1])
    np.testing.assert_array_equal(dx, dout @ w.T)
    np.testing.assert_array_equal(dw, x.T @ dout)
    np.testing.assert_array_equal(db, [1.0, 1.0, 1.0])


@pytest.mark.parametrize("x_shape, w_shape, b_shape, fragment", [
    ((4, 6), (5, 3), (3,), "must be (6, M)"),
    ((4, 2, 3), (5, 3), (3,), "D = 2 * 3 = 6"),
    ((4, 6), (6, 3), (2,), "one bias per output column"),
    ((6,), (6, 3), (3,), "x[None]"),
    ((4, 6), (6, 3, 1), (3,), "w must have 2 dimensions"),
    ((4, 6), (6, 3), (3, 1), "b must have 1 dimensions"),
])
def test_bad_shapes_are_clear_errors(x_shape, w_shape, b_shape, fragment):
    with pytest.raises(ShapeError) as err:
        affine_forward(np.zeros(x_shape), np.zeros(w_shape), np.zeros(b_shape))
    assert fragment in str(err.value)


def test_backward_rejects_dout_of_the_wrong_shape():
    _, cache = affine_forward(np.zeros((4, 6)), np.zeros((6, 3)), np.zeros(3))
    with pytest.raises(ShapeError, match=r"\(N, M\) = \(4, 3\)"):
        affine_backward(np.zeros((3, 4)), cache)
