"""Shape arithmetic of conv nets: output sizes, parameter counts, receptive fields.

A conv or pool layer with an N x N input, F x F filters, stride S and zero
padding P produces an output of side ``(N - F + 2P) / S + 1``. The filters
must tile the padded input exactly, so this must be a positive whole number;
a configuration where it is not is reported, never rounded.

``describe_network`` walks a list of layer specs (``Conv``, ``Pool``, ``FC``)
from an input shape ``(C, H, W)`` and gives, per layer, the output shape, the
number of parameters, the receptive field and the activation memory, e.g.::

    >>> table = describe_network((3, 224, 224), VGG16)
    >>> print(table)            # a printable table
    >>> table.to_rows()         # the same as a list of dicts
    >>> table.total_params
    138357544

Shapes are channels-first, as everywhere in the library: ``(C, H, W)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "conv_output_size", "conv_params", "affine_params", "receptive_field",
    "Conv", "Pool", "FC", "LayerRow", "NetworkTable", "describe_network",
    "ALEXNET", "ALEXNET_INPUT", "VGG16", "VGG16_INPUT",
]


def _whole(name: str, value, minimum: int) -> int:
    """Return ``value`` as an int, refusing fractions, bools and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a whole number (an int); got {value!r} "
                        f"({type(value).__name__}).")
    if not isinstance(value, numbers.Integral):
        if not float(value).is_integer():
            raise TypeError(f"{name} must be a whole number; got {value!r}. Sizes, strides "
                            "and pads count pixels, so they cannot be fractions.")
        value = int(value)
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}.")
    return value


def _or_list(items) -> str:
    words = [str(i) for i in items]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _tiling_fixes(n: int, f: int, s: int, p: int) -> str:
    """Describe nearby pads, strides and input sizes that would tile, in words."""
    hints = []
    pads = [q for q in range(0, max(f, p + 2 * s) + 1)
            if n - f + 2 * q >= 0 and (n - f + 2 * q) % s == 0]
    if pads:
        hints.append(f"keep stride {s} and use pad {_or_list(pads[:3])}")
    else:
        hints.append(f"(no pad works with stride {s}: 2P is even and N - F = {n - f} is odd)")
    span = n - f + 2 * p
    if span > 0:
        strides = [t for t in range(1, span + 1) if span % t == 0]
        hints.append(f"keep pad {p} and use stride {_or_list(strides[:4])}")
    below = next((m for m in range(n - 1, max(f - 2 * p, 1) - 1, -1)
                  if (m - f + 2 * p) % s == 0), None)
    above = next(m for m in range(n + 1, n + s + 1) if (m - f + 2 * p) % s == 0)
    sizes = [m for m in (below, above) if m is not None]
    hints.append(f"resize the input to {_or_list(sizes)} pixels")
    return "Settings that tile: " + "; ".join(hints) + "."


