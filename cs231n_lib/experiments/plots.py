"""One figure per experiment result, for the notebooks and ``docs/results.md``.

Each ``plot_*`` takes the dataclass its experiment returned and draws only
what is in it (no number is computed here), as an
:class:`~cs231n_lib.viz.InlineFigure` that a notebook shows by itself and a
script saves with ``fig.savefig(path)``.
"""

from __future__ import annotations

import numpy as np

from cs231n_lib.experiments.batchnorm_training import BatchnormResult
from cs231n_lib.experiments.dead_relu import DeadReluResult
from cs231n_lib.experiments.init_depth import InitDepthResult
from cs231n_lib.experiments.relu_vs_tanh import ConvergenceResult
from cs231n_lib.experiments.saturation import SaturationResult
from cs231n_lib.experiments.small_data import SmallDataResult
from cs231n_lib.experiments.zero_centering import ZeroCenteringResult
from cs231n_lib.viz import InlineFigure

__all__ = ["plot_init_depth", "plot_init_histograms", "plot_saturation",
           "plot_relu_vs_tanh", "plot_dead_relus", "plot_batchnorm",
           "plot_batchnorm_distribution", "plot_zero_centering",
           "plot_small_data", "PLOTS"]

_COLORS = ("#1f5fa8", "#d9641e", "#2e8b57", "#8e44ad", "#b03a2e", "#7f8c8d")


