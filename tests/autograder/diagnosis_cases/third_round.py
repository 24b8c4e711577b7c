"""Cases of the third round: written blind to the diagnosis, held out once, tuned on since.

Each function below is one way a student might fill one gap of ``cs231n_lib``:
most carry one typical mistake (the docstring says which), some are correct
but written in an unusual form (einsum, loops, ``np.where``, another but
equal formula). They were written from the reference library's behaviour and
the list of mistake classes only, not from the diagnosis, and run once with
the catalogue frozen (commit e41e1ec: 87.7% named right, 12 of 219 runs
named wrong, no correct case accused). The diagnosis then learnt from what
they showed (one class per cell only when it explains most failed probes,
mutants ruled out by the probes a student passes, new mutants and a relation
for a transpose reshaped into place), so their rate is in-sample now.

``CASES`` is the tuple of :class:`autograder.diagnosis.measure.Case` built
from them. Functions that replace a method of a class (``Value.__mul__``,
``MeanImage.transform``) take ``self`` like the method does.
"""

from __future__ import annotations

import math

import numpy as np

from autograder.diagnosis.measure import Case

# ============================================================ backprop: Value


def _other_value(self, other):
    """Wrap a plain number as a leaf of the same Value class as ``self``."""
    return other if isinstance(other, type(self)) else type(self)(other)


