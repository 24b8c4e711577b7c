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

import importlib

import numpy as np

from autograder.grading.probes import AnswerProbe, Probe


def _module(lib, name):
    """Submodule ``name`` of the library copy ``lib`` (the student's or the reference)."""
    return importlib.import_module(f"{lib.__name__}.{name}")


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


def _fit_transform(transformer, inputs):
    """Fit on X_fit, transform X_other; also return X_other afterwards (must be unchanged)."""
    other = inputs["X_other"]
    transformer.fit(inputs["X_fit"])
    return {"mean": transformer.mean_, "other": transformer.transform(other),
            "fit": transformer.transform(inputs["X_fit"]), "other_after": other}


def _mean_image_run(lib, inputs):
    return _fit_transform(_module(lib, "preprocess").MeanImage(), inputs)


def _channel_mean_run(lib, inputs):
    return _fit_transform(_module(lib, "preprocess").ChannelMean(), inputs)


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


def _standardize_run(lib, inputs):
    scaler = _module(lib, "preprocess").Standardize(eps=float(inputs["eps"]))
    out = _fit_transform(scaler, inputs)
    out["std"] = scaler.std_
    return out


# ------------------------------------------------------------ PCA, whiten

def _correlated_inputs(rng):
    """Rotated data with well-separated variances, so that the directions are well defined."""
    n, d = int(rng.integers(60, 200)), int(rng.integers(3, 8))
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spreads = np.geomspace(0.2, 5.0, d) * rng.uniform(0.5, 2.0)
    X_fit = (rng.standard_normal((n, d)) * spreads) @ rotation + rng.uniform(-3, 3, d)
    return {"X_fit": X_fit, "X_other": rng.standard_normal((int(rng.integers(1, 8)), d)) * 2,
            "n_components": np.int64(rng.integers(1, d)), "eps": np.float64(rng.uniform(0, 0.1))}


def _pca_run(lib, inputs):
    pca = _module(lib, "preprocess").PCA(int(inputs["n_components"])).fit(inputs["X_fit"])
    Z = pca.transform(inputs["X_other"])
    components = np.asarray(pca.components_)
    return {"explained_variance": pca.explained_variance_, "abs_coordinates": np.abs(Z),
            "projector": components.T @ components, "mean": pca.mean_,
            "reconstruction": pca.inverse_transform(Z)}


def _whiten_run(lib, inputs):
    preprocess = _module(lib, "preprocess")
    white = preprocess.Whiten(int(inputs["n_components"]), eps=float(inputs["eps"]))
    white.fit(inputs["X_fit"])
    return {"explained_variance": white.explained_variance_,
            "abs_coordinates": np.abs(white.transform(inputs["X_other"])),
            "abs_train_coordinates": np.abs(white.transform(inputs["X_fit"]))}


# ------------------------------------------------------------ initialisation

def _layer_inputs(rng):
    return {"seed": np.int64(rng.integers(0, 2**31)), "fan_in": np.int64(rng.integers(1, 60)),
            "fan_out": np.int64(rng.integers(1, 60))}


def _scaled_inputs(rng):
    inputs = _layer_inputs(rng)
    inputs["scale"] = np.float64(rng.uniform(0.001, 3.0))
    return inputs


def _call_init(lib, name, inputs, **kwargs):
    init = _module(lib, "init")
    rng = np.random.default_rng(int(inputs["seed"]))
    W = getattr(init, name)(int(inputs["fan_in"]), int(inputs["fan_out"]), rng, **kwargs)
    # the next draw shows whether the function took exactly one array from rng
    return {"W": W, "next_draw": rng.standard_normal(3)}


def _small_default_run(lib, inputs):
    return _call_init(lib, "small_random", inputs)


def _small_std_run(lib, inputs):
    return _call_init(lib, "small_random", inputs, std=float(inputs["scale"]))


def _scaled_run(lib, inputs):
    return _call_init(lib, "scaled_random", inputs, scale=float(inputs["scale"]))


def _xavier_run(lib, inputs):
    return _call_init(lib, "xavier", inputs)


def _he_run(lib, inputs):
    return _call_init(lib, "he", inputs)


PROBES = [
    Probe("test_mean_image", "mean_image_images", _image_pair_inputs, _mean_image_run),
    Probe("test_mean_image", "mean_image_flat_integers", _flat_integer_inputs, _mean_image_run),
    Probe("test_channel_mean", "channel_mean", _image_pair_inputs, _channel_mean_run),
    Probe("test_standardize", "standardize_flat", _standardize_inputs, _standardize_run),
    Probe("test_standardize", "standardize_images", _standardize_images_inputs,
          _standardize_run),
    Probe("test_pca_whiten", "pca", _correlated_inputs, _pca_run),
    Probe("test_pca_whiten", "whiten", _correlated_inputs, _whiten_run),
    Probe("test_small_and_scaled", "small_random_default", _layer_inputs, _small_default_run),
    Probe("test_small_and_scaled", "small_random_std", _scaled_inputs, _small_std_run),
    Probe("test_small_and_scaled", "scaled_random", _scaled_inputs, _scaled_run),
    Probe("test_xavier_he", "xavier", _layer_inputs, _xavier_run),
    Probe("test_xavier_he", "he", _layer_inputs, _he_run),
]


# ------------------------------------------------------------ notebook answers

def _init_choice_expected(lib, inputs):
    """Lecture 6: Xavier keeps tanh activations on one scale, He (twice the variance,
    for the half of the units ReLU zeroes) keeps ReLU ones."""
    return {"good_init": {"tanh": "xavier", "relu": "he"}}


ANSWER_PROBES = [
    AnswerProbe("test_init_choice", "init_choice", ("good_init",), _init_choice_expected),
]
