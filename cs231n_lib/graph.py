"""Computational graphs: a scalar autograd ``Value`` and staged gates.

Every arithmetic operation on a ``Value`` makes a new ``Value`` that remembers
its inputs (``children``) and the gate that made it (``op``), and carries a
small closure that knows that gate's *local* gradient. ``backward()`` visits
the graph from the output back to the inputs (reverse topological order) and
at each node applies the chain rule::

    downstream gradient = local gradient * upstream gradient

Gradients are *added* (``+=``) into each input, so a value that fans out to
several gates collects the sum of what each gate sends back.

The lecture's worked example, f(x, y, z) = (x + y) z::

    >>> x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (-4.0, -4.0, 3.0)

The staged functions ``add_gate_*``, ``mul_gate_*`` and ``max_gate_*`` do the
same for three common gates with CS231n's ``forward -> (out, cache)`` /
``backward(dout, cache)`` convention, on scalars or arrays. (What each of the
three does with the upstream gradient is for the backprop assignment to find.)
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from cs231n_lib.checks import require_same_shape

__all__ = [
    "Value", "vmax", "topological_order",
    "add_gate_forward", "add_gate_backward",
    "mul_gate_forward", "mul_gate_backward",
    "max_gate_forward", "max_gate_backward",
]


def _as_value(x) -> Value:
    """Wrap a plain number so it can take part in the graph (as a constant leaf)."""
    if isinstance(x, Value):
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return Value(x)
    raise TypeError(f"a Value can be combined with another Value or a plain number; "
                    f"got {type(x).__name__} {x!r}.")


class Value:
    """One scalar node of a computational graph.

    Parameters
    ----------
    data : float
        The forward value.
    children : tuple of Value
        The inputs of the gate that produced this value (empty for a leaf).
    op : str
        The gate's name (``'+'``, ``'*'``, ``'tanh'``, ...); ``''`` for a leaf.
    label : str
        An optional name shown in drawings (``'x'``, ``'w0'``).

    Attributes
    ----------
    grad : float
        d(output)/d(this value) after ``output.backward()``; 0.0 before.
    """

    def __init__(self, data, children=(), op: str = "", label: str = ""):
        if isinstance(data, Value):
            raise TypeError("Value(data) takes a number; the argument is already a Value.")
        if isinstance(data, bool) or not isinstance(data, numbers.Real):
            raise TypeError(f"Value holds one real number; got {type(data).__name__} "
                            f"{data!r}. Use one Value per scalar.")
        self.data = float(data)
        self.grad = 0.0
        self.children = tuple(children)
        self.op = op
        self.label = label
        # Leaves have nothing to pass on; each gate replaces this with its own rule.
        self._backward = lambda: None

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ------------------------------------------------------------ binary gates

    def __add__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: d(a + b)/da and d(a + b)/db, each times out.grad; += (a value can fan out)
            self.grad += 1.0 * out.grad
            other.grad += 1.0 * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def __sub__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: the local gradients of a - b, times out.grad, added with += to each input
            self.grad += 1.0 * out.grad
            other.grad += -1.0 * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def __mul__(self, other) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: d(a b)/da and d(a b)/db in terms of a.data and b.data, each times out.grad
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def __truediv__(self, other) -> Value:
        other = _as_value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division of {self.data:g} by a Value that is 0.")
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: the quotient rule gives d(a/b)/da and d(a/b)/db; multiply each by out.grad
            self.grad += (1.0 / other.data) * out.grad
            other.grad += (-self.data / other.data ** 2) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def __pow__(self, exponent) -> Value:
        if isinstance(exponent, Value) or isinstance(exponent, bool) \
                or not isinstance(exponent, numbers.Real):
            raise TypeError("Value ** k takes a plain number k (a constant exponent); got "
                            f"{type(exponent).__name__} {exponent!r}.")
        k = float(exponent)
        if self.data == 0.0 and k < 1.0:
            raise ZeroDivisionError(f"0 ** {k:g} has no finite derivative at 0.")
        if self.data < 0.0 and not k.is_integer():
            raise ValueError(f"a negative base ({self.data:g}) to a fractional power ({k:g}) "
                             "is not a real number.")
        out = Value(self.data ** k, (self,), f"**{k:g}")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: the power rule, evaluated at self.data, times out.grad
            self.grad += k * self.data ** (k - 1) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def max(self, other) -> Value:
        """max(self, other); on a tie, ``self`` counts as the larger input."""
        other = _as_value(other)
        out = Value(max(self.data, other.data), (self, other), "max")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: the local gradients of max(a, b) on each side of a = b (a tie counts as a > b)
            self.grad += (1.0 if self.data >= other.data else 0.0) * out.grad
            other.grad += (1.0 if other.data > self.data else 0.0) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    # ------------------------------------------------------------- unary gates

    def __neg__(self) -> Value:
        out = Value(-self.data, (self,), "neg")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: the local gradient of negation, times out.grad
            self.grad += -1.0 * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: d/dx e^x is a number the forward pass already computed (out.data)
            self.grad += out.data * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: write d tanh(x)/dx in terms of tanh(x), which is out.data
            self.grad += (1.0 - out.data ** 2) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        # 1 / (1 + e^-x) written so that neither branch overflows
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            e = math.exp(self.data)
            s = e / (1.0 + e)
        out = Value(s, (self,), "sigmoid")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: write the sigmoid's derivative in terms of its output s(x), which is out.data
            self.grad += out.data * (1.0 - out.data) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            ### BEGIN SOLUTION
            # Hint: the slope of max(0, x) at self.data (at exactly 0 this library uses 0)
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    # ------------------------------------------- plain numbers on the left side

    def __radd__(self, other) -> Value:  # 3 + v
        return _as_value(other) + self

    def __rsub__(self, other) -> Value:  # 3 - v
        return _as_value(other) - self

    def __rmul__(self, other) -> Value:  # 3 * v
        return _as_value(other) * self

    def __rtruediv__(self, other) -> Value:  # 3 / v
        return _as_value(other) / self

    def __rpow__(self, base) -> Value:  # 2 ** v, a constant base
        if isinstance(base, bool) or not isinstance(base, numbers.Real) or base <= 0:
            raise ValueError(f"b ** Value needs a positive number b; got {base!r}.")
        return (self * math.log(base)).exp()

    # ------------------------------------------------------------- backward

    def backward(self) -> None:
        """Fill ``grad`` of every node that this value depends on.

        Sets this node's gradient to 1 (d out / d out), then calls each
        node's gate rule from the output back to the inputs, so every node's
        gradient is complete before it is passed further down. Gradients of
        the whole graph are reset first, so calling it twice gives the same
        result.
        """
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


def vmax(a, b) -> Value:
    """max(a, b) of two Values (or a Value and a number) as one gate."""
    return _as_value(a).max(b)


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, each listed after all of its children.

    An explicit stack instead of recursion, so a chain of many thousands of
    gates does not hit Python's recursion limit.
    """
    order: list[Value] = []
    seen: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))  # comes back here once the children are listed
        stack.extend((child, False) for child in node.children if id(child) not in seen)
    return order