def value_exp_no_upstream(self):
    """Value.exp: the local gradient alone, the upstream one never multiplied in."""
    out = type(self)(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data

    out._backward = _backward
    return out


def value_tanh_of_input(self):
    """Value.tanh: 1 - x**2 instead of 1 - tanh(x)**2."""
    t = math.tanh(self.data)
    out = type(self)(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - self.data ** 2) * out.grad

    out._backward = _backward
    return out


def value_sub_plus(self, other):
    """Value.__sub__: the subtrahend gets +out.grad, like an add gate."""
    other = _other_value(self, other)
    out = type(self)(self.data - other.data, (self, other), "-")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


def value_mul_own_data(self, other):
    """Value.__mul__: each factor gets its own value instead of the other's."""
    other = _other_value(self, other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += self.data * out.grad
        other.grad += other.data * out.grad

    out._backward = _backward
    return out


def value_add_assign(self, other):
    """Value.__add__: ``=`` instead of ``+=``, so a value used twice keeps one gradient."""
    other = _other_value(self, other)
    out = type(self)(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad = out.grad
        other.grad = out.grad

    out._backward = _backward
    return out


def value_mul_assign(self, other):
    """Value.__mul__: right local gradients, but assigned instead of accumulated."""
    other = _other_value(self, other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = other.data * out.grad
        other.grad = self.data * out.grad

    out._backward = _backward
    return out


def value_relu_geq(self):
    """Value.relu: the gradient passes at x == 0 too (``>=``)."""
    out = type(self)(max(self.data, 0.0), (self,), "relu")

    def _backward():
        if self.data >= 0:
            self.grad += out.grad

    out._backward = _backward
    return out


def value_relu_inverted(self):
    """Value.relu: the gradient passes where the unit is off instead of on."""
    out = type(self)(self.data if self.data > 0 else 0.0, (self,), "relu")

    def _backward():
        self.grad += (0.0 if self.data > 0 else 1.0) * out.grad

    out._backward = _backward
    return out


def value_max_both(self, other):
    """Value.max: both inputs get the upstream gradient, as with an add gate."""
    other = _other_value(self, other)
    out = type(self)(max(self.data, other.data), (self, other), "max")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


def value_max_ties_both(self, other):
    """Value.max: on a tie both inputs get the whole gradient (two ``>=``)."""
    other = _other_value(self, other)
    out = type(self)(max(self.data, other.data), (self, other), "max")

    def _backward():
        self.grad += out.grad * (self.data >= other.data)
        other.grad += out.grad * (other.data >= self.data)

    out._backward = _backward
    return out


def value_sigmoid_of_input(self):
    """Value.sigmoid: x (1 - x) with the input instead of s (1 - s) with the output."""
    x = self.data
    s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    out = type(self)(s, (self,), "sigmoid")

    def _backward():
        self.grad += x * (1 - x) * out.grad

    out._backward = _backward
    return out


def value_truediv_via_out(self, other):
    """Correct: d(a/b)/db written as -out / b."""
    other = _other_value(self, other)
    if other.data == 0.0:
        raise ZeroDivisionError("division by a Value that is 0")
    out = type(self)(self.data / other.data, (self, other), "/")

    def _backward():
        self.grad += out.grad / other.data
        other.grad -= out.grad * out.data / other.data

    out._backward = _backward
    return out


def value_tanh_cosh(self):
    """Correct: the derivative of tanh as 1 / cosh(x)**2."""
    out = type(self)(math.tanh(self.data), (self,), "tanh")

    def _backward():
        self.grad += out.grad / math.cosh(self.data) ** 2

    out._backward = _backward
    return out


# ====================================================== backprop: staged gates


def mul_gate_swapped(dout, cache):
    """mul gate: dx = x * dout and dy = y * dout (each input's own value)."""
    x, y = cache
    return x * dout, y * dout


def mul_gate_no_upstream(dout, cache):
    """mul gate: the local gradients returned without the upstream gradient."""
    x, y = cache
    dx = y
    dy = x
    return dx, dy


def max_gate_ties_both(dout, cache):
    """max gate: on ties both x and y get dout."""
    x, y = cache
    dx = dout * (x >= y)
    dy = dout * (y >= x)
    return dx, dy


def max_gate_where(dout, cache):
    """Correct: np.where picks the winner (x on ties)."""
    x, y = cache
    x_wins = x >= y
    return np.where(x_wins, dout, 0.0), np.where(x_wins, 0.0, dout)


# ================================================= backprop: gradient checking


def numgrad_forward_difference(f, x, verbose=True, h=1e-5):
    """eval_numerical_gradient: (f(x + h) - f(x)) / h, one-sided."""
    grad = np.zeros_like(x)
    fx = f(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxh = f(x)
        x[ix] = old
        grad[ix] = (fxh - fx) / h
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def numgrad_array_forward_difference(f, x, df, h=1e-5):
    """eval_numerical_gradient_array: one-sided differences against f(x)."""
    grad = np.zeros_like(x)
    base = np.array(f(x), dtype=np.float64)
    for ix in np.ndindex(*x.shape):
        keep = x[ix]
        x[ix] = keep + h
        moved = np.array(f(x), dtype=np.float64)
        x[ix] = keep
        grad[ix] = np.sum((moved - base) * df) / h
    return grad


def numgrad_restore_arithmetic(f, x, verbose=True, h=1e-5):
    """eval_numerical_gradient: x[ix] is moved back with += h, not restored exactly."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        x[ix] += h
        fp = f(x)
        x[ix] -= 2 * h
        fm = f(x)
        x[ix] += h
        grad[ix] = (fp - fm) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    return grad


def numgrad_array_no_restore(f, x, df, h=1e-5):
    """eval_numerical_gradient_array: x[ix] is left at old - h after each entry."""
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = np.copy(f(x))
        x[ix] = old - h
        minus = np.copy(f(x))
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def sparse_one_sided(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    """grad_check_sparse: a forward difference at each sampled entry."""
    rng = np.random.default_rng(rng)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        f0 = f(x)
        x[ix] = old + h
        f1 = f(x)
        x[ix] = old
        num = (f1 - f0) / h
        ana = float(analytic_grad[ix])
        err = abs(num - ana) / max(1e-8, abs(num) + abs(ana))
        print(f"numerical: {num:f} analytic: {ana:f}, relative error: {err:e}")
        errors.append(err)
    return errors


def numgrad_flat_index(f, x, verbose=True, h=1e-5):
    """Correct: a flat loop with np.unravel_index and try/finally."""
    grad = np.zeros(x.shape)
    for k in range(x.size):
        ix = np.unravel_index(k, x.shape)
        saved = x[ix]
        try:
            x[ix] = saved + h
            up = float(f(x))
            x[ix] = saved - h
            down = float(f(x))
        finally:
            x[ix] = saved
        grad[ix] = 0.5 * (up - down) / h
        if verbose:
            print(ix, grad[ix])
    return grad


# ========================================================== backprop: affine


def affine_backward_dw_reshaped(dout, cache):
    """affine_backward: dout.T @ x reshaped to w's shape instead of x.T @ dout."""
    x, w, b = cache
    N = x.shape[0]
    x2 = x.reshape(N, -1)
    dx = np.dot(dout, w.T).reshape(x.shape)
    dw = np.dot(dout.T, x2).reshape(w.shape)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def affine_backward_db_is_dout(dout, cache):
    """affine_backward: db = dout, one bias gradient per sample."""
    x, w, b = cache
    flat = x.reshape(len(x), -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = flat.T @ dout
    db = dout
    return dx, dw, db


def affine_backward_averaged_dw(dout, cache):
    """affine_backward: dw averaged over the batch (a 1/N too many)."""
    x, w, b = cache
    N = x.shape[0]
    X = x.reshape(N, -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = X.T @ dout / N
    db = dout.sum(axis=0)
    return dx, dw, db


def affine_backward_einsum(dout, cache):
    """Correct: every product with np.einsum."""
    x, w, b = cache
    X = x.reshape(x.shape[0], -1)
    dx = np.einsum("nm,dm->nd", dout, w).reshape(x.shape)
    dw = np.einsum("nd,nm->dm", X, dout)
    db = np.einsum("nm->m", dout)
    return dx, dw, db


def affine_forward_rows(x, w, b):
    """Correct: one sample at a time."""
    N = x.shape[0]
    out = np.zeros((N, w.shape[1]))
    for n in range(N):
        out[n] = x[n].ravel() @ w + b
    return out, (x, w, b)


# ================================================================ conv: conv


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")


def _conv_shapes(dout, cache):
    x, w, b, conv_param = cache
    return x, w, conv_param["stride"], conv_param["pad"], dout.shape[2], dout.shape[3]


def conv_backward_no_stride(dout, cache):
    """conv_backward_naive: the windows are taken at (i, j), without the stride."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, f, i, j]
                    dw[f] += xp[n, :, i:i + HH, j:j + WW] * g
                    dxp[n, :, i:i + HH, j:j + WW] += w[f] * g
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def conv_backward_negative_crop(dout, cache):
    """conv_backward_naive: dx cropped with [pad:-pad], empty when pad is 0."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros(xp.shape)
    dw = np.zeros(w.shape)
    for i in range(H_out):
        for j in range(W_out):
            r, c = i * stride, j * stride
            d = dout[:, :, i, j]
            dw += np.einsum("nf,nchw->fchw", d, xp[:, :, r:r + HH, c:c + WW])
            dxp[:, :, r:r + HH, c:c + WW] += np.einsum("nf,fchw->nchw", d, w)
    db = dout.sum(axis=(0, 2, 3))
    dx = dxp[:, :, pad:-pad, pad:-pad]
    return dx, dw, db


def conv_backward_uncropped(dout, cache):
    """conv_backward_naive: returns the padded input's gradient, border included."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dx = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                hs, ws = i * stride, j * stride
                patch = xp[n, :, hs:hs + HH, ws:ws + WW]
                for f in range(F):
                    dw[f] += patch * dout[n, f, i, j]
                    dx[n, :, hs:hs + HH, ws:ws + WW] += w[f] * dout[n, f, i, j]
    db = dout.sum(axis=3).sum(axis=2).sum(axis=0)
    return dx, dw, db


def conv_backward_dw_no_upstream(dout, cache):
    """conv_backward_naive: dw adds up the windows without weighting them by dout."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            db[f] += dout[n, f].sum()
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    dw[f] += xp[n, :, top:top + HH, left:left + WW]
                    dxp[n, :, top:top + HH, left:left + WW] += w[f] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def conv_backward_dx_assign(dout, cache):
    """conv_backward_naive: the window's gradient is assigned, so overlaps keep the last."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            s, t = i * stride, j * stride
            win = xp[:, :, s:s + HH, t:t + WW]
            up = dout[:, :, i, j]
            dw += np.tensordot(up, win, axes=(0, 0))
            dxp[:, :, s:s + HH, t:t + WW] = np.tensordot(up, w, axes=(1, 0))
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def conv_backward_db_per_sample(dout, cache):
    """conv_backward_naive: db summed over the positions but not over the samples."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            a, c = i * stride, j * stride
            win = xp[:, :, a:a + HH, c:c + WW]
            dw += np.einsum("nf,nchw->fchw", dout[:, :, i, j], win)
            dxp[:, :, a:a + HH, c:c + WW] += np.einsum("nf,fchw->nchw", dout[:, :, i, j], w)
    db = dout.sum(axis=(2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def conv_backward_dw_mean(dout, cache):
    """conv_backward_naive: dw divided by the batch size, as if the loss were a mean."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            a, c = i * stride, j * stride
            win = xp[:, :, a:a + HH, c:c + WW]
            dw += np.tensordot(dout[:, :, i, j], win, axes=([0], [0]))
            dxp[:, :, a:a + HH, c:c + WW] += np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dw /= N
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def conv_backward_six_loops(dout, cache):
    """Correct: every index its own loop, scalar by scalar."""
    x, w, stride, pad, H_out, W_out = _conv_shapes(dout, cache)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    xp = _pad(x, pad)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros_like(cache[2])
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, f, i, j]
                    db[f] += g
                    for c in range(C):
                        for p in range(HH):
                            for q in range(WW):
                                r, s = i * stride + p, j * stride + q
                                dw[f, c, p, q] += xp[n, c, r, s] * g
                                dxp[n, c, r, s] += w[f, c, p, q] * g
    return dxp[:, :, pad:pad + H, pad:pad + W], dw, db


def conv_forward_sliding_windows(x, w, b, conv_param):
    """Correct: all windows at once with sliding_window_view, then one einsum."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    HH, WW = w.shape[2:]
    xp = _pad(x, pad)
    windows = np.lib.stride_tricks.sliding_window_view(xp, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (N, C, H_out, W_out, HH, WW)
    out = np.einsum("nchwpq,fcpq->nfhw", windows, w) + b[None, :, None, None]
    return out, (x, w, b, conv_param)


# ============================================================ conv: max pool


def _pool_sizes(cache):
    x, pool_param = cache[0], cache[1]
    return (x, pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"])


def pool_backward_no_stride(dout, cache):
    """max_pool_backward_naive: windows at (i, j) in the backward pass, stride forgotten."""
    x, ph, pw, stride = _pool_sizes(cache)
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i:i + ph, j:j + pw]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i + r, j + s] += dout[n, c, i, j]
    return dx


def pool_backward_equal_mask(dout, cache):
    """max_pool_backward_naive: a mask ``window == max`` sends dout to every tie."""
    x, ph, pw, stride = _pool_sizes(cache)
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            top, left = i * stride, j * stride
            window = x[:, :, top:top + ph, left:left + pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, top:top + ph, left:left + pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


def pool_backward_divmod_height(dout, cache):
    """max_pool_backward_naive: the flat argmax split with divmod(k, pool_height)."""
    x, ph, pw, stride = _pool_sizes(cache)
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    k = np.argmax(x[n, c, top:top + ph, left:left + pw])
                    r, s = divmod(k, ph)
                    dx[n, c, top + r, left + s] += dout[n, c, i, j]
    return dx


def pool_backward_no_offset(dout, cache):
    """max_pool_backward_naive: the winner's position inside the window is used as is,
    without adding the window's corner."""
    x, ph, pw, stride = _pool_sizes(cache)
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    patch = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    r, s = np.unravel_index(patch.argmax(), (ph, pw))
                    dx[n, c, r, s] += dout[n, c, i, j]
    return dx


def pool_backward_assign(dout, cache):
    """max_pool_backward_naive: ``=`` at the winner, so a pixel that wins two windows
    keeps one gradient."""
    x, ph, pw, stride = _pool_sizes(cache)
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + ph, left:left + pw]
                    r, s = np.unravel_index(np.argmax(window), (ph, pw))
                    dx[n, c, top + r, left + s] = dout[n, c, i, j]
    return dx


def pool_backward_add_at(dout, cache):
    """Correct: every window's winner found at once, gradients scattered with np.add.at."""
    x, ph, pw, stride = _pool_sizes(cache)
    N, C, H_out, W_out = dout.shape
    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride].reshape(N, C, H_out, W_out, ph * pw)
    r, s = np.divmod(windows.argmax(axis=-1), pw)
    rows = r + stride * np.arange(H_out)[:, None]
    cols = s + stride * np.arange(W_out)[None, :]
    n, c = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    dx = np.zeros_like(x)
    np.add.at(dx, (n[:, :, None, None], c[:, :, None, None], rows, cols), dout)
    return dx


def pool_forward_loops(x, pool_param):
    """Correct: a loop over every sample, channel and position."""
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = (H - ph) // stride + 1, (W - pw) // stride + 1
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * stride:i * stride + ph,
                                               j * stride:j * stride + pw])
    return out, (x, pool_param)


# =============================================================== activations


def sigmoid_backward_no_upstream(dout, cache):
    """sigmoid_backward: s (1 - s) returned without dout."""
    s = cache
    return s * (1 - s)


def sigmoid_backward_from_x(dout, cache):
    """sigmoid_backward: the cache (the output) treated as the input and squashed again."""
    sig = 1.0 / (1.0 + np.exp(-cache))
    return dout * sig * (1.0 - sig)


def sigmoid_backward_expanded(dout, cache):
    """Correct: dout (s - s**2)."""
    s = cache
    return dout * s - dout * s ** 2


def tanh_backward_of_cache(dout, cache):
    """tanh_backward: tanh applied again to the cached output."""
    return dout * (1 - np.tanh(cache) ** 2)


def tanh_backward_flipped(dout, cache):
    """tanh_backward: t**2 - 1 instead of 1 - t**2."""
    t = cache
    return dout * (t ** 2 - 1)


def leaky_backward_lt_zero(dout, cache):
    """leaky_relu_backward: alpha only where x < 0, so x == 0 gets slope 1."""
    x, alpha = cache
    dx = dout.copy()
    dx[x < 0] *= alpha
    return dx


def leaky_backward_swapped_slopes(dout, cache):
    """leaky_relu_backward: slope alpha on the positive side and 1 on the negative one."""
    x, alpha = cache
    return dout * np.where(x > 0, alpha, 1.0)


def leaky_backward_masked_copy(dout, cache):
    """Correct: a copy of dout scaled by alpha where x <= 0."""
    x, alpha = cache
    dx = np.array(dout, dtype=np.float64)
    dx[x <= 0] *= alpha
    return dx


def prelu_backward_output_mask(dout, cache):
    """prelu_backward: the negative side found from the output's sign."""
    x, alpha_b, scalar = cache
    out = np.where(x > 0, x, alpha_b * x)
    pos = out > 0
    dx = dout * np.where(pos, 1.0, alpha_b)
    contrib = np.where(pos, 0.0, dout * x)
    if scalar:
        return dx, np.float64(contrib.sum())
    return dx, contrib.sum(axis=tuple(a for a in range(x.ndim) if a != 1))


def prelu_backward_output_mask_loops(dout, cache):
    """prelu_backward: per channel, the mask taken from out <= 0."""
    x, alpha_b, scalar = cache
    out = x * np.where(x > 0, 1.0, alpha_b)
    neg = out <= 0
    dx = dout * (~neg + neg * alpha_b)
    g = dout * x * neg
    if scalar:
        return dx, float(np.sum(g))
    dalpha = np.zeros(x.shape[1])
    for c in range(x.shape[1]):
        dalpha[c] = np.sum(g[:, c])
    return dx, dalpha


def prelu_backward_sum_batch_only(dout, cache):
    """prelu_backward: dalpha summed over the batch axis only, so a per-channel alpha
    gets one gradient per pixel."""
    x, alpha_b, scalar = cache
    negative = x <= 0
    dx = np.where(negative, alpha_b * dout, dout)
    dalpha = np.sum(dout * x * negative, axis=0)
    if scalar:
        dalpha = np.sum(dalpha)
    return dx, dalpha


def prelu_backward_scalar_not_summed(dout, cache):
    """prelu_backward: per-feature and per-channel alphas summed, a scalar alpha not:
    its gradient comes back elementwise."""
    x, alpha_b, scalar = cache
    neg = x <= 0
    dx = dout * np.where(neg, alpha_b, 1.0)
    dalpha = dout * x * neg
    if not scalar:
        dalpha = dalpha.sum(axis=0) if x.ndim == 2 else dalpha.sum(axis=(0, 2, 3))
    return dx, dalpha


def prelu_backward_strict_negative(dout, cache):
    """prelu_backward: ``x < 0`` for the negative side, so x == 0 gets slope 1."""
    x, alpha_b, scalar = cache
    neg = x < 0
    dx = dout * np.where(neg, alpha_b, 1.0)
    d = dout * np.where(neg, x, 0.0)
    if scalar:
        return dx, d.sum()
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    return dx, d.sum(axis=axes)


def prelu_backward_einsum(dout, cache):
    """Correct: dalpha with einsum over the shared axes (np.vdot for a scalar alpha)."""
    x, alpha_b, scalar = cache
    gate = (x > 0).astype(np.float64)
    dx = dout * (gate + (1.0 - gate) * alpha_b)
    neg_part = x * (1.0 - gate)
    if scalar:
        return dx, np.float64(np.vdot(dout, neg_part))
    spec = "nd,nd->d" if x.ndim == 2 else "nchw,nchw->c"
    return dx, np.einsum(spec, dout, neg_part)


def elu_backward_missing_alpha_shift(dout, cache):
    """elu_backward: the negative side's slope written as out, forgetting + alpha."""
    x, out, alpha = cache
    return dout * np.where(x > 0, 1.0, out)


def elu_backward_exp_without_alpha(dout, cache):
    """elu_backward: exp(x) on the negative side, without the factor alpha."""
    x, out, alpha = cache
    dx = dout.copy()
    neg = x <= 0
    dx[neg] *= np.exp(x[neg])
    return dx


def elu_backward_geq(dout, cache):
    """elu_backward: slope 1 from x >= 0, so x == 0 gets 1 instead of alpha."""
    x, out, alpha = cache
    return dout * np.where(x >= 0, 1.0, alpha + out)


def elu_backward_exp_form(dout, cache):
    """Correct: alpha exp(x) on the negative side (exp of the clipped x)."""
    x, out, alpha = cache
    slope = np.ones_like(x)
    neg = x <= 0
    slope[neg] = alpha * np.exp(x[neg])
    return dout * slope


def maxout_backward_all_pieces(dout, cache):
    """maxout_backward: dout sent to every piece instead of the winning one."""
    x, w, b, winner = cache
    D, M, k = w.shape
    dz = np.repeat(dout[:, :, None], k, axis=2)
    dx = np.einsum("nmk,dmk->nd", dz, w)
    dw = np.einsum("nd,nmk->dmk", x, dz)
    db = dz.sum(axis=0)
    return dx, dw, db


def maxout_backward_averaged(dout, cache):
    """maxout_backward: dw and db divided by the batch size."""
    x, w, b, winner = cache
    N, D = x.shape
    _, M, k = w.shape
    dz = np.zeros((N, M, k))
    for n in range(N):
        for m in range(M):
            dz[n, m, winner[n, m]] = dout[n, m]
    dx = np.einsum("nmk,dmk->nd", dz, w)
    dw = np.einsum("nd,nmk->dmk", x, dz) / N
    db = dz.sum(axis=0) / N
    return dx, dw, db


def maxout_backward_one_hot(dout, cache):
    """Correct: a one-hot mask of the winners, then plain products."""
    x, w, b, winner = cache
    D, M, k = w.shape
    one_hot = np.arange(k) == winner[:, :, None]  # (N, M, k)
    dz = one_hot * dout[:, :, None]
    dx = np.einsum("nmk,dmk->nd", dz, w)
    dw = np.tensordot(x, dz, axes=([0], [0]))
    db = np.sum(dz, axis=0)
    return dx, dw, db


# ============================================================ initialization


def xavier_fan_out(fan_in, fan_out, rng):
    """xavier: std 1 / sqrt(fan_out)."""
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_out)


def he_fan_out(fan_in, fan_out, rng):
    """he: std sqrt(2 / fan_out)."""
    return np.sqrt(2.0 / fan_out) * rng.standard_normal((fan_in, fan_out))


def he_without_two(fan_in, fan_out, rng):
    """he: the Xavier std, 1 / sqrt(fan_in), without ReLU's factor 2."""
    std = 1.0 / math.sqrt(fan_in)
    return std * rng.standard_normal(size=(fan_in, fan_out))


def xavier_normal(fan_in, fan_out, rng):
    """Correct: rng.normal with the standard deviation as its scale."""
    return rng.normal(0.0, 1.0 / np.sqrt(fan_in), size=(fan_in, fan_out))


def he_sqrt_two(fan_in, fan_out, rng):
    """Correct: sqrt(2) / sqrt(fan_in)."""
    W = rng.standard_normal((fan_in, fan_out))
    W *= math.sqrt(2) / math.sqrt(fan_in)
    return W


def mean_image_transform_refit(self, X):
    """MeanImage.transform: subtracts the mean of X itself, not the fitted one."""
    X = self._check_transform_input(X)
    return X - np.mean(X, axis=0)


def channel_mean_transform_refit(self, X):
    """ChannelMean.transform: the channel means of the set being transformed."""
    X = self._check_transform_input(X)
    return X - X.mean(axis=(0, 2, 3), keepdims=True)


def standardize_transform_refit(self, X):
    """Standardize.transform: centred with the transformed set's mean and std."""
    X = self._check_transform_input(X)
    return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + self.eps)


def standardize_fit_by_hand(self, X_train):
    """Correct: the variance written out as the mean squared deviation."""
    X_train = self._check_fit_input(X_train)
    mu = np.sum(X_train, axis=0) / X_train.shape[0]
    self.mean_ = mu
    self.std_ = np.sqrt(np.mean((X_train - mu) ** 2, axis=0) + self.eps)
    return self


# ================================================================= batchnorm


def _settings(bn_param, D):
    """eps, momentum and the running averages as the library's scaffold fetches them."""
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.ones(D))
    return bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9), running_mean, running_var


def _store(bn_param, running_mean, running_var):
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var


def bn_forward_eps_outside(x, gamma, beta, bn_param):
    """batchnorm_forward: eps added to the standard deviation instead of the variance."""
    N, D = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, D)
    cache = None
    if bn_param["mode"] == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        xc = x - mu
        std = np.sqrt(var) + eps
        out = gamma * xc / std + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xc, gamma, std, 1.0 / std)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    _store(bn_param, running_mean, running_var)
    return out, cache