def conv_output_size(input_size, filter_size, stride=1, pad=0) -> int:
    """Side of a conv or pool layer's output: ``(N - F + 2P) / S + 1``.

    Parameters
    ----------
    input_size : int
        N, the input's side (height or width) in pixels, at least 1.
    filter_size : int
        F, the filter's (or pooling window's) side, at least 1.
    stride : int
        S, the step between filter positions, at least 1.
    pad : int
        P, zeros added on each side, at least 0.

    Returns
    -------
    int
        The output's side.

    Raises
    ------
    ValueError
        If the filters do not tile the padded input: the result would not be a
        positive whole number. The message shows the arithmetic and the pads,
        strides or input sizes that would tile. The result is never rounded.
    TypeError
        If an argument is not a whole number.
    """
    n = _whole("input_size", input_size, 1)
    f = _whole("filter_size", filter_size, 1)
    s = _whole("stride", stride, 1)
    p = _whole("pad", pad, 0)
    span = n - f + 2 * p
    formula = f"(N - F + 2P) / S + 1 = ({n} - {f} + 2*{p}) / {s} + 1"
    if span < 0:
        need = -(-(f - n) // 2)
        raise ValueError(f"the filter does not fit: {formula} = {span / s + 1:g}, which is not "
                         f"positive. A {f}x{f} filter is larger than the {n}x{n} input padded "
                         f"by {p}. Use a filter of at most {n + 2 * p} or a pad of at least "
                         f"{need}.")
    if span % s:
        raise ValueError(f"the filter does not tile the input: {formula} = {span}/{s} + 1 = "
                         f"{span / s + 1:g}, not a whole number (input {n}, filter {f}, "
                         f"stride {s}, pad {p}). {_tiling_fixes(n, f, s, p)}")
    return span // s + 1


def conv_params(filter_size, in_channels, num_filters, bias=True) -> int:
    """Learnable parameters of a conv layer: ``K * (F*F*C_in + 1)`` with a bias.

    Each of the K filters has F*F*C_in weights (it spans every input channel)
    and one bias.
    """
    f = _whole("filter_size", filter_size, 1)
    c = _whole("in_channels", in_channels, 1)
    k = _whole("num_filters", num_filters, 1)
    return k * (f * f * c + (1 if bias else 0))


def affine_params(fan_in, fan_out, bias=True) -> int:
    """Learnable parameters of a fully connected layer: ``fan_in * fan_out + fan_out``."""
    d = _whole("fan_in", fan_in, 1)
    m = _whole("fan_out", fan_out, 1)
    return d * m + (m if bias else 0)


# ---------------------------------------------------------------- layer specs

@dataclass(frozen=True)
class Conv:
    """A conv layer: ``filters`` filters of ``size`` x ``size``, with stride and pad."""

    filters: int
    size: int
    stride: int = 1
    pad: int = 0
    name: str | None = None
    kind = "conv"


@dataclass(frozen=True)
class Pool:
    """A max (or average) pooling layer; ``stride`` defaults to ``size`` (no overlap)."""

    size: int
    stride: int | None = None
    name: str | None = None
    kind = "pool"


@dataclass(frozen=True)
class FC:
    """A fully connected (affine) layer with ``units`` outputs; its input is flattened."""

    units: int
    name: str | None = None
    kind = "fc"


_SPEC_TYPES = {"conv": Conv, "pool": Pool, "fc": FC}


def _as_spec(spec, index: int):
    """Accept a spec object or a dict such as ``{"type": "conv", "filters": 64, "size": 3}``."""
    if isinstance(spec, (Conv, Pool, FC)):
        return spec
    if isinstance(spec, Mapping):
        fields = dict(spec)
        kind = fields.pop("type", None)
        if kind not in _SPEC_TYPES:
            raise ValueError(f"layer {index}: 'type' must be one of 'conv', 'pool', 'fc'; "
                             f"got {kind!r}.")
        try:
            return _SPEC_TYPES[kind](**fields)
        except TypeError as exc:
            raise TypeError(f"layer {index} ({kind}): {exc}") from None
    raise TypeError(f"layer {index} must be Conv(...), Pool(...), FC(...) or a dict with a "
                    f"'type' key; got {spec!r}.")


def receptive_field(layers: Sequence) -> int:
    """Side of the input region that one output unit of a conv/pool stack sees.

    Parameters
    ----------
    layers : sequence
        ``(filter_size, stride)`` pairs, or ``Conv``/``Pool`` specs, first layer first.

    Returns
    -------
    int
        ``1 + sum_i (F_i - 1) * S_1 * ... * S_{i-1}``; e.g. three 3x3 stride-1
        convs see 7x7, like one 7x7 conv.
    """
    field, jump = 1, 1
    for i, layer in enumerate(layers):
        if isinstance(layer, Conv):
            f, s = layer.size, layer.stride
        elif isinstance(layer, Pool):
            f, s = layer.size, layer.size if layer.stride is None else layer.stride
        elif isinstance(layer, FC):
            raise ValueError(f"layer {i} is fully connected: it sees the whole input, so a "
                             "receptive field is defined only for conv and pool layers.")
        else:
            try:
                f, s = layer
            except (TypeError, ValueError):
                raise TypeError(f"layer {i} must be a (filter_size, stride) pair or a "
                                f"Conv/Pool spec; got {layer!r}.") from None
        f = _whole(f"layer {i} filter_size", f, 1)
        s = _whole(f"layer {i} stride", s, 1)
        field += (f - 1) * jump
        jump *= s
    return field


# ------------------------------------------------------------- network tables

@dataclass(frozen=True)
class LayerRow:
    """One line of a network table."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    activations: int
    bytes: int
    receptive_field: int | None
    """Side of the input region one unit sees; None for a fully connected layer (all of it)."""


class NetworkTable:
    """Per-layer output shapes, parameters and activation memory of a network.

    ``print(table)`` shows it; ``table.to_rows()`` gives it as a list of dicts;
    ``rows`` holds ``LayerRow`` objects (the first one is the input).
    """

    def __init__(self, rows: list[LayerRow], dtype: np.dtype):
        self.rows = rows
        self.dtype = dtype

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_activations(self) -> int:
        """Numbers held by one image's forward pass, the input included."""
        return sum(r.activations for r in self.rows)

    @property
    def total_bytes(self) -> int:
        return sum(r.bytes for r in self.rows)

    def __getitem__(self, name: str) -> LayerRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no layer named {name!r}; layers are "
                       f"{', '.join(r.name for r in self.rows)}.")

    def to_rows(self) -> list[dict]:
        """The table as data: one dict per layer with every column."""
        return [dict(name=r.name, kind=r.kind, output_shape=r.output_shape, params=r.params,
                     activations=r.activations, bytes=r.bytes,
                     receptive_field=r.receptive_field) for r in self.rows]

    def format(self) -> str:
        """The table as aligned text, with totals."""
        header = ("layer", "output (C, H, W)", "params", "activations",
                  f"memory ({self.dtype.name})", "receptive field")
        lines = [[r.name, " x ".join(str(d) for d in r.output_shape), f"{r.params:,}",
                  f"{r.activations:,}", _human_bytes(r.bytes),
                  "all" if r.receptive_field is None else str(r.receptive_field)]
                 for r in self.rows]
        lines.append(["total", "", f"{self.total_params:,}", f"{self.total_activations:,}",
                      _human_bytes(self.total_bytes), ""])
        widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=False)]
        def fmt(cells):
            first = str(cells[0]).ljust(widths[0])
            return "  ".join([first] + [str(c).rjust(w) for c, w in zip(cells[1:], widths[1:],
                                                                          strict=True)])
        rule = "-" * len(fmt(header))
        return "\n".join([fmt(header), rule] + [fmt(c) for c in lines[:-1]]
                         + [rule, fmt(lines[-1])])

    __str__ = format

    def __repr__(self) -> str:
        return self.format()


