"""The lectures' claims as measured by cs231n_lib.experiments: the patterns, not the digits."""

import math

import numpy as np
import pytest

from cs231n_lib import experiments as ex
from cs231n_lib.experiments._common import first_crossing, prepare
from cs231n_lib.viz import deep_net_activations

SMALL_NET = {"num_layers": 10, "hidden": 200, "num_samples": 300}


def geometric_ratio(std):
    """Average factor by which the std changes from one layer to the next."""
    return float(np.exp(np.mean(np.log(std[1:] / std[:-1]))))


@pytest.fixture(scope="module")
def depth():
    return ex.init_depth(**SMALL_NET)


# ------------------------------------------------------------ 1. init and depth
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_small_init_collapses_layer_by_layer(depth, nonlinearity):
    std = depth.layer_std(nonlinearity, "small 0.01")
    assert np.all(np.diff(std) < 0)
    assert geometric_ratio(std) < 0.35
    assert std[-1] < 1e-4 * std[0]


def test_large_init_saturates_tanh(depth):
    i, j = depth.index("tanh", "large 1.0")
    assert np.all(depth.saturated[i, j] > 0.5)          # most outputs near +-1
    assert np.all(depth.std[i, j] > 0.9)
    # Xavier's tanh units are nowhere near saturation
    i, j = depth.index("tanh", "Xavier")
    assert np.all(depth.saturated[i, j] < 0.05)


def test_xavier_keeps_tanh_spread_of_one_size(depth):
    std = depth.layer_std("tanh", "Xavier")
    assert np.all(std[1:] / std[:-1] > 0.7)             # no layer loses more than 30%
    assert std[-1] > 0.15
    assert std[-1] > 1e3 * depth.layer_std("tanh", "small 0.01")[-1]


def test_relu_xavier_halves_the_variance_and_he_holds_it(depth):
    xavier = geometric_ratio(depth.layer_std("relu", "Xavier"))
    he = geometric_ratio(depth.layer_std("relu", "He"))
    assert 0.4 < xavier ** 2 < 0.62                     # variance halves per layer
    assert 0.85 < he ** 2 < 1.15
    i, j = depth.index("relu", "He")
    assert np.all(np.abs(depth.zero[i, j] - 0.5) < 0.1)  # half of each layer is 0


def test_init_depth_numbers_are_the_explorers_numbers(depth):
    layers = deep_net_activations("xavier", "tanh", seed=0, **SMALL_NET)
    i, j = depth.index("tanh", "Xavier")
    np.testing.assert_allclose(depth.std[i, j], [h.std() for h in layers])
    np.testing.assert_allclose(depth.mean[i, j], [h.mean() for h in layers])
    assert depth.hist_counts[i, j].sum(axis=1).tolist() == [h.size for h in layers]


def test_init_depth_repeats_under_a_seed():
    a = ex.init_depth(num_layers=3, hidden=30, num_samples=40, seed=3)
    b = ex.init_depth(num_layers=3, hidden=30, num_samples=40, seed=3)
    c = ex.init_depth(num_layers=3, hidden=30, num_samples=40, seed=4)
    np.testing.assert_array_equal(a.std, b.std)
    np.testing.assert_array_equal(a.hist_counts, b.hist_counts)
    assert not np.array_equal(a.std, c.std)


def test_init_depth_rejects_bad_sizes():
    with pytest.raises(ValueError, match="num_layers"):
        ex.init_depth(num_layers=0)
    with pytest.raises(ValueError, match="at least one"):
        ex.init_depth(schemes=())


@pytest.mark.slow
def test_lecture_size_net_shows_every_pattern():
    r = ex.init_depth()                                  # 10 x 500, 1000 samples
    assert r.layer_std("tanh", "small 0.01")[-1] < 1e-5
    i, j = r.index("tanh", "large 1.0")
    assert r.saturated[i, j].mean() > 0.8
    assert r.layer_std("tanh", "Xavier")[-1] > 0.15
    assert 0.4 < geometric_ratio(r.layer_std("relu", "Xavier")) ** 2 < 0.6
    assert 0.9 < geometric_ratio(r.layer_std("relu", "He")) ** 2 < 1.1


# ------------------------------------------------------------ 2. saturation
@pytest.fixture(scope="module")
def saturation():
    return ex.saturation_gradients(scales=(0.1, 1.0, 10.0, 100.0, 1000.0), num_layers=4,
                                   hidden=50, num_samples=80)


