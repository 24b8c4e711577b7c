"""Fast convolution and max pooling in pure numpy: drop-in replacements for ``conv``.

Same signatures, same inputs refused with the same messages, and results
equal to the naive layers up to rounding (float64 relative error well below
1e-10); only the arithmetic is arranged differently.

Convolution uses *im2col*: every window of the padded input becomes one
column of a matrix (a strided view from ``sliding_window_view``, copied once
into order), so that the whole layer is one matrix product with the filters,
done by BLAS. The batch is processed a few samples at a time so that the
column matrix of a chunk stays in cache instead of costing hundreds of
megabytes for a large batch. The backward pass rebuilds the columns from
``x`` (the caches are the naive layers' caches) and scatters the column
gradients back with one vectorised update per kernel offset (HH * WW of
them), which handles overlapping windows without ``np.add.at``.

Max pooling takes a reshape fast path when the windows tile the input
without overlap (``pool_height == pool_width == stride``, the usual 2x2/2):
the input is reshaped, without a copy, into rows of windows
``(N * C * H_out, pool_height, W)`` and reduced along whole image rows, a
cache-sized block of window rows at a time. Other configurations loop over
the ``pool_height * pool_width`` offsets inside the window, vectorised over
everything else. Ties go to the first maximum in row-major order, as in
``max_pool_backward_naive``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from cs231n_lib.conv import check_dout, conv_geometry, pool_geometry

__all__ = [
    "conv_forward_fast",
    "conv_backward_fast",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
]

# Bytes of im2col columns built at once. A chunk this size stays in a
# typical L2/L3 cache while BLAS reads it; a whole batch of columns would not.
COLUMN_CHUNK_BYTES = 16 * 2**20
# Bytes of input pooled at once on the reshape path, for the same reason.
POOL_CHUNK_BYTES = 2**20


def _pad(x, pad):
    if pad == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def _offset_view(a, top, left, stride, H_out, W_out):
    """The entries of ``a: (N, C, H, W)`` at offset (top, left) of every window.

    Shape (N, C, H_out, W_out): entry (i, j) is ``a[:, :, top + i*stride, left + j*stride]``.
    """
    return a[:, :, top:top + stride * (H_out - 1) + 1:stride,
             left:left + stride * (W_out - 1) + 1:stride]


def _im2col(x_pad, HH, WW, stride, H_out, W_out):
    """Columns of every window of ``x_pad: (B, C, Hp, Wp)``.

    Returns
    -------
    cols : ndarray, shape (B, C * HH * WW, H_out * W_out)
        ``cols[n, (c, u, v), (i, j)] = x_pad[n, c, i*stride + u, j*stride + v]``,
        the same (c, u, v) order as ``w.reshape(F, -1)``.
    """
    B, C = x_pad.shape[:2]
    windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))
    windows = windows[:, :, :stride * (H_out - 1) + 1:stride, :stride * (W_out - 1) + 1:stride]
    # (B, C, H_out, W_out, HH, WW) -> (B, C, HH, WW, H_out, W_out); the reshape copies.
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(B, C * HH * WW, H_out * W_out)


def _chunks(N, bytes_per_sample):
    step = max(1, COLUMN_CHUNK_BYTES // max(1, bytes_per_sample))
    return [slice(start, min(start + step, N)) for start in range(0, N, step)]


def conv_forward_fast(x, w, b, conv_param):
    """Forward pass of a convolutional layer as im2col and one BLAS product per chunk.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    w : ndarray, shape (F, C, HH, WW)
    b : ndarray, shape (F,)
    conv_param : dict with ``'stride'`` and ``'pad'``

    Returns
    -------
    out : ndarray, shape (N, F, H_out, W_out)
    cache : tuple
        ``(x, w, b, conv_param)``, the same as ``conv_forward_naive``'s.
    """
    x, w, b, stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    N, C, _, _ = x.shape
    F, _, HH, WW = w.shape
    dtype = np.result_type(x, w, b, np.float32)
    # One dtype for both operands, or matmul leaves BLAS for a slow generic loop.
    x_pad = _pad(x.astype(dtype, copy=False), pad)
    w_rows = w.reshape(F, C * HH * WW).astype(dtype, copy=False)

    out = np.empty((N, F, H_out * W_out), dtype=dtype)
    bytes_per_sample = C * HH * WW * H_out * W_out * out.itemsize
    for chunk in _chunks(N, bytes_per_sample):
        cols = _im2col(x_pad[chunk], HH, WW, stride, H_out, W_out)
        np.matmul(w_rows, cols, out=out[chunk])
    out += b[:, None]
    return out.reshape(N, F, H_out, W_out), (x, w, b, conv_param)


def conv_backward_fast(dout, cache):
    """Backward pass of a convolutional layer with im2col and a per-offset col2im.

    Parameters
    ----------
    dout : ndarray, shape (N, F, H_out, W_out)
        Upstream gradient.
    cache : tuple
        ``(x, w, b, conv_param)`` from ``conv_forward_fast`` or ``conv_forward_naive``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dw : ndarray, shape (F, C, HH, WW)
    db : ndarray, shape (F,)
    """
    x, w, b, conv_param = cache[:4]
    x, w, b, stride, pad, H_out, W_out = conv_geometry(x, w, b, conv_param)
    dout = check_dout(dout, (x.shape[0], w.shape[0], H_out, W_out), "conv")
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dtype = np.result_type(x, w, dout, np.float32)
    x_pad = _pad(x.astype(dtype, copy=False), pad)
    w_rows = w.reshape(F, C * HH * WW).astype(dtype, copy=False)
    dout_rows = np.ascontiguousarray(dout, dtype=dtype).reshape(N, F, H_out * W_out)

    db = dout_rows.sum(axis=(0, 2))
    dw_rows = np.zeros((F, C * HH * WW), dtype=dtype)
    dx_pad = np.zeros(x_pad.shape, dtype=dtype)
    bytes_per_sample = C * HH * WW * H_out * W_out * dw_rows.itemsize
    for chunk in _chunks(N, bytes_per_sample):
        cols = _im2col(x_pad[chunk], HH, WW, stride, H_out, W_out)  # (B, K, P)
        upstream = dout_rows[chunk]                                   # (B, F, P)
        dw_rows += np.matmul(upstream, cols.transpose(0, 2, 1)).sum(axis=0)
        dcols = np.matmul(w_rows.T, upstream).reshape(-1, C, HH, WW, H_out, W_out)
        # col2im: each kernel offset maps the output grid onto the input
        # one-to-one, so a plain += per offset is exact; overlapping windows
        # meet in different offsets and add up there.
        dx_chunk = dx_pad[chunk]
        for u in range(HH):
            for v in range(WW):
                _offset_view(dx_chunk, u, v, stride, H_out, W_out)[...] += dcols[:, :, u, v]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W] if pad else dx_pad
    return np.ascontiguousarray(dx), dw_rows.reshape(w.shape), db


def _tiles(ph, pw, stride):
    """Whether pooling windows tile the input exactly, with no overlap and no gap."""
    return ph == stride and pw == stride


def _row_blocks(num_rows, bytes_per_row):
    """Slices of about POOL_CHUNK_BYTES of rows: the temporaries of one block stay in cache."""
    step = max(1, POOL_CHUNK_BYTES // max(1, bytes_per_row))
    return [slice(start, min(start + step, num_rows)) for start in range(0, num_rows, step)]


def _tiled_pool_forward(x, ph, pw):
    """Max pooling when the windows tile x: ``(N, C, H, W) -> (N, C, H / ph, W / pw)``.

    x is viewed as rows of windows, ``(N * C * H_out, ph, W)``: the maximum
    over a window's ph image rows is taken first (long contiguous runs),
    then over its pw columns.
    """
    N, C, H, W = x.shape
    H_out, W_out = H // ph, W // pw
    rows = x.reshape(N * C * H_out, ph, W)
    out = np.empty((N * C * H_out, W_out), dtype=x.dtype)
    for block in _row_blocks(rows.shape[0], ph * W * x.itemsize):
        row_max = rows[block, 0].copy()
        for u in range(1, ph):
            np.maximum(row_max, rows[block, u], out=row_max)
        row_max = row_max.reshape(-1, W_out, pw)
        out_block = out[block]
        out_block[...] = row_max[:, :, 0]
        for v in range(1, pw):
            np.maximum(out_block, row_max[:, :, v], out=out_block)
    return out.reshape(N, C, H_out, W_out)


def _tiled_pool_backward(x, out, dout, ph, pw, dtype, out_nan):
    """Max-pool backward when the windows tile x, one block of window rows at a time.

    Each window's max and upstream gradient are repeated across the window's
    width (np.repeat) and broadcast over its rows, so that every operation
    runs along whole image rows instead of strided single elements.
    """
    N, C, H, W = x.shape
    H_out, W_out = out.shape[2:]
    rows = x.reshape(N * C * H_out, ph, W)
    out_rows = out.reshape(-1, W_out)
    dout_rows = dout.reshape(-1, W_out)
    dx = np.empty(rows.shape, dtype=dtype)
    finite = bool(np.isfinite(dout).all())
    for block in _row_blocks(rows.shape[0], ph * W * x.itemsize):
        x_block = rows[block]
        window_max = np.repeat(out_rows[block], pw, axis=1)[:, None, :]
        is_max = x_block == window_max
        if out_nan:
            # np.argmax (the naive layer) takes a NaN as the maximum.
            is_max |= np.isnan(x_block) & np.isnan(window_max)
        if np.count_nonzero(is_max) != window_max.size // pw:
            # Some window holds its maximum twice (or more): keep the first.
            by_offset = is_max.reshape(-1, ph, W_out, pw)
            _keep_first([by_offset[:, u, :, v] for u in range(ph) for v in range(pw)])
        dx_block = dx[block]
        dx_block[...] = is_max  # 1.0 at each window's maximum, 0.0 elsewhere
        upstream = np.repeat(dout_rows[block], pw, axis=1)[:, None, :]
        if finite:
            np.multiply(dx_block, upstream, out=dx_block)
        else:
            # 0 * inf would leave NaN where the naive layer leaves 0.
            np.copyto(dx_block, np.broadcast_to(upstream, dx_block.shape), where=is_max)
    return dx.reshape(N, C, H, W)


def max_pool_forward_fast(x, pool_param):
    """Forward pass of max pooling, vectorised; a reshape when the windows tile.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    pool_param : dict with ``'pool_height'``, ``'pool_width'`` and ``'stride'``

    Returns
    -------
    out : ndarray, shape (N, C, H_out, W_out)
    cache : tuple
        ``(x, pool_param, out)``; ``max_pool_backward_naive`` accepts it too.
    """
    x, ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    N, C, H, W = x.shape
    if _tiles(ph, pw, stride):
        out = _tiled_pool_forward(x, ph, pw)
    else:
        out = _offset_view(x, 0, 0, stride, H_out, W_out).copy()
        for u in range(ph):
            for v in range(pw):
                if u or v:
                    np.maximum(out, _offset_view(x, u, v, stride, H_out, W_out), out=out)
    return out, (x, pool_param, out)


def _keep_first(views):
    """Keep only the first True across boolean ``views`` (in place), position by position.

    ``views`` are same-shaped views of one mask, one per window offset, in
    row-major order of the offsets; afterwards each window has at most one True.
    """
    taken = views[0].copy()
    for view in views[1:]:
        view &= ~taken
        taken |= view


def max_pool_backward_fast(dout, cache):
    """Backward pass of max pooling, vectorised; ties go to the first maximum (row-major).

    Parameters
    ----------
    dout : ndarray, shape (N, C, H_out, W_out)
        Upstream gradient.
    cache : tuple
        ``(x, pool_param, out)`` from ``max_pool_forward_fast``, or
        ``(x, pool_param)`` from ``max_pool_forward_naive``.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    x, pool_param = cache[0], cache[1]
    x, ph, pw, stride, H_out, W_out = pool_geometry(x, pool_param)
    dout = check_dout(dout, (x.shape[0], x.shape[1], H_out, W_out), "max-pool")
    out = cache[2] if len(cache) > 2 else max_pool_forward_fast(x, pool_param)[0]
    N, C, H, W = x.shape
    dtype = np.result_type(x, dout)
    out_nan = np.isnan(out).any() if np.issubdtype(out.dtype, np.inexact) else False

    if _tiles(ph, pw, stride):
        return _tiled_pool_backward(x, out, dout, ph, pw, dtype, out_nan)

    dx = np.zeros(x.shape, dtype=dtype)
    taken = np.zeros(out.shape, dtype=bool)
    for u in range(ph):
        for v in range(pw):
            candidates = _offset_view(x, u, v, stride, H_out, W_out)
            wins = candidates == out
            if out_nan:
                wins |= np.isnan(candidates) & np.isnan(out)
            wins &= ~taken
            taken |= wins
            _offset_view(dx, u, v, stride, H_out, W_out)[...] += np.where(wins, dout, 0)
    return dx
