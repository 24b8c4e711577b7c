"""Convolution and max pooling, written with plain loops (lecture 5).

These are the teaching versions: each output position is computed by
sliding a window over the (zero-padded) input, exactly as the lecture draws
it. The loops run over output positions only; at each position the window
is combined with all samples and all filters at once, which keeps the code
close to the picture while staying usable on small inputs.
``cs231n_lib.fast_layers`` has drop-in replacements with the same
signatures and caches for real work.

Output sizes come from ``cs231n_lib.shapes.conv_output_size``, which refuses
a configuration whose windows do not tile the padded input instead of
rounding it away.
"""

from __future__ import annotations

import numpy as np

from cs231n_lib.checks import ShapeError, require_array, require_dim, require_keys
from cs231n_lib.shapes import conv_output_size

__all__ = [
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
    "conv_geometry",
    "pool_geometry",
    "check_dout",
]

CONV_PARAM_EXAMPLE = "{'stride': 1, 'pad': 1}"
POOL_PARAM_EXAMPLE = "{'pool_height': 2, 'pool_width': 2, 'stride': 2}"


def _output_side(axis: str, size: int, window: int, stride, pad, *, what: str, shapes: str):
    """``conv_output_size`` for one axis, with the layer's context added to its message."""
    try:
        return conv_output_size(size, window, stride, pad)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{what} does not work along the {axis} ({shapes}): {exc}") from None


def conv_geometry(x, w, b, conv_param):
    """Check the inputs of a conv layer and return its stride, pad and output size.

    Shared by the naive and the fast conv layers so that both refuse the same
    inputs with the same messages.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict with ``'stride'`` and ``'pad'``

    Returns
    -------
    x, w, b : ndarray
        The inputs as arrays.
    stride, pad, H_out, W_out : int
    """
    x = require_array("x", x, ndim=4, layout="(N, C, H, W)")
    w = require_array("w", w, ndim=4, layout="(F, C, HH, WW)")
    b = require_array("b", b, ndim=1, layout="(F,)")
    require_dim("w", w.shape[1], x.shape[1], what="its number of input channels (axis 1)",
                fix=f"x has {x.shape[1]} channels (x: (N, C, H, W)), so every filter in "
                    "w: (F, C, HH, WW) must span that many channels.")
    require_dim("b", b.shape[0], w.shape[0], what="its length",
                fix=f"Give one bias per filter: w holds {w.shape[0]} filters.")
    require_keys("conv_param", conv_param, ["stride", "pad"], example=CONV_PARAM_EXAMPLE)
    stride, pad = conv_param["stride"], conv_param["pad"]
    what = f"conv_param {dict(conv_param)}"
    shapes = f"x is {x.shape[2]}x{x.shape[3]}, the filters are {w.shape[2]}x{w.shape[3]}"
    H_out = _output_side("height", x.shape[2], w.shape[2], stride, pad, what=what, shapes=shapes)
    W_out = _output_side("width", x.shape[3], w.shape[3], stride, pad, what=what, shapes=shapes)
    return x, w, b, int(stride), int(pad), H_out, W_out


def pool_geometry(x, pool_param):
    """Check the inputs of a max-pool layer and return its window, stride and output size.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict with ``'pool_height'``, ``'pool_width'`` and ``'stride'``

    Returns
    -------
    x : ndarray
    pool_height, pool_width, stride, H_out, W_out : int
    """
    x = require_array("x", x, ndim=4, layout="(N, C, H, W)")
    require_keys("pool_param", pool_param, ["pool_height", "pool_width", "stride"],
                 example=POOL_PARAM_EXAMPLE)
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    what = f"pool_param {dict(pool_param)}"
    shapes = f"x is {x.shape[2]}x{x.shape[3]}"
    H_out = _output_side("height", x.shape[2], ph, stride, 0, what=what, shapes=shapes)
    W_out = _output_side("width", x.shape[3], pw, stride, 0, what=what, shapes=shapes)
    return x, int(ph), int(pw), int(stride), H_out, W_out


def check_dout(dout, expected_shape, layer: str):
    """Check that an upstream gradient has the shape of the forward pass's output."""
    layout = "(N, F, H_out, W_out)" if layer == "conv" else "(N, C, H_out, W_out)"
    dout = require_array("dout", dout, ndim=4, layout=layout)
    if dout.shape != tuple(expected_shape):
        raise ShapeError(f"dout has shape {dout.shape} but the {layer} forward pass produced "
                         f"an output of shape {tuple(expected_shape)}; pass the upstream "
                         "gradient of that output, with the cache of the same forward call.")
    return dout


