"""Weight initialisation for a layer with ``fan_in`` inputs and ``fan_out`` outputs.

Every function draws ``W: (fan_in, fan_out)`` from a zero-mean Gaussian and
differs only in its standard deviation:

==============  =========================  ===========================
scheme          std                        Var(w) * fan_in
==============  =========================  ===========================
small random    0.01 (or a given std)      -
given scale     scale                      -
Xavier          1 / sqrt(fan_in)           1
He (Kaiming)    sqrt(2 / fan_in)           2
==============  =========================  ===========================

Small random numbers work in small nets but in a deep one the activations
shrink towards zero layer after layer; large ones saturate tanh units.
Glorot & Bengio (2010) keep the variance of the activations (forward, which
needs ``fan_in * Var(w) = 1``) and of the gradients (backward, which needs
``fan_out * Var(w) = 1``) steady, and compromise on
``Var(w) = 2 / (fan_in + fan_out)``. The lecture, and ``xavier`` here, use the
forward condition alone, ``Var(w) = 1 / fan_in`` (the two agree when
``fan_in == fan_out``). ReLU zeroes half of its inputs, and He et al. (2015)
double the variance to make up for it.

All functions take an explicit ``numpy.random.Generator`` so that a draw can
be repeated: ``rng = np.random.default_rng(0)``. For a conv layer with
``(K, C, F, F)`` weights use ``fan_in = C * F * F`` and reshape.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["small_random", "scaled_random", "xavier", "he", "initialize", "SCHEMES"]

SCHEMES = ("small", "xavier", "he")
"""The named schemes ``initialize`` accepts (besides a plain number, the std)."""


def _check(fan_in, fan_out, rng) -> tuple[int, int]:
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive int (a number of units); "
                             f"got {value!r}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, e.g. "
                        f"np.random.default_rng(0); got {type(rng).__name__}. An explicit "
                        "generator makes the draw repeatable.")
    return int(fan_in), int(fan_out)


def _check_scale(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (a standard deviation); "
                         f"got {value!r}.")
    return float(value)


def small_random(fan_in, fan_out, rng, std=0.01) -> np.ndarray:
    """Small Gaussian weights with standard deviation ``std`` (0.01 by default).

    Parameters
    ----------
    fan_in, fan_out : int
        Inputs and outputs of the layer.
    rng : numpy.random.Generator
        Source of randomness.
    std : float
        Standard deviation.

    Returns
    -------
    W : ndarray, shape (fan_in, fan_out), float64
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    std = _check_scale("std", std)
    ### BEGIN SOLUTION
    # Hint: one standard normal draw of shape (fan_in, fan_out), scaled to the wanted std
    return std * rng.standard_normal((fan_in, fan_out))
    ### END SOLUTION


def scaled_random(fan_in, fan_out, rng, scale) -> np.ndarray:
    """Gaussian weights with standard deviation ``scale``.

    Returns
    -------
    W : ndarray, shape (fan_in, fan_out), float64
        Standard deviation ``scale`` (e.g. 1.0 saturates a deep tanh net).
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    scale = _check_scale("scale", scale)
    ### BEGIN SOLUTION
    # Hint: as small_random, with scale as the standard deviation
    return scale * rng.standard_normal((fan_in, fan_out))
    ### END SOLUTION


def xavier(fan_in, fan_out, rng) -> np.ndarray:
    """Xavier initialisation as in the lecture: ``fan_in * Var(w) = 1``.

    Glorot & Bengio's paper averages this forward condition with the backward
    one, ``Var(w) = 2 / (fan_in + fan_out)``; this function uses the forward
    condition alone.

    Returns
    -------
    W : ndarray, shape (fan_in, fan_out), float64
        Standard deviation ``1 / sqrt(fan_in)``.
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    ### BEGIN SOLUTION
    # Hint: which std makes fan_in * Var(w) = 1? Scale one standard normal draw by it
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)
    ### END SOLUTION


def he(fan_in, fan_out, rng) -> np.ndarray:
    """He (Kaiming) initialisation for ReLU: ``fan_in * Var(w) = 2``.

    Returns
    -------
    W : ndarray, shape (fan_in, fan_out), float64
        Standard deviation ``sqrt(2 / fan_in)``.
    """
    fan_in, fan_out = _check(fan_in, fan_out, rng)
    ### BEGIN SOLUTION
    # Hint: as xavier, but ReLU halves the variance: which std makes fan_in * Var(w) = 2?
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in / 2.0)
    ### END SOLUTION


def initialize(scheme, fan_in, fan_out, rng) -> np.ndarray:
    """Draw ``W: (fan_in, fan_out)`` by name: ``'small' | 'xavier' | 'he'`` or a scale.

    Parameters
    ----------
    scheme : str or float
        ``'small'`` (std 0.01), ``'xavier'``, ``'he'``, or a number used as
        the standard deviation (``scaled_random``).
    fan_in, fan_out : int
    rng : numpy.random.Generator

    Returns
    -------
    W : ndarray, shape (fan_in, fan_out), float64
    """
    if isinstance(scheme, str):
        named = {"small": small_random, "xavier": xavier, "he": he}
        if scheme not in named:
            raise ValueError(f"scheme must be one of 'small', 'xavier', 'he' or a number "
                             f"(the standard deviation); got {scheme!r}.")
        return named[scheme](fan_in, fan_out, rng)
    if isinstance(scheme, numbers.Real) and not isinstance(scheme, bool):
        return scaled_random(fan_in, fan_out, rng, scheme)
    raise TypeError(f"scheme must be 'small', 'xavier', 'he' or a number (the standard "
                    f"deviation); got {type(scheme).__name__} {scheme!r}.")
