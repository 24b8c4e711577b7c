"""Plots for lectures 5 and 6, and the notebooks' interactive explorers.

- ``plot_activation``: an activation function and its gradient, with the
  saturated regions (where ``|f'(x)|`` is below a threshold) shaded;
- ``plot_activation_histograms``: one histogram per layer, mean and std in
  each title, all on one x range so shrinking or saturating layers show;
- ``plot_grid`` / ``grid_image``: filters or feature maps tiled in a grid;
- ``activation_explorer`` and ``init_histogram_explorer``: ipywidgets that
  redraw those plots when a dropdown or slider changes.

Every function returns an ``InlineFigure``: a matplotlib ``Figure`` that a
notebook displays by itself (no pyplot, no ``%matplotlib`` magic) and that is
freed when no longer referenced. The activation functions are the library's
own (``cs231n_lib.activations.ACTIVATIONS``), so a plot shows what the layers
compute.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from cs231n_lib.checks import ShapeError, require_array

__all__ = [
    "InlineFigure", "plot_activation", "plot_activation_histograms", "grid_image",
    "plot_grid", "deep_net_activations", "activation_explorer", "init_histogram_explorer",
    "figure_explorer",
]


class InlineFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in a notebook."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def _activation_pair(activation) -> tuple[str, Callable, Callable]:
    """(name, f, f') from a name in ACTIVATIONS or a pair of callables."""
    from cs231n_lib.activations import ACTIVATIONS

    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))} "
                             f"or a pair (f, df); got {activation!r}.")
        f, df = ACTIVATIONS[activation]
        return activation, f, df
    try:
        f, df = activation
    except (TypeError, ValueError):
        raise TypeError("activation must be a name or a pair of functions (f, df); got "
                        f"{type(activation).__name__}.") from None
    return getattr(f, "__name__", "f"), f, df


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Start and end indices (inclusive) of each run of True in a 1-D mask."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def plot_activation(activation, *, x_range: float = 6.0, threshold: float = 0.05,
                    num_points: int = 801) -> InlineFigure:
    """Plot ``f(x)`` and ``f'(x)`` on ``[-x_range, x_range]``, shading saturation.

    Parameters
    ----------
    activation : str or (callable, callable)
        A name from ``cs231n_lib.activations.ACTIVATIONS`` (``'sigmoid'``,
        ``'tanh'``, ``'relu'``, ...) or a pair ``(f, df)`` of elementwise functions.
    x_range : float
        Half-width of the input interval.
    threshold : float
        Inputs where ``|f'(x)| < threshold`` are shaded: there almost no
        gradient flows back (saturated, or dead for ReLU's negative side).
    num_points : int
        Samples along x.

    Returns
    -------
    InlineFigure
        One axes: lines with gid ``'f'`` and ``'df'``, axis lines at 0, and one
        shaded span (a patch) per saturated region.
    """
    if not x_range > 0:
        raise ValueError(f"x_range must be > 0; got {x_range!r}.")
    name, f, df = _activation_pair(activation)
    x = np.linspace(-x_range, x_range, num_points)
    y, dy = np.asarray(f(x), dtype=float), np.asarray(df(x), dtype=float)
    fig = InlineFigure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.axhline(0, color="#999999", lw=0.8)
    ax.axvline(0, color="#999999", lw=0.8)
    for k, (start, end) in enumerate(_runs(np.abs(dy) < threshold)):
        ax.axvspan(x[start], x[end], color="#f2c1c1", alpha=0.6, lw=0,
                   label=f"|f'(x)| < {threshold:g}" if k == 0 else None)
    ax.plot(x, y, lw=2.0, color="#1f5fa8", label=f"{name}(x)", gid="f")
    ax.plot(x, dy, lw=2.0, ls="--", color="#d9641e", label=f"{name}'(x)", gid="df")
    ax.set_xlim(-x_range, x_range)
    ax.set_xlabel("x")
    share = float(np.mean(np.abs(dy) < threshold))
    ax.set_title(f"{name}: gradient below {threshold:g} on {share:.0%} of [-{x_range:g}, "
                 f"{x_range:g}]")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def plot_activation_histograms(activations, *, bins: int = 50, value_range=None,
                               ncols: int = 5) -> InlineFigure:
    """One histogram of activation values per layer.

    Parameters
    ----------
    activations : sequence of ndarray, or dict name -> ndarray
        Each layer's activations, any shape (all values are counted).
    bins : int
        Bins per histogram.
    value_range : (float, float), optional
        Shared x range; by default the smallest and largest value over all
        layers, so that layers can be compared by eye.
    ncols : int
        Subplots per row.

    Returns
    -------
    InlineFigure
        One axes per layer, titled with the layer's name, mean and std.
    """
    if isinstance(activations, Mapping):
        names, arrays = list(activations), list(activations.values())
    else:
        arrays = list(activations)
        names = [f"layer {i + 1}" for i in range(len(arrays))]
    if not arrays:
        raise ValueError("activations is empty; give one array per layer.")
    arrays = [np.asarray(require_array(f"activations[{n!r}]", a), dtype=float).ravel()
              for n, a in zip(names, arrays, strict=True)]
    if value_range is None:
        low = min(a.min() for a in arrays)
        high = max(a.max() for a in arrays)
        value_range = (low, high) if high > low else (low - 0.5, high + 0.5)
    ncols = min(ncols, len(arrays))
    nrows = math.ceil(len(arrays) / ncols)
    fig = InlineFigure(figsize=(2.6 * ncols, 2.3 * nrows), layout="constrained")
    for i, (name, values) in enumerate(zip(names, arrays, strict=True)):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        counts, edges = np.histogram(values, bins=bins, range=value_range)
        ax.stairs(counts, edges, fill=True, color="#4c78a8")
        ax.set_xlim(*value_range)
        ax.set_yticks([])
        ax.set_title(f"{name}\nmean {values.mean():.3g}  std {values.std():.3g}", fontsize=9)
    return fig


