"""Models: every parameter's gradient against numerical gradients, conventions, errors."""

import math

import numpy as np
import pytest

from cs231n_lib.checks import ShapeError
from cs231n_lib.gradient_check import eval_numerical_gradient
from cs231n_lib.layer_utils import ACTIVATION_LAYERS
from cs231n_lib.models import FullyConnectedNet, ThreeLayerConvNet
from cs231n_lib.solver import Solver

# Whole-array relative error ||a - n|| / (||a|| + ||n||): a net's gradients
# have entries near 0 (units off, sigmoid tails) whose elementwise relative
# error measures only the rounding noise of the centred difference. Correct
# gradients score below 1e-8 here; a wrong one (a missing term, a factor)
# is off by 1e-3 or more.
TOLERANCE = 1e-7


def array_rel_error(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300))


def numerical_gradient_errors(model, X, y):
    loss, grads = model.loss(X, y)
    assert sorted(grads) == sorted(model.params)
    errors = {}
    for name in model.params:
        def f(_):
            return model.loss(X, y)[0]
        numerical = eval_numerical_gradient(f, model.params[name], verbose=False)
        errors[name] = array_rel_error(numerical, grads[name])
    return errors


def tiny_data(rng, N=6, D=7, C=4):
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


@pytest.mark.parametrize("activation", sorted(ACTIVATION_LAYERS))
@pytest.mark.parametrize("normalization", [None, "batchnorm"])
@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_fully_connected_gradients(rng, activation, normalization, reg):
    X, y = tiny_data(rng)
    model = FullyConnectedNet([5, 6], input_dim=7, num_classes=4, activation=activation,
                              weight_init="xavier", normalization=normalization, reg=reg,
                              seed=int(rng.integers(1000)))
    # Batchnorm starts with gamma = 1, beta = 0; move them so their gradients mean something.
    for name in model.params:
        if name.startswith(("gamma", "beta", "b")):
            model.params[name] = model.params[name] + 0.3 * rng.standard_normal(
                model.params[name].shape)
    errors = numerical_gradient_errors(model, X, y)
    expected = {"W1", "b1", "W2", "b2", "W3", "b3"}
    if normalization:
        expected |= {"gamma1", "beta1", "gamma2", "beta2"}
    assert set(errors) == expected
    if normalization:
        # Batchnorm subtracts the batch mean, so a bias before it has no effect:
        # its true gradient is 0, where a relative error only measures noise.
        _, grads = model.loss(X, y)
        for i in (1, 2):
            del errors[f"b{i}"]
            np.testing.assert_allclose(grads[f"b{i}"], 0.0, atol=1e-12)
    assert max(errors.values()) < TOLERANCE, errors


def test_fully_connected_without_hidden_layers_is_softmax_regression(rng):
    X, y = tiny_data(rng)
    model = FullyConnectedNet([], input_dim=7, num_classes=4, weight_init=0.1, reg=0.2)
    assert sorted(model.params) == ["W1", "b1"]
    assert max(numerical_gradient_errors(model, X, y).values()) < TOLERANCE


def test_scores_when_no_labels(rng):
    X, _ = tiny_data(rng)
    model = FullyConnectedNet([5], input_dim=7, num_classes=4, weight_init="he", seed=1)
    scores = model.loss(X)
    assert scores.shape == (6, 4)
    W1, b1, W2, b2 = (model.params[k] for k in ("W1", "b1", "W2", "b2"))
    np.testing.assert_allclose(scores, np.maximum(X @ W1 + b1, 0) @ W2 + b2, rtol=1e-12)


def test_regularisation_adds_half_reg_times_squared_weights(rng):
    X, y = tiny_data(rng)
    plain = FullyConnectedNet([5], input_dim=7, num_classes=4, weight_init="xavier", seed=2)
    regd = FullyConnectedNet([5], input_dim=7, num_classes=4, weight_init="xavier", seed=2,
                             reg=0.5)
    squares = sum(np.sum(plain.params[k] ** 2) for k in ("W1", "W2"))
    assert regd.loss(X, y)[0] == pytest.approx(plain.loss(X, y)[0] + 0.25 * squares)


