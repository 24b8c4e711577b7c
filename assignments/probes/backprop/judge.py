"""Probes of the backprop assignment (lecture 4): gradient checking, ``Value``, gates, affine.

Each probe draws fresh inputs on the trusted side and calls one part of the
student's library; the grader compares the outputs with the reference
library's on the same inputs. The notebook's hand-worked answers
(``test_hand_gradients``, ``test_gate_patterns``) are checked by answer
probes: the values the student assigned are compared with the gradients the
reference ``Value`` computes on the lecture's graphs.
"""

from __future__ import annotations

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe

from . import calls


def _away_from_zero(rng, shape, margin=0.2):
    x = rng.standard_normal(shape)
    return x + margin * np.sign(x)


# ------------------------------------------------------------ gradient checking

def _numgrad_inputs(rng):
    return {"x": rng.standard_normal((int(rng.integers(2, 5)), 3)),
            "w": rng.standard_normal((3, 2)),
            "df": rng.standard_normal((1, 2))}


def _numgrad_buffer_inputs(rng):
    return {"x": rng.standard_normal(6) * 2, "df": rng.standard_normal(6)}


def _rel_error_inputs(rng):
    return {"a": rng.standard_normal((3, 4)), "b": rng.standard_normal((3, 4)),
            "tiny": rng.standard_normal(5) * 1e-12}


def _sparse_inputs(rng):
    return {"x": rng.uniform(0.5, 1.5, (6, 5)) * rng.choice([-1.0, 1.0], (6, 5)),
            "scale": np.float64(rng.uniform(1.5, 4.0)),
            "num_checks": np.int64(rng.integers(3, 8)),
            "seed": np.int64(rng.integers(0, 1000))}


# --------------------------------------------------------------------- Value

def _scalars(rng, names):
    return {n: np.float64(v) for n, v in zip(names, _away_from_zero(rng, len(names)), strict=True)}


def _value_arith_inputs(rng):
    return _scalars(rng, "xyz")


def _gates_alone_inputs(rng):
    return {"up": np.float64(rng.uniform(1.5, 3.0) * rng.choice([-1.0, 1.0])),
            "a": np.float64(rng.uniform(0.3, 1.5)), "b": np.float64(-rng.uniform(0.3, 1.5))}


def _restore_inputs(rng):
    return {"x": 3.0 * rng.standard_normal((3, 3)), "w": rng.standard_normal((3, 2))}


def _value_unary_inputs(rng):
    # |y z| >= 0.25: near 0, tanh(t) ~ t, and a local gradient written with the input
    # instead of the output would differ from the right one by less than the tolerance
    magnitudes = rng.uniform(0.5, 2.0, 3) * rng.choice([-1.0, 1.0], 3)
    return {n: np.float64(v) for n, v in zip("xyz", magnitudes, strict=True)}


def _value_fanout_inputs(rng):
    return _scalars(rng, "ab")


def _value_edges_inputs(rng):
    return {"v": np.float64(rng.standard_normal()), "w": np.float64(rng.standard_normal())}


# -------------------------------------------------------------- staged gates

def _gates_inputs(rng):
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)))
    x = rng.standard_normal(shape)
    return {"x": x, "y": x + rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 1.0, shape),
            "dout": rng.standard_normal(shape)}


def _gates_ties_inputs(rng):
    shape = (3, 4)
    x = rng.integers(0, 3, shape).astype(np.float64)
    y = rng.integers(0, 3, shape).astype(np.float64)
    y[0] = x[0]  # a row of ties whatever the draw: the gradient goes to x
    return {"x": x, "y": y, "dout": rng.standard_normal(shape),
            "scalars": rng.standard_normal(3)}


# --------------------------------------------------------------- sigmoid neuron

def _neuron_inputs(rng):
    return {"w": rng.standard_normal(3) * rng.choice([1.0, 2.0]), "x": rng.standard_normal(2)}


def _saturated_inputs(rng):
    # The negative tail only: there s (1 - s) ~ s keeps all its digits however it is
    # computed, while near s = 1 the factor 1 - s has lost most of them.
    return {"t": np.float64(-rng.uniform(8.0, 25.0))}


# ------------------------------------------------------------------- affine

def _affine_inputs(rng):
    # N >= 2 and M >= 2: with one sample a 1/N too many, and with D = M a transposed dw
    # of the right shape, could pass (the single-sample case is a probe of its own)
    n = int(rng.integers(2, 6))
    shape = (n, 2, int(rng.integers(1, 4)), 3)
    d = int(np.prod(shape[1:]))
    m = int(rng.integers(2, 6))
    return {"x": rng.standard_normal(shape), "w": rng.standard_normal((d, m)),
            "b": rng.standard_normal(m), "dout": rng.standard_normal((n, m))}