def conv_forward_naive(x, w, b, conv_param):
    """Forward pass of a convolutional layer, with loops over output positions.

    Each of the F filters spans all C input channels; it is slid over the
    zero-padded input with the given stride, and at every position the output
    is the dot product of the filter with the window under it, plus the
    filter's bias. The output has side ``(H - HH + 2 * pad) / stride + 1``
    (and the same for the width).

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
        Input: N samples, C channels, height H, width W.
    w : ndarray, shape (F, C, HH, WW)
        F filters of height HH and width WW.
    b : ndarray, shape (F,)
        One bias per filter.
    conv_param : dict
        ``'stride'``: pixels between neighbouring windows;
        ``'pad'``: zeros added on every side of the height and width axes.

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
    cache : tuple
        ``(x, w, b, conv_param)``, for ``conv_backward_naive``.
    """
    x, w, b, stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out = None
    ### BEGIN SOLUTION
    # Hint: zero-pad x; at each output position (i, j) take the window and dot it with every filter.
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for i in range(H_out):
        top = i * stride
        for j in range(W_out):
            left = j * stride
            window = x_pad[:, :, top:top + HH, left:left + WW]  # (N, C, HH, WW)
            # Dot product of every sample's window with every filter: (N, F).
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    ### END SOLUTION
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Backward pass of a convolutional layer, with loops over output positions.

    Each output position saw one window of the padded input through every
    filter, so its upstream gradient flows back to that window (weighted by
    the filters) and to the filters (weighted by the window). Windows overlap
    when the stride is smaller than the filter, and the gradients on the
    shared pixels add up.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
        Upstream gradient.
    cache : tuple
        ``(x, w, b, conv_param)`` from ``conv_forward_naive``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    x, w, b, conv_param = cache
    x, w, b, stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    dout = check_dout(dout, (x.shape[0], w.shape[0], H_out, W_out), "conv")
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dx, dw, db = None, None, None
    ### BEGIN SOLUTION
    # Hint: per output position: dw += window x upstream, d(window) += filters x upstream; unpad dx.
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, w, dout))
    dw = np.zeros_like(w, dtype=np.result_type(x, w, dout))
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        top = i * stride
        for j in range(W_out):
            left = j * stride
            window = x_pad[:, :, top:top + HH, left:left + WW]  # (N, C, HH, WW)
            upstream = dout[:, :, i, j]  # (N, F)
            # Mul gate: the filters' gradient is the window, the window's is the filters.
            dw += np.tensordot(upstream, window, axes=([0], [0]))
            dx_pad[:, :, top:top + HH, left:left + WW] += np.tensordot(upstream, w,
                                                                         axes=([1], [0]))
    # The padding is not part of x: its gradient is dropped.
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W].copy()
    ### END SOLUTION
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Forward pass of max pooling, with loops over output positions.

    Each channel is pooled on its own: the output at a position is the
    largest value in the window under it. Windows overlap when the stride is
    smaller than the window.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict
        ``'pool_height'``, ``'pool_width'``: the window's size;
        ``'stride'``: pixels between neighbouring windows. No padding.

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : tuple
        ``(x, pool_param)``, for ``max_pool_backward_naive``.
    """
    x, ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    N, C, H, W = x.shape
    out = None
    ### BEGIN SOLUTION
    # Hint: at each output position (i, j), the max of the window over its two spatial axes.
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        top = i * stride
        for j in range(W_out):
            left = j * stride
            out[:, :, i, j] = x[:, :, top:top + ph, left:left + pw].max(axis=(2, 3))
    ### END SOLUTION
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Backward pass of max pooling: the max gate routes the gradient.

    Within each window only the input that was the maximum receives the
    window's upstream gradient; the others receive 0. When windows overlap,
    one input can be the maximum of several windows and its gradients add up.

    Ties: if a window holds its maximum more than once, the whole gradient
    goes to the first of them in row-major order (top row first, then left
    to right), the element ``np.argmax`` picks on the flattened window.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
        Upstream gradient.
    cache : tuple
        ``(x, pool_param)`` from ``max_pool_forward_naive``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x, pool_param = cache[0], cache[1]  # the fast layer's cache also carries the output
    x, ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    dout = check_dout(dout, (x.shape[0], x.shape[1], H_out, W_out), "max-pool")
    N, C, H, W = x.shape
    dx = None
    ### BEGIN SOLUTION
    # Hint: per window, send its upstream gradient to the argmax (the first one on ties); use +=.
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    samples, channels = np.ogrid[:N, :C]
    for i in range(H_out):
        top = i * stride
        for j in range(W_out):
            left = j * stride
            window = x[:, :, top:top + ph, left:left + pw].reshape(N, C, ph * pw)
            row, col = np.unravel_index(window.argmax(axis=2), (ph, pw))  # each (N, C)
            # One winner per (sample, channel): no index repeats within this update.
            dx[samples, channels, top + row, left + col] += dout[:, :, i, j]
    ### END SOLUTION
    return dx