@pytest.mark.parametrize("name", ["sigmoid", "tanh"])
def test_saturated_stack_loses_orders_of_magnitude_of_gradient(saturation, name):
    i = saturation.activations.index(name)
    assert saturation.drop(name) > 30                     # the gradient reaching the inputs
    assert np.all(np.diff(saturation.input_grad_norm[i]) < 0)
    local = saturation.local_grad[i]
    assert local[-1] < 1e-2 * local[0]                    # mean local gradient of layer 1


def test_relu_gradient_does_not_depend_on_the_scale(saturation):
    i = saturation.activations.index("relu")
    np.testing.assert_allclose(saturation.input_grad_norm[i], saturation.input_grad_norm[i, 0],
                               rtol=1e-9)
    np.testing.assert_allclose(saturation.local_grad[i], saturation.local_grad[i, 0])
    assert 0.4 < saturation.local_grad[i, 0] < 0.6


def test_saturation_repeats_and_checks_names():
    a = ex.saturation_gradients(scales=(1.0, 10.0), num_layers=2, hidden=10, num_samples=5)
    b = ex.saturation_gradients(scales=(1.0, 10.0), num_layers=2, hidden=10, num_samples=5)
    np.testing.assert_array_equal(a.input_grad_norm, b.input_grad_norm)
    with pytest.raises(ValueError, match="swish"):
        ex.saturation_gradients(activations=("swish",))
    with pytest.raises(ValueError, match="positive"):
        ex.saturation_gradients(scales=(0.0, 1.0))


# ------------------------------------------------------------ shared helpers
def test_first_crossing_interpolates_and_reports_never():
    x = [0.1, 1.0, 2.0, 3.0]
    assert first_crossing(x, [0.2, 0.4, 0.8, 0.9], 0.6) == pytest.approx(1.5)
    assert first_crossing(x, [0.7, 0.8, 0.9, 0.9], 0.6) == pytest.approx(0.1)
    assert first_crossing(x, [0.2, 0.4, 0.8, 0.9], 0.8) == pytest.approx(2.0)
    assert math.isnan(first_crossing(x, [0.2, 0.3, 0.3, 0.4], 0.6))


def test_prepare_centres_on_training_statistics_only():
    rng = np.random.default_rng(0)
    data = {"X_train": 5.0 + rng.random((40, 1, 2, 2)), "y_train": rng.integers(0, 3, 40),
            "X_val": 9.0 + rng.random((10, 1, 2, 2)), "y_val": rng.integers(0, 3, 10)}
    centred = prepare(data)
    assert abs(centred["X_train"].mean()) < 1e-12
    assert centred["X_train"].std() == pytest.approx(1.0)
    assert centred["X_val"].mean() > 5                   # shifted by the *training* mean
    raw = prepare(data, center=False)
    assert raw["X_train"].min() > 0
    assert centred["num_classes"] == 3
    with pytest.raises(KeyError, match="y_val"):
        prepare({k: v for k, v in data.items() if k != "y_val"})


# ------------------------------------------------------------ 3. ReLU vs tanh
QUICK = {"num_train": 300, "batch_size": 50}


@pytest.fixture(scope="module")
def digits():
    """The default data, raw, loaded once for the training experiments."""
    from cs231n_lib.data import load_default

    return load_default(subtract_mean=False)


def test_relu_vs_tanh_counts_epochs_to_the_target(digits):
    kwargs = dict(data=digits, hidden_dims=(30,), learning_rates=(0.03, 0.1), target_error=0.2,
                  num_epochs=3, **QUICK)
    r = ex.relu_vs_tanh(**kwargs)
    assert r.activations == ("relu", "tanh")
    assert r.train_error.shape == (2, 2, len(r.epochs))
    for i, name in enumerate(r.activations):
        for j in range(2):
            error, crossing = r.train_error[i, j], r.epochs_to_target[i, j]
            if math.isfinite(crossing):                   # reached: the curve says so too
                k = int(np.searchsorted(r.epochs, crossing))
                assert error[k] <= r.target_error + 1e-12
                assert np.all(error[:k] > r.target_error)
            else:
                assert np.all(error > r.target_error)
        assert r.best_epochs(name) == np.nanmin(r.epochs_to_target[i])
    assert r.ratio == pytest.approx(r.best_epochs("tanh") / r.best_epochs("relu"))
    again = ex.relu_vs_tanh(**kwargs, extra_seeds=(5,))
    np.testing.assert_array_equal(r.train_error, again.train_error)
    assert again.seeds == (0, 5) and again.seed_ratios.shape == (2,)
    assert again.seed_ratios[0] == r.ratio or math.isnan(r.ratio)
    other = ex.relu_vs_tanh(**{**kwargs, "seed": 5})
    np.testing.assert_equal(again.seed_ratios[1], other.ratio)