def _affine_single_inputs(rng):
    d, m = int(rng.integers(1, 8)), int(rng.integers(1, 4))
    return {"x": rng.standard_normal((1, d)), "w": rng.standard_normal((d, m)),
            "b": rng.standard_normal(m), "dout": rng.standard_normal((1, m))}


PROBES = [
    Probe("test_numerical_gradient", "numgrad", _numgrad_inputs, calls.numgrad,
          checks="centred differences of a scalar and an array function; x left as it was"),
    Probe("test_numerical_gradient", "numgrad_reused_buffer", _numgrad_buffer_inputs,
          calls.numgrad_buffer,
          checks="a function that returns the same output buffer on every call"),
    Probe("test_numerical_gradient", "rel_error", _rel_error_inputs, calls.rel_error,
          checks="rel_error of equal, scaled and near-zero arrays"),
    Probe("test_grad_check_sparse", "grad_check_sparse", _sparse_inputs, calls.sparse,
          checks="grad_check_sparse on a gradient off by a constant factor"),
    Probe("test_value_backward", "value_arithmetic", _value_arith_inputs, calls.value_arith,
          checks="+, -, *, / and ** combined in one expression"),
    Probe("test_value_backward", "value_unary", _value_unary_inputs, calls.value_unary,
          checks="exp, tanh, sigmoid, relu and ** combined in one expression"),
    Probe("test_value_backward", "value_fan_out", _value_fanout_inputs, calls.value_fanout,
          checks="values used more than once (fan-out)"),
    Probe("test_value_backward", "value_edges", _value_edges_inputs, calls.value_edges,
          checks="ties in max, relu at exactly 0, backward called twice"),
    Probe("test_value_backward", "value_gates_alone", _gates_alone_inputs,
          calls.value_gates_alone,
          checks="each operation alone, its input also used directly, upstream gradient "
                 "other than 1"),
    Probe("test_numerical_gradient", "numgrad_restores_exactly", _restore_inputs,
          calls.numgrad_restores, rtol=0.0, checks="x restored bit for bit after a check"),
    Probe("test_staged_gates", "staged_gates", _gates_inputs, calls.gates,
          checks="the add, mul and max gates on arrays, forward and backward"),
    Probe("test_staged_gates", "staged_gates_ties", _gates_ties_inputs, calls.gates_ties,
          checks="ties in the max gate; plain floats in the add and mul gates"),
    Probe("test_sigmoid_neuron", "sigmoid_neuron", _neuron_inputs, calls.neuron,
          checks="a 2-input sigmoid neuron, as one gate and staged"),
    Probe("test_sigmoid_neuron", "sigmoid_saturated", _saturated_inputs, calls.saturated,
          checks="sigmoid's gradient far in its negative tail"),
    Probe("test_affine_forward", "affine_forward", _affine_inputs, calls.affine_forward,
          checks="a batch of several samples of more than one dimension"),
    Probe("test_affine_forward", "affine_forward_single", _affine_single_inputs,
          calls.affine_forward, checks="a batch of one sample"),
    Probe("test_affine_backward", "affine_backward", _affine_inputs, calls.affine_backward,
          checks="a batch of several samples of more than one dimension"),
    Probe("test_affine_backward", "affine_backward_single", _affine_single_inputs,
          calls.affine_backward, checks="a batch of one sample"),
]


# ------------------------------------------------------------ notebook answers

def _hand_gradients_expected(lib, inputs):
    """Lecture 4's first example, f = (x + y) z at x = -2, y = 5, z = -4."""
    Value = calls.submodule(lib, "graph").Value
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    return {"dfdq": q.grad, "dfdz": z.grad, "dfdx": x.grad, "dfdy": y.grad}


def _gate_patterns_expected(lib, inputs):
    """f = 2 (x y + max(z, w)) at (3, -4, 2, -1); the patterns are the lecture's names."""
    Value = calls.submodule(lib, "graph").Value
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
                _hand_gradients_expected, checks="your hand-worked gradients of f = (x + y) z"),
    AnswerProbe("test_gate_patterns", "gate_patterns",
                ("add_gate_pattern", "mul_gate_pattern", "max_gate_pattern",
                 "dfdx", "dfdy", "dfdz", "dfdw"), _gate_patterns_expected,
                checks="your gate patterns and gradients of f = 2 (x y + max(z, w))"),
]