def bn_forward_unbiased(x, gamma, beta, bn_param):
    """batchnorm_forward: the sample variance with ddof=1."""
    N, D = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, D)
    cache = None
    if bn_param["mode"] == "train":
        mu = np.mean(x, axis=0)
        var = np.var(x, axis=0, ddof=1)
        std = np.sqrt(var + eps)
        xc = x - mu
        out = gamma * (xc / std) + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xc, gamma, std, 1 / std)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    _store(bn_param, running_mean, running_var)
    return out, cache


def bn_forward_momentum_swapped(x, gamma, beta, bn_param):
    """batchnorm_forward: momentum weighs the new batch, 1 - momentum the running value."""
    N, D = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, D)
    cache = None
    if bn_param["mode"] == "train":
        mu = x.sum(axis=0) / N
        xc = x - mu
        var = (xc ** 2).sum(axis=0) / N
        std = np.sqrt(var + eps)
        out = gamma * xc / std + beta
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var = (1 - momentum) * running_var + momentum * var
        cache = (xc, gamma, std, 1.0 / std)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    _store(bn_param, running_mean, running_var)
    return out, cache


def bn_forward_updates_in_test(x, gamma, beta, bn_param):
    """batchnorm_forward: the running averages are updated after either branch."""
    N, D = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, D)
    mu, var = x.mean(axis=0), x.var(axis=0)
    cache = None
    if bn_param["mode"] == "train":
        std = np.sqrt(var + eps)
        out = gamma * (x - mu) / std + beta
        cache = (x - mu, gamma, std, 1.0 / std)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var = momentum * running_var + (1 - momentum) * var
    _store(bn_param, running_mean, running_var)
    return out, cache


