"""Solver: histories, learning, determinism, best parameters, checkpoints, bad input.

The model here is a linear softmax classifier written in the test, so that the
solver is tested on its own.
"""

import numpy as np
import pytest

from cs231n_lib.solver import Solver, load_checkpoint


class LinearSoftmax:
    """scores = X W + b, softmax loss; CS231n's loss(X, y=None) convention."""

    def __init__(self, input_dim=5, num_classes=3, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 0.01 * rng.standard_normal((input_dim, num_classes)),
                       "b": np.zeros(num_classes)}

    def loss(self, X, y=None):
        X = X.reshape(X.shape[0], -1)
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        N = X.shape[0]
        loss = -np.mean(np.log(probs[np.arange(N), y]))
        dscores = probs
        dscores[np.arange(N), y] -= 1
        dscores /= N
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def blobs(n_train=120, n_val=60, seed=1):
    """Three well separated Gaussian clusters in 5 dimensions."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * rng.standard_normal((3, 5))

    def draw(n):
        y = rng.integers(0, 3, n)
        return centres[y] + rng.standard_normal((n, 5)), y

    X_train, y_train = draw(n_train)
    X_val, y_val = draw(n_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def make_solver(model=None, data=None, **kwargs):
    kwargs.setdefault("optim_config", {"learning_rate": 0.1})
    kwargs.setdefault("batch_size", 20)
    kwargs.setdefault("num_epochs", 4)
    kwargs.setdefault("verbose", False)
    return Solver(model or LinearSoftmax(), data or blobs(), **kwargs)


def test_histories_have_one_entry_per_step_and_per_epoch():
    solver = make_solver().train()
    assert len(solver.loss_history) == 4 * (120 // 20)
    assert len(solver.train_acc_history) == 4 + 1
    assert len(solver.val_acc_history) == 4 + 1
    assert solver.epoch == 4


def test_training_lowers_the_loss_and_learns():
    solver = make_solver(num_epochs=10).train()
    assert np.mean(solver.loss_history[-6:]) < 0.5 * solver.loss_history[0]
    assert solver.val_acc_history[-1] > 0.9
    assert solver.check_accuracy(solver.X_val, solver.y_val) > 0.9


def test_a_second_train_call_continues():
    stepwise = make_solver(num_epochs=1, lr_decay=0.5)
    stepwise.train()
    stepwise.train()
    assert stepwise.epoch == 2
    assert len(stepwise.loss_history) == 2 * 6
    # One accuracy check after each call's first step and after each epoch.
    assert len(stepwise.val_acc_history) == 4
    assert stepwise.optim_configs["W"]["learning_rate"] == pytest.approx(0.1 * 0.5 ** 2)
    at_once = make_solver(num_epochs=2, lr_decay=0.5, restore_best=False).train()
    stepwise_last = make_solver(num_epochs=1, lr_decay=0.5, restore_best=False)
    stepwise_last.train()
    stepwise_last.train()
    # Accuracy checks draw nothing here (120 training examples < 1000 samples),
    # so the same minibatches follow and the runs agree step for step.
    assert stepwise_last.loss_history == at_once.loss_history


def test_same_seed_same_run_other_seed_other_run():
    a = make_solver(seed=3).train()
    b = make_solver(seed=3).train()
    c = make_solver(seed=4).train()
    assert a.loss_history == b.loss_history
    np.testing.assert_array_equal(a.model.params["W"], b.model.params["W"])
    assert a.loss_history != c.loss_history


def test_global_random_state_is_untouched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    make_solver().train()
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_model_ends_with_the_best_parameters():
    solver = make_solver(num_epochs=5).train()
    assert solver.best_val_acc == max(solver.val_acc_history)
    for name, value in solver.best_params.items():
        np.testing.assert_array_equal(solver.model.params[name], value)
        # A copy, so later training cannot change the kept best.
        assert solver.model.params[name] is not value


def trained_then_ascending():
    """A model that starts trained, and an update rule that climbs the loss.

    Validation accuracy is then best at the first check and falls after, so
    the best parameters differ from the last ones.
    """
    model = LinearSoftmax()
    make_solver(model=model, num_epochs=10).train()
    last = {}

    def ascent(w, dw, config):
        last[w.shape] = w + 0.01 * dw
        return last[w.shape], config

    return model, ascent, last


def test_best_parameters_are_restored_not_the_last():
    model, ascent, last = trained_then_ascending()
    solver = make_solver(model=model, update_rule=ascent, num_epochs=4).train()
    assert solver.val_acc_history[0] == max(solver.val_acc_history)
    assert solver.val_acc_history[-1] < solver.val_acc_history[0]
    np.testing.assert_array_equal(model.params["W"], solver.best_params["W"])
    assert not np.array_equal(model.params["W"], last[(5, 3)])


def test_restore_best_false_keeps_the_last_parameters():
    model, ascent, last = trained_then_ascending()
    make_solver(model=model, update_rule=ascent, num_epochs=4, restore_best=False).train()
    np.testing.assert_array_equal(model.params["W"], last[(5, 3)])


def test_learning_rate_decays_once_per_epoch():
    solver = make_solver(optim_config={"learning_rate": 0.1}, lr_decay=0.5, num_epochs=3)
    solver.train()
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.1 * 0.5 ** 3)


def test_every_parameter_gets_its_own_optimiser_state():
    velocity = {"learning_rate": 0.05, "momentum": 0.9}
    solver = make_solver(update_rule="sgd_momentum", optim_config=velocity)
    solver.train()
    assert solver.optim_configs["W"]["velocity"].shape == (5, 3)
    assert solver.optim_configs["b"]["velocity"].shape == (3,)
    assert "velocity" not in velocity  # the caller's dict is not modified


def test_custom_update_rule_is_called_for_every_parameter():
    seen = []

    def frozen(w, dw, config):
        seen.append(w.shape)
        return w, config

    model = LinearSoftmax()
    start = model.params["W"].copy()
    make_solver(model=model, update_rule=frozen, num_epochs=1).train()
    assert sorted(set(seen)) == [(3,), (5, 3)]
    np.testing.assert_array_equal(model.params["W"], start)


def test_check_accuracy_counts_correct_argmax():
    class Fixed:
        params = {}

        def loss(self, X, y=None):
            # Predicts class 1 for every example.
            return np.tile([0.0, 1.0, 0.0], (X.shape[0], 1))

    solver = Solver(Fixed(), blobs(), verbose=False)
    X = np.zeros((10, 2))
    y = np.array([1] * 7 + [0] * 3)
    assert solver.check_accuracy(X, y, batch_size=3) == pytest.approx(0.7)
    assert solver.check_accuracy(X, y, num_samples=4) in {0.0, 0.25, 0.5, 0.75, 1.0}


def test_verbose_prints_epochs_and_quiet_prints_nothing(capsys):
    make_solver(num_epochs=2, verbose=True).train()
    out = capsys.readouterr()
    assert "(Epoch 0 / 2) train acc:" in out.out + out.err
    assert "(Epoch 2 / 2)" in out.out + out.err
    make_solver(num_epochs=2, verbose=False).train()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_checkpoints_are_npz_and_round_trip(tmp_path):
    name = str(tmp_path / "ckpt" / "linear")
    solver = make_solver(num_epochs=2, checkpoint_name=name, update_rule="sgd_momentum",
                         optim_config={"learning_rate": 0.05}, restore_best=False)
    solver.train()
    assert sorted(p.name for p in (tmp_path / "ckpt").iterdir()) == [
        "linear_epoch_1.npz", "linear_epoch_2.npz"]
    saved = load_checkpoint(tmp_path / "ckpt" / "linear_epoch_2.npz")
    assert saved["epoch"] == 2
    assert saved["update_rule"] == "sgd_momentum"
    assert saved["loss_history"] == solver.loss_history
    assert saved["val_acc_history"] == solver.val_acc_history
    np.testing.assert_array_equal(saved["params"]["W"], solver.model.params["W"])
    np.testing.assert_array_equal(saved["optim_configs"]["b"]["velocity"],
                                  solver.optim_configs["b"]["velocity"])
    assert saved["optim_configs"]["W"]["momentum"] == 0.9


def test_missing_data_is_a_clear_error():
    data = blobs()
    del data["y_val"]
    with pytest.raises(KeyError, match="data is missing y_val"):
        Solver(LinearSoftmax(), data)


def test_label_count_mismatch_is_a_clear_error():
    data = blobs()
    data["y_train"] = data["y_train"][:-1]
    with pytest.raises(ValueError, match="y_train has 119 labels but there are 120"):
        Solver(LinearSoftmax(), data)


def test_float_labels_are_a_clear_error():
    data = blobs()
    data["y_val"] = data["y_val"].astype(float)
    with pytest.raises(TypeError, match="y_val must hold integer class indices"):
        Solver(LinearSoftmax(), data)


def test_unknown_update_rule_lists_the_choices():
    with pytest.raises(ValueError, match="'sgd', 'sgd_momentum'.*got 'adam'"):
        make_solver(update_rule="adam")


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"num_epochs": 2.5},
                                    {"lr_decay": 0.0}, {"num_train_samples": -1}])
def test_bad_settings_are_clear_errors(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        make_solver(**kwargs)


def test_unknown_keyword_is_rejected():
    with pytest.raises(TypeError, match="learning_rate"):
        make_solver(learning_rate=0.1)


def test_object_that_is_not_a_model_is_rejected():
    with pytest.raises(TypeError, match="dict `params` and a method `loss"):
        Solver(object(), blobs())


def test_missing_gradient_names_the_parameter():
    class Forgetful(LinearSoftmax):
        def loss(self, X, y=None):
            out = super().loss(X, y)
            if y is None:
                return out
            return out[0], {"W": out[1]["W"]}

    with pytest.raises(KeyError, match=r"no gradient for \['b'\]"):
        make_solver(model=Forgetful()).train()
