"""The fast conv and pool layers equal the naive ones (float64, relative error < 1e-10)."""

import numpy as np
import pytest

from cs231n_lib import fast_layers
from cs231n_lib.checks import ShapeError
from cs231n_lib.conv import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from cs231n_lib.fast_layers import (
    conv_backward_fast,
    conv_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from cs231n_lib.gradient_check import rel_error

TOL = 1e-10

# (x shape, w shape, stride, pad): stride 1 and 2, padding, odd sizes,
# rectangular images and filters, 1x1 filters, a single sample and channel.
CONV_CONFIGS = [
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),
    ((3, 2, 9, 9), (5, 2, 3, 3), 2, 1),
    ((2, 3, 7, 7), (2, 3, 3, 3), 2, 0),
    ((1, 1, 5, 5), (1, 1, 5, 5), 1, 0),
    ((2, 4, 7, 9), (3, 4, 3, 5), 1, 2),
    ((4, 3, 6, 6), (8, 3, 1, 1), 1, 0),
    ((2, 3, 10, 10), (4, 3, 5, 5), 3, 2),
    ((3, 2, 10, 8), (2, 2, 4, 2), 2, 1),
    ((2, 3, 5, 5), (3, 3, 3, 3), 1, 3),  # pad larger than the filter overhang
    ((2, 3, 7, 7), (2, 3, 1, 1), 2, 0),  # stride larger than the filter: pixels skipped
]

# (x shape, pool_param): non-overlapping (the reshape path), overlapping,
# gapped, rectangular, odd sizes.
POOL_CONFIGS = [
    ((2, 3, 8, 8), {"pool_height": 2, "pool_width": 2, "stride": 2}),
    ((3, 2, 9, 9), {"pool_height": 3, "pool_width": 3, "stride": 3}),
    ((2, 3, 7, 7), {"pool_height": 3, "pool_width": 3, "stride": 2}),
    ((2, 2, 5, 6), {"pool_height": 2, "pool_width": 3, "stride": 1}),
    ((1, 2, 7, 7), {"pool_height": 1, "pool_width": 1, "stride": 2}),
    ((2, 2, 9, 9), {"pool_height": 3, "pool_width": 3, "stride": 3}),
    ((2, 1, 6, 6), {"pool_height": 2, "pool_width": 2, "stride": 4}),
    ((2, 3, 4, 4), {"pool_height": 4, "pool_width": 4, "stride": 4}),
    ((3, 4, 13, 13), {"pool_height": 3, "pool_width": 3, "stride": 1}),
]


@pytest.fixture
def rng():
    return np.random.default_rng(2015)


def _ids(configs):
    return [f"{c[0]}-{c[1:]}" for c in configs]


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CONFIGS, ids=_ids(CONV_CONFIGS))
def test_conv_fast_equals_naive(rng, x_shape, w_shape, stride, pad):
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    conv_param = {"stride": stride, "pad": pad}
    out_naive, cache_naive = conv_forward_naive(x, w, b, conv_param)
    out_fast, cache_fast = conv_forward_fast(x, w, b, conv_param)
    assert out_fast.shape == out_naive.shape
    assert out_fast.dtype == np.float64
    assert rel_error(out_fast, out_naive) < TOL

    dout = rng.standard_normal(out_naive.shape)
    naive = conv_backward_naive(dout, cache_naive)
    fast = conv_backward_fast(dout, cache_fast)
    for name, a, b_ in zip(("dx", "dw", "db"), fast, naive, strict=True):
        assert a.shape == b_.shape, name
        assert rel_error(a, b_) < TOL, name


def test_conv_fast_is_chunked_without_changing_the_result(rng, monkeypatch):
    x = rng.standard_normal((7, 3, 6, 6))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    conv_param = {"stride": 1, "pad": 1}
    whole_out, cache = conv_forward_fast(x, w, b, conv_param)
    dout = rng.standard_normal(whole_out.shape)
    whole_grads = conv_backward_fast(dout, cache)
    # One sample's columns are 27 * 36 * 8 bytes: force chunks of 2 samples (4 chunks for 7).
    monkeypatch.setattr(fast_layers, "COLUMN_CHUNK_BYTES", 2 * 27 * 36 * 8)
    assert len(fast_layers._chunks(7, 27 * 36 * 8)) == 4
    chunked_out, _ = conv_forward_fast(x, w, b, conv_param)
    chunked_grads = conv_backward_fast(dout, cache)
    assert rel_error(chunked_out, whole_out) < TOL
    for a, b_ in zip(chunked_grads, whole_grads, strict=True):
        assert rel_error(a, b_) < TOL


def test_conv_caches_are_interchangeable(rng):
    x, w, b = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((2, 3, 3, 3)), np.zeros(2)
    conv_param = {"stride": 1, "pad": 1}
    out, cache_fast = conv_forward_fast(x, w, b, conv_param)
    _, cache_naive = conv_forward_naive(x, w, b, conv_param)
    dout = rng.standard_normal(out.shape)
    for a, b_ in zip(conv_backward_naive(dout, cache_fast), conv_backward_fast(dout, cache_naive),
                     strict=True):
        assert rel_error(a, b_) < TOL


