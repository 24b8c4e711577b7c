"""Cases of the initialization assignment: weight initialisation and preprocessing."""

from __future__ import annotations

import math

import numpy as np

from autograder.diagnosis.measure import Case


def xavier_by_outputs(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * (1.0 / fan_out) ** 0.5


def xavier_glorot_average(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) / math.sqrt((fan_in + fan_out) / 2)


def xavier_normal_scale(fan_in, fan_out, rng):
    """Correct: Generator.normal with the scale, the same draws as standard_normal."""
    return rng.normal(0.0, 1.0 / math.sqrt(fan_in), size=(fan_in, fan_out))


def he_like_xavier(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in)


def he_two_outside(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(2.0 * fan_in)


def he_by_outputs(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) / math.sqrt(fan_out / 2)


def he_math_sqrt(fan_in, fan_out, rng):
    """Correct: math.sqrt and a multiplication."""
    return math.sqrt(2.0 / fan_in) * rng.standard_normal((fan_in, fan_out))


def mean_image_own(self, X):
    X = np.asarray(X, dtype=np.float64)
    return X - np.mean(X, axis=0, keepdims=True)


def channel_mean_own(self, X):
    X = np.asarray(X, dtype=np.float64)
    return X - X.mean(axis=(0, 2, 3))[None, :, None, None]


def mean_image_reduce(self, X_train):
    """Correct: a sum divided by N."""
    X_train = self._check_fit_input(X_train)
    self.mean_ = np.add.reduce(X_train, axis=0) / X_train.shape[0]
    return self


def standardize_ddof(self, X_train):
    X_train = self._check_fit_input(X_train)
    self.mean_ = X_train.mean(0)
    self.std_ = np.sqrt(np.var(X_train, axis=0, ddof=1) + self.eps)
    return self


def standardize_eps_added(self, X_train):
    X_train = self._check_fit_input(X_train)
    self.mean_ = np.mean(X_train, axis=0)
    self.std_ = np.std(X_train, axis=0) + self.eps
    return self


def standardize_own_stats(self, X):
    X = self._check_transform_input(X)
    return (X - X.mean(axis=0)) / X.std(axis=0)


def standardize_two_pass(self, X_train):
    """Correct: the variance from centred squares, by hand."""
    X_train = self._check_fit_input(X_train)
    mean = X_train.sum(axis=0) / len(X_train)
    self.mean_ = mean
    self.std_ = np.sqrt(((X_train - mean) ** 2).mean(axis=0) + self.eps)
    return self


def _case(name, module, function, impl, expected, grade_id):
    return Case(name, "initialization", module, function, impl, expected, grade_id)


_XH = "test_xavier_he"

CASES = (
    _case("xavier_by_outputs", "init", "xavier", xavier_by_outputs, "init-fan-out", _XH),
    _case("xavier_glorot_average", "init", "xavier", xavier_glorot_average, "init-fan-out",
          _XH),
    _case("xavier_normal_scale", "init", "xavier", xavier_normal_scale, None, _XH),
    _case("he_like_xavier", "init", "he", he_like_xavier, "init-no-2", _XH),
    _case("he_two_outside", "init", "he", he_two_outside, "init-no-2", _XH),
    _case("he_by_outputs", "init", "he", he_by_outputs, "init-fan-out", _XH),
    _case("he_math_sqrt", "init", "he", he_math_sqrt, None, _XH),
    _case("mean_image_own", "preprocess", "MeanImage.transform", mean_image_own,
          "mean-on-test", "test_mean_image"),
    _case("channel_mean_own", "preprocess", "ChannelMean.transform", channel_mean_own,
          "mean-on-test", "test_channel_mean"),
    _case("mean_image_reduce", "preprocess", "MeanImage.fit", mean_image_reduce, None,
          "test_mean_image"),
    _case("standardize_ddof", "preprocess", "Standardize.fit", standardize_ddof,
          "bn-unbiased-var", "test_standardize"),
    _case("standardize_eps_added", "preprocess", "Standardize.fit", standardize_eps_added,
          "bn-eps", "test_standardize"),
    _case("standardize_own_stats", "preprocess", "Standardize.transform",
          standardize_own_stats, "mean-on-test", "test_standardize"),
    _case("standardize_two_pass", "preprocess", "Standardize.fit", standardize_two_pass, None,
          "test_standardize"),
)
