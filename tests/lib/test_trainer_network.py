"""The trainer's network, per-layer numbers, settings, snapshots and views (no threads)."""

from __future__ import annotations

import numpy as np
import pytest

from cs231n_lib.gradient_check import eval_numerical_gradient, rel_error
from cs231n_lib.trainer import (
    CIFAR10_DEMO,
    DIGITS_DEMO,
    Network,
    Trainer,
    dead_fraction,
    saturated_fraction,
    update_to_weight_ratio,
)

TINY = [
    {"type": "conv", "filters": 3, "size": 3, "stride": 1, "pad": 1, "activation": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "conv", "filters": 2, "size": 3, "stride": 1, "pad": 1, "activation": "tanh"},
    {"type": "fc", "units": 5, "activation": "sigmoid"},
    {"type": "softmax"},
]


def tiny_data(rng, n=60, shape=(2, 6, 6), classes=3):
    """Separable random images: each class has its own mean image."""
    means = 2 * rng.standard_normal((classes, *shape))
    y = rng.integers(0, classes, n)
    X = means[y] + rng.standard_normal((n, *shape))
    return {"X_train": X, "y_train": y, "X_val": X[:20], "y_val": y[:20]}


# ------------------------------------------------------------------- network
def test_cifar10_demo_shapes_follow_convnetjs():
    net = Network(CIFAR10_DEMO, input_shape=(3, 32, 32), num_classes=10)
    shapes = [(spec.name, spec.output_shape) for spec in net.layers]
    assert shapes == [("conv1", (16, 32, 32)), ("pool1", (16, 16, 16)),
                      ("conv2", (20, 16, 16)), ("pool2", (20, 8, 8)),
                      ("conv3", (20, 8, 8)), ("pool3", (20, 4, 4)), ("softmax", (10,))]
    assert net.params["W1"].shape == (16, 3, 5, 5)
    assert net.params["W4"].shape == (320, 10)
    scores = net.loss(np.zeros((2, 3, 32, 32)))
    assert scores.shape == (2, 10)


@pytest.mark.parametrize("defs, words", [
    ([{"type": "conv", "filters": 4, "size": 4, "stride": 2}, {"type": "softmax"}],
     ["layer 0", "does not tile", "(9 - 4 + 2*0) / 2 + 1"]),
    ([{"type": "fc", "units": 4}, {"type": "pool"}, {"type": "softmax"}],
     ["layer 1", "image input"]),
    ([{"type": "conv", "filters": 4, "size": 3}], ["last layer", "softmax"]),
    ([{"type": "dense", "units": 4}, {"type": "softmax"}], ["layer 0", "'type' must be"]),
    ([{"type": "conv", "size": 3}, {"type": "softmax"}], ["layer 0", "needs ['filters']"]),
    ([{"type": "fc", "units": 4, "activation": "gelu"}, {"type": "softmax"}],
     ["layer 0", "'activation'"]),
])
def test_bad_layer_lists_are_explained(defs, words):
    with pytest.raises(ValueError) as err:
        Network(defs, input_shape=(1, 9, 9))
    for word in words:
        assert word in str(err.value)


def test_input_of_the_wrong_shape_is_explained():
    net = Network(DIGITS_DEMO, input_shape=(1, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\).*got shape \(2, 3, 8, 8\)"):
        net.loss(np.zeros((2, 3, 8, 8)))


def test_whole_network_gradients_match_numerical_ones(rng):
    net = Network(TINY, input_shape=(2, 6, 6), num_classes=3, seed=1, reg=0.1)
    X = rng.standard_normal((4, 2, 6, 6))
    y = np.array([0, 1, 2, 1])
    _, grads = net.loss(X, y)
    for name, param in net.params.items():
        numeric = eval_numerical_gradient(lambda _p: net.loss(X, y)[0], param, verbose=False)
        assert rel_error(numeric, grads[name]) < 1e-6, name


def test_float32_flows_through_every_layer(rng):
    net = Network(TINY, input_shape=(2, 6, 6), num_classes=3, dtype=np.float32)
    trace = net.trace(rng.standard_normal((3, 2, 6, 6)), np.array([0, 1, 2]))
    arrays = [*net.params.values(), *trace.grads.values(), *trace.activations.values(),
              *trace.act_grads.values()]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    assert np.isfinite(trace.loss)


def test_initial_loss_is_near_log_of_the_classes(rng):
    net = Network(TINY, input_shape=(2, 6, 6), num_classes=3)
    loss, _ = net.loss(rng.standard_normal((200, 2, 6, 6)), rng.integers(0, 3, 200))
    assert abs(loss - np.log(3)) < 0.1


# ------------------------------------------------------------------ numbers
def test_update_to_weight_ratio_is_norm_of_step_over_norm_of_weights():
    w, dw = np.array([3.0, 4.0]), np.array([0.0, 10.0])
    assert update_to_weight_ratio(w, dw, 0.01) == pytest.approx(0.1 / 5.0)
    assert update_to_weight_ratio(np.zeros(2), dw, 0.01) == np.inf


def test_dead_fraction_counts_units_zero_for_every_example():
    out = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
    assert dead_fraction(out) == pytest.approx(0.5)  # units 0 and 3


def test_saturated_fraction_uses_the_local_gradient():
    s = np.array([0.5, 0.99, 0.01, 0.9])  # s(1-s): 0.25, 0.0099, 0.0099, 0.09
    assert saturated_fraction(s, "sigmoid") == pytest.approx(0.5)
    t = np.array([0.0, 0.99, -0.999, 0.5])  # 1-t^2: 1, 0.0199, 0.002, 0.75
    assert saturated_fraction(t, "tanh") == pytest.approx(0.5)


def test_layer_stats_report_the_last_step(rng):
    data = tiny_data(rng)
    net = Network(TINY, input_shape=(2, 6, 6), num_classes=3)
    net.params["b1"][:] = -1e3  # every unit of conv1 is dead
    trainer = Trainer(net, data, lr=0.05, batch_size=8)
    trainer.step(1)
    stats = trainer.layer_stats()
    assert stats["conv1"]["dead_relu"] == 1.0
    assert np.isnan(stats["pool1"]["update_ratio"]) and np.isnan(stats["conv2"]["dead_relu"])
    w, dw = trainer.last_params["W3"], trainer.last_trace.grads["W3"]
    expected = np.linalg.norm(0.05 * dw) / np.linalg.norm(w)
    assert stats["fc1"]["update_ratio"] == pytest.approx(expected)
    assert 0.0 <= stats["fc1"]["saturated"] <= 1.0


# ----------------------------------------------------------------- training
def test_training_reduces_the_loss_on_a_small_set(rng):
    data = tiny_data(rng)
    trainer = Trainer(Network(TINY, input_shape=(2, 6, 6), num_classes=3), data,
                      lr=0.05, batch_size=20, eval_every=0)
    trainer.step(150)
    losses = trainer.history["loss"]
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])
    accuracy, _ = trainer.evaluate()
    assert accuracy >= 0.9


