"""Typical mistakes of the initialization assignment: preprocessing and initialisation."""

from __future__ import annotations

import numpy as np

from autograder.diagnosis.catalogue import Mutant


def xavier_fan_out(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_out)


def he_no_two(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in)


def he_fan_out(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_out)


def xavier_glorot(fan_in, fan_out, rng):
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / (fan_in + fan_out))


def _own_mean(self, X):
    X = self._check_transform_input(X)
    return X - X.mean(axis=0)


def _own_channel_mean(self, X):
    X = self._check_transform_input(X)
    return X - X.mean(axis=(0, 2, 3), keepdims=True)


def _own_standardize(self, X):
    X = self._check_transform_input(X)
    return (X - X.mean(axis=0)) / np.sqrt(X.var(axis=0) + self.eps)


def standardize_unbiased(self, X_train):
    X_train = self._check_fit_input(X_train)
    self.mean_ = X_train.mean(axis=0)
    self.std_ = np.sqrt(X_train.var(axis=0, ddof=1) + self.eps)
    return self


def standardize_eps_outside(self, X_train):
    X_train = self._check_fit_input(X_train)
    self.mean_ = X_train.mean(axis=0)
    self.std_ = X_train.std(axis=0) + self.eps
    return self


_I = "init.py"
_P = "preprocess.py"
_XH = "test_xavier_he"

MUTANTS = [
    Mutant("init-fan-out", "init", "xavier", xavier_fan_out,
           f"xavier ({_I}) scales by fan_out; Xavier as the lecture states it divides by the "
           "square root of fan_in, the number of inputs each unit sums.", _XH),
    Mutant("init-fan-out", "init", "xavier", xavier_glorot,
           f"xavier ({_I}) uses Glorot and Bengio's normalised variance 2 / (fan_in + "
           "fan_out); this library implements the lecture's simplified form, variance "
           "1 / fan_in.", _XH, "glorot"),
    Mutant("init-no-2", "init", "he", he_no_two,
           f"he ({_I}) gives the Xavier scale: He doubles the variance (ReLU zeroes half of "
           "its inputs), so the weights are sqrt(2) times larger.", _XH),
    Mutant("init-fan-out", "init", "he", he_fan_out,
           f"he ({_I}) scales by fan_out; the variance is 2 / fan_in.", _XH),
    Mutant("mean-on-test", "preprocess", "MeanImage.transform", _own_mean,
           f"MeanImage.transform ({_P}) subtracts the mean of the data it is given; it must "
           "subtract mean_, learned by fit on the training set, from every set.",
           "test_mean_image"),
    Mutant("mean-on-test", "preprocess", "ChannelMean.transform", _own_channel_mean,
           f"ChannelMean.transform ({_P}) subtracts the channel means of the data it is "
           "given; it must subtract mean_, learned by fit on the training set.",
           "test_channel_mean"),
    Mutant("mean-on-test", "preprocess", "Standardize.transform", _own_standardize,
           f"Standardize.transform ({_P}) uses the statistics of the data it is given; it "
           "must use mean_ and std_, learned by fit on the training set.", "test_standardize"),
    Mutant("bn-unbiased-var", "preprocess", "Standardize.fit", standardize_unbiased,
           f"Standardize.fit ({_P}) uses the unbiased variance (divided by N - 1); the "
           "library's is the plain one, divided by N.", "test_standardize"),
    Mutant("bn-eps", "preprocess", "Standardize.fit", standardize_eps_outside,
           f"Standardize.fit ({_P}) adds eps to the standard deviation; it belongs under "
           "the square root, added to the variance.", "test_standardize"),
]
