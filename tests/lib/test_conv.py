"""Naive convolution and max pooling: hand-computed values, gradients, bad configurations."""

import numpy as np
import pytest

from cs231n_lib.checks import ShapeError
from cs231n_lib.conv import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from cs231n_lib.gradient_check import eval_numerical_gradient_array, rel_error


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def test_hand_computed_conv():
    # One 3x3 image, two 2x2 filters, stride 1, no pad: every output entry
    # below was worked out by hand as sum(window * filter) + bias.
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)  # [[0,1,2],[3,4,5],[6,7,8]]
    w = np.array([[[[1.0, 0.0], [0.0, -1.0]]],              # top-left minus bottom-right
                  [[[1.0, 1.0], [1.0, 1.0]]]])              # window sum
    b = np.array([10.0, -1.0])
    out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    expected = np.array([[[[-4.0 + 10, -4.0 + 10], [-4.0 + 10, -4.0 + 10]],
                          [[8.0 - 1, 12.0 - 1], [20.0 - 1, 24.0 - 1]]]])
    np.testing.assert_array_equal(out, expected)


def test_hand_computed_conv_with_pad_and_stride():
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 3, 3))
    # Pad 1, stride 2: windows centred on the four corners each cover 2x2 ones.
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 2, "pad": 1})
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 4.0))


def test_conv_sums_over_channels_and_keeps_filters_apart(rng):
    x = rng.standard_normal((2, 3, 4, 4))
    w = rng.standard_normal((5, 3, 4, 4))  # filter as large as the image: one dot product
    b = rng.standard_normal(5)
    out, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    assert out.shape == (2, 5, 1, 1)
    np.testing.assert_allclose(out[:, :, 0, 0], x.reshape(2, -1) @ w.reshape(5, -1).T + b)


@pytest.mark.parametrize("stride,pad", [(2, 1), (1, 0), (3, 1)])
def test_conv_backward_matches_numerical_gradients(rng, stride, pad):
    x = rng.standard_normal((2, 3, 7, 7))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    conv_param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv_backward_naive(dout, cache)

    def forward(x_, w_, b_):
        return conv_forward_naive(x_, w_, b_, conv_param)[0]

    dx_num = eval_numerical_gradient_array(lambda v: forward(v, w, b), x, dout)
    dw_num = eval_numerical_gradient_array(lambda v: forward(x, v, b), w, dout)
    db_num = eval_numerical_gradient_array(lambda v: forward(x, w, v), b, dout)
    assert (dx.shape, dw.shape, db.shape) == (x.shape, w.shape, b.shape)
    assert rel_error(dx, dx_num) < 1e-8
    assert rel_error(dw, dw_num) < 1e-8
    assert rel_error(db, db_num) < 1e-8


def test_conv_rectangular_filters(rng):
    x = rng.standard_normal((1, 2, 5, 6))
    w = rng.standard_normal((3, 2, 3, 2))
    b = rng.standard_normal(3)
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    assert out.shape == (1, 3, 5, 7)
    dout = rng.standard_normal(out.shape)
    dx, _, _ = conv_backward_naive(dout, cache)
    dx_num = eval_numerical_gradient_array(
        lambda v: conv_forward_naive(v, w, b, {"stride": 1, "pad": 1})[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-8


def test_hand_computed_max_pool():
    x = np.array([[1.0, 2.0, 5.0, 0.0],
                  [3.0, 4.0, 1.0, 1.0],
                  [0.0, 0.0, 7.0, 8.0],
                  [9.0, 0.0, 6.0, 5.0]]).reshape(1, 1, 4, 4)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out, cache = max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out[0, 0], [[4.0, 5.0], [9.0, 8.0]])
    dx = max_pool_backward_naive(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 0, 20, 0],
                                             [0, 10, 0, 0],
                                             [0, 0, 0, 40],
                                             [30, 0, 0, 0]])


def test_overlapping_pools_add_gradients_where_windows_share_the_max():
    # 3x3 windows with stride 1 over a 4x4 image whose maximum (9) lies in
    # all four windows: it collects all four upstream gradients.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 9.0
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 1}
    out, cache = max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 9.0))
    dx = max_pool_backward_naive(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[1, 2] = 10.0
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_ties_route_the_gradient_to_the_first_max_in_row_major_order():
    x = np.array([[1.0, 7.0], [7.0, 7.0]]).reshape(1, 1, 2, 2)
    _, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    dx = max_pool_backward_naive(np.full((1, 1, 1, 1), 5.0), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 5.0], [0.0, 0.0]])