def test_settings_apply_from_the_next_step(rng):
    trainer = Trainer(Network(TINY, input_shape=(2, 6, 6), num_classes=3), tiny_data(rng))
    trainer.step(2)
    trainer.settings.lr = 0.05
    trainer.settings.batch_size = 7
    trainer.step(1)
    assert trainer.history["lr"] == [1e-3, 1e-3, 0.05]
    assert trainer.history["batch_size"] == [20, 20, 7]


@pytest.mark.parametrize("name, value", [("lr", -1.0), ("momentum", 1.0),
                                         ("batch_size", 0), ("weight_decay", float("nan"))])
def test_bad_settings_are_refused(rng, name, value):
    trainer = Trainer(Network(TINY, input_shape=(2, 6, 6), num_classes=3), tiny_data(rng))
    with pytest.raises(ValueError, match=name):
        setattr(trainer.settings, name, value)


def test_weight_decay_adds_l2_to_loss_and_gradient(rng):
    net = Network(TINY, input_shape=(2, 6, 6), num_classes=3)
    X, y = rng.standard_normal((3, 2, 6, 6)), np.array([0, 1, 2])
    plain, decayed = net.trace(X, y, reg=0.0), net.trace(X, y, reg=0.5)
    squares = sum(np.sum(net.params[w] ** 2) for w in net.weight_names)
    assert decayed.loss == pytest.approx(plain.loss + 0.25 * squares)
    assert np.allclose(decayed.grads["W1"], plain.grads["W1"] + 0.5 * net.params["W1"])
    assert np.array_equal(decayed.grads["b1"], plain.grads["b1"])


def test_data_without_validation_split_is_refused(rng):
    data = tiny_data(rng)
    del data["X_val"]
    with pytest.raises(KeyError, match="X_val"):
        Trainer(Network(TINY, input_shape=(2, 6, 6), num_classes=3), data)


# ---------------------------------------------------------------- snapshots
def test_snapshot_round_trip_restores_everything(rng, tmp_path):
    data = tiny_data(rng)
    trainer = Trainer(Network(TINY, input_shape=(2, 6, 6), num_classes=3,
                              dtype=np.float32), data, lr=0.02, batch_size=5, eval_every=3)
    trainer.step(7)
    path = trainer.save(tmp_path / "snap.npz")
    loaded = Trainer.load(path, data)
    assert loaded.net.dtype == np.float32 and loaded.steps_done == 7
    for name, value in trainer.net.params.items():
        assert loaded.net.params[name].dtype == value.dtype
        assert np.array_equal(loaded.net.params[name], value)
        assert np.array_equal(loaded.velocity[name], trainer.velocity[name])
    assert loaded.history == trainer.history
    assert loaded.settings == trainer.settings
    # Same weights, velocities and sampler state: the next steps are identical too.
    trainer.step(2)
    loaded.step(2)
    for name, value in trainer.net.params.items():
        assert np.array_equal(loaded.net.params[name], value)


def test_snapshot_needs_no_pickle(rng, tmp_path):
    trainer = Trainer(Network(TINY, input_shape=(2, 6, 6), num_classes=3), tiny_data(rng))
    path = trainer.save(tmp_path / "snap.npz")
    with np.load(path, allow_pickle=False) as archive:
        assert all(archive[key].dtype != object for key in archive.files)
    with pytest.raises(ValueError, match=r"\.npz"):
        trainer.save(tmp_path / "snap.pkl")


def test_layer_list_text_round_trips_and_refuses_code():
    from cs231n_lib.trainer.netspec import demo_layer_defs, format_layer_defs, read_layer_defs

    assert read_layer_defs(format_layer_defs(CIFAR10_DEMO)) == CIFAR10_DEMO
    assert demo_layer_defs((1, 8, 8)) == DIGITS_DEMO
    with pytest.raises(ValueError, match="not a Python list of dicts"):
        read_layer_defs("[__import__('os').getcwd()]")