def test_batchnorm_mode_follows_labels(rng):
    X, y = tiny_data(rng)
    model = FullyConnectedNet([5, 5], input_dim=7, num_classes=4, normalization="batchnorm")
    assert len(model.bn_params) == 2
    model.loss(X, y)
    assert [p["mode"] for p in model.bn_params] == ["train", "train"]
    assert model.bn_params[0]["running_mean"].shape == (5,)
    model.loss(X)
    assert [p["mode"] for p in model.bn_params] == ["test", "test"]
    # Test mode: one example's scores do not depend on the rest of the batch.
    np.testing.assert_allclose(model.loss(X[:1])[0], model.loss(X)[0], rtol=1e-12)


def test_same_seed_same_weights_other_seed_other_weights():
    a = FullyConnectedNet([8], input_dim=4, num_classes=3, seed=5)
    b = FullyConnectedNet([8], input_dim=4, num_classes=3, seed=5)
    c = FullyConnectedNet([8], input_dim=4, num_classes=3, seed=6)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])


@pytest.mark.parametrize("weight_init, std", [("small", 0.01), (0.5, 0.5),
                                              ("xavier", 1 / math.sqrt(400)),
                                              ("he", math.sqrt(2 / 400))])
def test_weight_init_sets_the_spread(weight_init, std):
    model = FullyConnectedNet([300], input_dim=400, num_classes=10, weight_init=weight_init)
    assert model.params["W1"].std() == pytest.approx(std, rel=0.02)
    np.testing.assert_array_equal(model.params["b1"], 0.0)


def test_weight_scale_is_cs231n_name_for_a_numeric_init():
    model = FullyConnectedNet([300], input_dim=400, num_classes=10, weight_scale=0.2)
    assert model.weight_init == 0.2
    assert model.params["W1"].std() == pytest.approx(0.2, rel=0.02)
    assert FullyConnectedNet([3], input_dim=4, num_classes=2).weight_init == "small"
    with pytest.raises(ValueError, match="weight_init or weight_scale, not both"):
        FullyConnectedNet([3], input_dim=4, num_classes=2, weight_init="he", weight_scale=0.1)


def test_initial_loss_is_about_log_c_with_small_weights(rng):
    X = rng.standard_normal((200, 20))
    y = rng.integers(0, 10, 200)
    model = FullyConnectedNet([50, 50], input_dim=20, num_classes=10)
    assert model.loss(X, y)[0] == pytest.approx(math.log(10), rel=0.01)


def test_record_activations_keeps_every_hidden_layer(rng):
    X = rng.standard_normal((11, 7))
    model = FullyConnectedNet([5, 6, 3], input_dim=7, num_classes=4, activation="tanh",
                              weight_init="xavier", record_activations=True)
    scores = model.loss(X)
    assert [a.shape for a in model.activations] == [(11, 5), (11, 6), (11, 3)]
    np.testing.assert_allclose(model.activations[-1] @ model.params["W4"] + model.params["b4"],
                               scores, rtol=1e-12)
    assert np.all(np.abs(model.activations[0]) < 1)  # tanh outputs
    quiet = FullyConnectedNet([5], input_dim=7, num_classes=4)
    quiet.loss(X)
    assert quiet.activations == []


def test_image_input_dim_is_multiplied_out(rng):
    model = FullyConnectedNet([5], input_dim=(1, 8, 8), num_classes=10)
    assert model.input_dim == 64
    assert model.loss(rng.standard_normal((3, 1, 8, 8))).shape == (3, 10)


def test_float32_model():
    model = FullyConnectedNet([5], input_dim=4, num_classes=3, dtype=np.float32)
    assert {p.dtype for p in model.params.values()} == {np.dtype(np.float32)}
    assert model.loss(np.ones((2, 4))).dtype == np.float32


def test_wrong_input_size_says_what_to_do(rng):
    model = FullyConnectedNet([5], input_dim=64, num_classes=10)
    with pytest.raises(ShapeError, match=r"X has shape \(3, 3, 32, 32\), i.e. 3072 features.*"
                                         r"input_dim=64.*input_dim=3072"):
        model.loss(rng.standard_normal((3, 3, 32, 32)))
    with pytest.raises(ShapeError, match="X must be a batch"):
        model.loss(np.zeros(64))


