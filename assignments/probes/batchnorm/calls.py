"""The batchnorm probes' sandbox side (see ``autograder.grading.probes``): calls only."""

from __future__ import annotations

import importlib


def submodule(lib, name):  # the student's copy or the reference, whichever lib is
    return importlib.import_module(f"{lib.__name__}.{name}")


def _bn_param(inputs, mode):
    return {"mode": mode, "eps": float(inputs["eps"]), "momentum": float(inputs["momentum"]),
            "running_mean": inputs["running_mean"].copy(),
            "running_var": inputs["running_var"].copy()}


def _forward(lib, inputs, mode, spatial=False):
    batchnorm = submodule(lib, "batchnorm")
    forward = batchnorm.spatial_batchnorm_forward if spatial else batchnorm.batchnorm_forward
    bn_param = _bn_param(inputs, mode)
    out, cache = forward(inputs["x"], inputs["gamma"], inputs["beta"], bn_param)
    return {"out": out, "running_mean": bn_param["running_mean"],
            "running_var": bn_param["running_var"]}, cache


def train(lib, inputs):
    return _forward(lib, inputs, "train")[0]


def test(lib, inputs):
    return _forward(lib, inputs, "test")[0]


def first_call(lib, inputs):
    """No running averages yet: they start as zeros and ones."""
    batchnorm = submodule(lib, "batchnorm")
    bn_param = {"mode": "train", "momentum": float(inputs["momentum"])}
    out, _ = batchnorm.batchnorm_forward(inputs["x"], inputs["gamma"], inputs["beta"], bn_param)
    return {"out": out, "running_mean": bn_param["running_mean"],
            "running_var": bn_param["running_var"]}


def train_then_test(lib, inputs):
    """Three training steps on shifted batches, then test mode on the first batch."""
    batchnorm = submodule(lib, "batchnorm")
    bn_param = _bn_param(inputs, "train")
    for shift in (0.0, 1.5, -0.5):
        batchnorm.batchnorm_forward(inputs["x"] + shift, inputs["gamma"], inputs["beta"],
                                    bn_param)
    bn_param["mode"] = "test"
    out, _ = batchnorm.batchnorm_forward(inputs["x"], inputs["gamma"], inputs["beta"], bn_param)
    return {"out": out, "running_mean": bn_param["running_mean"],
            "running_var": bn_param["running_var"]}


def _backward(lib, inputs, name, spatial=False):
    _, cache = _forward(lib, inputs, "train", spatial=spatial)
    dx, dgamma, dbeta = getattr(submodule(lib, "batchnorm"), name)(inputs["dout"], cache)
    return {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}


def staged(lib, inputs):
    return _backward(lib, inputs, "batchnorm_backward")


def alt(lib, inputs):
    return _backward(lib, inputs, "batchnorm_backward_alt")


def spatial_train(lib, inputs):
    return _forward(lib, inputs, "train", spatial=True)[0]


def spatial_test(lib, inputs):
    return _forward(lib, inputs, "test", spatial=True)[0]


def spatial_backward(lib, inputs):
    return _backward(lib, inputs, "spatial_batchnorm_backward", spatial=True)
