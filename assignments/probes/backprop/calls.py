"""The backprop probes' sandbox side (see ``autograder.grading.probes``): calls only."""

from __future__ import annotations

import importlib

import numpy as np


def submodule(lib, name):  # the student's copy or the reference, whichever lib is
    return importlib.import_module(f"{lib.__name__}.{name}")


def numgrad(lib, inputs):
    gc = submodule(lib, "gradient_check")
    x, w = inputs["x"], inputs["w"]
    df = np.repeat(inputs["df"], x.shape[0], axis=0)
    grad = gc.eval_numerical_gradient(lambda v: float(np.sum(np.sin(v) * v ** 2)), x,
                                      verbose=False)
    grad_array = gc.eval_numerical_gradient_array(lambda v: np.tanh(v @ w), x, df)
    # Both must leave x exactly as it was.
    return {"grad": grad, "grad_array": grad_array, "x_after": x}


def numgrad_buffer(lib, inputs):
    """f writes into one buffer and returns it every time: the checker must copy."""
    gc = submodule(lib, "gradient_check")
    buffer = np.zeros_like(inputs["x"])

    def squares(v):
        np.multiply(v, v, out=buffer)
        return buffer

    return {"grad": gc.eval_numerical_gradient_array(squares, inputs["x"], inputs["df"])}


def rel_error(lib, inputs):
    gc = submodule(lib, "gradient_check")
    a, b, tiny = inputs["a"], inputs["b"], inputs["tiny"]
    return {"different": np.float64(gc.rel_error(a, b)),
            "same": np.float64(gc.rel_error(a, a.copy())),
            "near_zero": np.float64(gc.rel_error(tiny, np.zeros_like(tiny))),
            "scaled": np.float64(gc.rel_error(a, 3 * a))}


def sparse(lib, inputs):
    """A wrong gradient (``scale`` times the true one) has the same relative error at
    every entry, so the result does not depend on which entries are drawn."""
    gc = submodule(lib, "gradient_check")
    x = inputs["x"]
    errors = gc.grad_check_sparse(lambda v: 0.5 * float(np.sum(v ** 2)), x,
                                  float(inputs["scale"]) * x,
                                  num_checks=int(inputs["num_checks"]), rng=int(inputs["seed"]))
    return {"errors": np.asarray(errors, dtype=np.float64), "x_after": x}


def value_arith(lib, inputs):
    Value = submodule(lib, "graph").Value
    x, y, z = (Value(float(inputs[n])) for n in "xyz")
    f = (x * y + z / (1 + y ** 2) - x) * (x + 3) ** 2 - 2 / z
    f.backward()
    return {"f": np.float64(f.data), "grads": np.array([x.grad, y.grad, z.grad])}


def value_unary(lib, inputs):
    Value = submodule(lib, "graph").Value
    x, y, z = (Value(float(inputs[n])) for n in "xyz")
    f = (x.exp() + (y * z).tanh()).sigmoid() * (-x) + (x - y).relu() + (z + 1.5).relu() \
        + 2 ** y
    f.backward()
    return {"f": np.float64(f.data), "grads": np.array([x.grad, y.grad, z.grad])}


def value_fanout(lib, inputs):
    Value = submodule(lib, "graph").Value
    a, b = Value(float(inputs["a"])), Value(float(inputs["b"]))
    c = a * b
    f = a * a * a + c * c + c + a
    f.backward()
    return {"f": np.float64(f.data), "grads": np.array([a.grad, b.grad, c.grad])}


def value_edges(lib, inputs):
    """Ties route to ``self``; relu at exactly 0 passes nothing; backward twice is idempotent."""
    graph = submodule(lib, "graph")
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


def gates(lib, inputs):
    graph = submodule(lib, "graph")
    x, y, dout = inputs["x"], inputs["y"], inputs["dout"]
    out = {}
    for name in ("add", "mul", "max"):
        forward = getattr(graph, f"{name}_gate_forward")
        backward = getattr(graph, f"{name}_gate_backward")
        value, cache = forward(x, y)
        dx, dy = backward(dout, cache)
        out[f"{name}_out"], out[f"{name}_dx"], out[f"{name}_dy"] = value, dx, dy
    return out


def gates_ties(lib, inputs):
    """Equal inputs of the max gate (the gradient goes to x), and plain float inputs."""
    graph = submodule(lib, "graph")
    x, y, dout = inputs["x"], inputs["y"], inputs["dout"]
    dx, dy = graph.max_gate_backward(dout, graph.max_gate_forward(x, y)[1])
    a, b, d = (float(v) for v in inputs["scalars"])
    sdx, sdy = graph.mul_gate_backward(d, graph.mul_gate_forward(a, b)[1])
    adx, ady = graph.add_gate_backward(d, graph.add_gate_forward(a, b)[1])
    return {"max_dx": dx, "max_dy": dy, "mul_scalar": np.array([sdx, sdy], dtype=np.float64),
            "add_scalar": np.array([adx, ady], dtype=np.float64)}


def neuron(lib, inputs):
    Value = submodule(lib, "graph").Value
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


def saturated(lib, inputs):
    Value = submodule(lib, "graph").Value
    t = Value(float(inputs["t"]))
    s = t.sigmoid()
    s.backward()
    return {"s": np.float64(s.data), "grad": np.float64(t.grad)}


def affine_forward(lib, inputs):
    affine = submodule(lib, "affine")
    out, _ = affine.affine_forward(inputs["x"], inputs["w"], inputs["b"])
    return {"out": out}


def affine_backward(lib, inputs):
    affine = submodule(lib, "affine")
    _, cache = affine.affine_forward(inputs["x"], inputs["w"], inputs["b"])
    dx, dw, db = affine.affine_backward(inputs["dout"], cache)
    return {"dx": dx, "dw": dw, "db": db}


def value_gates_alone(lib, inputs):
    """Each gate alone under an upstream gradient other than 1, its input also used
    directly (so a gate that overwrites instead of adding is caught)."""
    Value = submodule(lib, "graph").Value
    up, a0, b0 = (float(inputs[k]) for k in ("up", "a", "b"))
    grads = []
    for name in ("exp", "tanh", "sigmoid", "relu", "__neg__"):
        a = Value(a0)
        ((getattr(a, name)() + a) * up).backward()
        grads.append(a.grad)
    for name in ("__add__", "__sub__", "__mul__", "__truediv__", "max"):
        a, b = Value(a0), Value(b0)
        ((getattr(a, name)(b) + a + b) * up).backward()
        grads += [a.grad, b.grad]
    a = Value(a0)
    ((a ** 3 + a) * up).backward()
    grads.append(a.grad)
    # max once more with the larger input second (a > b): its other.grad gets the upstream
    a, b = Value(a0), Value(b0)
    ((b.max(a) + a + b) * up).backward()
    grads += [a.grad, b.grad]
    return {"grads": np.array(grads)}


def numgrad_restores(lib, inputs):
    """How many entries of x the checkers leave changed (none: restored exactly)."""
    gc = submodule(lib, "gradient_check")
    x, w = inputs["x"], inputs["w"]
    before = x.copy()
    gc.eval_numerical_gradient(lambda v: float(np.sum(np.sin(v) * v ** 2)), x, verbose=False)
    gc.eval_numerical_gradient_array(lambda v: np.tanh(v @ w), x, np.ones((x.shape[0], 2)))
    return {"changed_bits": np.float64(np.count_nonzero(x != before))}
