"""The numbers a practitioner watches per layer while a network trains.

- the update-to-weight ratio ``norm(lr * dW) / norm(W)`` (lecture 6: about
  1e-3; much lower and the learning rate is too low, much higher and it is
  too high);
- the dead-ReLU fraction: units that output 0 for every example of a batch;
- the saturated fraction of sigmoid / tanh outputs: where the local gradient
  ``|f'(x)|`` is below ``SATURATION_THRESHOLD`` (the same threshold as
  ``cs231n_lib.viz.plot_activation``'s shading), so almost no gradient flows;
- activation and weight statistics for the histograms.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["SATURATION_THRESHOLD", "LayerStats", "update_to_weight_ratio", "dead_fraction",
           "saturated_fraction", "layer_stats"]

SATURATION_THRESHOLD = 0.05


def update_to_weight_ratio(w, dw, lr) -> float:
    """``norm(lr * dw) / norm(w)``: how large a plain SGD step is next to the weights.

    Parameters
    ----------
    w, dw : ndarray, same shape
        Weights and their gradient.
    lr : float
        Learning rate.

    Returns
    -------
    float
        The ratio; ``inf`` for all-zero weights with a non-zero step.
    """
    w_norm = float(np.linalg.norm(np.ravel(w)))
    step = abs(float(lr)) * float(np.linalg.norm(np.ravel(dw)))
    if w_norm == 0.0:
        return 0.0 if step == 0.0 else math.inf
    return step / w_norm


def dead_fraction(out) -> float:
    """Fraction of units of a ReLU layer's output that are 0 for every example.

    Parameters
    ----------
    out : ndarray, (N, D) or (N, C, H, W)
        The layer's output over a batch; a unit is everything but the batch
        axis (one neuron, or one channel at one position).
    """
    out = np.asarray(out)
    alive = (out > 0).any(axis=0)
    return 1.0 - float(alive.mean())


def saturated_fraction(out, activation: str, threshold=SATURATION_THRESHOLD) -> float:
    """Fraction of sigmoid or tanh outputs whose local gradient is below ``threshold``.

    Parameters
    ----------
    out : ndarray, any shape
        The activation's output: ``s`` for sigmoid (``f' = s (1 - s)``),
        ``t`` for tanh (``f' = 1 - t ** 2``).
    activation : {'sigmoid', 'tanh'}
    """
    out = np.asarray(out)
    if activation == "sigmoid":
        local = out * (1.0 - out)
    elif activation == "tanh":
        local = 1.0 - out * out
    else:
        raise ValueError(f"activation must be 'sigmoid' or 'tanh'; got {activation!r}.")
    return float((local < threshold).mean())


@dataclass
class LayerStats:
    """One layer's numbers after a step; ``nan`` where a number does not apply."""

    name: str
    kind: str
    activation: str | None
    act_mean: float
    act_std: float
    zero_fraction: float  # of all outputs (ReLU's sparsity)
    dead_relu: float
    saturated: float
    weight_std: float
    grad_norm: float
    update_ratio: float

    def as_dict(self) -> dict:
        return asdict(self)


def layer_stats(layers, trace, params, lr) -> dict:
    """Per-layer ``LayerStats`` from a training step's ``Trace``.

    Parameters
    ----------
    layers : list of LayerSpec
    trace : Trace
        The step's forward/backward pass (with gradients).
    params : dict
        The weights the gradients were computed at (before the update).
    lr : float
        The learning rate of the step.

    Returns
    -------
    dict
        Layer name -> ``LayerStats``.
    """
    nan = math.nan
    result = {}
    for spec in layers:
        out = trace.activations[spec.name]
        dead = dead_fraction(out) if spec.activation == "relu" else nan
        sat = saturated_fraction(out, spec.activation) \
            if spec.activation in ("sigmoid", "tanh") else nan
        w_std = grad_norm = ratio = nan
        if spec.params and spec.params[0] in trace.grads:
            w, dw = params[spec.params[0]], trace.grads[spec.params[0]]
            w_std = float(w.std())
            grad_norm = float(np.linalg.norm(dw.ravel()))
            ratio = update_to_weight_ratio(w, dw, lr)
        result[spec.name] = LayerStats(
            name=spec.name, kind=spec.kind, activation=spec.activation,
            act_mean=float(out.mean()), act_std=float(out.std()),
            zero_fraction=float((out == 0).mean()), dead_relu=dead, saturated=sat,
            weight_std=w_std, grad_norm=grad_norm, update_ratio=ratio)
    return result
