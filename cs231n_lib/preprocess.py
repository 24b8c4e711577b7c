"""Data preprocessing fitted on training data and applied unchanged elsewhere.

Each transformer learns its statistics in ``fit(X_train)`` and then
``transform`` applies those same numbers to any set: training, validation or
test. Fitting on validation or test data would leak them into training::

    >>> center = MeanImage().fit(X_train)        # AlexNet: a (C, H, W) mean image
    >>> X_train, X_val = center.transform(X_train), center.transform(X_val)

==================  =====================================  ==================
transformer         learns                                 CIFAR-10 shape
==================  =====================================  ==================
``MeanImage``       mean over samples of every pixel        (3, 32, 32)
``ChannelMean``     mean of each channel (VGGNet)           (3,)
``Standardize``     mean and std of every feature           (3, 32, 32) each
``PCA``             mean, top principal directions          (K, 3072)
``Whiten``          PCA, then unit variance per direction   (K, 3072)
==================  =====================================  ==================

``zero_center``, ``standardize``, ``pca_project`` and ``whiten`` fit on a
training set and transform it and any number of other sets in one call. PCA
and whitening are shown for completeness: for images, subtracting a mean is
what is used in practice.
"""

from __future__ import annotations

import numpy as np

from cs231n_lib.checks import ShapeError, require_array

__all__ = ["MeanImage", "ChannelMean", "Standardize", "PCA", "Whiten",
           "zero_center", "standardize", "pca_project", "whiten"]


class _Fitted:
    """Shared checks: transform only after fit, and only data of the fitted shape."""

    #: what the input must look like, for error messages
    layout = "(N, ...)"
    min_ndim = 2

    feature_shape_: tuple | None = None

    def _check_fit_input(self, X) -> np.ndarray:
        X = require_array("X_train", X, layout=self.layout)
        if X.ndim < self.min_ndim:
            raise ShapeError(f"X_train must be {self.layout}; got an array of shape {X.shape}.")
        if X.shape[0] < 2:
            raise ValueError(f"fit needs at least 2 samples to learn statistics; got "
                             f"{X.shape[0]}.")
        self.feature_shape_ = X.shape[1:]
        return X.astype(np.float64, copy=False)

    def _check_transform_input(self, X) -> np.ndarray:
        name = type(self).__name__
        if self.feature_shape_ is None:
            raise RuntimeError(f"this {name} is not fitted yet: call .fit(X_train) on the "
                               "training data first, then transform any set.")
        X = require_array("X", X, layout=self.layout)
        if X.shape[1:] != self.feature_shape_:
            raise ShapeError(f"{name} was fitted on samples of shape {self.feature_shape_} "
                             f"but X has samples of shape {X.shape[1:]} (X is {X.shape}). "
                             "Transform data of the same size as the training data, e.g. "
                             "resize or crop the images first.")
        return X.astype(np.float64, copy=False)

    def fit_transform(self, X_train) -> np.ndarray:
        """``fit(X_train)`` then ``transform(X_train)``."""
        return self.fit(X_train).transform(X_train)


class MeanImage(_Fitted):
    """Subtract the mean training image (AlexNet).

    Attributes
    ----------
    mean_ : ndarray
        ``X_train.mean(axis=0)``: for ``X_train: (N, C, H, W)`` it has shape
        ``(C, H, W)``; for ``(N, D)`` it has shape ``(D,)``.
    """

    def fit(self, X_train) -> MeanImage:
        """Learn the mean image of ``X_train: (N, ...)``; returns ``self``."""
        X_train = self._check_fit_input(X_train)
        ### BEGIN SOLUTION
        # Hint: average over the samples only (axis 0): one mean per pixel and channel
        self.mean_ = X_train.mean(axis=0)
        ### END SOLUTION
        return self

    def transform(self, X) -> np.ndarray:
        """``X - mean_`` for ``X`` of the fitted sample shape; a new float64 array."""
        X = self._check_transform_input(X)
        ### BEGIN SOLUTION
        # Hint: subtract the stored mean into a new array; never modify X in place
        return X - self.mean_
        ### END SOLUTION


