"""Typical mistakes of the backprop assignment: gradient checking, ``Value``, gates, affine."""

from __future__ import annotations

import numpy as np

from autograder.diagnosis.catalogue import Mutant
from cs231n_lib import gradient_check as _gc

# ------------------------------------------------------------ gradient checking


def _one_sided(f, x, h, side):
    """A one-sided difference per entry of a scalar function: forward (``side`` = 1)
    or backward (-1)."""
    x = _gc._require_float64("x", x)
    f = _gc._scalar_valued(f)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        base = f(x)
        x[ix] = old + side * h
        grad[ix] = side * (f(x) - base) / h
        x[ix] = old
    return grad


def numgrad_one_sided(f, x, verbose=True, h=1e-5):
    return _one_sided(f, x, h, 1.0)


def numgrad_array_not_restored(f, x, df, h=1e-5):
    x = _gc._require_float64("x", x)
    df = np.asarray(df)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = np.array(f(x), dtype=np.float64)
        x[ix] = old - h
        minus = np.array(f(x), dtype=np.float64)
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def numgrad_array_inexact_restore(f, x, df, h=1e-5):
    x = _gc._require_float64("x", x)
    df = np.asarray(df)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        x[ix] += h
        plus = np.array(f(x), dtype=np.float64)
        x[ix] -= 2 * h
        minus = np.array(f(x), dtype=np.float64)
        x[ix] += h  # back only up to rounding: x + h - 2h + h may differ in the last bit
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def numgrad_array_no_copy(f, x, df, h=1e-5):
    x = _gc._require_float64("x", x)
    df = np.asarray(df)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def _array_one_sided(f, x, df, h, side):
    """A one-sided difference per entry: forward (``side`` = 1) or backward (-1)."""
    x = _gc._require_float64("x", x)
    df = np.asarray(df)
    grad = np.zeros_like(x)
    base = np.array(f(x), dtype=np.float64)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + side * h
        grad[ix] = side * np.sum((np.array(f(x), dtype=np.float64) - base) * df) / h
        x[ix] = old
    return grad


def numgrad_array_forward_difference(f, x, df, h=1e-5):
    return _array_one_sided(f, x, df, h, 1.0)


def numgrad_array_backward_difference(f, x, df, h=1e-5):
    return _array_one_sided(f, x, df, h, -1.0)


