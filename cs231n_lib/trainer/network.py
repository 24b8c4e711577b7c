"""A convnet built from a layer list, computed with the library's own layer functions.

Every layer calls ``cs231n_lib``'s functions (``conv_forward_fast``,
``max_pool_forward_fast``, ``affine_forward``, ``relu_forward``,
``tanh_forward``, ``sigmoid_forward``, ``softmax_loss`` and their backward
passes), so in a student's release the network runs the student's code.
Parameters, inputs and every intermediate keep the network's dtype
(float32 or float64).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from cs231n_lib import activations, affine, fast_layers, losses
from cs231n_lib.trainer.netspec import LayerSpec, fan_in, parse_layer_defs

__all__ = ["Network", "Trace"]

SCORE_INIT_SCALE = 0.1

_ACTIVATIONS = {
    "relu": (activations.relu_forward, activations.relu_backward),
    "tanh": (activations.tanh_forward, activations.tanh_backward),
    "sigmoid": (activations.sigmoid_forward, activations.sigmoid_backward),
}


@dataclass
class Trace:
    """What one forward (and backward) pass computed.

    ``activations[name]`` is each layer's output (after its nonlinearity;
    the class scores for ``softmax``), ``(N, C, H, W)`` or ``(N, D)``;
    ``act_grads[name]`` the loss's gradient with respect to it, and
    ``grads`` the gradients of the parameters, both empty without labels.
    """

    scores: np.ndarray  # (N, num_classes)
    activations: dict
    loss: float | None = None
    grads: dict = field(default_factory=dict)
    act_grads: dict = field(default_factory=dict)
    forward_s: float = 0.0
    backward_s: float = 0.0


class Network:
    """A network from ConvNetJS-style layer definitions, with CS231n's ``loss(X, y=None)``.

    Parameters
    ----------
    layer_defs : list of dict
        See ``cs231n_lib.trainer.netspec``; e.g. ``CIFAR10_DEMO``.
    input_shape : tuple
        ``(C, H, W)`` of one input image.
    num_classes : int
    dtype : np.float32 or np.float64
    seed : int
        Seeds the initial weights: He (``sqrt(2 / fan_in)``) before ReLU,
        Xavier (``sqrt(1 / fan_in)``) otherwise, a tenth of Xavier for the
        class scores; biases zero.
    reg : float
        L2 weight decay: ``loss += reg / 2 * sum(W ** 2)`` over the weights.
    """

    def __init__(self, layer_defs, input_shape=(3, 32, 32), num_classes=10,
                 dtype=np.float64, seed=0, reg=0.0):
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"dtype must be np.float32 or np.float64; got {dtype!r}.")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) \
                or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2; got {num_classes!r}.")
        self.dtype = np.dtype(dtype)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.num_classes = num_classes
        self.layer_defs = [dict(d) for d in layer_defs]
        self.layers: list[LayerSpec] = parse_layer_defs(self.layer_defs, self.input_shape,
                                                        num_classes)
        self.reg = float(reg)
        self.seed = seed
        self.params = self._initial_params(np.random.default_rng(seed))

    def _initial_params(self, rng) -> dict:
        params = {}
        for spec in self.layers:
            if not spec.params:
                continue
            w_name, b_name = spec.params
            gain = 2.0 if spec.activation == "relu" else 1.0
            std = np.sqrt(gain / fan_in(spec))
            if spec.kind == "softmax":
                # Small scores at first, so the initial loss is near log(C): the
                # lecture's first sanity check of a new network.
                std *= SCORE_INIT_SCALE
            if spec.kind == "conv":
                size = spec.options["size"]
                shape = (spec.output_shape[0], spec.input_shape[0], size, size)
            else:
                shape = (fan_in(spec), spec.output_shape[0])
            params[w_name] = (std * rng.standard_normal(shape)).astype(self.dtype)
            params[b_name] = np.zeros(spec.output_shape[0], dtype=self.dtype)
        return params

    @property
    def weight_names(self) -> list[str]:
        """The names of the weights (not biases) in layer order: ``["W1", "W2", ...]``."""
        return [spec.params[0] for spec in self.layers if spec.params]

    # ----------------------------------------------------------- one layer
    def _layer_forward(self, spec: LayerSpec, h):
        o = spec.options
        if spec.kind == "pool":
            pool_param = {"pool_height": o["size"], "pool_width": o["size"], "stride": o["stride"]}
            return fast_layers.max_pool_forward_fast(h, pool_param)
        W, b = (self.params[p] for p in spec.params)
        if spec.kind == "conv":
            out, cache = fast_layers.conv_forward_fast(h, W, b, {"stride": o["stride"],
                                                                  "pad": o["pad"]})
        else:
            out, cache = affine.affine_forward(h, W, b)
        if spec.activation is None:
            return out, (cache, None)
        out, act_cache = _ACTIVATIONS[spec.activation][0](out)
        return out, (cache, act_cache)

    def _layer_backward(self, spec: LayerSpec, dout, cache, grads):
        if spec.kind == "pool":
            return fast_layers.max_pool_backward_fast(dout, cache)
        cache, act_cache = cache
        if spec.activation is not None:
            dout = _ACTIVATIONS[spec.activation][1](dout, act_cache)
        if spec.kind == "conv":
            dx, dw, db = fast_layers.conv_backward_fast(dout, cache)
        else:
            dx, dw, db = affine.affine_backward(dout, cache)
        grads[spec.params[0]], grads[spec.params[1]] = dw, db
        return dx

    # -------------------------------------------------------- whole network
    def _check_input(self, X) -> np.ndarray:
        X = np.asarray(X)
        if X.ndim != 4 or X.shape[1:] != self.input_shape:
            shape = ", ".join(map(str, self.input_shape))
            raise ValueError(f"X must be (N, C, H, W) = (N, {shape}) "
                             f"for this network; got shape {X.shape}. Build the Network with "
                             f"input_shape={X.shape[1:] if X.ndim == 4 else '(C, H, W)'} "
                             "to match the data.")
        return X.astype(self.dtype, copy=False)

    def trace(self, X, y=None, reg=None) -> Trace:
        """Forward ``X: (N, C, H, W)``; with labels ``y: (N,)`` also backward.

        Returns a ``Trace`` with the scores, every layer's output and, with
        labels, the loss (softmax plus ``reg / 2 * sum(W ** 2)``) and the
        gradients of the parameters and of every layer's output.
        """
        reg = self.reg if reg is None else float(reg)
        start = time.perf_counter()
        h = self._check_input(X)
        acts, caches = {}, []
        for spec in self.layers:
            h, cache = self._layer_forward(spec, h)
            acts[spec.name] = h
            caches.append(cache)
        trace = Trace(scores=h, activations=acts)
        if y is None:
            trace.forward_s = time.perf_counter() - start
            return trace
        loss, dout = losses.softmax_loss(h, y)
        weights = self.weight_names
        loss += 0.5 * reg * sum(float(np.vdot(self.params[w], self.params[w])) for w in weights)
        trace.forward_s = time.perf_counter() - start
        start = time.perf_counter()
        for spec, cache in zip(reversed(self.layers), reversed(caches), strict=True):
            trace.act_grads[spec.name] = dout
            dout = self._layer_backward(spec, dout, cache, trace.grads)
        for w in weights:
            trace.grads[w] = trace.grads[w] + reg * self.params[w]
        trace.loss = float(loss)
        trace.backward_s = time.perf_counter() - start
        return trace

    def loss(self, X, y=None):
        """CS231n's convention: scores ``(N, C)`` without labels, else ``(loss, grads)``."""
        trace = self.trace(X, y)
        if y is None:
            return trace.scores
        return trace.loss, trace.grads

    def predict(self, X, batch_size=200) -> np.ndarray:
        """Class scores of ``X: (N, C, H, W)``, a batch at a time: ``(N, num_classes)``."""
        X = self._check_input(X)
        parts = [self.trace(X[i:i + batch_size]).scores for i in range(0, len(X), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.num_classes), self.dtype)

    def describe(self) -> str:
        """One line per layer: name, output shape, parameter count."""
        lines = [f"input   {self.input_shape}"]
        for spec in self.layers:
            count = sum(self.params[p].size for p in spec.params)
            act = f" {spec.activation}" if spec.activation else ""
            lines.append(f"{spec.name:<8}{spec.output_shape}{act}, {count} parameters")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Network({len(self.layers)} layers, {self.dtype.name})\n{self.describe()}"
