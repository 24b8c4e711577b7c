"""Cases of the backprop assignment: gradient checking, ``Value``, staged gates, affine."""

from __future__ import annotations

import math

import numpy as np

from autograder.diagnosis.measure import Case

# ------------------------------------------------------------ gradient checking


def forward_difference(f, x, verbose=True, h=1e-5):
    grad = np.zeros_like(x)
    fx = f(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        i = it.multi_index
        saved = x[i]
        x[i] = saved + h
        grad[i] = (f(x) - fx) / h
        x[i] = saved
        it.iternext()
    return grad


def backward_difference(f, x, verbose=True, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        keep = float(x[i])
        here = f(x)
        x[i] = keep - h
        there = f(x)
        x[i] = keep
        grad[i] = (here - there) / h
    return grad


def array_shift_no_restore(f, x, df, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        x[i] += h
        pos = f(x).copy()
        x[i] -= 2 * h
        neg = f(x).copy()
        grad[i] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def scalar_no_restore(f, x, verbose=True, h=1e-5):
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        start = x[i]
        x[i] = start + h
        a = f(x)
        x[i] = start - h
        b = f(x)
        grad[i] = (a - b) / (2 * h)
    return grad


def nditer_centred(f, x, verbose=True, h=1e-5):
    """Correct: centred differences with np.nditer, x restored exactly."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        saved = x[i].copy()
        x[i] = saved + h
        up = f(x)
        x[i] = saved - h
        down = f(x)
        x[i] = saved
        grad[i] = (up - down) / (2.0 * h)
        it.iternext()
    return grad


# --------------------------------------------------------------------- Value


def _wrap(self, other):
    return other if isinstance(other, type(self)) else type(self)(other)


def mul_forgets_upstream(self, other):
    other = _wrap(self, other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        local_self, local_other = other.data, self.data
        self.grad += local_self
        other.grad += local_other

    out._backward = _backward
    return out


def mul_overwrites_other(self, other):
    other = _wrap(self, other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = self.grad + other.data * out.grad
        other.grad = self.data * out.grad

    out._backward = _backward
    return out


def mul_locals_named(self, other):
    """Correct: the switcher written with named local gradients."""
    other = _wrap(self, other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        d_self, d_other = other.data, self.data
        self.grad += d_self * out.grad
        other.grad += d_other * out.grad

    out._backward = _backward
    return out


def add_assigns(self, other):
    other = _wrap(self, other)
    out = type(self)(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad = 1.0 * out.grad
        other.grad = 1.0 * out.grad

    out._backward = _backward
    return out


def pow_assigns(self, exponent):
    k = float(exponent)
    out = type(self)(self.data ** k, (self,), f"**{k:g}")

    def _backward():
        self.grad = k * self.data ** (k - 1) * out.grad

    out._backward = _backward
    return out


def sub_minus_minus(self, other):
    other = _wrap(self, other)
    out = type(self)(self.data - other.data, (self, other), "-")

    def _backward():
        self.grad += out.grad
        other.grad -= -out.grad

    out._backward = _backward
    return out


def tanh_input_form(self):
    t = math.tanh(self.data)
    out = type(self)(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - self.data * self.data) * out.grad

    out._backward = _backward
    return out


def sigmoid_input_form(self):
    s = 1 / (1 + math.exp(-self.data)) if self.data >= 0 else \
        math.exp(self.data) / (1 + math.exp(self.data))
    out = type(self)(s, (self,), "sigmoid")

    def _backward():
        self.grad += self.data * (1 - self.data) * out.grad

    out._backward = _backward
    return out


def exp_forgets_upstream(self):
    out = type(self)(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data

    out._backward = _backward
    return out


# -------------------------------------------------------------- staged gates


def max_gate_both_on_tie(dout, cache):
    x, y = cache
    return dout * (x >= y), dout * (x <= y)


def max_gate_tie_to_y(dout, cache):
    x, y = cache
    return dout * (x > y), dout * (y >= x)


def mul_gate_own_input(dout, cache):
    x, y = cache
    return dout * x, dout * y


def max_gate_where(dout, cache):
    """Correct: np.where with the tie going to x."""
    x, y = cache
    winner_x = np.asarray(x) >= np.asarray(y)
    return np.where(winner_x, dout, 0.0) * 1.0, np.where(winner_x, 0.0, dout) * 1.0


# ------------------------------------------------------------------- affine


def affine_einsum_dw_swapped(dout, cache):
    x, w, b = cache
    flat = x.reshape(len(x), -1)
    dx = np.einsum("nm,dm->nd", dout, w).reshape(x.shape)
    dw = np.einsum("nm,nd->md", dout, flat)
    return dx, dw, dout.sum(0)


def affine_db_rows(dout, cache):
    x, w, b = cache
    flat = x.reshape(len(x), -1)
    return (dout @ w.T).reshape(x.shape), flat.T @ dout, np.array(dout)


def affine_db_wrong_axis(dout, cache):
    x, w, b = cache
    flat = x.reshape(len(x), -1)
    return (dout @ w.T).reshape(x.shape), flat.T @ dout, dout.sum(axis=1)


def affine_dw_averaged(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    flat = x.reshape(n, -1)
    return np.dot(dout, w.T).reshape(x.shape), np.dot(flat.T, dout) / n, np.sum(dout, axis=0)


def affine_db_averaged(dout, cache):
    x, w, b = cache
    flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), flat.T @ dout, np.mean(dout, axis=0)


def affine_einsum(dout, cache):
    """Correct: every product as an einsum."""
    x, w, b = cache
    flat = x.reshape(x.shape[0], -1)
    return (np.einsum("nm,dm->nd", dout, w).reshape(x.shape),
            np.einsum("nd,nm->dm", flat, dout), np.einsum("nm->m", dout))


def affine_loops(dout, cache):
    """Correct: one sample at a time, outer products added up."""
    x, w, b = cache
    flat = x.reshape(x.shape[0], -1)
    dx, dw, db = np.zeros_like(flat), np.zeros_like(w), np.zeros_like(b)
    for n in range(flat.shape[0]):
        dx[n] = w @ dout[n]
        dw += np.outer(flat[n], dout[n])
        db += dout[n]
    return dx.reshape(x.shape), dw, db


_GC, _V, _G, _AB = ("test_numerical_gradient", "test_value_backward", "test_staged_gates",
                    "test_affine_backward")


def _case(name, module, function, impl, expected, grade_id):
    return Case(name, "backprop", module, function, impl, expected, grade_id)


CASES = (
    _case("forward_difference", "gradient_check", "eval_numerical_gradient",
          forward_difference, "numgrad-one-sided", _GC),
    _case("backward_difference", "gradient_check", "eval_numerical_gradient",
          backward_difference, "numgrad-one-sided", _GC),
    _case("array_shift_no_restore", "gradient_check", "eval_numerical_gradient_array",
          array_shift_no_restore, "numgrad-not-restored", _GC),
    _case("scalar_no_restore", "gradient_check", "eval_numerical_gradient",
          scalar_no_restore, "numgrad-not-restored", _GC),
    _case("nditer_centred", "gradient_check", "eval_numerical_gradient", nditer_centred,
          None, _GC),
    _case("mul_forgets_upstream", "graph", "Value.__mul__", mul_forgets_upstream,
          "missing-upstream", _V),
    _case("exp_forgets_upstream", "graph", "Value.exp", exp_forgets_upstream,
          "missing-upstream", _V),
    _case("mul_overwrites_other", "graph", "Value.__mul__", mul_overwrites_other,
          "fanout-overwrite", _V),
    _case("add_assigns", "graph", "Value.__add__", add_assigns, "fanout-overwrite", _V),
    _case("pow_assigns", "graph", "Value.__pow__", pow_assigns, "fanout-overwrite", _V),
    _case("sub_minus_minus", "graph", "Value.__sub__", sub_minus_minus, "sign", _V),
    _case("tanh_input_form", "graph", "Value.tanh", tanh_input_form, "derivative-of-input", _V),
    _case("sigmoid_input_form", "graph", "Value.sigmoid", sigmoid_input_form,
          "derivative-of-input", _V),
    _case("mul_locals_named", "graph", "Value.__mul__", mul_locals_named, None, _V),
    _case("max_gate_both_on_tie", "graph", "max_gate_backward", max_gate_both_on_tie,
          "pool-ties", _G),
    _case("max_gate_tie_to_y", "graph", "max_gate_backward", max_gate_tie_to_y,
          "pool-wrong-cell", _G),
    _case("mul_gate_own_input", "graph", "mul_gate_backward", mul_gate_own_input,
          "transposed", _G),
    _case("max_gate_where", "graph", "max_gate_backward", max_gate_where, None, _G),
    _case("affine_einsum_dw_swapped", "affine", "affine_backward", affine_einsum_dw_swapped,
          "transposed", _AB),
    _case("affine_db_rows", "affine", "affine_backward", affine_db_rows, "bias-not-summed",
          _AB),
    _case("affine_db_wrong_axis", "affine", "affine_backward", affine_db_wrong_axis,
          "bias-not-summed", _AB),
    _case("affine_dw_averaged", "affine", "affine_backward", affine_dw_averaged, "scale-1/N",
          _AB),
    _case("affine_db_averaged", "affine", "affine_backward", affine_db_averaged, "scale-1/N",
          _AB),
    _case("affine_einsum", "affine", "affine_backward", affine_einsum, None, _AB),
    _case("affine_loops", "affine", "affine_backward", affine_loops, None, _AB),
)
