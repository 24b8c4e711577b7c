"""Probes of the backprop assignment (lecture 4): gradient checking, ``Value``, gates, affine.

Each probe draws fresh inputs on the trusted side and calls one part of the
student's library; the grader compares the outputs with the reference
library's on the same inputs. The notebook's hand-worked answers
(``test_hand_gradients``, ``test_gate_patterns``) are checked by answer
probes: the values the student assigned are compared with the gradients the
reference ``Value`` computes on the lecture's graphs.
"""

from __future__ import annotations

import importlib

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe


def _module(lib, name):
    """Submodule ``name`` of the library copy ``lib`` (the student's or the reference)."""
    return importlib.import_module(f"{lib.__name__}.{name}")


def _away_from_zero(rng, shape, margin=0.2):
    x = rng.standard_normal(shape)
    return x + margin * np.sign(x)


# ------------------------------------------------------------ gradient checking

def _numgrad_inputs(rng):
    return {"x": rng.standard_normal((int(rng.integers(2, 5)), 3)),
            "w": rng.standard_normal((3, 2)),
            "df": rng.standard_normal((1, 2))}


def _numgrad_run(lib, inputs):
    gc = _module(lib, "gradient_check")
    x, w = inputs["x"], inputs["w"]
    df = np.repeat(inputs["df"], x.shape[0], axis=0)
    grad = gc.eval_numerical_gradient(lambda v: float(np.sum(np.sin(v) * v ** 2)), x,
                                      verbose=False)
    grad_array = gc.eval_numerical_gradient_array(lambda v: np.tanh(v @ w), x, df)
    # Both must leave x exactly as it was.
    return {"grad": grad, "grad_array": grad_array, "x_after": x}


def _numgrad_buffer_inputs(rng):
    return {"x": rng.standard_normal(6) * 2, "df": rng.standard_normal(6)}


def _numgrad_buffer_run(lib, inputs):
    """f writes into one buffer and returns it every time: the checker must copy."""
    gc = _module(lib, "gradient_check")
    buffer = np.zeros_like(inputs["x"])

    def squares(v):
        np.multiply(v, v, out=buffer)
        return buffer

    return {"grad": gc.eval_numerical_gradient_array(squares, inputs["x"], inputs["df"])}


def _rel_error_inputs(rng):
    return {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal((3, 4)),
            "tiny": rng.standard_normal(5) * 1e-12}


def _rel_error_run(lib, inputs):
    gc = _module(lib, "gradient_check")
    a, b, tiny = inputs["a"], inputs["b"], inputs["tiny"]
    return {"different": np.float64(gc.rel_error(a, b)),
            "same": np.float64(gc.rel_error(a, a.copy())),
            "near_zero": np.float64(gc.rel_error(tiny, np.zeros_like(tiny))),
            "scaled": np.float64(gc.rel_error(a, 3 * a))}


def _sparse_inputs(rng):
    return {"x": rng.uniform(0.5, 1.5, (6, 5)) * rng.choice([-1.0, 1.0], (6, 5)),
            "scale": np.float64(rng.uniform(1.5, 4.0)),
            "num_checks": np.int64(rng.integers(3, 8)),
            "seed": np.int64(rng.integers(0, 1000))}


def _sparse_run(lib, inputs):
    """A wrong gradient (``scale`` times the true one) has the same relative error at
    every entry, so the result does not depend on which entries are drawn."""
    gc = _module(lib, "gradient_check")
    x = inputs["x"]
    errors = gc.grad_check_sparse(lambda v: 0.5 * float(np.sum(v ** 2)), x,
                                  float(inputs["scale"]) * x,
                                  num_checks=int(inputs["num_checks"]), rng=int(inputs["seed"]))
    return {"errors": np.asarray(errors, dtype=np.float64), "x_after": x}


# --------------------------------------------------------------------- Value

def _scalars(rng, names):
    return {n: np.float64(v) for n, v in zip(names, _away_from_zero(rng, len(names)), strict=True)}


def _value_arith_inputs(rng):
    return _scalars(rng, "xyz")


def _value_arith_run(lib, inputs):
    Value = _module(lib, "graph").Value
    x, y, z = (Value(float(inputs[n])) for n in "xyz")
    f = (x * y + z / (1 + y ** 2) - x) * (x + 3) ** 2 - 2 / z
    f.backward()
    return {"f": np.float64(f.data), "grads": np.array([x.grad, y.grad, z.grad])}


def _value_unary_inputs(rng):
    return _scalars(rng, "xyz")