def bn_forward_batch_stats_always(x, gamma, beta, bn_param):
    """batchnorm_forward: test mode also normalises with the batch's mean and variance."""
    N, D = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, D)
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc * xc, axis=0)
    std = np.sqrt(var + eps)
    out = gamma * (xc / std) + beta
    cache = None
    if bn_param["mode"] == "train":
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (xc, gamma, std, 1.0 / std)
    _store(bn_param, running_mean, running_var)
    return out, cache


def bn_forward_feature_loop(x, gamma, beta, bn_param):
    """Correct: one feature (column) at a time."""
    N, D = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, D)
    out = np.empty_like(x)
    if bn_param["mode"] != "train":
        for d in range(D):
            out[:, d] = (x[:, d] - running_mean[d]) / math.sqrt(running_var[d] + eps)
            out[:, d] = gamma[d] * out[:, d] + beta[d]
        return out, None
    mu, var = np.empty(D), np.empty(D)
    for d in range(D):
        col = x[:, d]
        mu[d] = col.mean()
        var[d] = ((col - mu[d]) ** 2).mean()
        out[:, d] = gamma[d] * (col - mu[d]) / math.sqrt(var[d] + eps) + beta[d]
    _store(bn_param, momentum * running_mean + (1 - momentum) * mu,
           momentum * running_var + (1 - momentum) * var)
    std = np.sqrt(var + eps)
    return out, (x - mu, gamma, std, 1.0 / std)


