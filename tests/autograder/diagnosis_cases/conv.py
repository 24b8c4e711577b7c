"""Cases of the conv assignment: naive convolution and max pooling."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograder.diagnosis.measure import Case


def _conv_setup(cache):
    x, w, b, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)], mode="constant")
    return x, w, s, p, xp


def _out_size(x, w, s, p):
    return ((x.shape[2] + 2 * p - w.shape[2]) // s + 1, (x.shape[3] + 2 * p - w.shape[3]) // s + 1)


def conv_loops_no_stride(dout, cache):
    x, w, s, p, xp = _conv_setup(cache)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2:]
    Ho, Wo = dout.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    dw[f] += xp[n, :, i:i + HH, j:j + WW] * dout[n, f, i, j]
                    dxp[n, :, i:i + HH, j:j + WW] += w[f] * dout[n, f, i, j]
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def conv_crop_minus_pad(dout, cache):
    x, w, s, p, xp = _conv_setup(cache)
    HH, WW = w.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], win)
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.einsum(
                "nf,fchw->nchw", dout[:, :, i, j], w)
    return dxp[:, :, p:-p, p:-p], dw, dout.sum(axis=(0, 2, 3))


def conv_crop_top_left(dout, cache):
    x, w, s, p, xp = _conv_setup(cache)
    HH, WW = w.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = xp[:, :, i * s:i * s + HH, j * s:j * s + WW]
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], win)
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += np.einsum(
                "nf,fchw->nchw", dout[:, :, i, j], w)
    return dxp[:, :, :x.shape[2], :x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def conv_db_spatial_only(dout, cache):
    dx, dw, _ = conv_vectorised(dout, cache)
    return dx, dw, np.sum(dout, axis=(2, 3))


def conv_db_batch_only(dout, cache):
    dx, dw, _ = conv_vectorised(dout, cache)
    return dx, dw, np.sum(dout, axis=0)


def conv_loops_assign(dout, cache):
    x, w, s, p, xp = _conv_setup(cache)
    HH, WW = w.shape[2:]
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(x.shape[0]):
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                r, c = i * s, j * s
                dw += np.einsum("f,chw->fchw", dout[n, :, i, j], xp[n, :, r:r + HH, c:c + WW])
                dxp[n, :, r:r + HH, c:c + WW] = np.einsum("f,fchw->chw", dout[n, :, i, j], w)
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def conv_vectorised(dout, cache):
    """Correct: every window at once with sliding_window_view, dx by scattering back."""
    x, w, s, p, xp = _conv_setup(cache)
    HH, WW = w.shape[2:]
    Ho, Wo = dout.shape[2:]
    windows = sliding_window_view(xp, (HH, WW), axis=(2, 3))[:, :, ::s, ::s][:, :, :Ho, :Wo]
    dw = np.einsum("nfij,ncijhw->fchw", dout, windows)
    dwin = np.einsum("nfij,fchw->ncijhw", dout, w)
    dxp = np.zeros_like(xp)
    for i in range(Ho):
        for j in range(Wo):
            dxp[:, :, i * s:i * s + HH, j * s:j * s + WW] += dwin[:, :, i, j]
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def conv_forward_convolve(x, w, b, conv_param):
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
    Ho, Wo = _out_size(x, w, s, p)
    HH, WW = w.shape[2:]
    out = np.zeros((x.shape[0], w.shape[0], Ho, Wo))
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            kernel = np.flip(w[f], axis=(1, 2))
            for i in range(Ho):
                for j in range(Wo):
                    out[n, f, i, j] = np.sum(xp[n, :, i * s:i * s + HH, j * s:j * s + WW]
                                             * kernel) + b[f]
    return out, (x, w, b, conv_param)


def conv_forward_windows(x, w, b, conv_param):
    """Correct: every window at once, one einsum."""
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
    Ho, Wo = _out_size(x, w, s, p)
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::s, ::s][:, :, :Ho, :Wo]
    return np.einsum("ncijhw,fchw->nfij", win, w) + b[None, :, None, None], (x, w, b, conv_param)


# ------------------------------------------------------------------ pooling


def _pool_setup(cache):
    x, pp = cache[0], cache[1]
    return x, pp["pool_height"], pp["pool_width"], pp["stride"]


def pool_all_maxima(dout, cache):
    x, ph, pw, s = _pool_setup(cache)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += \
                        (win == np.max(win)) * dout[n, c, i, j]
    return dx


def pool_last_maximum(dout, cache):
    x, ph, pw, s = _pool_setup(cache)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    rows, cols = np.nonzero(win == win.max())
                    dx[n, c, i * s + rows[-1], j * s + cols[-1]] += dout[n, c, i, j]
    return dx


def pool_unravel_swapped(dout, cache):
    x, ph, pw, s = _pool_setup(cache)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    r, q = np.unravel_index(np.argmax(win), (pw, ph))
                    r, q = min(r, ph - 1), min(q, pw - 1)
                    dx[n, c, i * s + r, j * s + q] += dout[n, c, i, j]
    return dx


def pool_no_stride(dout, cache):
    x, ph, pw, s = _pool_setup(cache)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i:i + ph, j:j + pw]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i + r, j + q] += dout[n, c, i, j]
    return dx


def pool_assign(dout, cache):
    x, ph, pw, s = _pool_setup(cache)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    dx[n, c, i * s + r, j * s + q] = dout[n, c, i, j]
    return dx


def pool_loops(dout, cache):
    """Correct: per window, argmax on the flat window, row-major first on ties."""
    x, ph, pw, s = _pool_setup(cache)
    dx = np.zeros_like(x)
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    win = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    k = int(np.argmax(win))
                    dx[n, c, i * s + k // pw, j * s + k % pw] += dout[n, c, i, j]
    return dx


_CF, _CB, _PB = "test_conv_forward", "test_conv_backward", "test_max_pool_backward"


def _case(name, function, impl, expected, grade_id):
    return Case(name, "conv", "conv", function, impl, expected, grade_id)


CASES = (
    _case("conv_loops_no_stride", "conv_backward_naive", conv_loops_no_stride,
          "stride-ignored", _CB),
    _case("conv_crop_minus_pad", "conv_backward_naive", conv_crop_minus_pad,
          "pad-not-cropped", _CB),
    _case("conv_crop_top_left", "conv_backward_naive", conv_crop_top_left,
          "pad-not-cropped", _CB),
    _case("conv_db_spatial_only", "conv_backward_naive", conv_db_spatial_only,
          "bias-not-summed", _CB),
    _case("conv_db_batch_only", "conv_backward_naive", conv_db_batch_only,
          "bias-not-summed", _CB),
    _case("conv_loops_assign", "conv_backward_naive", conv_loops_assign,
          "fanout-overwrite", _CB),
    _case("conv_vectorised", "conv_backward_naive", conv_vectorised, None, _CB),
    _case("conv_forward_convolve", "conv_forward_naive", conv_forward_convolve,
          "filter-flipped", _CF),
    _case("conv_forward_windows", "conv_forward_naive", conv_forward_windows, None, _CF),
    _case("pool_all_maxima", "max_pool_backward_naive", pool_all_maxima, "pool-ties", _PB),
    _case("pool_last_maximum", "max_pool_backward_naive", pool_last_maximum,
          "pool-wrong-cell", _PB),
    _case("pool_unravel_swapped", "max_pool_backward_naive", pool_unravel_swapped,
          "pool-wrong-cell", _PB),
    _case("pool_no_stride", "max_pool_backward_naive", pool_no_stride, "stride-ignored", _PB),
    _case("pool_assign", "max_pool_backward_naive", pool_assign, "fanout-overwrite", _PB),
    _case("pool_loops", "max_pool_backward_naive", pool_loops, None, _PB),
)