@pytest.mark.parametrize("x_shape,pool_param", POOL_CONFIGS, ids=_ids(POOL_CONFIGS))
def test_max_pool_fast_equals_naive(rng, x_shape, pool_param):
    x = rng.standard_normal(x_shape)
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    assert out_fast.shape == out_naive.shape
    np.testing.assert_array_equal(out_fast, out_naive)

    dout = rng.standard_normal(out_naive.shape)
    dx_naive = max_pool_backward_naive(dout, cache_naive)
    dx_fast = max_pool_backward_fast(dout, cache_fast)
    assert dx_fast.shape == x.shape
    assert rel_error(dx_fast, dx_naive) < TOL


@pytest.mark.parametrize("x_shape,pool_param", POOL_CONFIGS, ids=_ids(POOL_CONFIGS))
def test_max_pool_fast_routes_ties_like_naive(rng, x_shape, pool_param):
    # Few distinct values: most windows hold their maximum more than once.
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    np.testing.assert_array_equal(out_fast, out_naive)
    dout = rng.standard_normal(out_naive.shape)
    # Overlapping windows add their gradients in another order: equal up to rounding.
    assert rel_error(max_pool_backward_fast(dout, cache_fast),
                     max_pool_backward_naive(dout, cache_naive)) < TOL


@pytest.mark.parametrize("pool_param", [{"pool_height": 2, "pool_width": 2, "stride": 2},
                                        {"pool_height": 3, "pool_width": 3, "stride": 1}])
def test_max_pool_fast_handles_nan_like_naive(rng, pool_param):
    x = rng.standard_normal((2, 2, 6, 6))
    x[0, 1, 2, 3] = x[1, 0, 0, 0] = x[1, 0, 1, 1] = np.nan
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    np.testing.assert_array_equal(out_fast, out_naive)  # NaN == NaN for assert_array_equal
    dout = rng.standard_normal(out_naive.shape)
    # Overlapping windows add their gradients in another order: equal up to rounding.
    assert rel_error(max_pool_backward_fast(dout, cache_fast),
                     max_pool_backward_naive(dout, cache_naive)) < TOL


def test_max_pool_fast_with_infinite_upstream_gradient(rng):
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    x = rng.standard_normal((1, 2, 4, 4))
    dout = rng.standard_normal((1, 2, 2, 2))
    dout[0, 0, 1, 1] = np.inf
    _, cache = max_pool_forward_naive(x, pool_param)
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache),
                                  max_pool_backward_naive(dout, cache))


def test_pool_caches_are_interchangeable(rng):
    pool_param = {"pool_height": 3, "pool_width": 3, "stride": 2}
    x = rng.standard_normal((2, 2, 7, 7))
    out, cache_fast = max_pool_forward_fast(x, pool_param)
    _, cache_naive = max_pool_forward_naive(x, pool_param)
    dout = rng.standard_normal(out.shape)
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache_naive),
                                  max_pool_backward_naive(dout, cache_fast))


def test_fast_layers_refuse_what_the_naive_ones_refuse():
    x, w, b = np.ones((1, 3, 32, 32)), np.ones((2, 4, 3, 3)), np.zeros(2)
    with pytest.raises(ShapeError, match="number of input channels"):
        conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(ValueError, match=r"conv_param .* not a whole number"):
        conv_forward_fast(x, np.ones((2, 3, 3, 3)), b, {"stride": 2, "pad": 1})
    with pytest.raises(ValueError, match=r"pool_param .* along the width"):
        max_pool_forward_fast(np.ones((1, 1, 4, 5)),
                              {"pool_height": 2, "pool_width": 2, "stride": 2})
    _, cache = conv_forward_fast(np.ones((1, 3, 4, 4)), np.ones((2, 3, 3, 3)), b,
                                 {"stride": 1, "pad": 1})
    with pytest.raises(ShapeError, match="produced an output of shape"):
        conv_backward_fast(np.ones((1, 2, 3, 3)), cache)


def test_float32_inputs_stay_on_the_fast_path(rng):
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    b = np.zeros(2, dtype=np.float32)
    out, _ = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
    assert out.dtype == np.float32
    expected, _ = conv_forward_naive(x.astype(np.float64), w.astype(np.float64),
                                     b.astype(np.float64), {"stride": 1, "pad": 1})
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("integer_valued", [False, True], ids=["distinct", "ties"])
def test_max_pool_fast_is_blocked_without_changing_the_result(rng, monkeypatch, integer_valued):
    x = rng.standard_normal((3, 5, 8, 8))
    if integer_valued:
        x = np.round(x)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    out_naive, cache_naive = max_pool_forward_naive(x, pool_param)
    dout = rng.standard_normal(out_naive.shape)
    dx_naive = max_pool_backward_naive(dout, cache_naive)
    # A block of 3 window rows (3 * 2 * 8 doubles): 60 window rows make 20 blocks.
    monkeypatch.setattr(fast_layers, "POOL_CHUNK_BYTES", 3 * 2 * 8 * 8)
    assert len(fast_layers._row_blocks(60, 2 * 8 * 8)) == 20
    out_fast, cache_fast = max_pool_forward_fast(x, pool_param)
    np.testing.assert_array_equal(out_fast, out_naive)
    np.testing.assert_array_equal(max_pool_backward_fast(dout, cache_fast), dx_naive)