def _spatial_forward(x, gamma, beta, bn_param, *, ddof, batch_stats_in_test):
    """Spatial batchnorm over axes (0, 2, 3), written directly on (N, C, H, W)."""
    N, C, H, W = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, C)
    train = bn_param["mode"] == "train"
    if train or batch_stats_in_test:
        mu = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3), ddof=ddof)
    else:
        mu, var = running_mean, running_var
    shape = (1, C, 1, 1)
    std = np.sqrt(var + eps)
    out = gamma.reshape(shape) * (x - mu.reshape(shape)) / std.reshape(shape) \
        + beta.reshape(shape)
    cache = None
    if train:
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        xc_rows = (x - mu.reshape(shape)).transpose(0, 2, 3, 1).reshape(-1, C)
        cache = (xc_rows, gamma, std, 1.0 / std)
    _store(bn_param, running_mean, running_var)
    return out, cache


def spatial_forward_batch_stats_always(x, gamma, beta, bn_param):
    """spatial_batchnorm_forward: batch statistics in test mode too."""
    return _spatial_forward(x, gamma, beta, bn_param, ddof=0, batch_stats_in_test=True)


def spatial_forward_unbiased(x, gamma, beta, bn_param):
    """spatial_batchnorm_forward: variance over N H W with ddof=1."""
    return _spatial_forward(x, gamma, beta, bn_param, ddof=1, batch_stats_in_test=False)


def spatial_forward_rows_eps_outside(x, gamma, beta, bn_param):
    """spatial_batchnorm_forward: rows of channels normalised by sqrt(var) + eps."""
    N, C, H, W = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, C)
    rows = np.moveaxis(x, 1, -1).reshape(-1, C)
    cache = None
    if bn_param["mode"] == "train":
        mu = rows.mean(axis=0)
        var = rows.var(axis=0)
        std = np.sqrt(var) + eps
        out_rows = gamma * (rows - mu) / std + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (rows - mu, gamma, std, 1.0 / std)
    else:
        out_rows = gamma * (rows - running_mean) / np.sqrt(running_var + eps) + beta
    _store(bn_param, running_mean, running_var)
    return np.moveaxis(out_rows.reshape(N, H, W, C), -1, 1), cache


def spatial_forward_momentum_on_batch(x, gamma, beta, bn_param):
    """spatial_batchnorm_forward: running = momentum * batch + (1 - momentum) * running."""
    N, C, H, W = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, C)
    if bn_param["mode"] == "test":
        mu, var = running_mean, running_var
    else:
        mu = np.mean(x, axis=(0, 2, 3))
        var = np.mean((x - mu[:, None, None]) ** 2, axis=(0, 2, 3))
        running_mean = momentum * mu + (1 - momentum) * running_mean
        running_var = momentum * var + (1 - momentum) * running_var
    std = np.sqrt(var + eps)
    xc = x - mu[:, None, None]
    out = gamma[:, None, None] * xc / std[:, None, None] + beta[:, None, None]
    _store(bn_param, running_mean, running_var)
    cache = None
    if bn_param["mode"] == "train":
        cache = (xc.transpose(0, 2, 3, 1).reshape(-1, C), gamma, std, 1 / std)
    return out, cache


def spatial_forward_updates_in_test(x, gamma, beta, bn_param):
    """spatial_batchnorm_forward: batch statistics measured and averaged in whatever mode."""
    N, C, H, W = x.shape
    eps, momentum, running_mean, running_var = _settings(bn_param, C)
    rows = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    mu, var = rows.mean(axis=0), rows.var(axis=0)
    new_mean = momentum * running_mean + (1 - momentum) * mu
    new_var = momentum * running_var + (1 - momentum) * var
    if bn_param["mode"] == "train":
        std = np.sqrt(var + eps)
        out_rows = (rows - mu) / std * gamma + beta
        cache = (rows - mu, gamma, std, 1.0 / std)
    else:
        out_rows = (rows - running_mean) / np.sqrt(running_var + eps) * gamma + beta
        cache = None
    _store(bn_param, new_mean, new_var)
    return out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_forward_direct(x, gamma, beta, bn_param):
    """Correct: statistics over (0, 2, 3) on the 4-d array, no reshape."""
    return _spatial_forward(x, gamma, beta, bn_param, ddof=0, batch_stats_in_test=False)


