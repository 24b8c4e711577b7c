"""Claim 2: saturated units kill the gradient (lecture 6).

A deep stack of fully connected layers (Xavier weights, no biases) gets
unit-Gaussian inputs multiplied by a growing ``scale``; a fixed unit-Gaussian
gradient arrives at the top, as it would from a loss, and flows back through
the library's sandwich layers. Two numbers per scale:

- ``input_grad_norm``: the norm of the gradient that makes it back through
  the first layer to the inputs;
- ``local_grad``: the mean local gradient ``f'(a)`` of the first layer's
  units (``a`` their inputs).

As the scale grows, sigmoid and tanh units in the first layer are pushed to
their flat tails: their mean local gradient falls like ``1 / scale`` and the
gradient reaching the inputs with it (like ``1 / sqrt(scale)`` in norm: the
few units still near zero carry what is left). ReLU's local gradient is 1 on
the positive side whatever the scale, so its gradient does not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.activations import ACTIVATIONS
from cs231n_lib.experiments._common import positive_int, positive_numbers
from cs231n_lib.init import initialize
from cs231n_lib.layer_utils import affine_norm_activation_backward, affine_norm_activation_forward

__all__ = ["SaturationResult", "saturation_gradients", "DEFAULT_SCALES"]

DEFAULT_SCALES = tuple(float(s) for s in np.logspace(-1, 3, 9))


@dataclass(frozen=True)
class SaturationResult:
    """Gradients at the first layer of deep stacks, per activation and input scale.

    Attributes
    ----------
    activations : tuple of str
    scales : ndarray, (n_scales,)
        Multipliers of the unit-Gaussian input.
    input_grad_norm : ndarray, (n_activations, n_scales)
        ``||dL/dX||``: the gradient that passes back through the first layer.
    first_weight_grad_norm : ndarray, (n_activations, n_scales)
        ``||dL/dW1||`` (it also carries a factor ``scale`` from the inputs).
    local_grad : ndarray, (n_activations, n_scales)
        Mean of ``f'(a1)`` over the first layer's units and examples.
    num_layers, hidden, num_samples, seed : int
    """

    activations: tuple[str, ...]
    scales: np.ndarray
    input_grad_norm: np.ndarray
    first_weight_grad_norm: np.ndarray
    local_grad: np.ndarray
    num_layers: int
    hidden: int
    num_samples: int
    seed: int

    def drop(self, activation: str) -> float:
        """How many times smaller the input gradient is at the largest scale than at the
        smallest (1 means unchanged)."""
        g = self.input_grad_norm[self.activations.index(activation)]
        return float(g[0] / g[-1])


def saturation_gradients(activations: Sequence[str] = ("sigmoid", "tanh", "relu"),
                         scales: Sequence[float] = DEFAULT_SCALES, *, num_layers: int = 6,
                         hidden: int = 100, num_samples: int = 200,
                         seed: int = 0) -> SaturationResult:
    """Backpropagate through a deep stack whose inputs grow in scale.

    Parameters
    ----------
    activations : sequence of str
        Names from ``cs231n_lib.layer_utils.ACTIVATION_LAYERS``.
    scales : sequence of float
        Input multipliers, e.g. ``np.logspace(-1, 3, 9)``.
    num_layers, hidden : int
        Depth and width of the stack (every layer ``hidden -> hidden``).
    num_samples : int
        Rows of ``X: (num_samples, hidden)``.
    seed : int
        Seeds the input, the weights and the upstream gradient; every
        activation and scale sees the same draws.

    Returns
    -------
    SaturationResult
    """
    num_layers = positive_int("num_layers", num_layers)
    hidden = positive_int("hidden", hidden)
    num_samples = positive_int("num_samples", num_samples)
    scales = np.array(positive_numbers("scales", scales))
    for name in activations:
        if name not in ACTIVATIONS:
            raise ValueError(f"activations must be names from {', '.join(map(repr, ACTIVATIONS))};"
                             f" got {name!r}.")
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((num_samples, hidden))
    weights = [initialize("xavier", hidden, hidden, rng) for _ in range(num_layers)]
    bias = np.zeros(hidden)
    dout = rng.standard_normal((num_samples, hidden))

    shape = (len(activations), len(scales))
    input_norm, weight_norm, local = np.empty(shape), np.empty(shape), np.empty(shape)
    for i, name in enumerate(activations):
        _, df = ACTIVATIONS[name]
        for j, scale in enumerate(scales):
            h, caches = X * scale, []
            for W in weights:
                h, cache = affine_norm_activation_forward(h, W, bias, activation=name)
                caches.append(cache)
            grad = dout
            for cache in reversed(caches):
                grad, dW, _ = affine_norm_activation_backward(grad, cache)
            input_norm[i, j] = np.linalg.norm(grad)
            weight_norm[i, j] = np.linalg.norm(dW)
            local[i, j] = df(scale * X @ weights[0]).mean()
    return SaturationResult(activations=tuple(activations), scales=scales,
                            input_grad_norm=input_norm, first_weight_grad_norm=weight_norm,
                            local_grad=local, num_layers=num_layers, hidden=hidden,
                            num_samples=num_samples, seed=int(seed))
