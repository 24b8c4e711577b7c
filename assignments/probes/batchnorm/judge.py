"""Probes of the batchnorm assignment (lecture 6): batch normalisation, plain and spatial.

Each probe draws fresh inputs on the trusted side (shapes included), runs the
student's forward pass with a ``bn_param`` built from them and, for the
backward cells, the backward pass through the returned cache; the grader
compares the outputs, and the running averages left in ``bn_param``, with the
reference library's. Batches of two samples use a large ``eps``: with a tiny
one their ``dx`` is almost 0 and says nothing. ``test_initial_loss`` checks a
number typed into the notebook; its answer probe compares it with the
reference softmax loss of all-zero scores over 10 classes (log 10).
"""

from __future__ import annotations

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe

from . import calls


def _features(rng, n, d):
    """A batch whose features have very different means and spreads."""
    return rng.standard_normal((n, d)) * rng.uniform(0.2, 8.0, d) + rng.uniform(-10, 10, d)


def _settings(rng, d, *, eps=None):
    """gamma, beta, eps, momentum and running averages for d features."""
    return {"gamma": rng.standard_normal(d), "beta": rng.standard_normal(d),
            "eps": np.float64(eps if eps is not None else 10.0 ** rng.uniform(-6, -3)),
            "momentum": np.float64(rng.uniform(0.5, 0.99)),
            "running_mean": rng.standard_normal(d), "running_var": rng.uniform(0.3, 3.0, d)}


def _flat_inputs(rng):
    n, d = int(rng.integers(3, 40)), int(rng.integers(1, 8))
    inputs = {"x": _features(rng, n, d), "dout": rng.standard_normal((n, d))}
    inputs.update(_settings(rng, d))
    return inputs


def _two_sample_inputs(rng):
    d = int(rng.integers(1, 6))
    inputs = {"x": _features(rng, 2, d), "dout": rng.standard_normal((2, d))}
    inputs.update(_settings(rng, d, eps=rng.uniform(0.5, 2.0)))
    return inputs


def _spatial_inputs(rng):
    # at least 2 of each: with one channel (or N = H = 1) a layout mistake cannot show
    n, c = int(rng.integers(2, 4)), int(rng.integers(2, 5))
    h, w = int(rng.integers(2, 5)), int(rng.integers(2, 5))
    x = rng.standard_normal((n, c, h, w)) * rng.uniform(0.2, 8.0, (1, c, 1, 1)) \
        + rng.uniform(-10, 10, (1, c, 1, 1))
    inputs = {"x": x, "dout": rng.standard_normal((n, c, h, w))}
    inputs.update(_settings(rng, c))
    return inputs


# ------------------------------------------------------------------ forward


# ------------------------------------------------------------------ backward


# ------------------------------------------------------------------ spatial


PROBES = [
    Probe("test_batchnorm_forward_train", "forward_train", _flat_inputs, calls.train,
          checks="training mode: the output and the running averages"),
    Probe("test_batchnorm_forward_train", "forward_train_two_samples", _two_sample_inputs,
          calls.train, checks="training mode on a batch of 2"),
    Probe("test_batchnorm_forward_train", "forward_train_first_call", _flat_inputs,
          calls.first_call, checks="training mode on the first call (no running averages yet)"),
    Probe("test_batchnorm_forward_test", "forward_test", _flat_inputs, calls.test,
          checks="test mode with given running averages"),
    Probe("test_batchnorm_forward_test", "forward_train_then_test", _flat_inputs,
          calls.train_then_test, checks="training steps, then test mode"),
    Probe("test_batchnorm_backward", "backward_staged", _flat_inputs, calls.staged,
          checks="the staged backward pass"),
    Probe("test_batchnorm_backward", "backward_staged_two_samples", _two_sample_inputs,
          calls.staged, checks="the staged backward pass on a batch of 2"),
    Probe("test_batchnorm_backward_alt", "backward_closed_form", _flat_inputs, calls.alt,
          checks="the closed-form backward pass"),
    Probe("test_batchnorm_backward_alt", "backward_closed_form_two_samples",
          _two_sample_inputs, calls.alt, checks="the closed-form backward pass on a batch of 2"),
    Probe("test_spatial_batchnorm_forward", "spatial_train", _spatial_inputs,
          calls.spatial_train, checks="spatial batchnorm in training mode, several channels"),
    Probe("test_spatial_batchnorm_forward", "spatial_test", _spatial_inputs, calls.spatial_test,
          checks="spatial batchnorm in test mode"),
    Probe("test_spatial_batchnorm_backward", "spatial_backward", _spatial_inputs,
          calls.spatial_backward,
          checks="spatial batchnorm's backward pass"),
]


# ------------------------------------------------------------ notebook answers

def _initial_loss_expected(lib, inputs):
    """Equal scores give every one of the 10 classes probability 1/10: loss log 10."""
    losses = calls.submodule(lib, "losses")
    loss, _ = losses.softmax_loss(np.zeros((1, 10)), np.array([0]))
    return {"expected_initial_loss": float(loss)}


# The notebook's hidden test allows 1e-4 (2.3026 is a fine answer).
ANSWER_PROBES = [
    AnswerProbe("test_initial_loss", "initial_loss", ("expected_initial_loss",),
                _initial_loss_expected, rtol=0.0, atol=1e-4,
                checks="your initial softmax loss for 10 classes"),
]
