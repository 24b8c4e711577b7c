"""Probes of the conv assignment (lecture 5): naive convolution and max pooling.

Each probe draws fresh inputs on the trusted side, runs a forward pass of the
student's library and, for the backward cells, the backward pass through the
returned cache; the grader compares the outputs with the reference library's.
Shapes are drawn too, always from configurations that tile. The notebook's
hand-worked answers (``test_output_sizes``, ``test_param_counts``) are checked
by answer probes against the reference ``shapes`` module.
"""

from __future__ import annotations

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe

from . import calls


def _conv_case(rng, *, height, width, filter_height, filter_width, stride, pad):
    n, c, f = (int(rng.integers(1, 4)) for _ in range(3))
    x = rng.standard_normal((n, c, height, width))
    w = rng.standard_normal((f, c, filter_height, filter_width))
    out_h = (height - filter_height + 2 * pad) // stride + 1
    out_w = (width - filter_width + 2 * pad) // stride + 1
    return {"x": x, "w": w, "b": rng.standard_normal(f), "stride": np.int64(stride),
            "pad": np.int64(pad), "dout": rng.standard_normal((n, f, out_h, out_w))}


# ------------------------------------------------------------------- conv

def _conv_stride2_pad1_inputs(rng):
    # (7 - 3 + 2) / 2 + 1 = 4 and (9 - 3 + 2) / 2 + 1 = 5: stride 2 with padding, not square
    return _conv_case(rng, height=7, width=9, filter_height=3, filter_width=3, stride=2, pad=1)


def _conv_rectangular_inputs(rng):
    # a 3 x 2 filter on a 6 x 5 image, stride 1, no padding
    return _conv_case(rng, height=6, width=5, filter_height=3, filter_width=2, stride=1, pad=0)


def _conv_overlap_pad2_inputs(rng):
    # windows overlap (stride 1 < filter 3) and the padding is wider than one pixel
    return _conv_case(rng, height=4, width=4, filter_height=3, filter_width=3, stride=1, pad=2)


def _conv_stride3_1x1_inputs(rng):
    # 1 x 1 filters with stride 3 skip pixels entirely: their gradient must be exactly 0
    return _conv_case(rng, height=7, width=4, filter_height=1, filter_width=1, stride=3, pad=0)


# ------------------------------------------------------------------ max pool

def _pool_case(rng, *, height, width, pool_height, pool_width, stride, ties=False):
    n, c = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    shape = (n, c, height, width)
    if ties:
        x = rng.integers(0, 3, shape).astype(np.float64)  # many equal maxima per window
    else:
        x = rng.standard_normal(shape)
    out_h = (height - pool_height) // stride + 1
    out_w = (width - pool_width) // stride + 1
    return {"x": x, "pool_height": np.int64(pool_height), "pool_width": np.int64(pool_width),
            "stride": np.int64(stride), "dout": rng.standard_normal((n, c, out_h, out_w))}


def _pool_2x2_inputs(rng):
    return _pool_case(rng, height=6, width=8, pool_height=2, pool_width=2, stride=2)


def _pool_overlap_inputs(rng):
    # AlexNet-style overlapping windows: 3 x 3, stride 2
    return _pool_case(rng, height=9, width=7, pool_height=3, pool_width=3, stride=2)


def _pool_rectangular_inputs(rng):
    # a 2 x 3 window with stride 1: every input belongs to up to six windows
    return _pool_case(rng, height=4, width=5, pool_height=2, pool_width=3, stride=1)


def _pool_ties_inputs(rng):
    # equal maxima: the whole gradient goes to the first one in row-major order
    return _pool_case(rng, height=6, width=6, pool_height=2, pool_width=2, stride=2, ties=True)


def _pool_ties_overlap_inputs(rng):
    return _pool_case(rng, height=7, width=7, pool_height=3, pool_width=3, stride=2, ties=True)


