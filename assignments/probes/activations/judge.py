"""Probes of the activations assignment (lecture 6): every activation, forward and backward.

Each probe draws fresh inputs on the trusted side, runs the student's forward
pass and the backward pass through the returned cache, and the grader
compares the outputs with the reference library's. Inputs stay away from the
kink at 0, except for exact zeros placed on purpose where the library's
convention (the left branch at x == 0) decides the gradient, and include extreme
values where a careless ``exp`` overflows. ``test_dead_fraction`` tests a
function written in the notebook, ``dead_fraction(hidden)``: its answer probe
has the notebook run call it on ReLU outputs drawn here, and compares the
values with the fraction of all-zero columns.
"""

from __future__ import annotations

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe

from . import calls


def _away_from_zero(rng, shape, margin=0.05):
    x = rng.standard_normal(shape) * rng.uniform(0.5, 4.0)
    return x + margin * np.sign(x)


def _random_shape(rng):
    # at least 4 entries: room for a zero, a negative and a positive one
    return tuple(int(d) for d in rng.integers(2, 5, size=int(rng.integers(2, 4))))


def _elementwise_inputs(rng):
    shape = _random_shape(rng)
    return {"x": _away_from_zero(rng, shape), "dout": rng.standard_normal(shape)}


def _extreme_inputs(rng):
    """Large magnitudes of both signs, where exp(|x|) overflows."""
    x = rng.choice([-1.0, 1.0], 8) * rng.uniform(30.0, 900.0, 8)
    return {"x": x, "dout": rng.standard_normal(8)}


# ------------------------------------------------------------- leaky ReLU, ELU

def _with_kink(inputs):
    """Exact zeros, a negative and a positive entry whatever the draw: the gradient at
    x == 0 follows the documented convention (the left branch), so > against >= shows."""
    x = inputs["x"].reshape(-1)
    x[0] = x[-1] = 0.0
    x[1], x[2] = -abs(x[1]), abs(x[2])
    return inputs


def _with_alpha(rng, low, high):
    inputs = _with_kink(_elementwise_inputs(rng))
    inputs["alpha"] = np.float64(rng.uniform(low, high))
    return inputs


def _leaky_inputs(rng):
    return _with_alpha(rng, 0.005, 0.5)


def _elu_inputs(rng):
    return _with_alpha(rng, 0.3, 3.0)


def _elu_extreme_inputs(rng):
    inputs = _extreme_inputs(rng)
    inputs["alpha"] = np.float64(rng.uniform(0.3, 3.0))
    return inputs


# ------------------------------------------------------------------- PReLU

def _prelu_scalar_inputs(rng):
    inputs = _with_kink(_elementwise_inputs(rng))
    inputs["alpha"] = np.float64(rng.uniform(-0.5, 0.5))
    return inputs


def _prelu_feature_inputs(rng):
    n, d = int(rng.integers(2, 6)), int(rng.integers(2, 6))
    x, alpha = _away_from_zero(rng, (n, d)), rng.uniform(-0.5, 0.5, d)
    # a negative slope met by a negative input: there the output is positive, so a mask
    # taken from the output's sign instead of the input's shows
    alpha[0], x[0, 0] = -abs(alpha[0]), -abs(x[0, 0])
    return {"x": x, "dout": rng.standard_normal((n, d)), "alpha": alpha}


def _prelu_channel_inputs(rng):
    shape = (int(rng.integers(2, 4)), int(rng.integers(2, 4)), 3, int(rng.integers(2, 5)))
    return {"x": _away_from_zero(rng, shape), "dout": rng.standard_normal(shape),
            "alpha": rng.uniform(-0.5, 0.5, shape[1])}


# ------------------------------------------------------------------ maxout

def _maxout_inputs(rng, k):
    n, d, m = (int(v) for v in rng.integers(1, 6, size=3))
    return {"x": rng.standard_normal((n, d)), "w": rng.standard_normal((d, m, k)),
            "b": rng.standard_normal((m, k)), "dout": rng.standard_normal((n, m))}


