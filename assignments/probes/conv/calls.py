"""The conv probes' sandbox side (see ``autograder.grading.probes``): calls only."""

from __future__ import annotations

import importlib


def submodule(lib, name):  # the student's copy or the reference, whichever lib is
    return importlib.import_module(f"{lib.__name__}.{name}")


def _conv_param(inputs):
    return {"stride": int(inputs["stride"]), "pad": int(inputs["pad"])}


def _pool_param(inputs):
    return {"pool_height": int(inputs["pool_height"]), "pool_width": int(inputs["pool_width"]),
            "stride": int(inputs["stride"])}


def conv_forward(lib, inputs):
    conv = submodule(lib, "conv")
    out, _ = conv.conv_forward_naive(inputs["x"], inputs["w"], inputs["b"], _conv_param(inputs))
    return {"out": out}


def conv_backward(lib, inputs):
    conv = submodule(lib, "conv")
    _, cache = conv.conv_forward_naive(inputs["x"], inputs["w"], inputs["b"],
                                       _conv_param(inputs))
    dx, dw, db = conv.conv_backward_naive(inputs["dout"], cache)
    return {"dx": dx, "dw": dw, "db": db}


def pool_forward(lib, inputs):
    conv = submodule(lib, "conv")
    out, _ = conv.max_pool_forward_naive(inputs["x"], _pool_param(inputs))
    return {"out": out}


def pool_backward(lib, inputs):
    conv = submodule(lib, "conv")
    _, cache = conv.max_pool_forward_naive(inputs["x"], _pool_param(inputs))
    return {"dx": conv.max_pool_backward_naive(inputs["dout"], cache)}
