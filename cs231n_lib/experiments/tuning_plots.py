"""Figures of the training-process experiments (claims 8 to 10), as ``plots`` draws the rest.

Each ``plot_*`` takes its experiment's dataclass and draws only what is in it.
"""

from __future__ import annotations

import numpy as np

from cs231n_lib.experiments.fine_tuning import FineTuningResult
from cs231n_lib.experiments.random_search import SearchResult
from cs231n_lib.experiments.update_ratio import UpdateRatioResult
from cs231n_lib.viz import InlineFigure

__all__ = ["plot_search", "plot_fine_tuning", "plot_update_ratio", "PLOTS"]

_COLORS = ("#1f5fa8", "#d9641e", "#2e8b57", "#8e44ad", "#b03a2e", "#7f8c8d")


def _figure(ncols: int, width: float = 4.2, height: float = 3.3) -> tuple[InlineFigure, list]:
    fig = InlineFigure(figsize=(width * ncols, height), layout="constrained")
    return fig, [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def plot_search(result: SearchResult) -> InlineFigure:
    """The trials of both searches in the plane of the first two hyperparameters; best scores."""
    fig, (grid_ax, random_ax, best_ax) = _figure(3, width=3.9)
    x_name, y_name = result.names[0], result.names[1]
    lowest = min(result.grid_scores.min(), result.random_scores.min())
    for ax, configs, scores, title in (
            (grid_ax, result.grid_configs, result.grid_scores, "grid"),
            (random_ax, result.random_configs, result.random_scores, "random")):
        dots = ax.scatter(configs[:, 0], configs[:, 1], c=scores, vmin=lowest, vmax=1.0,
                          cmap="viridis", s=40, edgecolors="k", linewidths=0.4)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(x_name)
        ax.set_ylabel(y_name)
        distinct = len(np.unique(configs[:, 0]))
        ax.set_title(f"{title}: {len(scores)} trials, {distinct} values of {x_name}",
                     fontsize=9)
        ax.grid(alpha=0.3)
    fig.colorbar(dots, ax=random_ax, label="validation accuracy")
    budgets = result.budgets
    best_ax.plot(budgets, result.grid_best, marker="s", color=_COLORS[1], label="grid")
    best_ax.plot(budgets, np.median(result.random_best, axis=1), marker="o",
                 color=_COLORS[0], label=f"random (median of {result.random_best.shape[1]})")
    best_ax.fill_between(budgets, np.percentile(result.random_best, 10, axis=1),
                         np.percentile(result.random_best, 90, axis=1), color=_COLORS[0],
                         alpha=0.2, label="random, 10th-90th percentile")
    best_ax.set_xlabel("budget (trials)")
    best_ax.set_ylabel("best validation accuracy")
    best_ax.set_xticks(budgets)
    best_ax.set_title("best of the search", fontsize=9)
    best_ax.grid(alpha=0.3)
    best_ax.legend(fontsize=7)
    return fig


def plot_fine_tuning(result: FineTuningResult) -> InlineFigure:
    """Validation accuracy on the new classes over the steps, both starting points."""
    fig, (ax,) = _figure(1, width=5.5)
    for c, condition in enumerate(result.conditions):
        curves = result.val_accuracy[c]
        for curve in curves:
            ax.plot(result.steps, curve, color=_COLORS[c], alpha=0.15, lw=0.8)
        ax.plot(result.steps, curves.mean(axis=0), color=_COLORS[c], marker="o", ms=3,
                label=f"{condition} (mean of {len(curves)} seeds)")
    ax.axhline(result.target_accuracy, color="#999999", ls=":", lw=1.0, label="target")
    ax.set_xlabel("gradient steps on the new classes")
    ax.set_ylabel("validation accuracy (new classes)")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"{result.num_examples} examples of classes "
                 f"{result.new_classes[0]}-{result.new_classes[-1]}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def plot_update_ratio(result: UpdateRatioResult) -> InlineFigure:
    """Median ratio per layer against the learning rate; steps to the target."""
    fig, (ratio_ax, speed_ax) = _figure(2)
    for k, layer in enumerate(result.layers):
        ratio_ax.plot(result.learning_rates, result.ratio[:, k], marker="o", ms=3,
                      color=_COLORS[k % len(_COLORS)], label=layer)
    ratio_ax.axhline(1e-3, color="#999999", ls=":", lw=1.0, label="1e-3")
    speed_ax.plot(result.learning_rates, result.steps_to_target, marker="o", ms=3,
                  color=_COLORS[0])
    if result.fastest >= 0:
        for ax in (ratio_ax, speed_ax):
            ax.axvline(result.learning_rates[result.fastest], color=_COLORS[4], ls="--",
                       lw=1.0, label="fastest rate")
    ratio_ax.set_ylabel("median ||update|| / ||W||")
    ratio_ax.set_yscale("log")
    speed_ax.set_ylabel(f"steps to {100 * result.target_accuracy:.0f}% training accuracy")
    speed_ax.set_title("missing points: never reached (or did not stay)", fontsize=8)
    for ax in (ratio_ax, speed_ax):
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (SGD + momentum)")
        ax.grid(alpha=0.3)
    ratio_ax.legend(fontsize=7)
    return fig


#: result type -> its plot functions, for scripts that draw every result.
PLOTS = {
    SearchResult: (plot_search,),
    FineTuningResult: (plot_fine_tuning,),
    UpdateRatioResult: (plot_update_ratio,),
}
