"""Preprocessing: statistics from training data only, applied unchanged elsewhere."""

import numpy as np
import pytest

from cs231n_lib.checks import ShapeError
from cs231n_lib.preprocess import (
    PCA,
    ChannelMean,
    MeanImage,
    Standardize,
    Whiten,
    pca_project,
    standardize,
    whiten,
    zero_center,
)


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    base = rng.uniform(0, 255, size=(3, 6, 5))
    X_train = base + rng.normal(0, 10, size=(200, 3, 6, 5))
    X_val = base + 40.0 + rng.normal(0, 10, size=(50, 3, 6, 5))  # a brighter set
    return X_train, X_val


def test_mean_image_has_the_shape_of_one_image(images):
    X_train, _ = images
    center = MeanImage().fit(X_train)
    assert center.mean_.shape == (3, 6, 5)
    np.testing.assert_allclose(center.mean_, X_train.mean(axis=0))
    np.testing.assert_allclose(center.transform(X_train).mean(axis=0), 0, atol=1e-10)


def test_mean_image_uses_training_statistics_only(images):
    X_train, X_val = images
    center = MeanImage().fit(X_train)
    before = center.mean_.copy()
    val = center.transform(X_val)
    np.testing.assert_array_equal(center.mean_, before)
    # the validation set keeps its offset of +40 instead of being re-centred
    np.testing.assert_allclose(val, X_val - X_train.mean(axis=0))
    assert val.mean() == pytest.approx(40.0, abs=2.0)


def test_channel_mean_is_three_numbers(images):
    X_train, X_val = images
    center = ChannelMean().fit(X_train)
    assert center.mean_.shape == (3,)
    np.testing.assert_allclose(center.mean_, X_train.mean(axis=(0, 2, 3)))
    out = center.transform(X_val)
    np.testing.assert_allclose(out, X_val - X_train.mean(axis=(0, 2, 3))[None, :, None, None])
    np.testing.assert_allclose(center.transform(X_train).mean(axis=(0, 2, 3)), 0, atol=1e-10)
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        ChannelMean().fit(X_train.reshape(200, -1))


def test_standardize(images):
    X_train, X_val = images
    scaler = Standardize().fit(X_train)
    out = scaler.transform(X_train)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(out.std(axis=0), 1, rtol=1e-6)
    val = scaler.transform(X_val)
    np.testing.assert_allclose(val, (X_val - X_train.mean(0)) / X_train.std(0), rtol=1e-6)
    # a constant feature maps to 0, not to nan
    X = np.zeros((10, 4))
    X[:, 1] = np.arange(10)
    assert np.all(np.isfinite(Standardize().fit_transform(X)))


def test_helpers_fit_on_the_first_set_only(images):
    X_train, X_val = images
    tr, va = zero_center(X_train, X_val)
    np.testing.assert_allclose(va, X_val - X_train.mean(axis=0))
    tr, va = zero_center(X_train, X_val, per_channel=True)
    assert va.mean() == pytest.approx(40.0, abs=2.0)
    tr, va = standardize(X_train, X_val)
    assert va.mean() > 2.0   # still offset: +40 over a std of about 10


def test_transform_before_fit_is_an_error(images):
    X_train, _ = images
    for transformer in (MeanImage(), ChannelMean(), Standardize(), PCA(3), Whiten(3)):
        with pytest.raises(RuntimeError, match=r"not fitted yet.*fit\(X_train\)"):
            transformer.transform(X_train)


def test_a_set_of_another_image_size_is_an_error(images):
    X_train, _ = images
    small = np.zeros((5, 3, 4, 4))
    for transformer in (MeanImage(), ChannelMean(), Standardize(), PCA(3)):
        transformer.fit(X_train)
        with pytest.raises(ShapeError, match=r"fitted on samples of shape \(3, 6, 5\).*"
                                             r"\(3, 4, 4\)"):
            transformer.transform(small)


def _correlated(n=2000, d=6, seed=1):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((d, d))
    return rng.standard_normal((n, d)) @ mix + rng.uniform(-5, 5, size=d)


def test_whitened_training_data_has_identity_covariance():
    X = _correlated()
    Z = Whiten(eps=0.0).fit_transform(X)
    cov = Z.T @ Z / Z.shape[0]
    np.testing.assert_allclose(cov, np.eye(X.shape[1]), atol=1e-10)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-10)
    Z_eps = Whiten(eps=1e-2).fit(X)
    cov = np.cov(Z_eps.transform(X), rowvar=False, bias=True)
    lam = Z_eps.explained_variance_
    np.testing.assert_allclose(cov, np.diag(lam / (lam + 1e-2)), atol=1e-10)


def test_whitening_a_new_set_uses_training_statistics():
    X = _correlated()
    white = Whiten(eps=0.0).fit(X)
    shifted = white.transform(X + 3.0)
    assert np.abs(shifted.mean(axis=0)).max() > 0.1
    np.testing.assert_allclose(white.inverse_transform(white.transform(X)), X, atol=1e-8)


def test_pca_directions_and_reconstruction_error():
    rng = np.random.default_rng(2)
    # data that lies close to a 2-D plane in 5-D space
    basis = np.linalg.qr(rng.standard_normal((5, 5)))[0][:, :2].T
    X = rng.standard_normal((500, 2)) * [5.0, 2.0] @ basis + 0.01 * rng.standard_normal((500, 5))
    pca = PCA(n_components=2).fit(X)
    assert pca.components_.shape == (2, 5)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(2), atol=1e-12)
    assert pca.explained_variance_[0] >= pca.explained_variance_[1]
    Z = pca.transform(X)
    assert Z.shape == (500, 2)
    np.testing.assert_allclose(Z.var(axis=0), pca.explained_variance_, rtol=1e-10)
    recon = pca.inverse_transform(Z)
    # what is lost is the variance of the dropped directions
    full = PCA().fit(X)
    lost = full.explained_variance_[2:].sum()
    assert np.mean(np.sum((X - recon) ** 2, axis=1)) == pytest.approx(lost, rel=1e-8)
    assert np.mean(np.sum((X - recon) ** 2, axis=1)) < 1e-3
    np.testing.assert_allclose(full.inverse_transform(full.transform(X)), X, atol=1e-10)


def test_pca_keeps_image_shapes_on_the_way_back(images):
    X_train, _ = images
    pca = PCA(10).fit(X_train)
    assert pca.transform(X_train).shape == (200, 10)
    assert pca.inverse_transform(pca.transform(X_train)).shape == X_train.shape


def test_pca_arguments():
    with pytest.raises(ValueError, match="positive int"):
        PCA(0)
    with pytest.raises(ValueError, match="only 6 features"):
        PCA(7).fit(_correlated())
    with pytest.raises(ValueError, match="at least 2 samples"):
        MeanImage().fit(np.ones((1, 3)))
    pca = PCA(2).fit(_correlated())
    with pytest.raises(ShapeError, match="2 columns"):
        pca.inverse_transform(np.ones((4, 3)))


def test_pca_and_whitening_helpers_fit_on_the_first_set_only():
    X = _correlated()
    other = _correlated(n=300, seed=7) + 2.0
    z_train, z_other = pca_project(X, other, n_components=3)
    assert z_train.shape == (2000, 3) and z_other.shape == (300, 3)
    np.testing.assert_allclose(z_other, PCA(3).fit(X).transform(other))
    w_train, w_other = whiten(X, other, eps=0.0)
    np.testing.assert_allclose(np.cov(w_train, rowvar=False, bias=True), np.eye(6), atol=1e-10)
    np.testing.assert_allclose(w_other, Whiten(eps=0.0).fit(X).transform(other))
