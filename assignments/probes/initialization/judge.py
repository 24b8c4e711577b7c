"""Probes of the initialization assignment (lecture 6): preprocessing and weight initialisation.

Preprocessing probes fit a transformer on one array and apply it to another,
so a statistic computed from the wrong set, or a ``transform`` that changes its
input in place, shows up. PCA's directions are defined only up to their sign,
so its probes compare sign-free quantities: the eigenvalues, the absolute
values of the coordinates, the projector ``components_.T @ components_`` and
the reconstruction. Initialisation probes hand the student's function a
generator in a known state and compare the weights exactly: one draw of
``rng.standard_normal((fan_in, fan_out))``, scaled. ``test_init_choice``
checks a choice typed into the notebook; its answer probe compares it with
the lecture's pairing (stated below, not measured: a measurement on one seed
and depth could tip either way between two near-steady schemes).
"""

from __future__ import annotations

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe

from . import calls

# ------------------------------------------------------------- mean image

def _images(rng, n, c, h, w):
    """Images with a different mean and spread per channel, as real ones have."""
    offsets = rng.uniform(-5.0, 5.0, size=(1, c, 1, 1))
    scales = rng.uniform(0.5, 3.0, size=(1, c, 1, 1))
    return rng.standard_normal((n, c, h, w)) * scales + offsets


def _image_pair_inputs(rng):
    c, h, w = int(rng.integers(1, 4)), int(rng.integers(2, 6)), int(rng.integers(2, 6))
    return {"X_fit": _images(rng, int(rng.integers(5, 30)), c, h, w),
            "X_other": _images(rng, int(rng.integers(1, 6)), c, h, w)}


def _flat_integer_inputs(rng):
    d = int(rng.integers(2, 20))
    return {"X_fit": rng.integers(0, 256, size=(int(rng.integers(3, 25)), d)),
            "X_other": rng.integers(0, 256, size=(int(rng.integers(1, 6)), d))}


# ------------------------------------------------------------ standardise

def _standardize_inputs(rng):
    n, d = int(rng.integers(4, 40)), int(rng.integers(2, 8))
    X_fit = rng.standard_normal((n, d)) * rng.uniform(0.1, 10.0, d) + rng.uniform(-5, 5, d)
    X_fit[:, 0] = rng.uniform(-3, 3)  # a feature that is constant in the training set
    return {"X_fit": X_fit, "X_other": rng.standard_normal((int(rng.integers(1, 6)), d)),
            "eps": np.float64(10.0 ** rng.uniform(-8, -2))}


def _standardize_images_inputs(rng):
    inputs = _image_pair_inputs(rng)
    inputs["eps"] = np.float64(10.0 ** rng.uniform(-8, -2))
    return inputs


# ------------------------------------------------------------ PCA, whiten

def _correlated_inputs(rng):
    """Rotated data with well-separated variances, so that the directions are well defined."""
    n, d = int(rng.integers(60, 200)), int(rng.integers(3, 8))
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spreads = np.geomspace(0.2, 5.0, d) * rng.uniform(0.5, 2.0)
    X_fit = (rng.standard_normal((n, d)) * spreads) @ rotation + rng.uniform(-3, 3, d)
    return {"X_fit": X_fit, "X_other": rng.standard_normal((int(rng.integers(1, 8)), d)) * 2,
            "n_components": np.int64(rng.integers(1, d)), "eps": np.float64(rng.uniform(0, 0.1))}


# ------------------------------------------------------------ initialisation

def _layer_inputs(rng):
    # fan_in != fan_out: where they are equal, a scale by fan_out gives the right weights
    fan_in, fan_out = (int(v) for v in rng.integers(2, 60, size=2))
    fan_out += fan_out >= fan_in
    return {"seed": np.int64(rng.integers(0, 2**31)), "fan_in": np.int64(fan_in),
            "fan_out": np.int64(fan_out)}


def _scaled_inputs(rng):
    inputs = _layer_inputs(rng)
    inputs["scale"] = np.float64(rng.uniform(0.001, 3.0))
    return inputs


PROBES = [
    Probe("test_mean_image", "mean_image_images", _image_pair_inputs, calls.mean_image,
          checks="the mean image fitted on one set of images, applied to another"),
    Probe("test_mean_image", "mean_image_flat_integers", _flat_integer_inputs, calls.mean_image,
          checks="the mean image of flat integer data"),
    Probe("test_channel_mean", "channel_mean", _image_pair_inputs, calls.channel_mean,
          checks="the per-channel mean fitted on one set, applied to another"),
    Probe("test_standardize", "standardize_flat", _standardize_inputs, calls.standardize,
          checks="standardisation with a feature that is constant"),
    Probe("test_standardize", "standardize_images", _standardize_images_inputs,
          calls.standardize, checks="standardisation of images"),
    Probe("test_pca_whiten", "pca", _correlated_inputs, calls.pca,
          checks="PCA's variances, projector and reconstruction"),
    Probe("test_pca_whiten", "whiten", _correlated_inputs, calls.whiten,
          checks="whitening fitted on one set, applied to another"),
    Probe("test_small_and_scaled", "small_random_default", _layer_inputs, calls.small_default,
          checks="small random weights at the default scale"),
    Probe("test_small_and_scaled", "small_random_std", _scaled_inputs, calls.small_std,
          checks="small random weights at a given scale"),
    Probe("test_small_and_scaled", "scaled_random", _scaled_inputs, calls.scaled,
          checks="random weights at a given scale"),
    Probe("test_xavier_he", "xavier", _layer_inputs, calls.xavier,
          checks="Xavier weights with fan_in != fan_out"),
    Probe("test_xavier_he", "he", _layer_inputs, calls.he,
          checks="He weights with fan_in != fan_out"),
]


# ------------------------------------------------------------ notebook answers

def _init_choice_expected(lib, inputs):
    """Lecture 6: Xavier keeps tanh activations on one scale, He (twice the variance,
    for the half of the units ReLU zeroes) keeps ReLU ones."""
    return {"good_init": {"tanh": "xavier", "relu": "he"}}


ANSWER_PROBES = [
    AnswerProbe("test_init_choice", "init_choice", ("good_init",), _init_choice_expected,
                checks="your choice of initialisation for tanh and for ReLU"),
]
