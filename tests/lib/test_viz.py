"""Plots and explorers: the right axes, the library's own functions, widgets that redraw."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from cs231n_lib.activations import ACTIVATIONS
from cs231n_lib.checks import ShapeError
from cs231n_lib.viz import (
    activation_explorer,
    deep_net_activations,
    grid_image,
    init_histogram_explorer,
    plot_activation,
    plot_activation_histograms,
    plot_grid,
)

matplotlib.use("Agg")


def _curves(ax):
    lines = {line.get_gid(): line for line in ax.lines}
    return lines["f"], lines["df"]


@pytest.mark.parametrize("name, regions", [("sigmoid", 2), ("tanh", 2), ("relu", 1)])
def test_activation_plot_shades_each_saturated_region(name, regions):
    fig = plot_activation(name, x_range=6.0, threshold=0.05)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.patches) == regions
    f, df = ACTIVATIONS[name]
    f_line, df_line = _curves(ax)
    x, y = f_line.get_data()
    np.testing.assert_allclose(y, f(x))              # the library's own function
    np.testing.assert_allclose(df_line.get_ydata(), df(x))


def test_saturation_threshold_moves_the_shading():
    ax = plot_activation("sigmoid", x_range=6.0, threshold=0.2).axes[0]
    (left, right) = ax.patches
    # s(1 - s) = 0.2 where s = (1 + sqrt(0.2)) / 2, i.e. at |x| = 0.96
    assert left.get_x() == pytest.approx(-6.0)
    edge = left.get_x() + left.get_width()
    assert -1.2 < edge < -0.8
    assert len(plot_activation("elu", x_range=1.0, threshold=0.05).axes[0].patches) == 0


def test_activation_plot_takes_a_pair_of_functions():
    fig = plot_activation((np.sin, np.cos), x_range=3.0, threshold=0.1)
    assert "sin" in fig.axes[0].get_title()
    with pytest.raises(ValueError, match="'sigmoid'"):
        plot_activation("swish")


@pytest.mark.parametrize("layers", [10, 7, 1])
def test_one_histogram_per_layer_with_mean_and_std(layers):
    rng = np.random.default_rng(0)
    acts = [rng.normal(0, 1.0 / (i + 1), size=(200, 30)) for i in range(layers)]
    fig = plot_activation_histograms(acts)
    assert len(fig.axes) == layers
    for ax, a in zip(fig.axes, acts, strict=True):
        title = ax.get_title()
        assert f"mean {a.mean():.3g}" in title and f"std {a.std():.3g}" in title
        assert ax.get_xlim() == fig.axes[0].get_xlim()   # one shared range


def test_histograms_from_a_dict_use_its_names():
    fig = plot_activation_histograms({"conv1": np.zeros(5), "fc": np.ones(5)})
    assert [ax.get_title().splitlines()[0] for ax in fig.axes] == ["conv1", "fc"]
    with pytest.raises(ValueError, match="empty"):
        plot_activation_histograms([])


def test_grid_image_places_each_tile():
    tiles = np.arange(6 * 3 * 2 * 2, dtype=float).reshape(6, 3, 2, 2)
    grid = grid_image(tiles, padding=1, ncols=3, scale="each")
    assert grid.shape == (2 * 3 - 1, 3 * 3 - 1, 3)
    # tile 4 (row 1, column 1), stretched to [0, 1] on its own
    np.testing.assert_allclose(grid[3:5, 3:5].min(), 0.0)
    np.testing.assert_allclose(grid[3:5, 3:5].max(), 1.0)
    assert np.all(grid[2, :] == 1.0)                       # padding between rows
    grey = grid_image(np.random.default_rng(0).standard_normal((5, 4, 4)), padding=0)
    assert grey.shape == (8, 12)
    shared = grid_image(np.stack([np.zeros((1, 2, 2)), np.ones((1, 2, 2))]), scale="all")
    assert shared[0, 0] == 0.0 and shared[0, -1] == 1.0


def test_a_grid_shares_one_colour_scale_by_default():
    # a filter a hundred times smaller than its neighbour must look it, not look alike
    rng = np.random.default_rng(2)
    big = rng.standard_normal((1, 1, 3, 3))
    filters = np.concatenate([big, big / 100.0])
    grid = grid_image(filters, padding=1, ncols=2)
    small_tile, big_tile = grid[:, 4:], grid[:, :3]
    assert big_tile.max() == 1.0 and big_tile.min() == 0.0
    assert small_tile.max() - small_tile.min() < 0.02
    fig = plot_grid(filters, title="shared")
    shown = fig.axes[0].get_images()[0].get_array()
    np.testing.assert_array_equal(shown, grid)


def test_grid_rejects_other_channel_counts():
    with pytest.raises(ShapeError, match="1 or 3 channels"):
        grid_image(np.zeros((4, 5, 3, 3)))
    with pytest.raises(ShapeError):
        grid_image(np.zeros((3, 3)))


def test_plot_grid_has_one_axes():
    fig = plot_grid(np.random.default_rng(1).standard_normal((12, 3, 5, 5)), title="conv1")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "conv1"
    assert fig._repr_png_().startswith(b"\x89PNG")


def test_deep_net_shows_the_lectures_effects():
    small = deep_net_activations("small", "tanh", num_layers=6, hidden=200, num_samples=300)
    assert len(small) == 6 and small[0].shape == (300, 200)
    assert small[-1].std() < 1e-3 * small[0].std()         # activations collapse
    xavier = deep_net_activations("xavier", "tanh", num_layers=6, hidden=200, num_samples=300)
    assert xavier[-1].std() > 0.3 * xavier[0].std()         # stay well scaled
    large = deep_net_activations(1.0, "tanh", num_layers=6, hidden=200, num_samples=300)
    assert np.mean(np.abs(large[-1]) > 0.99) > 0.8           # saturated at +-1
    he = deep_net_activations("he", "relu", num_layers=6, hidden=200, num_samples=300)
    assert 0.5 < he[-1].std() / he[0].std() < 2.0


def test_activation_explorer_redraws_when_a_control_changes():
    explorer = activation_explorer(["sigmoid", "tanh", "relu"])
    first = explorer.figure
    assert "sigmoid" in first.axes[0].get_title()
    explorer.controls["activation"].value = "relu"
    assert explorer.figure is not first
    assert "relu" in explorer.figure.axes[0].get_title()
    explorer.controls["input range"].value = 12.0
    assert explorer.figure.axes[0].get_xlim() == (-12.0, 12.0)
    with pytest.raises(ValueError):
        activation_explorer(["nope"])


def test_init_explorer_uses_the_given_computation_and_caches_it():
    calls = []

    def compute(scheme, nonlinearity):
        calls.append((scheme, nonlinearity))
        scale = {"small": 0.01, "he": 2.0}.get(scheme, 1.0)
        return [np.full((4, 3), scale * (i + 1)) for i in range(10)]

    explorer = init_histogram_explorer(compute, schemes=["small", "he"],
                                       nonlinearities=("tanh", "relu"))
    assert calls == [("small", "tanh")]
    assert len(explorer.figure.axes) == 10
    before = explorer.figure
    explorer.controls["init"].value = "he"
    assert calls[-1] == ("he", "tanh")
    assert explorer.figure is not before
    assert "mean 2" in explorer.figure.axes[0].get_title()
    explorer.controls["nonlinearity"].value = "relu"
    explorer.controls["init"].value = "small"
    explorer.controls["nonlinearity"].value = "tanh"   # seen before: no recomputation
    assert calls == [("small", "tanh"), ("he", "tanh"), ("he", "relu"), ("small", "relu")]


def test_init_explorer_default_is_the_lectures_net():
    explorer = init_histogram_explorer(num_layers=3, hidden=50, num_samples=40)
    assert len(explorer.figure.axes) == 3
    labels = [label for label, _ in explorer.controls["init"].options]
    assert any("Xavier" in label for label in labels) and any("He" in label for label in labels)
    with pytest.raises(TypeError, match="only apply to the default"):
        init_histogram_explorer(lambda s, n: [], hidden=10)