def _staged(dout, cache, *, var_path=True, sign=-1.0):
    """batchnorm_backward stage by stage; the flags leave the variance out or flip a sign."""
    xc, gamma, std, istd = cache
    N = dout.shape[0]
    xhat = xc * istd
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    dxc = dxhat * istd
    if var_path:
        distd = np.sum(dxhat * xc, axis=0)
        dstd = sign * distd / (std * std)
        dvar = 0.5 * dstd / std
        dsq = np.ones_like(xc) * dvar / N
        dxc = dxc + 2 * xc * dsq
    dmu = -np.sum(dxc, axis=0)
    dx = dxc + np.ones_like(xc) * dmu / N
    return dx, dgamma, dbeta


def bn_staged_no_mean_path(dout, cache):
    """batchnorm_backward: x's second path, through the mean, left out (dx = dxmu)."""
    xmu, gamma, sqrtvar, ivar = cache
    N, D = dout.shape
    xhat = xmu * ivar
    dbeta = np.sum(dout, axis=0)
    dgammax = dout
    dgamma = np.sum(dgammax * xhat, axis=0)
    dxhat = dgammax * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    dvar = 0.5 * 1.0 / sqrtvar * dsqrtvar
    dsq = 1.0 / N * np.ones((N, D)) * dvar
    dxmu2 = 2 * xmu * dsq
    dx = dxmu1 + dxmu2
    return dx, dgamma, dbeta


def bn_staged_no_var_path(dout, cache):
    """batchnorm_backward: the path through the variance (and std) left out."""
    return _staged(dout, cache, var_path=False)


def bn_staged_sign_of_reciprocal(dout, cache):
    """batchnorm_backward: d(1/std) = +1/std**2, the minus sign lost."""
    return _staged(dout, cache, sign=1.0)


def bn_staged_explicit(dout, cache):
    """Correct: every stage of the graph its own variable."""
    return _staged(dout, cache)


def bn_alt_without_mean_term(dout, cache):
    """batchnorm_backward_alt: the - sum(dout) / N term left out of dx."""
    xc, gamma, std, istd = cache
    N = dout.shape[0]
    xhat = xc * istd
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = gamma * istd * (dout - xhat * dgamma / N)
    return dx, dgamma, dbeta


def bn_alt_without_var_term(dout, cache):
    """batchnorm_backward_alt: the x_hat * sum(dout * x_hat) / N term left out of dx."""
    xc, gamma, std, istd = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xc * istd).sum(axis=0)
    dx = (gamma / std) * (dout - dbeta / N)
    return dx, dgamma, dbeta


def bn_alt_dgamma_no_upstream(dout, cache):
    """batchnorm_backward_alt: dgamma = sum(x_hat), the upstream gradient not in it."""
    xc, gamma, std, istd = cache
    N = dout.shape[0]
    xhat = xc / std
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(xhat, axis=0)
    dx = gamma * istd / N * (N * dout - dout.sum(axis=0) - xhat * (dout * xhat).sum(axis=0))
    return dx, dgamma, dbeta


def bn_alt_textbook(dout, cache):
    """Correct: (1/N) gamma istd (N dout - sum(dout) - x_hat sum(dout x_hat))."""
    xc, gamma, std, istd = cache
    N = dout.shape[0]
    xhat = xc * istd
    dbeta = dout.sum(axis=0)
    dgamma = np.einsum("nd,nd->d", dout, xhat)
    dx = (1.0 / N) * gamma * istd * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


def spatial_backward_dbeta_batch_only(dout, cache):
    """spatial_batchnorm_backward: dgamma and dbeta summed over N only, not over H and W."""
    xc_rows, gamma, std, istd = cache
    N, C, H, W = dout.shape
    M = N * H * W
    xhat = (xc_rows * istd).reshape(N, H, W, C).transpose(0, 3, 1, 2)
    g = gamma[None, :, None, None]
    s = istd[None, :, None, None]
    sum_d = dout.sum(axis=(0, 2, 3), keepdims=True)
    sum_dx = (dout * xhat).sum(axis=(0, 2, 3), keepdims=True)
    dx = g * s / M * (M * dout - sum_d - xhat * sum_dx)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def spatial_backward_axes(dout, cache):
    """Correct: the closed form directly on (N, C, H, W), sums over (0, 2, 3)."""
    xc_rows, gamma, std, istd = cache
    N, C, H, W = dout.shape
    M = N * H * W
    xhat = (xc_rows * istd).reshape(N, H, W, C).transpose(0, 3, 1, 2)
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * xhat).sum(axis=(0, 2, 3))
    scale = (gamma * istd / M)[None, :, None, None]
    dx = scale * (M * dout - dbeta[None, :, None, None] - xhat * dgamma[None, :, None, None])
    return dx, dgamma, dbeta


# ===================================================================== cases