def _maxout2_inputs(rng):
    return _maxout_inputs(rng, 2)


def _maxout3_inputs(rng):
    return _maxout_inputs(rng, int(rng.integers(3, 5)))


PROBES = [
    Probe("test_sigmoid", "sigmoid", _elementwise_inputs, calls.sigmoid,
          checks="sigmoid forward and backward on moderate inputs"),
    Probe("test_sigmoid", "sigmoid_extreme", _extreme_inputs, calls.sigmoid,
          checks="sigmoid at large |x| (where a plain exp overflows)"),
    Probe("test_tanh", "tanh", _elementwise_inputs, calls.tanh,
          checks="tanh forward and backward on moderate inputs"),
    Probe("test_tanh", "tanh_extreme", _extreme_inputs, calls.tanh,
          checks="tanh at large |x| (where a plain exp overflows)"),
    Probe("test_leaky_relu", "leaky_relu", _leaky_inputs, calls.leaky,
          checks="leaky ReLU, x exactly 0 included"),
    Probe("test_prelu", "prelu_scalar", _prelu_scalar_inputs, calls.prelu,
          checks="PReLU with one shared slope, x exactly 0 included"),
    Probe("test_prelu", "prelu_per_feature", _prelu_feature_inputs, calls.prelu,
          checks="PReLU with one slope per feature, a negative slope included"),
    Probe("test_prelu", "prelu_per_channel", _prelu_channel_inputs, calls.prelu,
          checks="PReLU with one slope per channel on (N, C, H, W) inputs"),
    Probe("test_elu", "elu", _elu_inputs, calls.elu, checks="ELU, x exactly 0 included"),
    Probe("test_elu", "elu_extreme", _elu_extreme_inputs, calls.elu,
          checks="ELU at large |x| (where a plain exp overflows)"),
    Probe("test_maxout", "maxout_two_pieces", _maxout2_inputs, calls.maxout,
          checks="maxout with 2 pieces"),
    Probe("test_maxout", "maxout_more_pieces", _maxout3_inputs, calls.maxout,
          checks="maxout with 3 or 4 pieces"),
]


# ------------------------------------------------------------ notebook answers

def _dead_fraction_inputs(rng):
    """ReLU outputs (N, H): the notebook's example, all dead, none dead, one example,
    and random layers where a drawn share of the units never fires."""
    n, h = int(rng.integers(2, 30)), int(rng.integers(2, 30))
    row = np.maximum(rng.standard_normal((1, h)), 0.0)
    row[0, 0] = 0.0
    inputs = {
        "example": np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 2.0], [0.0, 3.0, 0.0, 0.0]]),
        "all_dead": np.zeros((n, h)),
        "none_dead": rng.uniform(0.1, 2.0, (n, h)),
        "one_example": row,
    }
    for k in range(3):
        n, h = int(rng.integers(5, 60)), int(rng.integers(5, 60))
        hidden = np.maximum(rng.standard_normal((n, h)), 0.0)
        hidden[:, rng.random(h) < rng.uniform(0.1, 0.9)] = 0.0
        inputs[f"random_{k}"] = hidden
    return inputs


def _dead_fraction_expected(lib, inputs):
    """The share of columns that are 0 on every row (ReLU outputs are never negative)."""
    return {key: float(np.mean(np.all(hidden == 0, axis=0))) for key, hidden in inputs.items()}


ANSWER_PROBES = [
    AnswerProbe("test_dead_fraction", "dead_fraction", (), _dead_fraction_expected,
                function="dead_fraction", make_inputs=_dead_fraction_inputs,
                rtol=1e-9, atol=1e-12,
                checks="your dead_fraction on ReLU outputs: all dead, none dead, one "
                       "example, random layers"),
]
