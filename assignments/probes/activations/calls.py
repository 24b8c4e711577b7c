"""The activations probes' sandbox side (see ``autograder.grading.probes``): calls only."""

from __future__ import annotations

import importlib

import numpy as np


def submodule(lib, name):  # the student's copy or the reference, whichever lib is
    return importlib.import_module(f"{lib.__name__}.{name}")


def _forward_backward(lib, name, inputs, **params):
    activations = submodule(lib, "activations")
    out, cache = getattr(activations, f"{name}_forward")(inputs["x"], **params)
    dx = getattr(activations, f"{name}_backward")(inputs["dout"], cache)
    return {"out": out, "dx": dx}


def sigmoid(lib, inputs):
    return _forward_backward(lib, "sigmoid", inputs)


def tanh(lib, inputs):
    return _forward_backward(lib, "tanh", inputs)


def leaky(lib, inputs):
    return _forward_backward(lib, "leaky_relu", inputs, alpha=float(inputs["alpha"]))


def elu(lib, inputs):
    return _forward_backward(lib, "elu", inputs, alpha=float(inputs["alpha"]))


def prelu(lib, inputs):
    activations = submodule(lib, "activations")
    alpha = inputs["alpha"]
    alpha = float(alpha) if alpha.ndim == 0 else alpha
    out, cache = activations.prelu_forward(inputs["x"], alpha)
    dx, dalpha = activations.prelu_backward(inputs["dout"], cache)
    return {"out": out, "dx": dx, "dalpha": np.asarray(dalpha, dtype=np.float64)}


def maxout(lib, inputs):
    activations = submodule(lib, "activations")
    out, cache = activations.maxout_forward(inputs["x"], inputs["w"], inputs["b"])
    dx, dw, db = activations.maxout_backward(inputs["dout"], cache)
    return {"out": out, "dx": dx, "dw": dw, "db": db}