# -------------------------------------------------------------- staged gates

def _check_pair(x, y):
    if np.shape(x) != np.shape(y):
        raise ValueError(f"the staged gates take two inputs of the same shape; got x of shape "
                         f"{np.shape(x)} and y of shape {np.shape(y)}.")


def _check_dout(dout, cache_x):
    require_same_shape("dout", dout, "the gate's output", cache_x)


def add_gate_forward(x, y):
    """out = x + y.

    Parameters
    ----------
    x, y : float or ndarray
        Two inputs of one shape.

    Returns
    -------
    out : float or ndarray
        Same shape as ``x``.
    cache : tuple
        ``(x, y)`` for the backward pass.
    """
    _check_pair(x, y)
    return x + y, (x, y)


def add_gate_backward(dout, cache):
    """Backward of the add gate ``out = x + y``.

    Parameters
    ----------
    dout : float or ndarray
        Upstream gradient, same shape as the gate's output.
    cache : tuple
        From ``add_gate_forward``.

    Returns
    -------
    dx, dy : float or ndarray
        Gradients with respect to ``x`` and ``y``.
    """
    x, y = cache
    _check_dout(dout, x)
    ### BEGIN SOLUTION
    # Hint: local gradient of each input times dout (the shapes already match)
    dx = 1.0 * dout
    dy = 1.0 * dout
    ### END SOLUTION
    return dx, dy


def mul_gate_forward(x, y):
    """out = x * y (elementwise); returns ``(out, cache)`` with ``cache = (x, y)``."""
    _check_pair(x, y)
    return x * y, (x, y)


def mul_gate_backward(dout, cache):
    """Backward of the mul gate ``out = x * y`` (elementwise).

    Returns
    -------
    dx, dy : float or ndarray
        Gradients with respect to ``x`` and ``y``, each of the inputs' shape.
    """
    x, y = cache
    _check_dout(dout, x)
    ### BEGIN SOLUTION
    # Hint: elementwise, as Value.__mul__ does for one number: local gradient times dout
    dx = y * dout
    dy = x * dout
    ### END SOLUTION
    return dx, dy


def max_gate_forward(x, y):
    """out = max(x, y) (elementwise); returns ``(out, cache)`` with ``cache = (x, y)``."""
    _check_pair(x, y)
    return np.maximum(x, y), (x, y)


def max_gate_backward(dout, cache):
    """Backward of the max gate ``out = max(x, y)`` (elementwise).

    Returns
    -------
    dx, dy : float or ndarray
        Gradients with respect to ``x`` and ``y``. Where ``x == y``, ``x``
        counts as the larger input (as in ``Value.max``).
    """
    x, y = cache
    _check_dout(dout, x)
    ### BEGIN SOLUTION
    # Hint: boolean masks of where each input is the larger one (ties to x) times dout
    dx = (x >= y) * dout
    dy = (y > x) * dout
    ### END SOLUTION
    return dx, dy
