"""Classification models with CS231n's ``loss(X, y=None)`` convention.

``model.loss(X)`` returns class scores ``(N, C)`` (test mode: batchnorm uses
its running averages); ``model.loss(X, y)`` returns ``(loss, grads)``, the
softmax loss plus an L2 penalty ``0.5 * reg * sum(W ** 2)`` on the weights
(not on biases, gamma or beta), and a gradient for every entry of
``model.params``. The :class:`~cs231n_lib.solver.Solver` trains either.

Both models are built from the sandwich layers of
:mod:`cs231n_lib.layer_utils` and draw their weights with
:func:`cs231n_lib.init.initialize` from their own seeded generator, so the
same ``seed`` gives the same model.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from cs231n_lib.affine import affine_backward, affine_forward
from cs231n_lib.checks import ShapeError, require_array, require_choice
from cs231n_lib.init import initialize
from cs231n_lib.layer_utils import (
    ACTIVATION_LAYERS,
    affine_norm_activation_backward,
    affine_norm_activation_forward,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from cs231n_lib.losses import softmax_loss
from cs231n_lib.shapes import conv_output_size

__all__ = ["FullyConnectedNet", "ThreeLayerConvNet", "NORMALIZATIONS"]

NORMALIZATIONS = (None, "batchnorm")


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive whole number; got {value!r}.")
    return int(value)


def _check_reg(reg) -> float:
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real) \
            or not math.isfinite(reg) or reg < 0:
        raise ValueError(f"reg must be a finite number >= 0 (the L2 strength); got {reg!r}.")
    return float(reg)


def _check_weight_init(weight_init) -> None:
    if isinstance(weight_init, str):
        require_choice("weight_init", weight_init, ("small", "xavier", "he"))
    elif isinstance(weight_init, bool) or not isinstance(weight_init, numbers.Real):
        raise TypeError("weight_init must be 'small', 'xavier', 'he' or a number (the "
                        f"weights' standard deviation); got {weight_init!r}.")


def _l2_penalty(reg: float, weights) -> float:
    return 0.5 * reg * sum(float(np.sum(w * w)) for w in weights)


class FullyConnectedNet:
    """A fully connected net with any number of hidden layers.

    Architecture, for L - 1 hidden layers::

        {affine - [batchnorm] - activation} x (L - 1) - affine - softmax

    Parameters
    ----------
    hidden_dims : sequence of int
        Units of each hidden layer (may be empty: a linear softmax classifier).
    input_dim : int or tuple of int
        Features per example (``C * H * W`` for images; a shape is multiplied
        out). Inputs ``X: (N, d_1, ..., d_k)`` are flattened.
    num_classes : int
    activation : str
        ``'relu' | 'tanh' | 'sigmoid' | 'leaky_relu' | 'elu'``.
    weight_init : str or float
        ``'small'`` (std 0.01), ``'xavier'``, ``'he'``, or a number used as the
        standard deviation. Biases start at 0, gamma at 1, beta at 0.
    weight_scale : float, optional
        CS231n's name for a numeric ``weight_init``; give one or the other.
    normalization : None or str
        ``'batchnorm'`` puts a batch normalisation after every hidden affine
        layer.
    reg : float
        L2 regularisation strength.
    dtype : numpy dtype
        float64 (default; needed for gradient checks) or float32.
    seed : int or None
        Seeds the generator that draws the weights.
    record_activations : bool
        Keep each hidden layer's output of the last forward pass in
        ``self.activations`` (a list of ``(N, M_i)`` arrays), for histograms
        of activations per layer.

    Attributes
    ----------
    params : dict of ndarray
        ``'W1', 'b1', ..., 'WL', 'bL'`` and, with batchnorm, ``'gamma1',
        'beta1', ...`` for the hidden layers.
    bn_params : list of dict
        One ``bn_param`` per hidden layer (empty without batchnorm), holding
        the running averages; ``loss`` sets their ``mode``.
    num_layers : int
        L, the number of affine layers.
    """

    def __init__(self, hidden_dims: Sequence[int], input_dim=3 * 32 * 32,
                 num_classes: int = 10, *, activation: str = "relu", weight_init=None,
                 weight_scale: float | None = None, normalization: str | None = None,
                 reg: float = 0.0, dtype=np.float64, seed: int | None = 0,
                 record_activations: bool = False):
        if isinstance(hidden_dims, (str, bytes)) or not isinstance(hidden_dims, Sequence):
            raise TypeError(f"hidden_dims must be a list of layer sizes such as [100, 100]; "
                            f"got {hidden_dims!r}.")
        hidden_dims = [_positive_int(f"hidden_dims[{i}]", h) for i, h in enumerate(hidden_dims)]
        if isinstance(input_dim, Sequence):
            input_dim = math.prod(_positive_int("input_dim", d) for d in input_dim)
        self.input_dim = _positive_int("input_dim", input_dim)
        self.num_classes = _positive_int("num_classes", num_classes)
        require_choice("activation", activation, tuple(ACTIVATION_LAYERS))
        if weight_init is not None and weight_scale is not None:
            raise ValueError(f"give weight_init or weight_scale, not both; got "
                             f"weight_init={weight_init!r} and weight_scale={weight_scale!r}.")
        if weight_init is None:
            weight_init = "small" if weight_scale is None else weight_scale
        _check_weight_init(weight_init)
        require_choice("normalization", normalization, NORMALIZATIONS)
        self.activation = activation
        self.weight_init = weight_init
        self.normalization = normalization
        self.reg = _check_reg(reg)
        self.dtype = np.dtype(dtype)
        self.record_activations = bool(record_activations)
        self.activations: list[np.ndarray] = []
        self.num_layers = len(hidden_dims) + 1

        rng = np.random.default_rng(seed)
        dims = [self.input_dim, *hidden_dims, self.num_classes]
        self.params: dict[str, np.ndarray] = {}
        for i in range(1, self.num_layers + 1):
            fan_in, fan_out = dims[i - 1], dims[i]
            self.params[f"W{i}"] = initialize(weight_init, fan_in, fan_out, rng)
            self.params[f"b{i}"] = np.zeros(fan_out)
            if normalization == "batchnorm" and i < self.num_layers:
                self.params[f"gamma{i}"] = np.ones(fan_out)
                self.params[f"beta{i}"] = np.zeros(fan_out)
        for name, value in self.params.items():
            self.params[name] = value.astype(self.dtype)

        self.bn_params: list[dict] = []
        if normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in hidden_dims]

    def _check_input(self, X) -> np.ndarray:
        X = require_array("X", X, layout="(N, d_1, ..., d_k)")
        if X.ndim < 2:
            raise ShapeError(f"X must be a batch (N, d_1, ..., d_k); got shape {X.shape}. "
                             "For one example use X[None].")
        D = math.prod(X.shape[1:])
        if D != self.input_dim:
            raise ShapeError(f"X has shape {X.shape}, i.e. {D} features per example, but the "
                             f"net was built with input_dim={self.input_dim}. Build it with "
                             f"input_dim={D}, or reshape X to (N, {self.input_dim}).")
        return X.astype(self.dtype, copy=False)

    def loss(self, X, y=None):
        """Scores (``y`` None, test mode) or ``(loss, grads)`` (train mode).

        Parameters
        ----------
        X : ndarray, (N, d_1, ..., d_k)
            ``d_1 * ... * d_k == input_dim``.
        y : ndarray of int, (N,), optional
            Labels in ``[0, num_classes)``.

        Returns
        -------
        scores : ndarray, (N, num_classes)
            When ``y`` is None.
        loss : float
            Softmax loss plus the L2 penalty, when ``y`` is given.
        grads : dict of ndarray
            Same keys and shapes as ``params``, when ``y`` is given.
        """
        X = self._check_input(X)
        mode = "test" if y is None else "train"
        for bn_param in self.bn_params:
            bn_param["mode"] = mode

        caches = []
        self.activations = []
        h = X
        for i in range(1, self.num_layers):
            if self.normalization == "batchnorm":
                h, cache = affine_norm_activation_forward(
                    h, self.params[f"W{i}"], self.params[f"b{i}"], self.params[f"gamma{i}"],
                    self.params[f"beta{i}"], self.bn_params[i - 1], activation=self.activation)
            else:
                h, cache = affine_norm_activation_forward(
                    h, self.params[f"W{i}"], self.params[f"b{i}"], activation=self.activation)
            caches.append(cache)
            if self.record_activations:
                self.activations.append(h)
        L = self.num_layers
        scores, last_cache = affine_forward(h, self.params[f"W{L}"], self.params[f"b{L}"])
        if y is None:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        weights = [self.params[f"W{i}"] for i in range(1, L + 1)]
        loss = data_loss + _l2_penalty(self.reg, weights)

        grads = {}
        dh, grads[f"W{L}"], grads[f"b{L}"] = affine_backward(dscores, last_cache)
        for i in range(L - 1, 0, -1):
            layer_grads = affine_norm_activation_backward(dh, caches[i - 1])
            dh, grads[f"W{i}"], grads[f"b{i}"] = layer_grads[:3]
            if self.normalization == "batchnorm":
                grads[f"gamma{i}"], grads[f"beta{i}"] = layer_grads[3:]
        for i in range(1, L + 1):
            grads[f"W{i}"] = grads[f"W{i}"] + self.reg * self.params[f"W{i}"]
        return loss, grads


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    The convolution keeps the spatial size (stride 1, zero padding
    ``(filter_size - 1) // 2``); the pool halves it. The fast conv and pool
    layers do the work.

    Parameters
    ----------
    input_dim : tuple of int
        ``(C, H, W)`` of one example; H and W must be even (the pool halves them).
    num_filters : int
        Filters of the conv layer.
    filter_size : int
        Side of the square filters; odd, so that padding keeps the size.
    hidden_dim : int
        Units of the hidden affine layer.
    num_classes : int
    weight_scale : float
        Standard deviation of every weight (CS231n's default 1e-3) unless
        ``weight_init`` is given.
    weight_init : str or float, optional
        ``'small'``, ``'xavier'``, ``'he'`` or a standard deviation; the conv
        layer's fan-in is ``C * filter_size ** 2``.
    reg : float
        L2 regularisation strength.
    dtype : numpy dtype
    seed : int or None
        Seeds the generator that draws the weights.

    Attributes
    ----------
    params : dict of ndarray
        ``W1: (F, C, k, k)``, ``b1: (F,)``, ``W2: (F * H/2 * W/2, hidden_dim)``,
        ``b2``, ``W3: (hidden_dim, num_classes)``, ``b3``.
    """

    def __init__(self, input_dim=(3, 32, 32), num_filters: int = 32, filter_size: int = 7,
                 hidden_dim: int = 100, num_classes: int = 10, *, weight_scale: float = 1e-3,
                 weight_init=None, reg: float = 0.0, dtype=np.float64, seed: int | None = 0):
        if isinstance(input_dim, (str, bytes)) or not isinstance(input_dim, Sequence) \
                or len(input_dim) != 3:
            raise ShapeError(f"input_dim must be (C, H, W), e.g. (3, 32, 32); got {input_dim!r}.")
        C, H, W = (_positive_int("input_dim", d) for d in input_dim)
        F = _positive_int("num_filters", num_filters)
        k = _positive_int("filter_size", filter_size)
        if k % 2 == 0:
            raise ValueError(f"filter_size must be odd so that padding (k - 1) / 2 keeps the "
                             f"image size; got {k}. Use {k - 1} or {k + 1}.")
        hidden_dim = _positive_int("hidden_dim", hidden_dim)
        self.num_classes = _positive_int("num_classes", num_classes)
        scheme = weight_scale if weight_init is None else weight_init
        _check_weight_init(scheme)

        self.input_dim = (C, H, W)
        self.conv_param = {"stride": 1, "pad": (k - 1) // 2}
        self.pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
        H_pool = conv_output_size(H, 2, stride=2)
        W_pool = conv_output_size(W, 2, stride=2)
        self.reg = _check_reg(reg)
        self.dtype = np.dtype(dtype)

        rng = np.random.default_rng(seed)
        conv_w = initialize(scheme, C * k * k, F, rng)
        self.params = {
            # Each filter is one column of the (C*k*k, F) draw.
            "W1": conv_w.T.reshape(F, C, k, k),
            "b1": np.zeros(F),
            "W2": initialize(scheme, F * H_pool * W_pool, hidden_dim, rng),
            "b2": np.zeros(hidden_dim),
            "W3": initialize(scheme, hidden_dim, self.num_classes, rng),
            "b3": np.zeros(self.num_classes),
        }
        for name, value in self.params.items():
            self.params[name] = np.ascontiguousarray(value, dtype=self.dtype)

    def _check_input(self, X) -> np.ndarray:
        X = require_array("X", X, ndim=4, layout="(N, C, H, W)")
        if X.shape[1:] != self.input_dim:
            raise ShapeError(f"X has shape {X.shape}, i.e. examples of shape {X.shape[1:]}, "
                             f"but the net was built with input_dim={self.input_dim} "
                             "(C, H, W). Build it with input_dim=X.shape[1:], or transpose "
                             "channels-last images with X.transpose(0, 3, 1, 2).")
        return X.astype(self.dtype, copy=False)

    def loss(self, X, y=None):
        """Scores (``y`` None) or ``(loss, grads)``.

        Parameters
        ----------
        X : ndarray, (N, C, H, W)
        y : ndarray of int, (N,), optional

        Returns
        -------
        scores : ndarray, (N, num_classes)
            When ``y`` is None.
        loss, grads : float, dict of ndarray
            When ``y`` is given; ``grads`` is keyed like ``params``.
        """
        X = self._check_input(X)
        p = self.params
        pooled, pool_cache = conv_relu_pool_forward(X, p["W1"], p["b1"], self.conv_param,
                                                    self.pool_param)
        hidden, hidden_cache = affine_relu_forward(pooled, p["W2"], p["b2"])
        scores, scores_cache = affine_forward(hidden, p["W3"], p["b3"])
        if y is None:
            return scores

        data_loss, dscores = softmax_loss(scores, y)
        loss = data_loss + _l2_penalty(self.reg, (p["W1"], p["W2"], p["W3"]))

        grads = {}
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, scores_cache)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, hidden_cache)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, pool_cache)
        for name in ("W1", "W2", "W3"):
            grads[name] = grads[name] + self.reg * p[name]
        return loss, grads
