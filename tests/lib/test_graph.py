"""Scalar autograd and staged gates: the lecture's examples and finite differences."""

import math

import numpy as np
import pytest

from cs231n_lib.graph import (
    Value,
    add_gate_backward,
    add_gate_forward,
    max_gate_backward,
    max_gate_forward,
    mul_gate_backward,
    mul_gate_forward,
    topological_order,
    vmax,
)


def test_lecture_example_x_plus_y_times_z():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    f = (x + y) * z
    f.backward()
    assert f.data == -12.0
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)


def _neuron(w, x, use_sigmoid_gate):
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    return z.sigmoid() if use_sigmoid_gate else 1 / (1 + (-z).exp())


@pytest.mark.parametrize("use_sigmoid_gate", [True, False])
def test_lecture_example_sigmoid_neuron(use_sigmoid_gate):
    w = [Value(2.0), Value(-3.0), Value(-3.0)]
    x = [Value(-1.0), Value(-2.0)]
    f = _neuron(w, x, use_sigmoid_gate)
    f.backward()
    assert f.data == pytest.approx(0.73, abs=5e-3)
    assert [v.grad for v in w] == pytest.approx([-0.2, -0.39, 0.2], abs=6e-3)
    assert [v.grad for v in x] == pytest.approx([0.39, -0.59], abs=6e-3)
    s = 1 / (1 + math.exp(-1.0))
    assert w[2].grad == pytest.approx(s * (1 - s), rel=1e-12)


def test_fan_out_gradients_add_up():
    a = Value(3.0)
    b = a * a            # the same value on both inputs of one gate
    b.backward()
    assert a.grad == 6.0

    a = Value(3.0)
    f = a * 2.0 + a.exp() + a   # a feeds three gates
    f.backward()
    assert a.grad == pytest.approx(2.0 + math.exp(3.0) + 1.0, rel=1e-12)


def test_backward_twice_gives_the_same_gradients():
    x, y = Value(1.5), Value(-0.5)
    f = x * y + x
    f.backward()
    first = (x.grad, y.grad)
    f.backward()
    assert (x.grad, y.grad) == first


def _numeric(build, values, h=1e-6):
    grads = []
    for i in range(len(values)):
        up = list(values)
        down = list(values)
        up[i] += h
        down[i] -= h
        grads.append((build(*[Value(v) for v in up]).data
                      - build(*[Value(v) for v in down]).data) / (2 * h))
    return grads


OPS = {
    "add": (lambda a, b: a + b, [1.3, -0.7]),
    "sub": (lambda a, b: a - b, [1.3, -0.7]),
    "mul": (lambda a, b: a * b, [1.3, -0.7]),
    "div": (lambda a, b: a / b, [1.3, -0.7]),
    "pow_int": (lambda a: a ** 3, [-1.2]),
    "pow_frac": (lambda a: a ** 0.5, [2.3]),
    "pow_neg": (lambda a: a ** -2, [0.8]),
    "neg": (lambda a: -a, [0.4]),
    "exp": (lambda a: a.exp(), [0.9]),
    "tanh": (lambda a: a.tanh(), [0.6]),
    "sigmoid": (lambda a: a.sigmoid(), [-0.8]),
    "sigmoid_pos": (lambda a: a.sigmoid(), [1.7]),
    "relu_pos": (lambda a: a.relu(), [0.5]),
    "relu_neg": (lambda a: a.relu(), [-0.5]),
    "max_a": (lambda a, b: a.max(b), [0.9, -0.3]),
    "max_b": (lambda a, b: vmax(a, b), [-0.9, 0.3]),
    "radd": (lambda a: 2.0 + a, [0.3]),
    "rsub": (lambda a: 2.0 - a, [0.3]),
    "rmul": (lambda a: 2.5 * a, [0.3]),
    "rdiv": (lambda a: 2.0 / a, [0.7]),
    "rpow": (lambda a: 3.0 ** a, [0.7]),
    "composite": (lambda a, b: ((a * b).tanh() + (a / (b ** 2 + 1)).exp()).sigmoid() - a,
                  [0.4, -1.1]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_against_finite_differences(name):
    build, point = OPS[name]
    leaves = [Value(v) for v in point]
    out = build(*leaves)
    out.backward()
    numeric = _numeric(build, point)
    for leaf, expected in zip(leaves, numeric, strict=True):
        assert leaf.grad == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_max_routes_to_the_winner_only():
    a, b = Value(2.0), Value(5.0)
    m = a.max(b) * 3.0
    m.backward()
    assert (a.grad, b.grad) == (0.0, 3.0)
    a, b = Value(2.0), Value(2.0)   # a tie goes to the first input
    vmax(a, b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)
    c = Value(-1.0)
    vmax(c, 0.0).backward()
    assert c.grad == 0.0


def test_ops_record_children_and_op_names():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    f = (x * y).tanh()
    assert f.op == "tanh"
    (product,) = f.children
    assert product.op == "*" and product.children == (x, y)
    assert x.op == "" and x.children == ()
    assert topological_order(f)[-1] is f
    assert set(map(id, topological_order(f))) == {id(x), id(y), id(product), id(f)}


def test_deep_chain_does_not_hit_the_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5_000):
        y = y * 1.0001
        y = y + 0.5
    assert len(topological_order(y)) > 10_000
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 5_000, rel=1e-9)