# ------------------------------------------------------------ 4. dead ReLUs
def test_a_large_step_and_a_negative_bias_kill_units_a_healthy_run_keeps(digits):
    r = ex.dead_relus(digits, hidden_dims=(40, 40), step_sizes=(30.0,), biases=(-3.0,),
                      num_epochs=1, **QUICK)
    healthy = r.overall(r.healthy_dead, r.hidden_dims)
    assert healthy < 0.05
    assert r.overall(r.step_dead_after, r.hidden_dims)[0] > healthy + 0.2
    assert r.overall(r.bias_dead_before, r.hidden_dims)[0] > 0.5
    assert r.overall(r.bias_dead_after, r.hidden_dims)[0] > healthy + 0.5
    assert r.bias_accuracy[0] < r.healthy_accuracy


def test_dead_fraction_counts_units_silent_on_every_example():
    from cs231n_lib.models import FullyConnectedNet

    model = FullyConnectedNet([4], input_dim=2, num_classes=2, seed=0)
    model.params["W1"] = np.zeros((2, 4))
    model.params["b1"] = np.array([1.0, -1.0, 1.0, 0.0])   # units 2 and 4 never fire
    assert ex.dead_fraction(model, np.ones((3, 2))).tolist() == [0.5]
    assert model.record_activations is False


# ------------------------------------------------------------ 5. batchnorm
def test_batchnorm_trains_where_the_plain_sigmoid_net_stalls(digits):
    r = ex.batchnorm_training(digits, hidden_dims=(50, 50, 50), learning_rates=(0.3,),
                              weight_scales=(1e-3,), learning_rate=0.3, target_accuracy=0.6,
                              num_epochs=4, **QUICK)
    assert r.rate_accuracy.shape == (2, 1, len(r.steps))
    assert math.isfinite(r.fastest("batchnorm"))
    assert r.trained("batchnorm") > r.trained(None)
    assert r.rate_accuracy[1, 0, -1] > r.rate_accuracy[0, 0, -1] + 0.3
    assert r.scale_accuracy[1, 0, -1] > r.scale_accuracy[0, 0, -1] + 0.2
    assert r.unit_percentiles.shape == (2, 5, 3)
    assert np.all(np.diff(r.unit_percentiles, axis=2) >= 0)   # 15th <= 50th <= 85th
    assert r.drift("batchnorm") < r.drift(None)


def test_measuring_a_unit_leaves_batchnorm_running_averages_alone(digits):
    from cs231n_lib.experiments.batchnorm_training import _unit_input_percentiles
    from cs231n_lib.models import FullyConnectedNet

    data = prepare(digits, num_train=100)
    model = FullyConnectedNet([8], input_dim=64, activation="sigmoid",
                              normalization="batchnorm", seed=0)
    model.loss(data["X_train"][:20], data["y_train"][:20])    # running averages exist now
    kept = {k: np.copy(v) for k, v in model.bn_params[0].items() if k != "mode"}
    p = _unit_input_percentiles(model, data, learning_rate=0.1, num_epochs=0, batch_size=50,
                                seed=0)                        # measures once, trains never
    assert p.shape == (1, 3)
    assert set(model.bn_params[0]) - {"mode"} == set(kept)
    for key, value in kept.items():
        np.testing.assert_array_equal(model.bn_params[0][key], value)
    assert model.record_activations is False


@pytest.mark.slow
def test_batchnorm_paper_pattern_at_the_default_settings():
    r = ex.batchnorm_training()
    assert r.drift("batchnorm") < 0.5 * r.drift(None)
    assert r.speedup > 2
    assert r.trained("batchnorm") > r.trained(None)
    assert r.trained("batchnorm", "scales") > r.trained(None, "scales")


# ------------------------------------------------------------ 6. zero-centring
def test_zero_centering_trains_on_centred_and_raw_inputs(digits):
    r = ex.zero_centering(digits, hidden_dims=(30,), learning_rates=(0.03,), target_accuracy=0.5,
                          num_epochs=2, **QUICK)
    assert r.conditions == ("centred", "raw")
    assert abs(r.input_mean[0]) < 1e-9 and r.input_mean[1] > 0.5
    assert r.accuracy.shape == (2, 1, len(r.epochs))


