"""Hyperparameter search: log-uniform samples, grid and random trials, narrowing, trial runs."""

import functools

import numpy as np
import pytest

from cs231n_lib.search import (
    Range,
    as_space,
    best_trials,
    grid_search_configs,
    narrow_space,
    random_search_configs,
    run_trials,
    sample_log_uniform,
)

SPACE = {"learning_rate": (1e-4, 1e-1), "reg": (1e-5, 1e-2, "log"), "dropout": (0.2, 0.8, "linear")}


def test_log_uniform_is_uniform_in_the_exponent_and_draws_once():
    rng = np.random.default_rng(3)
    values = sample_log_uniform(rng, 1e-5, 1e-1, size=(400, 3))
    following = rng.standard_normal(2)
    expected = 10.0 ** np.random.default_rng(3).uniform(-5, -1, (400, 3))
    assert values.shape == (400, 3)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    check = np.random.default_rng(3)
    check.uniform(-5, -1, (400, 3))
    assert np.array_equal(following, check.standard_normal(2))
    # each decade gets about a quarter of the draws
    counts = np.histogram(np.log10(values), bins=4, range=(-5, -1))[0]
    assert np.all(np.abs(counts / values.size - 0.25) < 0.05)


def test_log_uniform_without_size_is_one_number():
    value = sample_log_uniform(np.random.default_rng(0), 0.5, 2.0)
    assert np.ndim(value) == 0 and 0.5 <= value <= 2.0


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (1.0, 0.1), (-1.0, 1.0)])
def test_log_uniform_rejects_bounds_without_a_log(low, high):
    with pytest.raises(ValueError, match="low"):
        sample_log_uniform(np.random.default_rng(0), low, high, 3)


@pytest.mark.parametrize("budget, d, k", [(9, 2, 3), (10, 2, 3), (8, 2, 2), (27, 3, 3),
                                          (26, 3, 2), (5, 1, 5), (1, 3, 1), (64, 3, 4)])
def test_grid_uses_the_largest_k_with_k_to_the_d_within_budget(budget, d, k):
    space = dict(list(SPACE.items())[:d])
    configs = grid_search_configs(space, budget)
    assert len(configs) == k ** d
    for name in space:
        assert len({c[name] for c in configs}) == k


def test_grid_values_sit_at_cell_centres_on_each_scale():
    configs = grid_search_configs(SPACE, 8)  # k = 2
    rates = sorted({c["learning_rate"] for c in configs})
    np.testing.assert_allclose(np.log10(rates), [-3.25, -1.75], rtol=1e-12)
    np.testing.assert_allclose(sorted({c["dropout"] for c in configs}), [0.35, 0.65])
    one = grid_search_configs(SPACE, 7)  # k = 1: the middle of every range
    assert one == [pytest.approx({"learning_rate": 10 ** -2.5, "reg": 10 ** -3.5,
                                  "dropout": 0.5})]


def test_grid_order_is_itertools_product_with_the_last_name_fastest():
    configs = grid_search_configs({"a": (1.0, 100.0), "b": (0.0, 1.0, "linear")}, 4)
    assert [(round(c["a"], 6), round(c["b"], 6)) for c in configs] == [
        (3.162278, 0.25), (3.162278, 0.75), (31.622777, 0.25), (31.622777, 0.75)]


def test_random_search_draws_each_name_as_one_column():
    configs = random_search_configs(SPACE, 6, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    rates = 10.0 ** rng.uniform(-4, -1, 6)
    regs = 10.0 ** rng.uniform(-5, -2, 6)
    dropout = rng.uniform(0.2, 0.8, 6)
    assert len(configs) == 6
    for i, config in enumerate(configs):
        assert list(config) == list(SPACE)
        assert config["learning_rate"] == pytest.approx(rates[i], rel=1e-12)
        assert config["reg"] == pytest.approx(regs[i], rel=1e-12)
        assert config["dropout"] == pytest.approx(dropout[i], rel=1e-12)
        assert all(isinstance(v, float) for v in config.values())


def test_random_search_tries_as_many_distinct_values_as_trials_and_the_grid_fewer():
    random_rates = {c["learning_rate"] for c in
                    random_search_configs(SPACE, 27, np.random.default_rng(0))}
    grid_rates = {c["learning_rate"] for c in grid_search_configs(SPACE, 27)}
    assert len(random_rates) == 27 and len(grid_rates) == 3


@pytest.mark.parametrize("space, error", [
    ({}, TypeError), ({"lr": (1.0,)}, TypeError), ({"lr": (0.0, 1.0)}, ValueError),
    ({"lr": (1.0, 2.0, "cubic")}, ValueError), ({"lr": (2.0, 1.0, "linear")}, ValueError),
])
def test_bad_spaces_are_refused_with_a_reason(space, error):
    with pytest.raises(error):
        as_space(space)


def test_bad_budgets_and_generators_are_refused():
    with pytest.raises(ValueError, match="budget"):
        grid_search_configs(SPACE, 0)
    with pytest.raises(TypeError, match="Generator"):
        random_search_configs(SPACE, 3, 0)


def test_best_trials_and_narrowing_close_in_on_the_best():
    configs = [{"lr": 10.0 ** e} for e in (-5, -4, -3, -2, -1)]
    scores = [0.1, 0.5, 0.9, 0.8, float("nan")]
    assert best_trials(configs, scores, 2) == [configs[2], configs[3]]
    narrowed = narrow_space({"lr": (1e-5, 1e-1)}, configs, scores, top=2, margin=0.5)
    assert narrowed["lr"].low == pytest.approx(10 ** -3.5)
    assert narrowed["lr"].high == pytest.approx(10 ** -1.5)
    clipped = narrow_space({"lr": (1e-5, 1e-1)}, configs, [0, 0, 0, 0.5, 1.0], top=1)
    assert clipped["lr"].high == pytest.approx(1e-1) and clipped["lr"].low < 1e-1


def test_range_maps_the_unit_interval_onto_its_scale():
    np.testing.assert_allclose(Range(1e-4, 1.0).from_unit([0, 0.5, 1]), [1e-4, 1e-2, 1.0])
    np.testing.assert_allclose(Range(-1, 3, "linear").from_unit([0, 0.25, 1]), [-1, 0, 3])


def _score(config, offset):
    return -(np.log10(config["lr"]) + 2) ** 2 + offset


def test_run_trials_gives_the_same_scores_in_a_pool_or_here():
    configs = random_search_configs({"lr": (1e-4, 1.0)}, 8, np.random.default_rng(1))
    trial = functools.partial(_score, offset=1.0)
    here, jobs_here = run_trials(trial, configs, jobs=1)
    pooled, jobs_used = run_trials(trial, configs, jobs=2)
    assert jobs_here == 1 and jobs_used in (1, 2)
    assert here == pooled == [trial(c) for c in configs]