def test_bad_operands_are_clear_errors():
    with pytest.raises(TypeError, match="plain number"):
        Value(1.0) + "2"
    with pytest.raises(TypeError, match="one real number"):
        Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="constant exponent"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0.0
    with pytest.raises(ValueError, match="fractional power"):
        Value(-2.0) ** 0.5


# ------------------------------------------------------------- staged gates

def test_add_gate_distributes():
    out, cache = add_gate_forward(3.0, -1.0)
    assert out == 2.0
    assert add_gate_backward(5.0, cache) == (5.0, 5.0)
    x, y = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    out, cache = add_gate_forward(x, y)
    dout = np.linspace(-1, 1, 6).reshape(2, 3)
    dx, dy = add_gate_backward(dout, cache)
    np.testing.assert_array_equal(dx, dout)
    np.testing.assert_array_equal(dy, dout)


def test_mul_gate_switches():
    out, cache = mul_gate_forward(3.0, -4.0)
    assert out == -12.0
    assert mul_gate_backward(2.0, cache) == (-8.0, 6.0)
    rng = np.random.default_rng(0)
    x, y, dout = rng.standard_normal((3, 4, 2, 5))
    _, cache = mul_gate_forward(x, y)
    dx, dy = mul_gate_backward(dout, cache)
    np.testing.assert_allclose(dx, y * dout)
    np.testing.assert_allclose(dy, x * dout)


def test_max_gate_routes():
    out, cache = max_gate_forward(3.0, 7.0)
    assert out == 7.0
    assert max_gate_backward(2.0, cache) == (0.0, 2.0)
    x = np.array([1.0, 5.0, 2.0, 2.0])
    y = np.array([4.0, 0.0, 2.0, -1.0])
    out, cache = max_gate_forward(x, y)
    np.testing.assert_array_equal(out, [4.0, 5.0, 2.0, 2.0])
    dx, dy = max_gate_backward(np.full(4, 3.0), cache)
    np.testing.assert_array_equal(dx, [0.0, 3.0, 3.0, 3.0])
    np.testing.assert_array_equal(dy, [3.0, 0.0, 0.0, 0.0])


@pytest.mark.parametrize("forward, backward", [
    (add_gate_forward, add_gate_backward),
    (mul_gate_forward, mul_gate_backward),
    (max_gate_forward, max_gate_backward),
])
def test_staged_gates_match_finite_differences(forward, backward):
    rng = np.random.default_rng(1)
    x, y, dout = rng.standard_normal((3, 7))
    _, cache = forward(x, y)
    dx, dy = backward(dout, cache)
    h = 1e-6
    num_dx = (forward(x + h, y)[0] - forward(x - h, y)[0]) / (2 * h) * dout
    num_dy = (forward(x, y + h)[0] - forward(x, y - h)[0]) / (2 * h) * dout
    np.testing.assert_allclose(dx, num_dx, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dy, num_dy, rtol=1e-6, atol=1e-9)


def test_staged_gates_check_shapes():
    with pytest.raises(ValueError, match="same shape"):
        mul_gate_forward(np.ones(3), np.ones(4))
    _, cache = add_gate_forward(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="dout"):
        add_gate_backward(np.ones(4), cache)