@pytest.mark.parametrize("pool_param,size", [
    ({"pool_height": 3, "pool_width": 3, "stride": 2}, 7),   # overlapping
    ({"pool_height": 2, "pool_width": 2, "stride": 2}, 6),   # the usual halving
    ({"pool_height": 2, "pool_width": 3, "stride": 1}, 5),   # rectangular, overlapping
])
def test_max_pool_backward_matches_numerical_gradients(rng, pool_param, size):
    # A permutation keeps entries at least 1 apart: no kinks within h.
    x = rng.permutation(2 * 3 * size * size).reshape(2, 3, size, size).astype(np.float64)
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = rng.standard_normal(out.shape)
    dx = max_pool_backward_naive(dout, cache)
    dx_num = eval_numerical_gradient_array(
        lambda v: max_pool_forward_naive(v, pool_param)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-8


def test_channel_mismatch_is_a_clear_error(rng):
    with pytest.raises(ShapeError, match=r"w: its number of input channels .* is 4 but must "
                                         r"be 3\. x has 3 channels"):
        conv_forward_naive(np.ones((1, 3, 5, 5)), np.ones((2, 4, 3, 3)), np.zeros(2),
                           {"stride": 1, "pad": 1})


def test_bias_of_the_wrong_length_is_a_clear_error():
    with pytest.raises(ShapeError, match="one bias per filter"):
        conv_forward_naive(np.ones((1, 3, 5, 5)), np.ones((2, 3, 3, 3)), np.zeros(3),
                           {"stride": 1, "pad": 1})


def test_conv_config_that_does_not_tile_is_rejected_with_the_arithmetic():
    message = r"conv_param .* along the height.*\(32 - 3 \+ 2\*1\) / 2 \+ 1.*not a whole number"
    with pytest.raises(ValueError, match=message):
        conv_forward_naive(np.ones((1, 1, 32, 32)), np.ones((1, 1, 3, 3)), np.zeros(1),
                           {"stride": 2, "pad": 1})


def test_filter_larger_than_the_input_is_rejected():
    with pytest.raises(ValueError, match="does not fit"):
        conv_forward_naive(np.ones((1, 1, 3, 3)), np.ones((1, 1, 5, 5)), np.zeros(1),
                           {"stride": 1, "pad": 0})


def test_pool_config_that_does_not_tile_is_rejected():
    with pytest.raises(ValueError, match=r"pool_param .* does not work along the width \(x is 4x5"):
        max_pool_forward_naive(np.ones((1, 1, 4, 5)),
                               {"pool_height": 2, "pool_width": 2, "stride": 2})


def test_missing_conv_param_key_shows_an_example():
    with pytest.raises(KeyError, match=r"missing 'pad'.*conv_param = \{'stride': 1, 'pad': 1\}"):
        conv_forward_naive(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), np.zeros(1),
                           {"stride": 1})


def test_missing_pool_param_key_shows_an_example():
    with pytest.raises(KeyError, match=r"missing 'stride'.*'pool_height': 2"):
        max_pool_forward_naive(np.ones((1, 1, 4, 4)), {"pool_height": 2, "pool_width": 2})


def test_wrong_rank_is_a_clear_error():
    with pytest.raises(ShapeError, match=r"x must have 4 dimensions \(N, C, H, W\)"):
        conv_forward_naive(np.ones((3, 5, 5)), np.ones((1, 3, 3, 3)), np.zeros(1),
                           {"stride": 1, "pad": 1})


def test_dout_of_the_wrong_shape_is_a_clear_error(rng):
    x = rng.standard_normal((1, 1, 4, 4))
    _, cache = conv_forward_naive(x, np.ones((2, 1, 3, 3)), np.zeros(2), {"stride": 1, "pad": 1})
    with pytest.raises(ShapeError, match=r"produced an output of shape \(1, 2, 4, 4\)"):
        conv_backward_naive(np.ones((1, 2, 3, 3)), cache)
    _, cache = max_pool_forward_naive(x, {"pool_height": 2, "pool_width": 2, "stride": 2})
    with pytest.raises(ShapeError, match=r"output of shape \(1, 1, 2, 2\)"):
        max_pool_backward_naive(np.ones((1, 1, 4, 4)), cache)