def _human_bytes(n: int) -> str:
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def describe_network(input_shape, layers: Sequence, dtype=np.float64) -> NetworkTable:
    """Walk a network description and tabulate each layer.

    Parameters
    ----------
    input_shape : tuple of int
        ``(C, H, W)`` of one image.
    layers : sequence
        ``Conv``, ``Pool`` and ``FC`` specs (or dicts with a ``'type'`` key), in order.
    dtype : numpy dtype
        Element type used for the activation memory (float64 by default; the
        published figures for VGG-16 use 4-byte floats).

    Returns
    -------
    NetworkTable
        One row for the input, then one per layer.

    Raises
    ------
    ValueError
        If a conv or pool layer does not tile its input; the message names the layer.
    """
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W); got {tuple(input_shape)}.")
    c, h, w = (_whole(n, v, 1) for n, v in zip(("C", "H", "W"), input_shape, strict=True))
    itemsize = np.dtype(dtype).itemsize
    shape: tuple = (c, h, w)
    rows = [LayerRow("input", "input", shape, 0, c * h * w, c * h * w * itemsize, 1)]
    counts = {"conv": 0, "pool": 0, "fc": 0}
    field, jump = 1, 1
    for i, raw in enumerate(layers):
        spec = _as_spec(raw, i)
        counts[spec.kind] += 1
        name = spec.name or f"{spec.kind}{counts[spec.kind]}"
        try:
            if spec.kind == "fc":
                fan_in = int(np.prod(shape))
                params = affine_params(fan_in, spec.units)
                shape = (spec.units,)
                rf = None  # an FC unit sees the whole image
            else:
                if len(shape) != 3:
                    raise ValueError(f"a {spec.kind} layer needs a (C, H, W) input, but it "
                                     f"follows a fully connected layer with output {shape}.")
                size = spec.size
                stride = spec.stride if spec.stride is not None else spec.size
                pad = getattr(spec, "pad", 0)
                out_h = conv_output_size(shape[1], size, stride, pad)
                out_w = conv_output_size(shape[2], size, stride, pad)
                if spec.kind == "conv":
                    params = conv_params(size, shape[0], spec.filters)
                    shape = (spec.filters, out_h, out_w)
                else:
                    params = 0
                    shape = (shape[0], out_h, out_w)
                field += (size - 1) * jump
                jump *= stride
                rf = field
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"layer {i} ({name}): {exc}") from None
        count = int(np.prod(shape))
        rows.append(LayerRow(name, spec.kind, shape, params, count, count * itemsize, rf))
    return NetworkTable(rows, np.dtype(dtype))


# ------------------------------------------------------ published networks

ALEXNET_INPUT = (3, 227, 227)
"""AlexNet's input as CS231n describes it (the paper's 224 does not tile conv1)."""

ALEXNET = [
    Conv(96, 11, stride=4, pad=0, name="conv1"),
    Pool(3, stride=2, name="pool1"),
    Conv(256, 5, stride=1, pad=2, name="conv2"),
    Pool(3, stride=2, name="pool2"),
    Conv(384, 3, stride=1, pad=1, name="conv3"),
    Conv(384, 3, stride=1, pad=1, name="conv4"),
    Conv(256, 3, stride=1, pad=1, name="conv5"),
    Pool(3, stride=2, name="pool3"),
    FC(4096, name="fc6"),
    FC(4096, name="fc7"),
    FC(1000, name="fc8"),
]
"""AlexNet as one stream (no two-GPU grouping, normalisation layers left out)."""

VGG16_INPUT = (3, 224, 224)


def _vgg_block(block: int, filters: int, convs: int) -> list:
    layers: list = [Conv(filters, 3, stride=1, pad=1, name=f"conv{block}_{j + 1}")
                    for j in range(convs)]
    layers.append(Pool(2, stride=2, name=f"pool{block}"))
    return layers


VGG16 = [
    *_vgg_block(1, 64, 2),
    *_vgg_block(2, 128, 2),
    *_vgg_block(3, 256, 3),
    *_vgg_block(4, 512, 3),
    *_vgg_block(5, 512, 3),
    FC(4096, name="fc6"),
    FC(4096, name="fc7"),
    FC(1000, name="fc8"),
]
"""VGG-16 (configuration D of Simonyan & Zisserman 2014)."""