def test_labels_out_of_range_are_a_clear_error(rng):
    model = FullyConnectedNet([5], input_dim=4, num_classes=3)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        model.loss(rng.standard_normal((2, 4)), np.array([0, 3]))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"activation": "softplus"}, ValueError, "activation must be one of"),
    ({"normalization": "layernorm"}, ValueError, "normalization must be one of"),
    ({"weight_init": "kaiming"}, ValueError, "weight_init must be one of"),
    ({"weight_init": [0.1]}, TypeError, "weight_init must be"),
    ({"reg": -1.0}, ValueError, "reg must be"),
    ({"hidden_dims": 100}, TypeError, "hidden_dims must be a list"),
    ({"hidden_dims": [100, 0]}, ValueError, r"hidden_dims\[1\]"),
])
def test_bad_settings(kwargs, error, match):
    settings = {"hidden_dims": [10], "input_dim": 4, "num_classes": 3, **kwargs}
    with pytest.raises(error, match=match):
        FullyConnectedNet(**settings)


# --------------------------------------------------------------- conv net
def tiny_convnet(rng, reg=0.0, **kwargs):
    settings = {"input_dim": (3, 6, 6), "num_filters": 3, "filter_size": 3, "hidden_dim": 5,
                "num_classes": 4, "weight_init": "he", "reg": reg, "seed": 3, **kwargs}
    model = ThreeLayerConvNet(**settings)
    for name in ("b1", "b2", "b3"):
        model.params[name] = 0.1 * rng.standard_normal(model.params[name].shape)
    return model


@pytest.mark.parametrize("reg", [0.0, 0.5])
def test_conv_net_gradients(rng, reg):
    X = rng.standard_normal((2, 3, 6, 6))
    y = rng.integers(0, 4, 2)
    model = tiny_convnet(rng, reg)
    errors = numerical_gradient_errors(model, X, y)
    assert set(errors) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert max(errors.values()) < TOLERANCE, errors


def test_conv_net_shapes(rng):
    model = tiny_convnet(rng)
    assert model.params["W1"].shape == (3, 3, 3, 3)
    assert model.params["W2"].shape == (3 * 3 * 3, 5)
    assert model.params["W3"].shape == (5, 4)
    assert model.loss(rng.standard_normal((7, 3, 6, 6))).shape == (7, 4)


def test_conv_net_default_weight_scale(rng):
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=16, filter_size=5,
                              hidden_dim=50)
    assert model.params["W2"].std() == pytest.approx(1e-3, rel=0.05)
    X = rng.standard_normal((50, 3, 8, 8))
    y = rng.integers(0, 10, 50)
    assert model.loss(X, y)[0] == pytest.approx(math.log(10), rel=0.01)


def test_conv_net_wrong_input_shape_says_what_to_do(rng):
    model = tiny_convnet(rng)
    with pytest.raises(ShapeError, match=r"examples of shape \(6, 6, 3\).*input_dim=\(3, 6, 6\)"):
        model.loss(rng.standard_normal((2, 6, 6, 3)))
    with pytest.raises(ShapeError, match=r"\(N, C, H, W\)"):
        model.loss(rng.standard_normal((2, 108)))


def test_conv_net_bad_settings(rng):
    with pytest.raises(ValueError, match="filter_size must be odd"):
        tiny_convnet(rng, filter_size=4)
    with pytest.raises(ValueError):
        tiny_convnet(rng, input_dim=(3, 7, 7))  # a 2x2/2 pool cannot tile 7
    with pytest.raises(ShapeError, match=r"input_dim must be \(C, H, W\)"):
        tiny_convnet(rng, input_dim=(6, 6))


def test_conv_net_trains_with_the_solver_to_memorise_a_small_set(rng):
    # Five noisy copies of each of four random 8x8 patterns.
    patterns = rng.standard_normal((4, 1, 8, 8))
    y = np.tile(np.arange(4), 5)
    X = patterns[y] + 0.3 * rng.standard_normal((20, 1, 8, 8))
    model = ThreeLayerConvNet(input_dim=(1, 8, 8), num_filters=4, filter_size=3,
                              hidden_dim=20, num_classes=4, weight_init="he", seed=0)
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X, "y_val": y},
                    update_rule="sgd_momentum", optim_config={"learning_rate": 0.05},
                    batch_size=10, num_epochs=15, verbose=False, seed=0)
    solver.train()
    assert solver.train_acc_history[0] < 1.0
    assert solver.train_acc_history[-1] == 1.0