PROBES = [
    Probe("test_conv_forward", "conv_forward_stride2_pad1", _conv_stride2_pad1_inputs,
          calls.conv_forward, checks="stride 2 with padding 1 on a non-square image"),
    Probe("test_conv_forward", "conv_forward_rectangular", _conv_rectangular_inputs,
          calls.conv_forward, checks="a rectangular 3 x 2 filter, stride 1, no padding"),
    Probe("test_conv_forward", "conv_forward_overlap_pad2", _conv_overlap_pad2_inputs,
          calls.conv_forward, checks="overlapping windows with padding 2"),
    Probe("test_conv_forward", "conv_forward_1x1_stride3", _conv_stride3_1x1_inputs,
          calls.conv_forward, checks="1 x 1 filters with stride 3 (pixels skipped)"),
    Probe("test_conv_backward", "conv_backward_stride2_pad1", _conv_stride2_pad1_inputs,
          calls.conv_backward, checks="stride 2 with padding 1 on a non-square image"),
    Probe("test_conv_backward", "conv_backward_rectangular", _conv_rectangular_inputs,
          calls.conv_backward, checks="a rectangular 3 x 2 filter, stride 1, no padding"),
    Probe("test_conv_backward", "conv_backward_overlap_pad2", _conv_overlap_pad2_inputs,
          calls.conv_backward, checks="overlapping windows with padding 2"),
    Probe("test_conv_backward", "conv_backward_1x1_stride3", _conv_stride3_1x1_inputs,
          calls.conv_backward, checks="1 x 1 filters with stride 3 (pixels skipped)"),
    Probe("test_max_pool_forward", "pool_forward_2x2", _pool_2x2_inputs, calls.pool_forward,
          checks="2 x 2 windows, stride 2"),
    Probe("test_max_pool_forward", "pool_forward_overlap", _pool_overlap_inputs,
          calls.pool_forward, checks="overlapping 3 x 3 windows, stride 2"),
    Probe("test_max_pool_forward", "pool_forward_rectangular", _pool_rectangular_inputs,
          calls.pool_forward, checks="rectangular 2 x 3 windows, stride 1"),
    Probe("test_max_pool_backward", "pool_backward_2x2", _pool_2x2_inputs, calls.pool_backward,
          checks="2 x 2 windows, stride 2"),
    Probe("test_max_pool_backward", "pool_backward_overlap", _pool_overlap_inputs,
          calls.pool_backward, checks="overlapping 3 x 3 windows, stride 2"),
    Probe("test_max_pool_backward", "pool_backward_rectangular", _pool_rectangular_inputs,
          calls.pool_backward, checks="rectangular 2 x 3 windows, stride 1"),
    Probe("test_max_pool_backward", "pool_backward_ties", _pool_ties_inputs, calls.pool_backward,
          checks="ties in the max, 2 x 2 windows"),
    Probe("test_max_pool_backward", "pool_backward_ties_overlap", _pool_ties_overlap_inputs,
          calls.pool_backward, checks="ties in the max, overlapping windows"),
]


# ------------------------------------------------------------ notebook answers

# The notebook's configurations (input N, filter F, stride S, pad P), in its order.
OUTPUT_SIZE_CONFIGURATIONS = [(32, 5, 1, 2), (32, 5, 1, 0), (227, 11, 4, 0), (224, 11, 4, 0),
                              (7, 3, 3, 0), (28, 2, 2, 0), (15, 3, 2, 1), (10, 4, 2, 1)]


def _output_sizes_expected(lib, inputs):
    """The reference conv_output_size of each configuration; None where it refuses
    (the filters do not tile)."""
    shapes = calls.submodule(lib, "shapes")
    sizes = []
    for n, f, s, p in OUTPUT_SIZE_CONFIGURATIONS:
        try:
            sizes.append(shapes.conv_output_size(n, f, stride=s, pad=p))
        except ValueError:
            sizes.append(None)
    return {"output_sizes": sizes}


def _param_counts_expected(lib, inputs):
    """10 filters 5 x 5 on 3 channels, then 64 filters 3 x 3 on its 10; pooling has none."""
    shapes = calls.submodule(lib, "shapes")
    return {"params_a": shapes.conv_params(5, 3, 10), "params_b": shapes.conv_params(3, 10, 64),
            "params_pool": 0}


ANSWER_PROBES = [
    AnswerProbe("test_output_sizes", "output_sizes", ("output_sizes",), _output_sizes_expected,
                checks="your output sizes of the notebook's configurations"),
    AnswerProbe("test_param_counts", "param_counts", ("params_a", "params_b", "params_pool"),
                _param_counts_expected,
                checks="your parameter counts of the two conv layers and the pool"),
]
