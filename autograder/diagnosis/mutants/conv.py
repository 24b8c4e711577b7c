"""Typical mistakes of the conv assignment: naive convolution and max pooling."""

from __future__ import annotations

import numpy as np

from autograder.diagnosis.catalogue import Mutant
from cs231n_lib.conv import conv_geometry, pool_geometry


def _conv_backward(dout, cache, *, step=None, accumulate=True, crop="centre", db_axes=(0, 2, 3)):
    """The conv backward pass with one thing changed by the keywords (None: as the reference)."""
    x, w, b, conv_param = cache
    x, w, b, stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    step = stride if step is None else step
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * step, j * step
            window = x_pad[:, :, top:top + HH, left:left + WW]
            if window.shape[2:] != (HH, WW):
                continue
            up = dout[:, :, i, j]
            dw += np.tensordot(up, window, axes=([0], [0]))
            part = np.tensordot(up, w, axes=([1], [0]))
            if accumulate:
                dx_pad[:, :, top:top + HH, left:left + WW] += part
            else:
                dx_pad[:, :, top:top + HH, left:left + WW] = part
    if crop == "centre":
        dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    elif crop == "corner":
        dx = dx_pad[:, :, :H, :W]
    elif crop == "negative":
        # a slice that ends at -pad is empty when pad is 0
        dx = dx_pad[:, :, pad:-pad, pad:-pad]
    else:
        dx = dx_pad
    return dx.copy(), dw, dout.sum(axis=db_axes)


def conv_stride_ignored(dout, cache):
    return _conv_backward(dout, cache, step=1)


def conv_overwrite(dout, cache):
    return _conv_backward(dout, cache, accumulate=False)


def conv_crop_corner(dout, cache):
    return _conv_backward(dout, cache, crop="corner")


def conv_crop_negative(dout, cache):
    return _conv_backward(dout, cache, crop="negative")


def conv_not_cropped(dout, cache):
    return _conv_backward(dout, cache, crop="none")


def conv_db_batch_only(dout, cache):
    return _conv_backward(dout, cache, db_axes=(0,))


