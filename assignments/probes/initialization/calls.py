"""The initialization probes' sandbox side (see ``autograder.grading.probes``): calls only."""

from __future__ import annotations

import importlib

import numpy as np


def submodule(lib, name):  # the student's copy or the reference, whichever lib is
    return importlib.import_module(f"{lib.__name__}.{name}")


def _fit_transform(transformer, inputs):
    """Fit on X_fit, transform X_other; also return X_other afterwards (must be unchanged)."""
    other = inputs["X_other"]
    transformer.fit(inputs["X_fit"])
    return {"mean": transformer.mean_, "other": transformer.transform(other),
            "fit": transformer.transform(inputs["X_fit"]), "other_after": other}


def mean_image(lib, inputs):
    return _fit_transform(submodule(lib, "preprocess").MeanImage(), inputs)


def channel_mean(lib, inputs):
    return _fit_transform(submodule(lib, "preprocess").ChannelMean(), inputs)


def standardize(lib, inputs):
    scaler = submodule(lib, "preprocess").Standardize(eps=float(inputs["eps"]))
    out = _fit_transform(scaler, inputs)
    out["std"] = scaler.std_
    return out


def pca(lib, inputs):
    pca = submodule(lib, "preprocess").PCA(int(inputs["n_components"])).fit(inputs["X_fit"])
    Z = pca.transform(inputs["X_other"])
    components = np.asarray(pca.components_)
    return {"explained_variance": pca.explained_variance_, "abs_coordinates": np.abs(Z),
            "projector": components.T @ components, "mean": pca.mean_,
            "reconstruction": pca.inverse_transform(Z)}


def whiten(lib, inputs):
    preprocess = submodule(lib, "preprocess")
    white = preprocess.Whiten(int(inputs["n_components"]), eps=float(inputs["eps"]))
    white.fit(inputs["X_fit"])
    return {"explained_variance": white.explained_variance_,
            "abs_coordinates": np.abs(white.transform(inputs["X_other"])),
            "abs_train_coordinates": np.abs(white.transform(inputs["X_fit"]))}


def _call_init(lib, name, inputs, **kwargs):
    init = submodule(lib, "init")
    rng = np.random.default_rng(int(inputs["seed"]))
    W = getattr(init, name)(int(inputs["fan_in"]), int(inputs["fan_out"]), rng, **kwargs)
    # the next draw shows whether the function took exactly one array from rng
    return {"W": W, "next_draw": rng.standard_normal(3)}


def small_default(lib, inputs):
    return _call_init(lib, "small_random", inputs)


def small_std(lib, inputs):
    return _call_init(lib, "small_random", inputs, std=float(inputs["scale"]))


def scaled(lib, inputs):
    return _call_init(lib, "scaled_random", inputs, scale=float(inputs["scale"]))


def xavier(lib, inputs):
    return _call_init(lib, "xavier", inputs)


def he(lib, inputs):
    return _call_init(lib, "he", inputs)