def _figure(ncols: int, width: float = 4.2, height: float = 3.3) -> tuple[InlineFigure, list]:
    fig = InlineFigure(figsize=(width * ncols, height), layout="constrained")
    return fig, [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def plot_init_depth(result: InitDepthResult) -> InlineFigure:
    """Standard deviation of the activations per layer, one panel per nonlinearity."""
    fig, axes = _figure(len(result.nonlinearities))
    layers = np.arange(1, result.num_layers + 1)
    for i, (ax, nonlinearity) in enumerate(zip(axes, result.nonlinearities, strict=True)):
        for j, scheme in enumerate(result.schemes):
            ax.plot(layers, result.std[i, j], marker="o", ms=3, color=_COLORS[j], label=scheme)
        ax.set_yscale("log")
        ax.set_xlabel("layer")
        ax.set_ylabel("std of activations")
        ax.set_title(f"{nonlinearity}, {result.num_layers} x {result.hidden} units")
        ax.set_xticks(layers)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return fig


def plot_init_histograms(result: InitDepthResult) -> InlineFigure:
    """The lecture's picture: one row of per-layer histograms per (nonlinearity, scheme)."""
    rows = [(i, j) for i in range(len(result.nonlinearities)) for j in range(len(result.schemes))]
    fig = InlineFigure(figsize=(1.15 * result.num_layers + 1.2, 0.95 * len(rows) + 0.5),
                       layout="constrained")
    grid = fig.add_gridspec(len(rows), result.num_layers)
    for r, (i, j) in enumerate(rows):
        edges = result.hist_edges[i, j]
        for k in range(result.num_layers):
            ax = fig.add_subplot(grid[r, k])
            counts = result.hist_counts[i, j, k]
            ax.stairs(counts, edges, fill=True, color=_COLORS[j])
            ax.set_xlim(edges[0], edges[-1])
            zero = result.zero[i, j, k]
            if zero > 0.3 and counts[1:].max() > 0:
                # ReLU's exact zeros would dwarf the rest: clip their bar, say how many
                ax.set_ylim(0, 1.15 * counts[1:].max())
                ax.text(0.97, 0.92, f"{zero:.0%} zeros", transform=ax.transAxes,
                        ha="right", va="top", fontsize=6)
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            ax.set_xticks([edges[0], edges[-1]])
            ax.set_xticklabels([f"{edges[0]:.2g}", f"{edges[-1]:.2g}"])
            if r == 0:
                ax.set_title(f"layer {k + 1}", fontsize=8)
            if k == 0:
                ax.set_ylabel(f"{result.nonlinearities[i]}\n{result.schemes[j]}", fontsize=8)
    return fig


def plot_saturation(result: SaturationResult) -> InlineFigure:
    """Gradient reaching the inputs and mean local gradient of layer 1 against input scale."""
    fig, (left, right) = _figure(2)
    for i, name in enumerate(result.activations):
        left.plot(result.scales, result.input_grad_norm[i], marker="o", ms=3,
                  color=_COLORS[i], label=name)
        right.plot(result.scales, result.local_grad[i], marker="o", ms=3, color=_COLORS[i],
                   label=name)
    left.set_ylabel("||dL/dX|| through the first layer")
    right.set_ylabel("mean f'(a) of layer-1 units")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("input scale")
        ax.grid(alpha=0.3)
    left.set_title(f"{result.num_layers}-layer stack, {result.hidden} units")
    right.set_title("first layer's local gradient")
    left.legend(fontsize=8)
    return fig


def plot_relu_vs_tanh(result: ConvergenceResult) -> InlineFigure:
    """Training error per epoch at each activation's best rate; epochs to target per rate."""
    fig, (left, right) = _figure(2)
    for i, name in enumerate(result.activations):
        rate = result.best_rate[i]
        left.plot(result.epochs, result.best_curve(name), marker="o", ms=3, color=_COLORS[i],
                  ls="-" if name == "relu" else "--", label=f"{name} (lr {rate:g})")
        right.plot(result.learning_rates, result.epochs_to_target[i], marker="o",
                   color=_COLORS[i], ls="-" if name == "relu" else "--", label=name)
    left.axhline(result.target_error, color="#999999", lw=0.8)
    # linear below one example's worth of error, where a log axis would lose the zeros
    left.set_yscale("symlog", linthresh=1.0 / result.num_train)
    left.set_ylim(0, 1)
    left.set_xlabel("epoch")
    left.set_ylabel("training error")
    left.set_title(f"ratio tanh / ReLU: {result.ratio:.2f} (paper: about 6)")
    right.set_xscale("log")
    right.set_xlabel("learning rate")
    right.set_ylabel(f"epochs to {result.target_error:.0%} training error")
    right.set_title("missing point: never reached")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def plot_dead_relus(result: DeadReluResult) -> InlineFigure:
    """Share of dead hidden units after a large step and after a negative bias."""
    fig, (left, right) = _figure(2)
    dims = result.hidden_dims
    healthy = float(result.overall(result.healthy_dead, dims))
    for ax, x, before, after, label in (
            (left, result.step_sizes, result.step_dead_before, result.step_dead_after,
             "learning rate of the one large step"),
            (right, result.biases, result.bias_dead_before, result.bias_dead_after,
             "initial bias of every hidden unit")):
        ax.plot(x, result.overall(before, dims), marker="o", color=_COLORS[1],
                label="right after")
        ax.plot(x, result.overall(after, dims), marker="s", color=_COLORS[4],
                label=f"after {result.num_epochs} epochs of training")
        ax.axhline(healthy, color=_COLORS[2], ls="--", label=f"healthy run ({healthy:.0%})")
        ax.set_xlabel(label)
        ax.set_ylabel("dead share of hidden units")
        ax.set_ylim(-0.03, 1.03)
        ax.grid(alpha=0.3)
    left.set_xscale("log")
    left.set_title("one step with a too large learning rate")
    right.set_title("negative bias at initialisation")
    left.legend(fontsize=8)
    return fig


def plot_batchnorm(result: BatchnormResult) -> InlineFigure:
    """Curves at the fastest rate; final accuracy over learning rates and weight scales."""
    fig, axes = _figure(3, width=3.8)
    labels = {None: "no batchnorm", "batchnorm": "batchnorm"}
    for n, normalization in enumerate(result.normalizations):
        steps = result.rate_steps[n]
        j = int(np.nanargmin(steps)) if np.isfinite(steps).any() else 0
        style = {"color": _COLORS[n], "ls": "--" if normalization is None else "-"}
        axes[0].plot(result.steps, result.rate_accuracy[n, j], marker="o", ms=3, **style,
                     label=f"{labels[normalization]} (lr {result.learning_rates[j]:g})")
        axes[1].plot(result.learning_rates, result.rate_accuracy[n, :, -1], marker="o",
                     **style, label=labels[normalization])
        axes[2].plot(result.weight_scales, result.scale_accuracy[n, :, -1], marker="o",
                     **style, label=labels[normalization])
    axes[0].axhline(result.target_accuracy, color="#999999", lw=0.8)
    axes[0].set_xlabel("gradient steps")
    axes[0].set_ylabel("training accuracy")
    axes[0].set_title(f"fastest runs: {result.speedup:.1f}x fewer steps")
    axes[1].set_title("tolerance of the learning rate")
    axes[1].set_xlabel("learning rate (Xavier weights)")
    axes[2].set_title("tolerance of the initial scale")
    axes[2].set_xlabel(f"weight std (learning rate {result.learning_rate:g})")
    for ax in axes[1:]:
        ax.set_xscale("log")
        ax.set_ylabel(f"training accuracy after {result.num_epochs} epochs")
    for ax in axes:
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def plot_batchnorm_distribution(result: BatchnormResult) -> InlineFigure:
    """The paper's Figure 1 (b, c): one sigmoid's input percentiles over training."""
    fig, axes = _figure(2, height=3.0)
    if result.unit_percentiles.size == 0:
        for ax in axes:
            ax.text(0.5, 0.5, f"measured for sigmoid nets only\n(this one: {result.activation})",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        return fig
    epochs = np.arange(result.unit_percentiles.shape[1])
    low = float(result.unit_percentiles.min())
    high = float(result.unit_percentiles.max())
    pad = 0.05 * (high - low)
    for n, (ax, normalization) in enumerate(zip(axes, result.normalizations, strict=True)):
        p = result.unit_percentiles[n]
        ax.fill_between(epochs, p[:, 0], p[:, 2], color=_COLORS[n], alpha=0.25,
                        label="15th to 85th percentile")
        ax.plot(epochs, p[:, 1], color=_COLORS[n], marker="o", ms=3, label="median")
        ax.set_ylim(low - pad, high + pad)
        ax.set_xlabel("epoch")
        ax.set_ylabel("input of one last-layer sigmoid")
        name = "without batchnorm" if normalization is None else "with batchnorm"
        ax.set_title(f"{name}:\nmedian wanders {result.drift(normalization):.2f} spreads",
                     fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def plot_zero_centering(result: ZeroCenteringResult) -> InlineFigure:
    """Accuracy per epoch at each condition's fastest rate; epochs to target per rate."""
    fig, (left, right) = _figure(2)
    for c, condition in enumerate(result.conditions):
        row = result.epochs_to_target[c]
        j = int(np.nanargmin(row)) if np.isfinite(row).any() else 0
        style = {"color": _COLORS[c], "ls": "-" if condition == "centred" else "--"}
        left.plot(result.epochs, result.accuracy[c, j], marker="o", ms=3, **style,
                  label=f"{condition} (lr {result.learning_rates[j]:g})")
        right.plot(result.learning_rates, row, marker="o", **style, label=condition)
    left.axhline(result.target_accuracy, color="#999999", lw=0.8)
    left.set_xlabel("epoch")
    left.set_ylabel("training accuracy")
    left.set_title(f"raw / centred epochs: {result.ratio:.2f}")
    right.set_xscale("log")
    right.set_xlabel("learning rate")
    right.set_ylabel(f"epochs to {result.target_accuracy:.0%} training accuracy")
    right.set_title("missing point: never reached")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def plot_small_data(result: SmallDataResult) -> InlineFigure:
    """Overfitting curve of the small set; initial loss against log(C)."""
    fig, (left, right) = _figure(2)
    checks = np.arange(len(result.train_acc_history))
    left.plot(checks, result.train_acc_history, marker="o", ms=3, color=_COLORS[0],
              label=f"training ({result.num_examples} examples)")
    left.plot(checks, result.val_acc_history, marker="o", ms=3, color=_COLORS[1], ls="--",
              label="validation")
    left.set_xlabel("epoch")
    left.set_ylabel("accuracy")
    left.set_ylim(0, 1.02)
    left.set_title("overfit a small set first")
    log_c = result.log_c
    right.plot(log_c, log_c, color="#999999", lw=1.0, label="loss = log(C)")
    right.plot(log_c, result.initial_loss, marker="o", ls="none", color=_COLORS[0],
               label="weights 0.01 * randn")
    right.plot(log_c, result.initial_loss_large, marker="s", ls="none", color=_COLORS[4],
               label=f"weights {result.large_scale:g} * randn")
    for c, x in zip(result.num_classes, log_c, strict=True):
        right.annotate(f"C={c}", (x, x), textcoords="offset points", xytext=(4, -10),
                       fontsize=7)
    right.set_yscale("log")
    right.set_xlabel("log(C)")
    right.set_ylabel("initial softmax loss")
    right.set_title("initial loss against log(C)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


#: result type -> its plot functions, for scripts that draw every result.
PLOTS = {
    InitDepthResult: (plot_init_depth, plot_init_histograms),
    SaturationResult: (plot_saturation,),
    ConvergenceResult: (plot_relu_vs_tanh,),
    DeadReluResult: (plot_dead_relus,),
    BatchnormResult: (plot_batchnorm, plot_batchnorm_distribution),
    ZeroCenteringResult: (plot_zero_centering,),
    SmallDataResult: (plot_small_data,),
}