def conv_forward_flipped(x, w, b, conv_param):
    x, w, b, stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    flipped = w[:, :, ::-1, ::-1]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((x.shape[0], w.shape[0], H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + w.shape[2],
                           j * stride:j * stride + w.shape[3]]
            out[:, :, i, j] = np.tensordot(window, flipped, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def _pool_backward(dout, cache, route, *, step=None, accumulate=True):
    """Max-pool backward where ``route(window) -> mask`` picks the cells that get dout."""
    x, pool_param = cache[0], cache[1]
    x, ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    step = stride if step is None else step
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * step, j * step
            window = x[:, :, top:top + ph, left:left + pw]
            if window.shape[2:] != (ph, pw):
                continue
            part = route(window) * dout[:, :, i, j][:, :, None, None]
            if accumulate:
                dx[:, :, top:top + ph, left:left + pw] += part
            else:
                region = dx[:, :, top:top + ph, left:left + pw]
                region[...] = np.where(part != 0, part, region)
    return dx


def _first_max(window):
    n, c, ph, pw = window.shape
    flat = window.reshape(n, c, ph * pw)
    mask = np.zeros_like(flat)
    np.put_along_axis(mask, flat.argmax(axis=2)[:, :, None], 1.0, axis=2)
    return mask.reshape(window.shape)


def _every_max(window):
    return (window == window.max(axis=(2, 3), keepdims=True)).astype(float)


def _last_max(window):
    flipped = window[:, :, ::-1, ::-1]
    return _first_max(flipped)[:, :, ::-1, ::-1]


def _transposed_index(window):
    """argmax of the flattened window unravelled with the window's sides swapped
    (kept inside the window)."""
    n, c, ph, pw = window.shape
    index = window.reshape(n, c, ph * pw).argmax(axis=2)
    row, col = np.unravel_index(index, (pw, ph))
    mask = np.zeros_like(window)
    ns, cs = np.ogrid[:n, :c]
    mask[ns, cs, np.minimum(row, ph - 1), np.minimum(col, pw - 1)] = 1.0
    return mask


def _pool_routed(dout, cache, place):
    """Max-pool backward sending each window's dout to the cell ``place(k, top, left,
    ph, pw) -> (row, col)`` of dx, k being the window's flat argmax: index arithmetic
    that can leave the window."""
    x, pool_param = cache[0], cache[1]
    x, ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    n, c = x.shape[:2]
    ns, cs = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            k = x[:, :, top:top + ph, left:left + pw].reshape(n, c, -1).argmax(axis=2)
            row, col = place(k, top, left, ph, pw)
            np.add.at(dx, (ns, cs, row, col), dout[:, :, i, j])
    return dx


def pool_without_offset(dout, cache):
    return _pool_routed(dout, cache, lambda k, top, left, ph, pw: (k // pw, k % pw))


def pool_every_tie(dout, cache):
    return _pool_backward(dout, cache, _every_max)


def pool_last_tie(dout, cache):
    return _pool_backward(dout, cache, _last_max)


def pool_wrong_cell(dout, cache):
    return _pool_backward(dout, cache, _transposed_index)


def pool_stride_ignored(dout, cache):
    return _pool_backward(dout, cache, _first_max, step=1)


def pool_overwrite(dout, cache):
    return _pool_backward(dout, cache, _first_max, accumulate=False)


_CB = "test_conv_backward"
_PB = "test_max_pool_backward"
_C = "conv_backward_naive (conv.py)"
_P = "max_pool_backward_naive (conv.py)"

MUTANTS = [
    Mutant("stride-ignored", "conv", "conv_backward_naive", conv_stride_ignored,
           f"{_C}: right for stride 1, wrong for stride 2 and more: the window of output "
           "position (i, j) starts at i * stride, in the backward pass too.", _CB),
    Mutant("fanout-overwrite", "conv", "conv_backward_naive", conv_overwrite,
           f"{_C}: where windows overlap, a pixel's gradient is assigned instead of added: "
           "each window's share must be accumulated (+=).", _CB),
    Mutant("pad-not-cropped", "conv", "conv_backward_naive", conv_crop_corner,
           f"{_C}: dx is cut from the wrong part of the padded gradient: drop `pad` rows and "
           "columns on every side, not only at the end.", _CB, "corner"),
    Mutant("pad-not-cropped", "conv", "conv_backward_naive", conv_crop_negative,
           f"{_C}: dx is cut from the padded gradient with slices that end at -pad; with "
           "pad = 0 such a slice is empty. Cut from pad to pad + H (and W).", _CB, "negative"),
    Mutant("pad-not-cropped", "conv", "conv_backward_naive", conv_not_cropped,
           f"{_C}: dx still has the padding's rows and columns; the padding is not part of "
           "x, so its gradient is dropped.", _CB),
    Mutant("bias-not-summed", "conv", "conv_backward_naive", conv_db_batch_only,
           f"{_C}: db is summed over the batch only; each filter's bias is shared by every "
           "output position too (sum over N, H_out and W_out).", _CB),
    Mutant("filter-flipped", "conv", "conv_forward_naive", conv_forward_flipped,
           "conv_forward_naive (conv.py) flips the filter (a true convolution); CS231n's "
           "conv layer is a correlation: filter entry (k, l) meets window entry (k, l).",
           "test_conv_forward"),
    Mutant("pool-ties", "conv", "max_pool_backward_naive", pool_every_tie,
           f"{_P} sends the gradient to every cell equal to the window's max; on a tie only "
           "the first one (row-major order) gets it.", _PB),
    Mutant("pool-wrong-cell", "conv", "max_pool_backward_naive", pool_last_tie,
           f"{_P}: on a tie the gradient goes to the last maximal cell; it belongs to the "
           "first one in row-major order (what argmax of the flattened window picks).", _PB,
           "last"),
    Mutant("pool-wrong-cell", "conv", "max_pool_backward_naive", pool_wrong_cell,
           f"{_P} sends the gradient to the wrong cell of the window: check how the flat "
           "argmax is turned back into a (row, column) pair (the window's height and width).",
           _PB),
    Mutant("pool-wrong-cell", "conv", "max_pool_backward_naive", pool_without_offset,
           f"{_P} sends the gradient to the winner's place inside the window but forgets "
           "where the window starts: add the window's top-left corner (i * stride, "
           "j * stride).", _PB, "offset"),
    Mutant("stride-ignored", "conv", "max_pool_backward_naive", pool_stride_ignored,
           f"{_P}: right for stride 1, wrong for larger strides: window (i, j) starts at "
           "i * stride in the backward pass too.", _PB),
    Mutant("fanout-overwrite", "conv", "max_pool_backward_naive", pool_overwrite,
           f"{_P}: where windows overlap and one cell is the max of several, its gradient is "
           "assigned instead of added (+=).", _PB),
]