def grid_image(images, *, padding: int = 1, ncols: int | None = None,
               scale: str = "all") -> np.ndarray:
    """Tile images, filters or feature maps into one image.

    Parameters
    ----------
    images : ndarray
        ``(N, 3, H, W)`` colour or ``(N, 1, H, W)`` grey images or filters
        (e.g. conv1's weights), or ``(N, H, W)`` grey maps (e.g. the channels
        of one image's activations ``a[i]``).
    padding : int
        Pixels between tiles.
    ncols : int, optional
        Tiles per row; about a square by default.
    scale : {'all', 'each'}
        ``'all'`` (default): one colour scale for the whole grid, the grid's
        smallest value black and its largest white, so that a weak filter looks
        weak next to a strong one. ``'each'``: every tile stretched to [0, 1] on
        its own, which shows each tile's pattern but hides how their sizes
        compare (tiny random filters then look like trained ones).

    Returns
    -------
    ndarray
        ``(rows*(H+padding)-padding, ncols*(W+padding)-padding, 3)`` values in
        [0, 1], or 2-D for grey input; padding is 1.0 (white).
    """
    x = require_array("images", images, ndim=(3, 4), layout="(N, C, H, W) or (N, H, W)")
    if x.ndim == 4:
        if x.shape[1] not in (1, 3):
            raise ShapeError(f"images must have 1 or 3 channels to show as grey or colour; got "
                             f"shape {x.shape}. To see each channel of one sample i as a grey "
                             "map, pass images[i] (shape (C, H, W)).")
        tiles = x.transpose(0, 2, 3, 1).astype(float)
        if tiles.shape[-1] == 1:
            tiles = tiles[..., 0]
    else:
        tiles = x.astype(float)
    if scale not in ("each", "all"):
        raise ValueError(f"scale must be 'each' or 'all'; got {scale!r}.")
    axes = tuple(range(1, tiles.ndim))
    if scale == "each":
        low = tiles.min(axis=axes, keepdims=True)
        high = tiles.max(axis=axes, keepdims=True)
    else:
        low, high = tiles.min(), tiles.max()
    tiles = (tiles - low) / np.where(high > low, high - low, 1.0)
    n, h, w = tiles.shape[:3]
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    grid = np.ones((nrows * (h + padding) - padding, ncols * (w + padding) - padding,
                    *tiles.shape[3:]))
    for i in range(n):
        r, c = divmod(i, ncols)
        grid[r * (h + padding):r * (h + padding) + h, c * (w + padding):c * (w + padding) + w] \
            = tiles[i]
    return grid