def _value_unary_run(lib, inputs):
    Value = _module(lib, "graph").Value
    x, y, z = (Value(float(inputs[n])) for n in "xyz")
    f = (x.exp() + (y * z).tanh()).sigmoid() * (-x) + (x - y).relu() + (z + 1.5).relu() \
        + 2 ** y
    f.backward()
    return {"f": np.float64(f.data), "grads": np.array([x.grad, y.grad, z.grad])}


def _value_fanout_inputs(rng):
    return _scalars(rng, "ab")


def _value_fanout_run(lib, inputs):
    Value = _module(lib, "graph").Value
    a, b = Value(float(inputs["a"])), Value(float(inputs["b"]))
    c = a * b
    f = a * a * a + c * c + c + a
    f.backward()
    return {"f": np.float64(f.data), "grads": np.array([a.grad, b.grad, c.grad])}


def _value_edges_inputs(rng):
    return {"v": np.float64(rng.standard_normal()), "w": np.float64(rng.standard_normal())}


def _value_edges_run(lib, inputs):
    """Ties route to ``self``; relu at exactly 0 passes nothing; backward twice is idempotent."""
    graph = _module(lib, "graph")
    v, w = float(inputs["v"]), float(inputs["w"])
    a, b = graph.Value(v), graph.Value(v)
    (a.max(b) * 3.0).backward()
    low, high = graph.Value(min(v, w) - 1.0), graph.Value(max(v, w))
    graph.vmax(low, high).backward()
    zero = graph.Value(0.0)
    zero.relu().backward()
    p, q = graph.Value(v), graph.Value(w)
    g = p * q + p
    g.backward()
    g.backward()
    return {"tie": np.array([a.grad, b.grad]), "router": np.array([low.grad, high.grad]),
            "relu_kink": np.float64(zero.grad), "twice": np.array([p.grad, q.grad])}


# -------------------------------------------------------------- staged gates

def _gates_inputs(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)))
    x = rng.standard_normal(shape)
    return {"x": x, "y": x + rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 1.0, shape),
            "dout": rng.standard_normal(shape)}


def _gates_run(lib, inputs):
    graph = _module(lib, "graph")
    x, y, dout = inputs["x"], inputs["y"], inputs["dout"]
    out = {}
    for name in ("add", "mul", "max"):
        forward = getattr(graph, f"{name}_gate_forward")
        backward = getattr(graph, f"{name}_gate_backward")
        value, cache = forward(x, y)
        dx, dy = backward(dout, cache)
        out[f"{name}_out"], out[f"{name}_dx"], out[f"{name}_dy"] = value, dx, dy
    return out


def _gates_ties_inputs(rng):
    shape = (3, 4)
    return {"x": rng.integers(0, 3, shape).astype(np.float64),
            "y": rng.integers(0, 3, shape).astype(np.float64),
            "dout": rng.standard_normal(shape),
            "scalars": rng.standard_normal(3)}


def _gates_ties_run(lib, inputs):
    """Equal inputs of the max gate (the gradient goes to x), and plain float inputs."""
    graph = _module(lib, "graph")
    x, y, dout = inputs["x"], inputs["y"], inputs["dout"]
    dx, dy = graph.max_gate_backward(dout, graph.max_gate_forward(x, y)[1])
    a, b, d = (float(v) for v in inputs["scalars"])
    sdx, sdy = graph.mul_gate_backward(d, graph.mul_gate_forward(a, b)[1])
    adx, ady = graph.add_gate_backward(d, graph.add_gate_forward(a, b)[1])
    return {"max_dx": dx, "max_dy": dy, "mul_scalar": np.array([sdx, sdy], dtype=np.float64),
            "add_scalar": np.array([adx, ady], dtype=np.float64)}


# --------------------------------------------------------------- sigmoid neuron

def _neuron_inputs(rng):
    return {"w": rng.standard_normal(3) * rng.choice([1.0, 2.0]), "x": rng.standard_normal(2)}


def _neuron_run(lib, inputs):
    Value = _module(lib, "graph").Value
    w = [Value(float(v)) for v in inputs["w"]]
    x = [Value(float(v)) for v in inputs["x"]]
    gate = (w[0] * x[0] + w[1] * x[1] + w[2]).sigmoid()
    gate.backward()
    grads_gate = [v.grad for v in w + x]
    t = w[0] * x[0] + w[1] * x[1] + w[2]
    staged = 1 / (1 + (-t).exp())
    staged.backward()
    grads_staged = [v.grad for v in w + x]
    return {"f": np.float64(gate.data), "grads_gate": np.array(grads_gate),
            "grads_staged": np.array(grads_staged)}


def _saturated_inputs(rng):
    # The negative tail only: there s (1 - s) ~ s keeps all its digits however it is
    # computed, while near s = 1 the factor 1 - s has lost most of them.
    return {"t": np.float64(-rng.uniform(8.0, 25.0))}