class ChannelMean(_Fitted):
    """Subtract one mean per colour channel (VGGNet).

    Attributes
    ----------
    mean_ : ndarray, shape (C,)
        Mean over samples, rows and columns of each channel: 3 numbers for CIFAR-10.
    """

    layout = "(N, C, H, W)"
    min_ndim = 4

    def fit(self, X_train) -> ChannelMean:
        """Learn the per-channel mean of ``X_train: (N, C, H, W)``; returns ``self``."""
        X_train = self._check_fit_input(X_train)
        if X_train.ndim != 4:
            raise ShapeError(f"X_train must be (N, C, H, W); got shape {X_train.shape}.")
        ### BEGIN SOLUTION
        # Hint: average over samples, rows and columns: every axis but the channel axis 1
        self.mean_ = X_train.mean(axis=(0, 2, 3))
        ### END SOLUTION
        return self

    def transform(self, X) -> np.ndarray:
        """``X - mean_`` channel by channel, for ``X: (N, C, H, W)``."""
        X = self._check_transform_input(X)
        ### BEGIN SOLUTION
        # Hint: give mean_ the shape (1, C, 1, 1) so it broadcasts over samples and pixels
        return X - self.mean_[None, :, None, None]
        ### END SOLUTION


class Standardize(_Fitted):
    """Zero mean and unit variance for every feature (pixel and channel).

    Parameters
    ----------
    eps : float
        Added to the variance, so a feature that is constant in the training
        set (a border pixel always 0) maps to 0 instead of dividing by zero.

    Attributes
    ----------
    mean_, std_ : ndarray
        Shape of one sample; ``std_ = sqrt(var + eps)``.
    """

    def __init__(self, eps: float = 1e-8):
        self.eps = eps

    def fit(self, X_train) -> Standardize:
        """Learn the mean and std of each feature of ``X_train: (N, ...)``; returns ``self``."""
        X_train = self._check_fit_input(X_train)
        ### BEGIN SOLUTION
        # Hint: per feature over axis 0: the mean, and the std from the biased variance plus eps
        self.mean_ = X_train.mean(axis=0)
        self.std_ = np.sqrt(X_train.var(axis=0) + self.eps)
        ### END SOLUTION
        return self

    def transform(self, X) -> np.ndarray:
        """``(X - mean_) / std_``."""
        X = self._check_transform_input(X)
        ### BEGIN SOLUTION
        # Hint: centre with the fitted mean, then divide by the fitted std
        return (X - self.mean_) / self.std_
        ### END SOLUTION


class PCA(_Fitted):
    """Project onto the top principal directions of the training data.

    Parameters
    ----------
    n_components : int, optional
        K, how many directions to keep; all D of them by default.

    Attributes
    ----------
    mean_ : ndarray, shape (D,)
        Mean of the flattened training samples.
    components_ : ndarray, shape (K, D)
        Orthonormal rows, the eigenvectors of the training covariance by
        decreasing eigenvalue.
    explained_variance_ : ndarray, shape (K,)
        The eigenvalues: the variance of the training data along each row.

    ``transform(X: (N, ...)) -> (N, K)``; ``inverse_transform(Z: (N, K))``
    maps back to ``(N, ...)``.
    """

    def __init__(self, n_components: int | None = None):
        if n_components is not None and (isinstance(n_components, bool)
                                         or not isinstance(n_components, (int, np.integer))
                                         or n_components < 1):
            raise ValueError(f"n_components must be a positive int or None; "
                             f"got {n_components!r}.")
        self.n_components = n_components

    def fit(self, X_train) -> PCA:
        """Learn the mean and principal directions of ``X_train: (N, ...)``; returns ``self``."""
        X_train = self._check_fit_input(X_train)
        X = X_train.reshape(X_train.shape[0], -1)
        k = X.shape[1] if self.n_components is None else self.n_components
        if k > X.shape[1]:
            raise ValueError(f"n_components is {k} but the samples have only {X.shape[1]} "
                             "features; keep at most that many.")
        ### BEGIN SOLUTION
        # Hint: covariance of the centred rows (1/N), np.linalg.eigh, then the k largest, descending
        self.mean_ = X.mean(axis=0)
        centered = X - self.mean_
        cov = centered.T @ centered / X.shape[0]
        eigvals, eigvecs = np.linalg.eigh(cov)      # ascending order
        order = np.argsort(eigvals)[::-1][:k]
        self.explained_variance_ = np.clip(eigvals[order], 0.0, None)
        self.components_ = eigvecs[:, order].T
        ### END SOLUTION
        return self

    def transform(self, X) -> np.ndarray:
        """Coordinates along the kept directions, ``(N, K)``."""
        X = self._check_transform_input(X)
        ### BEGIN SOLUTION
        # Hint: flatten each sample, centre it, project onto each row of components_
        return (X.reshape(X.shape[0], -1) - self.mean_) @ self.components_.T
        ### END SOLUTION

    def inverse_transform(self, Z) -> np.ndarray:
        """Map coordinates ``Z: (N, K)`` back to samples of the fitted shape."""
        if self.feature_shape_ is None:
            raise RuntimeError("this PCA is not fitted yet: call .fit(X_train) first.")
        Z = require_array("Z", Z, ndim=2, layout="(N, K)")
        if Z.shape[1] != self.components_.shape[0]:
            raise ShapeError(f"Z must have {self.components_.shape[0]} columns (one per kept "
                             f"component); got shape {Z.shape}.")
        X = Z @ self.components_ + self.mean_
        return X.reshape((Z.shape[0], *self.feature_shape_))


