"""Sanity checks on the embedded data: initial loss near log(10), 50 examples overfit."""

import math

import numpy as np
import pytest

from cs231n_lib.data import load_default
from cs231n_lib.models import FullyConnectedNet
from cs231n_lib.sanity import initial_loss_check, overfit_small_data


@pytest.fixture(scope="module")
def data():
    """The embedded default data (the digits unless CIFAR-10 is downloaded)."""
    data = load_default()
    scale = data["X_train"].std()
    for key in ("X_train", "X_val"):
        data[key] = data[key] / scale
    return data


def two_layer_net(data, **kwargs):
    settings = {"input_dim": data["X_train"].shape[1:], "num_classes": 10,
                "weight_init": 0.05, **kwargs}
    return FullyConnectedNet([100, 100], **settings)


def test_initial_loss_is_within_5_percent_of_log_10(data):
    result = initial_loss_check(two_layer_net(data), data["X_train"][:500],
                                data["y_train"][:500], num_classes=10)
    assert result.expected == pytest.approx(math.log(10))
    assert result.relative_deviation == pytest.approx(
        abs(result.loss - math.log(10)) / math.log(10))
    assert result.relative_deviation < 0.05
    assert result.passed
    assert str(result).endswith("pass")


def test_large_weights_fail_the_initial_loss_check(data):
    result = initial_loss_check(two_layer_net(data, weight_init=1.0), data["X_train"][:500],
                                data["y_train"][:500], num_classes=10)
    assert result.loss > 2 * math.log(10)
    assert not result.passed
    assert "FAIL" in str(result)


def test_fifty_examples_are_overfit_to_100_percent(data):
    result = overfit_small_data(lambda: two_layer_net(data), data, num_examples=50,
                                num_epochs=25, optim_config={"learning_rate": 0.1,
                                                             "momentum": 0.9})
    assert result.num_examples == 50
    assert len(result.train_acc_history) == 25 + 1
    assert result.train_acc_history[0] < 0.5
    assert result.final_train_acc == 1.0
    assert result.passed
    assert result.epochs_to_perfect is not None and result.epochs_to_perfect <= 25
    assert result.epochs == list(range(26))
    assert result.train_acc_history[result.epochs_to_perfect] == 1.0
    # Memorising 50 examples does not make a classifier of the rest.
    assert result.val_acc_history[-1] < 0.95
    assert result.loss_history[-1] < 0.1 * result.loss_history[0]


def test_overfit_uses_only_the_first_examples_and_a_fresh_model(data):
    seen = []

    def factory():
        model = two_layer_net(data)
        seen.append(model)
        original = model.loss

        def loss(X, y=None):
            if y is not None:
                assert len(X) <= 10
            return original(X, y)

        model.loss = loss
        return model

    overfit_small_data(factory, data, num_examples=10, num_epochs=2)
    overfit_small_data(factory, data, num_examples=10, num_epochs=2)
    assert len(seen) == 2 and seen[0] is not seen[1]


def test_a_model_that_cannot_learn_fails_the_overfit_check(data):
    result = overfit_small_data(lambda: two_layer_net(data), data, num_epochs=3,
                                optim_config={"learning_rate": 1e-6, "momentum": 0.0})
    assert not result.passed
    assert result.epochs_to_perfect is None
    assert "never reached 100%" in str(result) and "FAIL" in str(result)


def test_overfit_without_validation_data_uses_the_small_set(data):
    small = {"X_train": data["X_train"][:20], "y_train": data["y_train"][:20]}
    result = overfit_small_data(lambda: two_layer_net(data), small, num_examples=20,
                                num_epochs=15)
    assert result.val_acc_history == result.train_acc_history


def test_one_step_per_epoch_counts_epochs_from_one(data):
    result = overfit_small_data(lambda: two_layer_net(data), data, num_examples=20,
                                batch_size=20, num_epochs=40)
    assert len(result.train_acc_history) == 40
    assert result.epochs == list(range(1, 41))
    assert result.passed
    assert result.train_acc_history[result.epochs_to_perfect - 1] == 1.0
    assert result.train_acc_history[result.epochs_to_perfect - 2] < 1.0


def test_bad_arguments(data):
    model = two_layer_net(data)
    X, y = data["X_train"][:10], data["y_train"][:10]
    with pytest.raises(ValueError, match="num_classes must be a whole number >= 2"):
        initial_loss_check(model, X, y, num_classes=1)
    with pytest.raises(ValueError, match="tolerance"):
        initial_loss_check(model, X, y, num_classes=10, tolerance=0)
    with pytest.raises(ValueError, match=r"num_examples must be .* 1 to the 5 training"):
        overfit_small_data(lambda: model, {"X_train": X[:5], "y_train": y[:5]}, 50)
    with pytest.raises(KeyError, match="data is missing y_train"):
        overfit_small_data(lambda: model, {"X_train": X}, 5)


def test_check_works_on_any_model_with_the_loss_convention():
    class Uniform:
        params = {}

        def loss(self, X, y=None):
            scores = np.zeros((len(X), 7))
            return scores if y is None else (math.log(7), {})

    result = initial_loss_check(Uniform(), np.zeros((3, 2)), np.zeros(3, dtype=int), 7)
    assert result.relative_deviation == 0.0 and result.passed
