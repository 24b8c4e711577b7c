"""What the sandbox runs for the conv probes: calls into a copy of ``cs231n_lib``.

Each function takes the library copy and the inputs the trusted side drew,
and returns plain arrays. This file is the only part of the probes that
enters the sandbox, so it holds no expected values, tolerances or answers
(those live in ``judge.py``), and imports only the standard library and numpy.
"""

from __future__ import annotations

import importlib


def submodule(lib, name):
    """Submodule ``name`` of the library copy ``lib`` (the student's or the reference)."""
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