class Whiten(PCA):
    """PCA followed by scaling each direction to unit variance.

    Parameters
    ----------
    n_components : int, optional
        Directions to keep (all by default).
    eps : float
        Added to each eigenvalue before dividing by its square root, so that
        directions with (almost) no variance are not blown up into noise.

    ``transform`` gives ``(N, K)`` coordinates whose training covariance is
    ``diag(lambda / (lambda + eps))``, the identity up to ``eps``.
    """

    def __init__(self, n_components: int | None = None, eps: float = 1e-5):
        super().__init__(n_components)
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0; got {eps!r}.")
        self.eps = eps

    def transform(self, X) -> np.ndarray:
        """Whitened coordinates, ``(N, K)``."""
        Z = super().transform(X)
        ### BEGIN SOLUTION
        # Hint: divide each PCA coordinate by its std along that direction (eps included)
        return Z / np.sqrt(self.explained_variance_ + self.eps)
        ### END SOLUTION

    def inverse_transform(self, Z) -> np.ndarray:
        if self.feature_shape_ is None:
            raise RuntimeError("this Whiten is not fitted yet: call .fit(X_train) first.")
        Z = require_array("Z", Z, ndim=2, layout="(N, K)")
        return super().inverse_transform(Z * np.sqrt(self.explained_variance_ + self.eps))


def zero_center(X_train, *others, per_channel: bool = False) -> tuple[np.ndarray, ...]:
    """Subtract the training mean from the training set and every other set.

    Parameters
    ----------
    X_train : ndarray, (N, C, H, W) or (N, D)
        The statistics come from this set only.
    *others : ndarray
        Validation, test, ... sets of the same sample shape.
    per_channel : bool
        One mean per channel (VGG) instead of a mean image (AlexNet).

    Returns
    -------
    tuple of ndarray
        ``(X_train, *others)`` centred with the training mean.
    """
    center = ChannelMean() if per_channel else MeanImage()
    center.fit(X_train)
    return tuple(center.transform(X) for X in (X_train, *others))


def standardize(X_train, *others, eps: float = 1e-8) -> tuple[np.ndarray, ...]:
    """Standardise the training set and every other set with the training mean and std."""
    scaler = Standardize(eps).fit(X_train)
    return tuple(scaler.transform(X) for X in (X_train, *others))


def pca_project(X_train, *others, n_components: int) -> tuple[np.ndarray, ...]:
    """Project the training set and every other set onto the training set's top directions.

    Returns
    -------
    tuple of ndarray
        ``(Z_train, *Z_others)``, each ``(N, n_components)``.
    """
    pca = PCA(n_components).fit(X_train)
    return tuple(pca.transform(X) for X in (X_train, *others))


def whiten(X_train, *others, n_components: int | None = None,
           eps: float = 1e-5) -> tuple[np.ndarray, ...]:
    """Whiten the training set and every other set with the training set's PCA.

    Returns
    -------
    tuple of ndarray
        ``(Z_train, *Z_others)``, each ``(N, K)``; ``Z_train`` has (nearly)
        identity covariance.
    """
    white = Whiten(n_components, eps=eps).fit(X_train)
    return tuple(white.transform(X) for X in (X_train, *others))