def sparse_one_sided(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    x = _gc._require_float64("x", x)
    analytic_grad = np.asarray(analytic_grad)
    f = _gc._scalar_valued(f)
    rng = np.random.default_rng(rng)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        base = f(x)
        x[ix] = old + h
        numerical = (f(x) - base) / h
        x[ix] = old
        errors.append(_gc.rel_error(numerical, float(analytic_grad[ix])))
    return errors


def relu_mask_inverted(self):
    out = type(self)(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += float(self.data <= 0) * out.grad

    out._backward = _backward
    return out


def max_to_both(self, other):
    other = _other(self, other)
    out = type(self)(max(self.data, other.data), (self, other), "max")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


def relu_at_zero_counts(self):
    out = type(self)(max(self.data, 0.0), (self,), "relu")

    def _backward():
        self.grad += float(self.data >= 0) * out.grad

    out._backward = _backward
    return out


def numgrad_backward_difference(f, x, verbose=True, h=1e-5):
    return _one_sided(f, x, h, -1.0)


def numgrad_not_restored(f, x, verbose=True, h=1e-5):
    x = _gc._require_float64("x", x)
    f = _gc._scalar_valued(f)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        grad[ix] = (plus - f(x)) / (2 * h)
    return grad


# --------------------------------------------------------------------- Value
# Each replacement builds nodes of the copy's own class (type(self)).


def _other(self, other):
    return other if isinstance(other, type(self)) else type(self)(other)


def mul_not_switched(self, other):
    other = _other(self, other)
    out = type(self)(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad += self.data * out.grad
        other.grad += other.data * out.grad

    out._backward = _backward
    return out


def sub_sign(self, other):
    other = _other(self, other)
    out = type(self)(self.data - other.data, (self, other), "-")

    def _backward():
        self.grad += out.grad
        other.grad += out.grad

    out._backward = _backward
    return out


def _unary(self, value, op, local):
    out = type(self)(value, (self,), op)

    def _backward():
        self.grad += local(out) * out.grad

    out._backward = _backward
    return out


def tanh_of_input(self):
    return _unary(self, float(np.tanh(self.data)), "tanh", lambda out: 1.0 - self.data ** 2)


def sigmoid_of_input(self):
    s = 1.0 / (1.0 + np.exp(-self.data))
    return _unary(self, float(s), "sigmoid", lambda out: self.data * (1.0 - self.data))


def max_ties_both(self, other):
    other = _other(self, other)
    out = type(self)(max(self.data, other.data), (self, other), "max")

    def _backward():
        self.grad += (self.data >= other.data) * out.grad
        other.grad += (other.data >= self.data) * out.grad

    out._backward = _backward
    return out


# Local gradients of each gate, (inputs' data, output's data) -> one per input.
_BINARY = {
    "__add__": (lambda a, b: a + b, lambda a, b, out: (1.0, 1.0)),
    "__sub__": (lambda a, b: a - b, lambda a, b, out: (1.0, -1.0)),
    "__mul__": (lambda a, b: a * b, lambda a, b, out: (b, a)),
    "__truediv__": (lambda a, b: a / b, lambda a, b, out: (1.0 / b, -a / b ** 2)),
    "max": (max, lambda a, b, out: (float(a >= b), float(b > a))),
}
_UNARY = {
    "exp": (np.exp, lambda a, out: out),
    "tanh": (np.tanh, lambda a, out: 1.0 - out ** 2),
    "sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), lambda a, out: out * (1.0 - out)),
    "relu": (lambda a: max(a, 0.0), lambda a, out: float(a > 0)),
    "__neg__": (lambda a: -a, lambda a, out: -1.0),
}


def _apply(node, local, upstream, mistake):
    """Pass ``local * upstream`` to ``node``, with the mistake named."""
    if mistake == "no-upstream":
        node.grad += local
    elif mistake == "sign":
        node.grad -= local * upstream
    elif mistake == "overwrite":
        node.grad = local * upstream
    else:  # no mistake on this input
        node.grad += local * upstream


def _binary_gate(name, mistake, sides=("self", "other")):
    """A binary gate with ``mistake`` in the gradient of the inputs named by ``sides``."""
    forward, locals_ = _BINARY[name]

    def gate(self, other):
        other = _other(self, other)
        out = type(self)(float(forward(self.data, other.data)), (self, other), name)

        def _backward():
            da, db = locals_(self.data, other.data, out.data)
            _apply(self, da, out.grad, mistake if "self" in sides else "")
            _apply(other, db, out.grad, mistake if "other" in sides else "")

        out._backward = _backward
        return out

    return gate


def _unary_gate(name, mistake):
    forward, local = _UNARY[name]

    def gate(self):
        out = type(self)(float(forward(self.data)), (self,), name)

        def _backward():
            _apply(self, local(self.data, out.data), out.grad, mistake)

        out._backward = _backward
        return out

    return gate


def _pow_gate(mistake):
    def gate(self, exponent):
        k = float(exponent)
        out = type(self)(self.data ** k, (self,), f"**{k:g}")

        def _backward():
            _apply(self, k * self.data ** (k - 1), out.grad, mistake)

        out._backward = _backward
        return out

    return gate


def _value_gate_mutants():
    """A missing-upstream, an overwrite and a sign mutant of every gate of ``Value``."""
    sentences = {
        "missing-upstream": "Value.{op} ({where}): the local gradient is not multiplied by "
                            "out.grad, the upstream gradient (invisible where it is 1, at the "
                            "graph's output).",
        "fanout-overwrite": "Value.{op} ({where}) assigns its inputs' gradients (=) instead of "
                            "adding to them: a value used by several gates (or twice by one) "
                            "keeps only the last contribution.",
        "sign": "Value.{op} ({where}): a local gradient has the wrong sign; write the "
                "derivative of the gate's output with respect to each input and compare signs.",
    }
    mistakes = {"missing-upstream": "no-upstream", "fanout-overwrite": "overwrite",
                "sign": "sign"}
    out = []
    for cls, mistake in mistakes.items():
        gates = {name: _binary_gate(name, mistake) for name in _BINARY}
        gates.update({name: _unary_gate(name, mistake) for name in _UNARY})
        gates["__pow__"] = _pow_gate(mistake)
        for name, gate in gates.items():
            # "local": Value.__sub__ has a sign mutant of its own already
            out.append(Mutant(cls, "graph", f"Value.{name}", gate,
                              sentences[cls].format(op=name, where=_GRAPH), _VALUE,
                              "local" if cls == "sign" else ""))
        # A student often gets one input of a binary gate right and the other wrong:
        # in a graph, where the two inputs' gradients mix, only the one-sided mutant matches.
        for name in _BINARY:
            for side in ("self", "other"):
                out.append(Mutant(cls, "graph", f"Value.{name}",
                                  _binary_gate(name, mistake, (side,)),
                                  sentences[cls].format(op=name, where=_GRAPH)
                                  .replace("(" + _GRAPH + ")", f"({_GRAPH}, {side}.grad)"),
                                  _VALUE, side))
    return out


# -------------------------------------------------------------- staged gates


def max_gate_ties_both(dout, cache):
    x, y = cache
    return (x >= y) * dout, (y >= x) * dout


def max_gate_tie_to_y(dout, cache):
    x, y = cache
    return (x > y) * dout, (y >= x) * dout


def mul_gate_not_switched(dout, cache):
    x, y = cache
    return x * dout, y * dout


def mul_gate_no_upstream(dout, cache):
    x, y = cache
    return y * np.ones_like(dout), x * np.ones_like(dout)


# ------------------------------------------------------------------- affine


def affine_dw_transposed(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), dout.T @ rows, dout.sum(axis=0)


def affine_db_not_summed(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout, dout.copy()


def affine_db_wrong_axis(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout, dout.sum(axis=1)


def affine_dw_over_n(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout / x.shape[0], dout.sum(axis=0)


def affine_db_mean(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout, dout.mean(axis=0)


def affine_no_upstream(dout, cache):
    x, w, b = cache
    rows = x.reshape(x.shape[0], -1)
    ones = np.ones_like(dout)
    return (ones @ w.T).reshape(x.shape), rows.T @ ones, ones.sum(axis=0)


_NUMGRAD = "test_numerical_gradient"
_VALUE = "test_value_backward"
_GATES = "test_staged_gates"
_AFFINE_B = "test_affine_backward"
_GC = "gradient_check.py"
_GRAPH = "graph.py, class Value"

MUTANTS = [
    Mutant("numgrad-one-sided", "gradient_check", "eval_numerical_gradient", numgrad_one_sided,
           f"eval_numerical_gradient ({_GC}) looks like a one-sided difference: its error is "
           "O(h), far above a centred difference's O(h^2).",
           _NUMGRAD),
    Mutant("numgrad-one-sided", "gradient_check", "eval_numerical_gradient",
           numgrad_backward_difference,
           f"eval_numerical_gradient ({_GC}) looks like a one-sided (backward) difference: its "
           "error is O(h), far above a centred difference's O(h^2).", _NUMGRAD, "backward"),
    Mutant("numgrad-one-sided", "gradient_check", "eval_numerical_gradient_array",
           numgrad_array_forward_difference,
           f"eval_numerical_gradient_array ({_GC}) looks like a one-sided difference: its "
           "error is O(h), far above a centred difference's O(h^2).", _NUMGRAD, "array"),
    Mutant("numgrad-one-sided", "gradient_check", "eval_numerical_gradient_array",
           numgrad_array_backward_difference,
           f"eval_numerical_gradient_array ({_GC}) looks like a one-sided (backward) "
           "difference: its error is O(h), far above a centred difference's O(h^2).",
           _NUMGRAD, "array-backward"),
    Mutant("numgrad-one-sided", "gradient_check", "grad_check_sparse", sparse_one_sided,
           f"grad_check_sparse ({_GC}) looks like a one-sided difference at each checked "
           "entry: its error is O(h), far above a centred difference's O(h^2).",
           "test_grad_check_sparse"),
    Mutant("mask-inverted", "graph", "Value.relu", relu_mask_inverted,
           f"Value.relu ({_GRAPH}) passes the gradient where the unit is off (x <= 0) and "
           "blocks it where it is on: the mask is on the wrong side.", _VALUE),
    Mutant("max-routing", "graph", "Value.max", max_to_both,
           f"Value.max ({_GRAPH}) sends out.grad to both inputs, as an add gate does; max "
           "routes it to the input that won.", _VALUE),
    Mutant("mask-boundary", "graph", "Value.relu", relu_at_zero_counts,
           f"Value.relu ({_GRAPH}) passes the gradient at exactly 0: this library's ReLU "
           "has slope 0 there (the mask is strictly greater than 0).", _VALUE),
    Mutant("numgrad-not-restored", "gradient_check", "eval_numerical_gradient",
           numgrad_not_restored,
           f"eval_numerical_gradient ({_GC}) leaves x changed after perturbing it: every "
           "entry must get its exact old value back (also when f raises).", _NUMGRAD),
    Mutant("numgrad-not-restored", "gradient_check", "eval_numerical_gradient_array",
           numgrad_array_not_restored,
           f"eval_numerical_gradient_array ({_GC}) leaves x changed after perturbing it: every "
           "entry must get its exact old value back (also when f raises).", _NUMGRAD),
    Mutant("numgrad-not-restored", "gradient_check", "eval_numerical_gradient_array",
           numgrad_array_inexact_restore,
           f"eval_numerical_gradient_array ({_GC}) puts x back by adding and subtracting h, "
           "which can leave the last bits changed: save the old value and write it back.",
           _NUMGRAD, "inexact"),
    Mutant("fanout-overwrite", "gradient_check", "eval_numerical_gradient_array",
           numgrad_array_no_copy,
           f"eval_numerical_gradient_array ({_GC}) keeps f(x + h) without copying it: when f "
           "returns the same buffer each time, f(x - h) overwrites it and the difference is 0.",
           _NUMGRAD, "buffer"),
    Mutant("transposed", "graph", "Value.__mul__", mul_not_switched,
           f"Value.__mul__ ({_GRAPH}) gives each input its own value times the upstream "
           "gradient; the mul gate is a switcher: each input gets the *other* input's value.",
           _VALUE),
    Mutant("sign", "graph", "Value.__sub__", sub_sign,
           f"Value.__sub__ ({_GRAPH}): the gradient of the subtracted input has the wrong "
           "sign (the local gradient of a - b with respect to b is -1).", _VALUE),
    Mutant("derivative-of-input", "graph", "Value.tanh", tanh_of_input,
           f"Value.tanh ({_GRAPH}): the local gradient is written with the input x where "
           "the output tanh(x) (out.data) belongs.", _VALUE),
    Mutant("derivative-of-input", "graph", "Value.sigmoid", sigmoid_of_input,
           f"Value.sigmoid ({_GRAPH}): the local gradient is written with the input x where "
           "the output s(x) (out.data) belongs.", _VALUE),
    Mutant("pool-ties", "graph", "Value.max", max_ties_both,
           f"Value.max ({_GRAPH}) sends the gradient to both inputs when they are equal; on "
           "a tie only self (the first input) should get it.", _VALUE),
    Mutant("pool-ties", "graph", "max_gate_backward", max_gate_ties_both,
           "max_gate_backward (graph.py) sends dout to both inputs where they are equal; on a "
           "tie only x should get it.", _GATES),
    Mutant("pool-wrong-cell", "graph", "max_gate_backward", max_gate_tie_to_y,
           "max_gate_backward (graph.py) sends dout to y where the inputs are equal; on a "
           "tie the gradient goes to x.", _GATES),
    Mutant("transposed", "graph", "mul_gate_backward", mul_gate_not_switched,
           "mul_gate_backward (graph.py) gives each input its own value times dout; the mul "
           "gate switches: dx uses y and dy uses x.", _GATES),
    Mutant("missing-upstream", "graph", "mul_gate_backward", mul_gate_no_upstream,
           "mul_gate_backward (graph.py) does not multiply by dout, the upstream gradient.",
           _GATES),
    Mutant("transposed", "affine", "affine_backward", affine_dw_transposed,
           "affine_backward (affine.py): dw comes out transposed, (M, D) instead of (D, M): "
           "the two factors of its matrix product are in the wrong order.", _AFFINE_B),
    Mutant("bias-not-summed", "affine", "affine_backward", affine_db_not_summed,
           "affine_backward (affine.py): db keeps one row per sample; b is shared by the "
           "whole batch, so its gradient sums over the batch axis.", _AFFINE_B),
    Mutant("bias-not-summed", "affine", "affine_backward", affine_db_wrong_axis,
           "affine_backward (affine.py): db is summed over the wrong axis (one number per "
           "sample); b has one entry per output column, and its gradient sums over the "
           "batch.", _AFFINE_B, "axis"),
    Mutant("scale-1/N", "affine", "affine_backward", affine_dw_over_n,
           "affine_backward (affine.py): dw is the right dw divided by N; the loss already "
           "averages over the batch, so the backward pass divides by nothing.", _AFFINE_B),
    Mutant("scale-1/N", "affine", "affine_backward", affine_db_mean,
           "affine_backward (affine.py): db is the batch mean of dout; b's gradient is the "
           "sum over the batch (no 1/N).", _AFFINE_B, "db"),
    Mutant("missing-upstream", "affine", "affine_backward", affine_no_upstream,
           "affine_backward (affine.py) does not use dout, the upstream gradient: every "
           "gradient is a product with it.", _AFFINE_B),
]
MUTANTS += _value_gate_mutants()