def plot_grid(images, *, title: str | None = None, padding: int = 1,
              ncols: int | None = None, scale: str = "all") -> InlineFigure:
    """Show ``grid_image(images, ...)`` in a figure with one axes (one colour scale
    for the whole grid unless ``scale='each'``)."""
    grid = grid_image(images, padding=padding, ncols=ncols, scale=scale)
    height = 5.0 * grid.shape[0] / max(grid.shape[1], 1)
    fig = InlineFigure(figsize=(5.0, max(height, 1.0) + (0.4 if title else 0)),
                       layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(grid, cmap="gray" if grid.ndim == 2 else None, vmin=0.0, vmax=1.0,
              interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


# ------------------------------------------------------------------ explorers

def deep_net_activations(scheme, nonlinearity: str, *, num_layers: int = 10,
                         hidden: int = 500, num_samples: int = 1000,
                         seed: int = 0) -> list[np.ndarray]:
    """Forward unit-Gaussian data through a deep net just initialised with ``scheme``.

    The lecture's experiment: ``num_layers`` fully connected layers of
    ``hidden`` units, no biases, weights from ``cs231n_lib.init.initialize``.

    Parameters
    ----------
    scheme : str or float
        ``'small'``, ``'xavier'``, ``'he'`` or a standard deviation.
    nonlinearity : str
        A name from ``cs231n_lib.activations.ACTIVATIONS``.

    Returns
    -------
    list of ndarray
        ``num_layers`` arrays of shape ``(num_samples, hidden)``, float64.
    """
    from cs231n_lib.init import initialize

    _, f, _ = _activation_pair(nonlinearity)
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((num_samples, hidden))
    layers = []
    for _ in range(num_layers):
        h = f(h @ initialize(scheme, h.shape[1], hidden, rng))
        layers.append(h)
    return layers


def _widgets():
    try:
        import ipywidgets
    except ImportError:  # pragma: no cover - ipywidgets is in requirements.txt
        raise ImportError("the explorers need ipywidgets (pip install ipywidgets).") from None
    return ipywidgets


def _show(output, fig) -> None:
    """Put ``fig`` in an Output widget; outside a notebook there is nowhere to show it."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    if get_ipython() is None:
        return
    from IPython.display import display

    output.clear_output(wait=True)
    with output:
        display(fig)


@functools.cache
def _explorer_class():
    """The widget class, made on first use so importing viz does not need ipywidgets."""
    ipywidgets = _widgets()

    class _Explorer(ipywidgets.VBox):
        """Controls above an output area; ``figure`` is the last figure drawn."""

        def __init__(self, controls, draw):
            self._draw = draw
            self.output = ipywidgets.Output()
            self.controls = {c.description: c for c in controls}
            self.figure = None
            super().__init__(children=[ipywidgets.HBox(list(controls)), self.output])
            for control in controls:
                control.observe(lambda _change: self.redraw(), names="value")
            self.redraw()

        def redraw(self):
            """Draw with the controls' current values; returns the new figure."""
            values = {name: c.value for name, c in self.controls.items()}
            self.figure = self._draw(**values)
            _show(self.output, self.figure)
            return self.figure

    return _Explorer


def figure_explorer(controls, draw):
    """A widget: ``controls`` in a row above the figure ``draw(**values)`` returns.

    ``draw`` receives each control's value keyed by its ``description``; the
    widget redraws whenever one changes and keeps the last figure in
    ``.figure`` (tests read it). Headless, nothing is displayed and nothing blocks.
    """
    return _explorer_class()(controls, draw)


def activation_explorer(names: Sequence[str] | None = None, *, x_range: float = 6.0,
                        threshold: float = 0.05):
    """Pick an activation and an input range; see the function, its gradient, saturation.

    Parameters
    ----------
    names : sequence of str, optional
        Activations to offer (all of ``ACTIVATIONS`` by default).
    x_range : float
        Starting half-width of the input interval (the slider goes 1 to 20).
    threshold : float
        ``|f'|`` below which a region is shaded.

    Returns
    -------
    ipywidgets.VBox
        A dropdown ``activation`` and a slider ``input range``; ``.figure`` is
        the figure drawn last and ``.controls`` maps each description to its widget.
    """
    from cs231n_lib.activations import ACTIVATIONS

    ipywidgets = _widgets()
    names = list(names) if names is not None else list(ACTIVATIONS)
    for name in names:
        _activation_pair(name)  # unknown names fail here, not inside a callback
    dropdown = ipywidgets.Dropdown(options=names, value=names[0], description="activation")
    slider = ipywidgets.FloatSlider(value=x_range, min=1.0, max=20.0, step=0.5,
                                    description="input range", continuous_update=False)

    def draw(**values):
        return plot_activation(values["activation"], x_range=values["input range"],
                               threshold=threshold)

    return figure_explorer([dropdown, slider], draw)


INIT_CHOICES = (("small: 0.01 * randn", "small"), ("large: 1.0 * randn", 1.0),
                ("Xavier", "xavier"), ("He", "he"))


def init_histogram_explorer(compute_activations: Callable | None = None, *,
                            schemes: Sequence = INIT_CHOICES,
                            nonlinearities: Sequence[str] = ("tanh", "relu"),
                            **net_options):
    """The lecture's 10-layer, 500-unit experiment as a widget.

    Parameters
    ----------
    compute_activations : callable, optional
        ``compute_activations(scheme, nonlinearity) -> list of per-layer
        arrays``; by default ``deep_net_activations`` with ``net_options``
        (``num_layers``, ``hidden``, ``num_samples``, ``seed``).
    schemes : sequence
        Dropdown options: ``(label, scheme)`` pairs or plain schemes.
    nonlinearities : sequence of str
        Dropdown options for the nonlinearity.

    Returns
    -------
    ipywidgets.VBox
        Dropdowns ``init`` and ``nonlinearity``; ``.figure`` is the last
        figure drawn (one histogram per layer). Results are cached per choice.
    """
    ipywidgets = _widgets()
    if compute_activations is None:
        def compute_activations(scheme, nonlinearity):
            return deep_net_activations(scheme, nonlinearity, **net_options)
    elif net_options:
        raise TypeError(f"{', '.join(net_options)} only apply to the default computation; "
                        "pass them to your compute_activations instead.")
    options = [s if isinstance(s, tuple) else (str(s), s) for s in schemes]
    init = ipywidgets.Dropdown(options=options, value=options[0][1], description="init")
    nonlin = ipywidgets.Dropdown(options=list(nonlinearities), value=nonlinearities[0],
                                 description="nonlinearity")
    cache: dict = {}

    def draw(**values):
        key = (values["init"], values["nonlinearity"])
        if key not in cache:
            cache[key] = compute_activations(*key)
        return plot_activation_histograms(cache[key])

    return figure_explorer([init, nonlin], draw)