# (name, assignment, module, function, implementation, expected, grade_id)
_TABLE = [
    # backprop: Value
    ("value_exp_no_upstream", "backprop", "graph", "Value.exp", value_exp_no_upstream,
     "missing-upstream", "test_value_backward"),
    ("value_tanh_of_input", "backprop", "graph", "Value.tanh", value_tanh_of_input,
     "derivative-of-input", "test_value_backward"),
    ("value_sub_plus", "backprop", "graph", "Value.__sub__", value_sub_plus,
     "sign", "test_value_backward"),
    ("value_mul_own_data", "backprop", "graph", "Value.__mul__", value_mul_own_data,
     "transposed", "test_value_backward"),
    ("value_add_assign", "backprop", "graph", "Value.__add__", value_add_assign,
     "fanout-overwrite", "test_value_backward"),
    ("value_mul_assign", "backprop", "graph", "Value.__mul__", value_mul_assign,
     "fanout-overwrite", "test_value_backward"),
    ("value_relu_geq", "backprop", "graph", "Value.relu", value_relu_geq,
     "mask-boundary", "test_value_backward"),
    ("value_relu_inverted", "backprop", "graph", "Value.relu", value_relu_inverted,
     "mask-inverted", "test_value_backward"),
    ("value_max_both", "backprop", "graph", "Value.max", value_max_both,
     "max-routing", "test_value_backward"),
    ("value_max_ties_both", "backprop", "graph", "Value.max", value_max_ties_both,
     "pool-ties", "test_value_backward"),
    ("value_sigmoid_of_input", "backprop", "graph", "Value.sigmoid", value_sigmoid_of_input,
     "derivative-of-input", "test_sigmoid_neuron"),
    ("value_truediv_via_out", "backprop", "graph", "Value.__truediv__",
     value_truediv_via_out, None, "test_value_backward"),
    ("value_tanh_cosh", "backprop", "graph", "Value.tanh", value_tanh_cosh,
     None, "test_value_backward"),
    # backprop: staged gates
    ("mul_gate_swapped", "backprop", "graph", "mul_gate_backward", mul_gate_swapped,
     "transposed", "test_staged_gates"),
    ("mul_gate_no_upstream", "backprop", "graph", "mul_gate_backward", mul_gate_no_upstream,
     "missing-upstream", "test_staged_gates"),
    ("max_gate_ties_both", "backprop", "graph", "max_gate_backward", max_gate_ties_both,
     "pool-ties", "test_staged_gates"),
    ("max_gate_where", "backprop", "graph", "max_gate_backward", max_gate_where,
     None, "test_staged_gates"),
    # backprop: gradient checking
    ("numgrad_forward_difference", "backprop", "gradient_check", "eval_numerical_gradient",
     numgrad_forward_difference, "numgrad-one-sided", "test_numerical_gradient"),
    ("numgrad_array_forward_difference", "backprop", "gradient_check",
     "eval_numerical_gradient_array", numgrad_array_forward_difference, "numgrad-one-sided",
     "test_numerical_gradient"),
    ("numgrad_restore_arithmetic", "backprop", "gradient_check", "eval_numerical_gradient",
     numgrad_restore_arithmetic, "numgrad-not-restored", "test_numerical_gradient"),
    ("numgrad_array_no_restore", "backprop", "gradient_check",
     "eval_numerical_gradient_array", numgrad_array_no_restore, "numgrad-not-restored",
     "test_numerical_gradient"),
    ("sparse_one_sided", "backprop", "gradient_check", "grad_check_sparse", sparse_one_sided,
     "numgrad-one-sided", "test_grad_check_sparse"),
    ("numgrad_flat_index", "backprop", "gradient_check", "eval_numerical_gradient",
     numgrad_flat_index, None, "test_numerical_gradient"),
    # backprop: affine
    ("affine_backward_dw_reshaped", "backprop", "affine", "affine_backward",
     affine_backward_dw_reshaped, "transposed", "test_affine_backward"),
    ("affine_backward_db_is_dout", "backprop", "affine", "affine_backward",
     affine_backward_db_is_dout, "bias-not-summed", "test_affine_backward"),
    ("affine_backward_averaged_dw", "backprop", "affine", "affine_backward",
     affine_backward_averaged_dw, "scale-1/N", "test_affine_backward"),
    ("affine_backward_einsum", "backprop", "affine", "affine_backward",
     affine_backward_einsum, None, "test_affine_backward"),
    ("affine_forward_rows", "backprop", "affine", "affine_forward", affine_forward_rows,
     None, "test_affine_forward"),
    # conv
    ("conv_backward_no_stride", "conv", "conv", "conv_backward_naive",
     conv_backward_no_stride, "stride-ignored", "test_conv_backward"),
    ("conv_backward_negative_crop", "conv", "conv", "conv_backward_naive",
     conv_backward_negative_crop, "pad-not-cropped", "test_conv_backward"),
    ("conv_backward_uncropped", "conv", "conv", "conv_backward_naive",
     conv_backward_uncropped, "pad-not-cropped", "test_conv_backward"),
    ("conv_backward_dw_no_upstream", "conv", "conv", "conv_backward_naive",
     conv_backward_dw_no_upstream, "missing-upstream", "test_conv_backward"),
    ("conv_backward_dx_assign", "conv", "conv", "conv_backward_naive",
     conv_backward_dx_assign, "fanout-overwrite", "test_conv_backward"),
    ("conv_backward_db_per_sample", "conv", "conv", "conv_backward_naive",
     conv_backward_db_per_sample, "bias-not-summed", "test_conv_backward"),
    ("conv_backward_dw_mean", "conv", "conv", "conv_backward_naive",
     conv_backward_dw_mean, "scale-1/N", "test_conv_backward"),
    ("conv_backward_six_loops", "conv", "conv", "conv_backward_naive",
     conv_backward_six_loops, None, "test_conv_backward"),
    ("conv_forward_sliding_windows", "conv", "conv", "conv_forward_naive",
     conv_forward_sliding_windows, None, "test_conv_forward"),
    ("pool_backward_no_stride", "conv", "conv", "max_pool_backward_naive",
     pool_backward_no_stride, "stride-ignored", "test_max_pool_backward"),
    ("pool_backward_equal_mask", "conv", "conv", "max_pool_backward_naive",
     pool_backward_equal_mask, "pool-ties", "test_max_pool_backward"),
    ("pool_backward_divmod_height", "conv", "conv", "max_pool_backward_naive",
     pool_backward_divmod_height, "pool-wrong-cell", "test_max_pool_backward"),
    ("pool_backward_no_offset", "conv", "conv", "max_pool_backward_naive",
     pool_backward_no_offset, "pool-wrong-cell", "test_max_pool_backward"),
    ("pool_backward_assign", "conv", "conv", "max_pool_backward_naive",
     pool_backward_assign, "fanout-overwrite", "test_max_pool_backward"),
    ("pool_backward_add_at", "conv", "conv", "max_pool_backward_naive",
     pool_backward_add_at, None, "test_max_pool_backward"),
    ("pool_forward_loops", "conv", "conv", "max_pool_forward_naive", pool_forward_loops,
     None, "test_max_pool_forward"),
    # activations
    ("sigmoid_backward_no_upstream", "activations", "activations", "sigmoid_backward",
     sigmoid_backward_no_upstream, "missing-upstream", "test_sigmoid"),
    ("sigmoid_backward_from_x", "activations", "activations", "sigmoid_backward",
     sigmoid_backward_from_x, "derivative-of-input", "test_sigmoid"),
    ("sigmoid_backward_expanded", "activations", "activations", "sigmoid_backward",
     sigmoid_backward_expanded, None, "test_sigmoid"),
    ("tanh_backward_of_cache", "activations", "activations", "tanh_backward",
     tanh_backward_of_cache, "derivative-of-input", "test_tanh"),
    ("tanh_backward_flipped", "activations", "activations", "tanh_backward",
     tanh_backward_flipped, "sign", "test_tanh"),
    ("leaky_backward_lt_zero", "activations", "activations", "leaky_relu_backward",
     leaky_backward_lt_zero, "mask-boundary", "test_leaky_relu"),
    ("leaky_backward_swapped_slopes", "activations", "activations", "leaky_relu_backward",
     leaky_backward_swapped_slopes, "mask-inverted", "test_leaky_relu"),
    ("leaky_backward_masked_copy", "activations", "activations", "leaky_relu_backward",
     leaky_backward_masked_copy, None, "test_leaky_relu"),
    ("prelu_backward_output_mask", "activations", "activations", "prelu_backward",
     prelu_backward_output_mask, "mask-of-output", "test_prelu"),
    ("prelu_backward_output_mask_loops", "activations", "activations", "prelu_backward",
     prelu_backward_output_mask_loops, "mask-of-output", "test_prelu"),
    ("prelu_backward_sum_batch_only", "activations", "activations", "prelu_backward",
     prelu_backward_sum_batch_only, "shared-param-not-summed", "test_prelu"),
    ("prelu_backward_scalar_not_summed", "activations", "activations", "prelu_backward",
     prelu_backward_scalar_not_summed, "shared-param-not-summed", "test_prelu"),
    ("prelu_backward_strict_negative", "activations", "activations", "prelu_backward",
     prelu_backward_strict_negative, "mask-boundary", "test_prelu"),
    ("prelu_backward_einsum", "activations", "activations", "prelu_backward",
     prelu_backward_einsum, None, "test_prelu"),
    ("elu_backward_missing_alpha_shift", "activations", "activations", "elu_backward",
     elu_backward_missing_alpha_shift, "elu-negative", "test_elu"),
    ("elu_backward_exp_without_alpha", "activations", "activations", "elu_backward",
     elu_backward_exp_without_alpha, "elu-negative", "test_elu"),
    ("elu_backward_geq", "activations", "activations", "elu_backward", elu_backward_geq,
     "mask-boundary", "test_elu"),
    ("elu_backward_exp_form", "activations", "activations", "elu_backward",
     elu_backward_exp_form, None, "test_elu"),
    ("maxout_backward_all_pieces", "activations", "activations", "maxout_backward",
     maxout_backward_all_pieces, "max-routing", "test_maxout"),
    ("maxout_backward_averaged", "activations", "activations", "maxout_backward",
     maxout_backward_averaged, "scale-1/N", "test_maxout"),
    ("maxout_backward_one_hot", "activations", "activations", "maxout_backward",
     maxout_backward_one_hot, None, "test_maxout"),
    # initialization
    ("xavier_fan_out", "initialization", "init", "xavier", xavier_fan_out,
     "init-fan-out", "test_xavier_he"),
    ("he_fan_out", "initialization", "init", "he", he_fan_out, "init-fan-out",
     "test_xavier_he"),
    ("he_without_two", "initialization", "init", "he", he_without_two, "init-no-2",
     "test_xavier_he"),
    ("xavier_normal", "initialization", "init", "xavier", xavier_normal, None,
     "test_xavier_he"),
    ("he_sqrt_two", "initialization", "init", "he", he_sqrt_two, None, "test_xavier_he"),
    ("mean_image_transform_refit", "initialization", "preprocess", "MeanImage.transform",
     mean_image_transform_refit, "mean-on-test", "test_mean_image"),
    ("channel_mean_transform_refit", "initialization", "preprocess", "ChannelMean.transform",
     channel_mean_transform_refit, "mean-on-test", "test_channel_mean"),
    ("standardize_transform_refit", "initialization", "preprocess", "Standardize.transform",
     standardize_transform_refit, "mean-on-test", "test_standardize"),
    ("standardize_fit_by_hand", "initialization", "preprocess", "Standardize.fit",
     standardize_fit_by_hand, None, "test_standardize"),
    # batchnorm
    ("bn_forward_eps_outside", "batchnorm", "batchnorm", "batchnorm_forward",
     bn_forward_eps_outside, "bn-eps", "test_batchnorm_forward_train"),
    ("bn_forward_unbiased", "batchnorm", "batchnorm", "batchnorm_forward",
     bn_forward_unbiased, "bn-unbiased-var", "test_batchnorm_forward_train"),
    ("bn_forward_momentum_swapped", "batchnorm", "batchnorm", "batchnorm_forward",
     bn_forward_momentum_swapped, "bn-momentum", "test_batchnorm_forward_train"),
    ("bn_forward_updates_in_test", "batchnorm", "batchnorm", "batchnorm_forward",
     bn_forward_updates_in_test, "bn-test-update", "test_batchnorm_forward_test"),
    ("bn_forward_batch_stats_always", "batchnorm", "batchnorm", "batchnorm_forward",
     bn_forward_batch_stats_always, "bn-test-batch-stats", "test_batchnorm_forward_test"),
    ("bn_forward_feature_loop", "batchnorm", "batchnorm", "batchnorm_forward",
     bn_forward_feature_loop, None, "test_batchnorm_forward_train"),
    ("spatial_forward_batch_stats_always", "batchnorm", "batchnorm",
     "spatial_batchnorm_forward", spatial_forward_batch_stats_always, "bn-test-batch-stats",
     "test_spatial_batchnorm_forward"),
    ("spatial_forward_unbiased", "batchnorm", "batchnorm", "spatial_batchnorm_forward",
     spatial_forward_unbiased, "bn-unbiased-var", "test_spatial_batchnorm_forward"),
    ("spatial_forward_rows_eps_outside", "batchnorm", "batchnorm",
     "spatial_batchnorm_forward", spatial_forward_rows_eps_outside, "bn-eps",
     "test_spatial_batchnorm_forward"),
    ("spatial_forward_momentum_on_batch", "batchnorm", "batchnorm",
     "spatial_batchnorm_forward", spatial_forward_momentum_on_batch, "bn-momentum",
     "test_spatial_batchnorm_forward"),
    ("spatial_forward_updates_in_test", "batchnorm", "batchnorm",
     "spatial_batchnorm_forward", spatial_forward_updates_in_test, "bn-test-update",
     "test_spatial_batchnorm_forward"),
    ("spatial_forward_direct", "batchnorm", "batchnorm", "spatial_batchnorm_forward",
     spatial_forward_direct, None, "test_spatial_batchnorm_forward"),
    ("bn_staged_no_mean_path", "batchnorm", "batchnorm", "batchnorm_backward",
     bn_staged_no_mean_path, "bn-mean-path", "test_batchnorm_backward"),
    ("bn_staged_no_var_path", "batchnorm", "batchnorm", "batchnorm_backward",
     bn_staged_no_var_path, "bn-var-path", "test_batchnorm_backward"),
    ("bn_staged_sign_of_reciprocal", "batchnorm", "batchnorm", "batchnorm_backward",
     bn_staged_sign_of_reciprocal, "sign", "test_batchnorm_backward"),
    ("bn_staged_explicit", "batchnorm", "batchnorm", "batchnorm_backward",
     bn_staged_explicit, None, "test_batchnorm_backward"),
    ("bn_alt_without_mean_term", "batchnorm", "batchnorm", "batchnorm_backward_alt",
     bn_alt_without_mean_term, "bn-mean-path", "test_batchnorm_backward_alt"),
    ("bn_alt_without_var_term", "batchnorm", "batchnorm", "batchnorm_backward_alt",
     bn_alt_without_var_term, "bn-var-path", "test_batchnorm_backward_alt"),
    ("bn_alt_dgamma_no_upstream", "batchnorm", "batchnorm", "batchnorm_backward_alt",
     bn_alt_dgamma_no_upstream, "missing-upstream", "test_batchnorm_backward_alt"),
    ("bn_alt_textbook", "batchnorm", "batchnorm", "batchnorm_backward_alt",
     bn_alt_textbook, None, "test_batchnorm_backward_alt"),
    ("spatial_backward_dbeta_batch_only", "batchnorm", "batchnorm",
     "spatial_batchnorm_backward", spatial_backward_dbeta_batch_only, "bias-not-summed",
     "test_spatial_batchnorm_backward"),
    ("spatial_backward_axes", "batchnorm", "batchnorm", "spatial_batchnorm_backward",
     spatial_backward_axes, None, "test_spatial_batchnorm_backward"),
]

CASES = tuple(Case(f"third_{name}", assignment, module, function, implementation,
                   expected, grade_id)
              for name, assignment, module, function, implementation, expected, grade_id
              in _TABLE)
