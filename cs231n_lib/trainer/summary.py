"""The static summary figure: what a headless run (nbconvert, grading, tests) leaves behind."""

from __future__ import annotations

import numpy as np

from cs231n_lib.trainer.views import smooth
from cs231n_lib.viz import InlineFigure, grid_image

__all__ = ["summary_figure"]


def _first_filters(trainer):
    """The first conv layer's filters ``(F, C, k, k)``, or None without a conv layer."""
    for spec in trainer.net.layers:
        if spec.kind == "conv":
            return spec.name, trainer.net.params[spec.params[0]]
    return None, None


def _plot_curves(ax_loss, ax_acc, h) -> None:
    if h["step"]:
        ax_loss.plot(h["step"], h["loss"], lw=0.6, alpha=0.5, label="loss (batch)")
        ax_loss.plot(h["step"], smooth(h["loss"]), lw=1.5, label="smoothed")
        ax_acc.plot(h["step"], smooth(h["train_acc"]), label="train (batch, smoothed)")
    if h["val_step"]:
        ax_loss.plot(h["val_step"], h["val_loss"], "o-", ms=3, label="validation")
        ax_acc.plot(h["val_step"], h["val_acc"], "o-", ms=3, label="validation")
    ax_loss.set(xlabel="step", ylabel="loss", title="loss")
    ax_acc.set(xlabel="step", ylabel="accuracy", title="accuracy", ylim=(0, 1))
    for ax in (ax_loss, ax_acc):
        ax.legend(fontsize=7)


def _plot_ratios(ax, stats) -> None:
    names = [n for n, s in stats.items() if np.isfinite(s["update_ratio"])]
    ratios = [stats[n]["update_ratio"] for n in names]
    ax.bar(names, ratios, color="#1f77b4")
    ax.axhline(1e-3, color="k", ls="--", lw=0.8, label="1e-3 (lecture 6)")
    ax.set_yscale("log")
    ax.set_title("update / weight ratio (last step)")
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=7)


def summary_figure(trainer) -> InlineFigure:
    """Loss and accuracy curves, update ratios, and the first layer's filters.

    Returns an ``InlineFigure`` (shows itself as a PNG in a notebook, nothing
    to display otherwise).
    """
    fig = InlineFigure(figsize=(11, 3.2), layout="constrained")
    axes = fig.subplots(1, 4, width_ratios=[1.3, 1.3, 1, 1])
    h = trainer.history
    _plot_curves(axes[0], axes[1], h)
    _plot_ratios(axes[2], trainer.layer_stats())
    name, filters = _first_filters(trainer)
    if filters is not None:
        f = filters.astype(np.float64)
        tiles = f if f.shape[1] == 3 else f[:, 0]
        axes[3].imshow(grid_image(tiles, scale="all"), cmap="gray", interpolation="nearest")
        axes[3].set_title(f"{name} filters")
    axes[3].axis("off")
    speed = np.mean(h["examples_per_s"][-50:]) if h["step"] else 0.0
    fig.suptitle(f"{trainer.steps_done} steps, {trainer.net.dtype.name}, "
                 f"{speed:.0f} examples/s", fontsize=10)
    return fig