@pytest.mark.slow
def test_centred_data_reaches_the_target_sooner():
    r = ex.zero_centering()
    assert r.ratio > 1
    assert r.faster_at >= 1


# ------------------------------------------------------------ 7. small data
def test_fifty_examples_reach_full_training_accuracy_and_loss_starts_at_log_c(digits):
    r = ex.small_data_checks(digits, num_epochs=20, class_counts=(2, 5, 10), num_loss_examples=200)
    assert r.num_examples == 50
    assert r.train_acc_history[-1] == 1.0
    assert r.epochs_to_perfect is not None
    assert r.val_acc_history[-1] < 1.0
    np.testing.assert_allclose(r.initial_loss, np.log([2, 5, 10]), rtol=0.05)
    assert np.all(r.initial_loss_large > 2 * r.log_c)


def test_small_data_checks_rejects_impossible_class_counts(digits):
    with pytest.raises(ValueError, match="class_counts"):
        ex.small_data_checks(digits, class_counts=(1,), num_epochs=1)


# ------------------------------------------------------------ other data
def test_training_experiments_take_cifar_shaped_data():
    rng = np.random.default_rng(0)
    data = {"X_train": 255 * rng.random((120, 3, 32, 32)), "y_train": rng.integers(0, 10, 120),
            "X_val": 255 * rng.random((30, 3, 32, 32)), "y_val": rng.integers(0, 10, 30)}
    r = ex.relu_vs_tanh(data, hidden_dims=(10,), learning_rates=(0.01,), num_epochs=1,
                        batch_size=40, target_error=0.5)
    assert r.num_train == 120 and r.train_error.shape == (2, 1, 2)
    z = ex.zero_centering(data, hidden_dims=(10,), learning_rates=(0.01,), num_epochs=1,
                          batch_size=40, num_train=80)
    assert z.input_mean[1] > 1                           # 0-255 pixels stay off-centre
    d = ex.dead_relus(data, hidden_dims=(10,), step_sizes=(1.0,), biases=(-1.0,),
                      num_epochs=1, batch_size=40)
    assert d.step_dead_after.shape == (1, 1)
    s = ex.small_data_checks(data, num_examples=20, hidden_dims=(10,), num_epochs=1,
                             class_counts=(2, 10), num_loss_examples=100)
    np.testing.assert_allclose(s.initial_loss, np.log([2, 10]), rtol=0.05)


# ------------------------------------------------------------ 8. random vs grid search
def test_random_search_tries_more_learning_rates_and_reports_every_budget(digits):
    result = ex.random_vs_grid(digits, budgets=(4, 9), num_repeats=3, hidden_dims=(20,),
                               num_epochs=1, num_train=300)
    assert list(result.grid_trials) == [4, 9]
    assert result.random_best.shape == (2, 3)
    assert result.distinct("learning_rate") == (3, 9)
    assert result.grid_configs.shape == (9, 2) and result.random_configs.shape == (9, 2)
    # the best of a search is the best of its trials
    assert result.grid_best[-1] == result.grid_scores.max()
    assert result.random_scores.max() == result.random_best[-1, 0]
    assert np.all((0 <= result.random_best) & (result.random_best <= 1))
    # the learning rate matters far more than the L2 strength
    assert result.importance[0] > result.importance[1]
    assert np.all(result.win_rate + result.tie_rate <= 1)


def test_search_scores_do_not_depend_on_the_worker_count(digits):
    kwargs = dict(data=digits, budgets=(4,), num_repeats=2, hidden_dims=(10,), num_epochs=1,
                  num_train=200)
    here = ex.random_vs_grid(**kwargs, jobs=1)
    pooled = ex.random_vs_grid(**kwargs, jobs=2)
    assert np.array_equal(here.random_best, pooled.random_best)
    assert np.array_equal(here.grid_scores, pooled.grid_scores)


# ------------------------------------------------------------ 9. fine-tuning
def test_split_classes_relabels_and_limits():
    data = {"X_train": np.arange(10.0)[:, None], "y_train": np.array([0, 1, 2, 3, 4] * 2),
            "X_val": np.arange(5.0)[:, None], "y_val": np.arange(5)}
    from cs231n_lib.experiments.fine_tuning import split_classes

    part = split_classes(data, (3, 4), limit=3)
    assert part["num_classes"] == 2
    assert list(part["y_train"]) == [0, 1, 0] and list(part["X_train"][:, 0]) == [3, 4, 8]
    assert list(part["y_val"]) == [0, 1]


