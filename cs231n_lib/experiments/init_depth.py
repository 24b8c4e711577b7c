"""Claim 1: initialisation and depth (lecture 6; Glorot & Bengio 2010; He et al. 2015).

Unit-Gaussian data goes forward through a freshly initialised net of 10
layers of 500 units (no biases, no training). Per layer, the mean and
standard deviation of the activations show what each scheme does:

- small random (0.01): the spread shrinks layer after layer towards zero;
- large random (1.0) with tanh: almost every unit is stuck near +-1;
- Xavier with tanh: the spread stays of the same size;
- Xavier with ReLU: the variance halves at every layer (the std falls by
  sqrt(2)); He doubles the weights' variance and holds it steady.

The activations come from :func:`cs231n_lib.viz.deep_net_activations`, the
same function the notebooks' histogram explorer draws, so the numbers here
and the pictures there are one computation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cs231n_lib.experiments._common import positive_int
from cs231n_lib.viz import deep_net_activations

__all__ = ["InitDepthResult", "init_depth", "DEFAULT_SCHEMES"]

#: (label, scheme) pairs: the lecture's four initialisations.
DEFAULT_SCHEMES = (("small 0.01", "small"), ("large 1.0", 1.0), ("Xavier", "xavier"),
                   ("He", "he"))

#: |tanh| above this counts as saturated (local gradient 1 - 0.99**2 < 0.02).
SATURATION_LEVEL = 0.99


@dataclass(frozen=True)
class InitDepthResult:
    """Per-layer statistics of activations at initialisation.

    Arrays are indexed ``[nonlinearity, scheme, layer]``.

    Attributes
    ----------
    nonlinearities : tuple of str
    schemes : tuple of str
        Labels of the schemes (``'small 0.01'``, ``'large 1.0'``, ...).
    mean, std : ndarray, (n_nonlinearities, n_schemes, num_layers)
        Mean and standard deviation of each layer's activations.
    saturated : ndarray, (n_nonlinearities, n_schemes, num_layers)
        Share of activations with ``|h| > 0.99`` (meaningful for tanh).
    zero : ndarray, (n_nonlinearities, n_schemes, num_layers)
        Share of activations exactly 0 (meaningful for ReLU).
    hist_counts : ndarray, (n_nonlinearities, n_schemes, num_layers, bins)
        Histogram of each layer's activations on a range shared by the layers
        of one net (so shrinking shows): from the lowest 0.1% quantile to the
        highest 99.9% quantile of its layers, values beyond counted in the end
        bins.
    hist_edges : ndarray, (n_nonlinearities, n_schemes, bins + 1)
    num_layers, hidden, num_samples, seed : int
    """

    nonlinearities: tuple[str, ...]
    schemes: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray
    saturated: np.ndarray
    zero: np.ndarray
    hist_counts: np.ndarray
    hist_edges: np.ndarray
    num_layers: int
    hidden: int
    num_samples: int
    seed: int

    def index(self, nonlinearity: str, scheme: str) -> tuple[int, int]:
        """Indices of a (nonlinearity, scheme label) pair into the arrays."""
        return self.nonlinearities.index(nonlinearity), self.schemes.index(scheme)

    def layer_std(self, nonlinearity: str, scheme: str) -> np.ndarray:
        """``(num_layers,)`` standard deviations of one net's layers."""
        i, j = self.index(nonlinearity, scheme)
        return self.std[i, j]


def init_depth(schemes: Sequence = DEFAULT_SCHEMES,
               nonlinearities: Sequence[str] = ("tanh", "relu"), *, num_layers: int = 10,
               hidden: int = 500, num_samples: int = 1000, bins: int = 40,
               seed: int = 0) -> InitDepthResult:
    """Forward unit-Gaussian data through deep nets initialised each way.

    Parameters
    ----------
    schemes : sequence
        ``(label, scheme)`` pairs or plain schemes (``'small'``, ``'xavier'``,
        ``'he'`` or a standard deviation).
    nonlinearities : sequence of str
        Names from ``cs231n_lib.activations.ACTIVATIONS``.
    num_layers, hidden : int
        Depth and width (the lecture's 10 x 500).
    num_samples : int
        Rows of the input ``X: (num_samples, hidden)``, drawn from N(0, 1).
    bins : int
        Histogram bins per layer.
    seed : int
        The same seed gives the same input and the same weights.

    Returns
    -------
    InitDepthResult
    """
    num_layers = positive_int("num_layers", num_layers)
    hidden = positive_int("hidden", hidden)
    num_samples = positive_int("num_samples", num_samples)
    bins = positive_int("bins", bins)
    pairs = [s if isinstance(s, tuple) else (str(s), s) for s in schemes]
    if not pairs or not nonlinearities:
        raise ValueError("give at least one scheme and one nonlinearity.")
    shape = (len(nonlinearities), len(pairs), num_layers)
    mean, std, saturated, zero = (np.empty(shape) for _ in range(4))
    counts = np.empty((*shape, bins), dtype=np.int64)
    edges = np.empty((len(nonlinearities), len(pairs), bins + 1))
    for i, nonlinearity in enumerate(nonlinearities):
        for j, (_, scheme) in enumerate(pairs):
            layers = deep_net_activations(scheme, nonlinearity, num_layers=num_layers,
                                          hidden=hidden, num_samples=num_samples, seed=seed)
            # One range for all layers of a net, so that shrinking shows; the rare
            # outliers beyond its 0.1% tails go to the end bins instead of
            # stretching the axis until the bulk is one bar.
            low = min(float(np.quantile(h, 0.001)) for h in layers)
            high = max(float(np.quantile(h, 0.999)) for h in layers)
            if high <= low:
                low, high = low - 0.5, high + 0.5
            for k, h in enumerate(layers):
                mean[i, j, k] = h.mean()
                std[i, j, k] = h.std()
                saturated[i, j, k] = np.mean(np.abs(h) > SATURATION_LEVEL)
                zero[i, j, k] = np.mean(h == 0)
                counts[i, j, k], edges[i, j] = np.histogram(np.clip(h, low, high), bins=bins,
                                                            range=(low, high))
    return InitDepthResult(nonlinearities=tuple(nonlinearities),
                           schemes=tuple(label for label, _ in pairs), mean=mean, std=std,
                           saturated=saturated, zero=zero, hist_counts=counts,
                           hist_edges=edges, num_layers=num_layers, hidden=hidden,
                           num_samples=num_samples, seed=int(seed))
