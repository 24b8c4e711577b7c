"""The network as a short list of layer definitions, as in ConvNetJS's ``layer_defs``.

Each definition is a dict::

    {"type": "conv", "filters": 16, "size": 5, "stride": 1, "pad": 2, "activation": "relu"}
    {"type": "pool", "size": 2, "stride": 2}
    {"type": "fc", "units": 50, "activation": "relu"}   # "relu", "tanh", "sigmoid" or None
    {"type": "softmax"}                                 # last; one score per class

``parse_layer_defs`` checks the list against an input shape ``(C, H, W)``
and returns one ``LayerSpec`` per definition, with its output shape; a size
that does not fit is reported with ``conv_output_size``'s message, prefixed
by the layer's index and definition.
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cs231n_lib.shapes import conv_output_size

__all__ = ["ACTIVATION_NAMES", "CIFAR10_DEMO", "DIGITS_DEMO", "LayerSpec", "parse_layer_defs",
           "demo_layer_defs", "format_layer_defs", "read_layer_defs"]

ACTIVATION_NAMES = ("relu", "tanh", "sigmoid")

CIFAR10_DEMO = [
    {"type": "conv", "filters": 16, "size": 5, "stride": 1, "pad": 2, "activation": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "conv", "filters": 20, "size": 5, "stride": 1, "pad": 2, "activation": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "conv", "filters": 20, "size": 5, "stride": 1, "pad": 2, "activation": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "softmax"},
]
"""The ConvNetJS CIFAR-10 demo's network for 32x32 colour input."""

DIGITS_DEMO = [
    {"type": "conv", "filters": 8, "size": 3, "stride": 1, "pad": 1, "activation": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "conv", "filters": 16, "size": 3, "stride": 1, "pad": 1, "activation": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "softmax"},
]
"""The same pattern, smaller, for the embedded 8x8 digits (8 -> 4 -> 2 pixels)."""

# Keys each layer type accepts, with defaults (None: required).
_KEYS = {
    "conv": {"filters": None, "size": None, "stride": 1, "pad": 0, "activation": "relu"},
    "pool": {"size": 2, "stride": 2},
    "fc": {"units": None, "activation": "relu"},
    "softmax": {},
}


@dataclass(frozen=True)
class LayerSpec:
    """One checked layer of a network.

    ``params`` names the layer's weight and bias in ``Network.params``
    (``("W1", "b1")``), empty for pooling.
    """

    index: int
    name: str  # "conv1", "pool1", "fc1", "softmax"
    kind: str  # "conv", "pool", "fc", "softmax"
    options: dict  # the definition with defaults filled in
    input_shape: tuple
    output_shape: tuple
    activation: str | None = None
    params: tuple = ()


def _where(index: int, layer_def) -> str:
    return f"layer {index} ({layer_def!r})"


def _options(index: int, layer_def) -> tuple[str, dict]:
    """The definition's type and its options with defaults; unknown keys are refused."""
    if not isinstance(layer_def, Mapping):
        raise TypeError(f"layer {index} must be a dict such as {CIFAR10_DEMO[0]!r}; "
                        f"got {type(layer_def).__name__}.")
    kind = layer_def.get("type")
    if kind not in _KEYS:
        raise ValueError(f"{_where(index, layer_def)}: 'type' must be one of "
                         f"{', '.join(map(repr, _KEYS))}; got {kind!r}.")
    options = dict(_KEYS[kind])
    extra = sorted(set(layer_def) - set(options) - {"type"})
    if extra:
        raise ValueError(f"{_where(index, layer_def)}: a {kind} layer takes the keys "
                         f"{sorted(options) or 'none'}; remove {extra}.")
    options.update({k: v for k, v in layer_def.items() if k != "type"})
    missing = [k for k, v in options.items() if v is None and k != "activation"]
    if missing:
        raise ValueError(f"{_where(index, layer_def)}: a {kind} layer needs {missing}.")
    for key in ("filters", "size", "stride", "units"):
        if key in options and (isinstance(options[key], bool)
                               or not isinstance(options[key], int) or options[key] < 1):
            raise ValueError(f"{_where(index, layer_def)}: {key!r} must be a whole number "
                             f">= 1; got {options[key]!r}.")
    if "pad" in options and (not isinstance(options["pad"], int) or options["pad"] < 0):
        raise ValueError(f"{_where(index, layer_def)}: 'pad' must be a whole number >= 0; "
                         f"got {options['pad']!r}.")
    if options.get("activation", None) not in (None, *ACTIVATION_NAMES):
        raise ValueError(f"{_where(index, layer_def)}: 'activation' must be one of "
                         f"{ACTIVATION_NAMES} or None; got {options['activation']!r}.")
    return kind, options