def test_fine_tuning_starts_from_the_pretrained_hidden_layers(digits):
    result = ex.fine_tuning(digits, hidden_dims=(30,), num_examples=40, pretrain_epochs=3,
                            num_epochs=4, target_accuracy=0.5, seeds=(0, 1))
    assert result.pretrain_classes == (0, 1, 2, 3, 4) and result.new_classes == (5, 6, 7, 8, 9)
    assert np.all(result.pretrain_accuracy > 0.8)  # the pretrained net learned its classes
    assert result.val_accuracy.shape == (2, 2, 5) and result.steps[0] == 0
    assert result.num_examples == 40
    # both start from the same new last layer, so both start near chance on 5 classes
    assert np.all(result.val_accuracy[:, :, 0] < 0.5)
    assert np.all(result.val_accuracy[:, :, -1] > 0.5)  # and both learn the new classes
    finite = np.isfinite(result.steps_to_target)
    assert np.all(result.steps_to_target[finite] <= result.steps[-1])


# ------------------------------------------------------------ 10. update-to-weight ratio
def test_update_ratio_grows_with_the_rate_until_training_blows_up(digits):
    result = ex.update_ratio_sweep(digits, learning_rates=(1e-3, 1e-2, 1e-1, 10.0),
                                   hidden_dims=(30,), num_steps=60, target_accuracy=0.7,
                                   num_train=300)
    assert result.layers == ("W1", "W2")
    assert result.ratio.shape == (4, 2) and result.ratio_history.shape == (4, 60, 2)
    stable = result.ratio[:3]
    assert np.all(np.diff(stable, axis=0) > 0)     # a larger rate, a larger step
    assert np.all((1e-5 < stable) & (stable < 1e-1))
    assert result.verdicts[-1] == "too high"       # a rate of 10 explodes
    assert math.isnan(result.steps_to_target[-1])
    assert result.fastest in (1, 2)
    assert result.learning_rates[result.fastest] > 1e-3


def test_train_watching_ratios_stops_at_a_non_finite_loss(digits):
    from cs231n_lib.experiments._common import input_dim
    from cs231n_lib.experiments.update_ratio import train_watching_ratios
    from cs231n_lib.models import FullyConnectedNet

    data = prepare(digits, num_train=200)
    model = FullyConnectedNet((20,), input_dim=input_dim(data), num_classes=10,
                              weight_init="he", seed=0)
    with np.errstate(all="ignore"):
        run = train_watching_ratios(model, data, learning_rate=1e8, num_steps=60,
                                    check_every=10)
    assert not np.all(np.isfinite(run["loss"]))
    first_bad = int(np.flatnonzero(~np.isfinite(run["loss"]))[0])
    assert np.all(np.isnan(run["ratios"][first_bad:]))
    assert len(run["check_steps"]) == len(run["train_accuracy"]) == 6


# ------------------------------------------------------------ make_results --only
def _make_results_module():
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "make_results.py"
    spec = importlib.util.spec_from_file_location("_make_results_for_tests", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up by name
    spec.loader.exec_module(module)
    return module


def test_one_claim_is_spliced_into_the_page_and_the_rest_kept():
    tool = _make_results_module()
    rows = ["| 1. A | s | x | y |", "| 2. B | s | x | y |", "| 3. C | s | x | y |"]
    sections = ["## 1. A\n\none\n", "## 2. B\n\ntwo\n\n## not a claim heading\n",
                "## 3. C\n\nthree\n"]
    page = tool._page("digits", False, rows, sections)
    new = tool._splice(page, 2, "| 2. B | s | new | y |", "## 2. B\n\nrewritten\n")
    assert new == tool._page("digits", False, [rows[0], "| 2. B | s | new | y |", rows[2]],
                             [sections[0], "## 2. B\n\nrewritten\n", sections[2]])
    added = tool._splice(page, 4, "| 4. D | s | x | y |", "## 4. D\n\nfour")
    assert added.endswith("## 3. C\n\nthree\n\n## 4. D\n\nfour\n")
    assert "| 3. C | s | x | y |\n| 4. D | s | x | y |" in added