def _saturated_run(lib, inputs):
    Value = _module(lib, "graph").Value
    t = Value(float(inputs["t"]))
    s = t.sigmoid()
    s.backward()
    return {"s": np.float64(s.data), "grad": np.float64(t.grad)}


# ------------------------------------------------------------------- affine

def _affine_inputs(rng):
    n = int(rng.integers(1, 5))
    shape = (n, 2, int(rng.integers(1, 4)), 3)
    d = int(np.prod(shape[1:]))
    m = int(rng.integers(1, 6))
    return {"x": rng.standard_normal(shape), "w": rng.standard_normal((d, m)),
            "b": rng.standard_normal(m), "dout": rng.standard_normal((n, m))}


def _affine_forward_run(lib, inputs):
    affine = _module(lib, "affine")
    out, _ = affine.affine_forward(inputs["x"], inputs["w"], inputs["b"])
    return {"out": out}


def _affine_backward_run(lib, inputs):
    affine = _module(lib, "affine")
    _, cache = affine.affine_forward(inputs["x"], inputs["w"], inputs["b"])
    dx, dw, db = affine.affine_backward(inputs["dout"], cache)
    return {"dx": dx, "dw": dw, "db": db}


def _affine_single_inputs(rng):
    d, m = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    return {"x": rng.standard_normal((1, d)), "w": rng.standard_normal((d, m)),
            "b": rng.standard_normal(m), "dout": rng.standard_normal((1, m))}


PROBES = [
    Probe("test_numerical_gradient", "numgrad", _numgrad_inputs, _numgrad_run),
    Probe("test_numerical_gradient", "numgrad_reused_buffer", _numgrad_buffer_inputs,
          _numgrad_buffer_run),
    Probe("test_numerical_gradient", "rel_error", _rel_error_inputs, _rel_error_run),
    Probe("test_grad_check_sparse", "grad_check_sparse", _sparse_inputs, _sparse_run),
    Probe("test_value_backward", "value_arithmetic", _value_arith_inputs, _value_arith_run),
    Probe("test_value_backward", "value_unary", _value_unary_inputs, _value_unary_run),
    Probe("test_value_backward", "value_fan_out", _value_fanout_inputs, _value_fanout_run),
    Probe("test_value_backward", "value_edges", _value_edges_inputs, _value_edges_run),
    Probe("test_staged_gates", "staged_gates", _gates_inputs, _gates_run),
    Probe("test_staged_gates", "staged_gates_ties", _gates_ties_inputs, _gates_ties_run),
    Probe("test_sigmoid_neuron", "sigmoid_neuron", _neuron_inputs, _neuron_run),
    Probe("test_sigmoid_neuron", "sigmoid_saturated", _saturated_inputs, _saturated_run),
    Probe("test_affine_forward", "affine_forward", _affine_inputs, _affine_forward_run),
    Probe("test_affine_forward", "affine_forward_single", _affine_single_inputs,
          _affine_forward_run),
    Probe("test_affine_backward", "affine_backward", _affine_inputs, _affine_backward_run),
    Probe("test_affine_backward", "affine_backward_single", _affine_single_inputs,
          _affine_backward_run),
]


# ------------------------------------------------------------ notebook answers

def _hand_gradients_expected(lib, inputs):
    """Lecture 4's first example, f = (x + y) z at x = -2, y = 5, z = -4."""
    Value = _module(lib, "graph").Value
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    return {"dfdq": q.grad, "dfdz": z.grad, "dfdx": x.grad, "dfdy": y.grad}


def _gate_patterns_expected(lib, inputs):
    """f = 2 (x y + max(z, w)) at (3, -4, 2, -1); the patterns are the lecture's names."""
    Value = _module(lib, "graph").Value
    x, y, z, w = Value(3.0), Value(-4.0), Value(2.0), Value(-1.0)
    f = (x * y + z.max(w)) * 2.0
    f.backward()
    return {"add_gate_pattern": "distributor", "mul_gate_pattern": "switcher",
            "max_gate_pattern": "router",
            "dfdx": x.grad, "dfdy": y.grad, "dfdz": z.grad, "dfdw": w.grad}


# The notebook reuses dfdx, dfdy, dfdz in both exercises; each is read just
# before its own test cell runs.
ANSWER_PROBES = [
    AnswerProbe("test_hand_gradients", "hand_gradients", ("dfdq", "dfdz", "dfdx", "dfdy"),
                _hand_gradients_expected),
    AnswerProbe("test_gate_patterns", "gate_patterns",
                ("add_gate_pattern", "mul_gate_pattern", "max_gate_pattern",
                 "dfdx", "dfdy", "dfdz", "dfdw"), _gate_patterns_expected),
]