def _side(index, layer_def, what, size, window, stride, pad) -> int:
    try:
        return conv_output_size(size, window, stride, pad)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{_where(index, layer_def)} cannot take its {what} input of side "
                         f"{size}: {err}") from None


def _output_shape(index, layer_def, kind, options, shape, num_classes) -> tuple:
    """The output shape of one layer for an input ``shape``: ``(C, H, W)`` or ``(D,)``."""
    if kind in ("conv", "pool"):
        if len(shape) != 3:
            raise ValueError(f"{_where(index, layer_def)}: a {kind} layer needs an image "
                             f"input (C, H, W), but the layer before gives {shape}. Put conv "
                             "and pool layers before any fc layer.")
        C, H, W = shape
        pad = options.get("pad", 0)
        h = _side(index, layer_def, "height", H, options["size"], options["stride"], pad)
        w = _side(index, layer_def, "width", W, options["size"], options["stride"], pad)
        return (options["filters"] if kind == "conv" else C, h, w)
    if kind == "fc":
        return (options["units"],)
    return (num_classes,)


def parse_layer_defs(layer_defs: Sequence, input_shape, num_classes: int) -> list[LayerSpec]:
    """Check ``layer_defs`` against ``input_shape: (C, H, W)``; one ``LayerSpec`` per layer.

    Raises
    ------
    ValueError
        For an unknown type or key, a missing size, a softmax that is not
        last (or missing), or a size that does not tile its input; the
        message names the layer's index and definition.
    """
    if isinstance(layer_defs, (str, bytes)) or not isinstance(layer_defs, Sequence) \
            or not layer_defs:
        raise TypeError("layer_defs must be a non-empty list of dicts, e.g. CIFAR10_DEMO; "
                        f"got {layer_defs!r}.")
    last = layer_defs[-1]
    if not isinstance(last, Mapping) or last.get("type") != "softmax":
        raise ValueError(f"the last layer must be {{'type': 'softmax'}} (it gives the "
                         f"{num_classes} class scores); got {last!r}. Append it.")
    shape = tuple(int(s) for s in input_shape)
    specs, count, weights = [], {}, 0
    for index, layer_def in enumerate(layer_defs):
        kind, options = _options(index, layer_def)
        if kind == "softmax" and index != len(layer_defs) - 1:
            raise ValueError(f"{_where(index, layer_def)}: softmax must be the last layer.")
        out = _output_shape(index, layer_def, kind, options, shape, num_classes)
        count[kind] = count.get(kind, 0) + 1
        name = "softmax" if kind == "softmax" else f"{kind}{count[kind]}"
        params = ()
        if kind != "pool":
            weights += 1
            params = (f"W{weights}", f"b{weights}")
        specs.append(LayerSpec(index=index, name=name, kind=kind,
                               options=copy.deepcopy(options), input_shape=shape,
                               output_shape=out, activation=options.get("activation"),
                               params=params))
        shape = out
    return specs


def fan_in(spec: LayerSpec) -> int:
    """Inputs feeding one output unit: ``C * size * size`` for conv, ``D`` for fc/softmax."""
    if spec.kind == "conv":
        return spec.input_shape[0] * spec.options["size"] ** 2
    return math.prod(spec.input_shape)


def demo_layer_defs(input_shape) -> list[dict]:
    """``CIFAR10_DEMO`` for 32x32 colour input, ``DIGITS_DEMO`` for the 8x8 digits."""
    shape = tuple(input_shape)
    if shape[1:] == (32, 32):
        return copy.deepcopy(CIFAR10_DEMO)
    if shape[1:] == (8, 8):
        return copy.deepcopy(DIGITS_DEMO)
    raise ValueError(f"there is a demo network for (3, 32, 32) (CIFAR-10) and (1, 8, 8) "
                     f"(digits) input; got {shape}. Write a layer list for it instead.")


def format_layer_defs(layer_defs) -> str:
    """The layer list as editable text: a Python list, one dict per line."""
    return "[\n" + "".join(f"    {dict(d)!r},\n" for d in layer_defs) + "]"


def read_layer_defs(text: str) -> list:
    """Parse ``format_layer_defs``'s text back (Python literals only, nothing is run)."""
    try:
        defs = ast.literal_eval(text)
    except (SyntaxError, ValueError) as err:
        raise ValueError(f"the layer list is not a Python list of dicts ({err}); write it "
                         "as [{'type': 'conv', 'filters': 16, 'size': 5, 'pad': 2}, ..., "
                         "{'type': 'softmax'}].") from None
    if not isinstance(defs, list):
        raise ValueError(f"the layer list must be a list [...]; got a {type(defs).__name__}.")
    return defs
