"""What the dashboard shows, as strings and PNG bytes computed from a trainer's state.

Each function reads the trainer (between steps) and returns HTML/SVG text
or PNG bytes; ``dashboard.py`` only puts them into widgets. Keeping this
separate lets tests and the benchmark exercise the same drawing code
without a browser.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from cs231n_lib.trainer.render import (
    html_predictions,
    png_bytes,
    png_data_uri,
    svg_curves,
    svg_histogram,
    to_display,
)
from cs231n_lib.viz import grid_image

__all__ = ["Picture", "status_html", "curves_html", "stats_html", "layer_images",
           "layer_histograms", "predictions_html", "smooth"]


def smooth(values, window=20) -> np.ndarray:
    """Running mean over the last ``window`` values (shorter at the start)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v
    cumulative = np.concatenate([[0.0], np.cumsum(np.nan_to_num(v))])
    counts = np.minimum(np.arange(1, v.size + 1), window)
    ends = np.arange(1, v.size + 1)
    return (cumulative[ends] - cumulative[ends - counts]) / counts


def status_html(trainer) -> str:
    """The step counter, speed, and the settings the last step used."""
    h = trainer.history
    parts = [f'<b>step <span class="cs231n-step">{trainer.steps_done}</span></b>',
             f'status: <span class="cs231n-status">{html.escape(trainer.status)}</span>']
    if h["step"]:
        speed = smooth(h["examples_per_s"], 10)[-1]
        parts += [f"loss {h['loss'][-1]:.4g}",
                  f"{speed:.0f} examples/s",
                  f"forward {smooth(h['forward_ms'], 10)[-1]:.3f} ms, backward "
                  f"{smooth(h['backward_ms'], 10)[-1]:.3f} ms per example",
                  f'last step: lr <span class="cs231n-last-lr">{h["lr"][-1]:.6g}</span>, '
                  f"momentum {h['momentum'][-1]:.3g}, batch {h['batch_size'][-1]}, "
                  f"weight decay {h['weight_decay'][-1]:.3g}"]
    if h["val_acc"]:
        parts.append(f"validation accuracy {h['val_acc'][-1]:.3f} (step {h['val_step'][-1]})")
    return '<div style="font:12px sans-serif">' + " &middot; ".join(parts) + "</div>"


def curves_html(trainer, max_points=400) -> str:
    """Loss (per step and smoothed) and accuracy (batch, smoothed; validation) as SVG."""
    h = trainer.history
    steps = np.asarray(h["step"], dtype=np.float64)
    every = max(1, math.ceil(len(steps) / max_points))  # long runs: thin the polyline
    loss = np.asarray(h["loss"], dtype=np.float64)
    loss_svg = svg_curves([("loss", steps[::every], loss[::every]),
                           ("smoothed", steps[::every], smooth(loss)[::every]),
                           ("validation", h["val_step"], h["val_loss"])],
                          title="loss", log_y=True)
    acc_svg = svg_curves([("train (batch, smoothed)", steps[::every],
                           smooth(h["train_acc"])[::every]),
                          ("validation", h["val_step"], h["val_acc"])], title="accuracy")
    return f'<div class="cs231n-curves" style="display:flex;gap:6px">{loss_svg}{acc_svg}</div>'


def _fmt(value, spec) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else format(value, spec)


def stats_html(trainer) -> str:
    """A table of ``layer_stats()``: dead ReLUs, saturation, update ratio, and more."""
    rows = []
    for name, s in trainer.layer_stats().items():
        ratio = s["update_ratio"]
        # The lecture's rule of thumb: about 1e-3; a factor of ten off is worth a look.
        flag = "" if math.isnan(ratio) or 1e-4 <= ratio <= 1e-2 else ' style="color:#d62728"'
        rows.append(f"<tr><td>{name}</td><td>{s['activation'] or '-'}</td>"
                    f"<td>{_fmt(s['act_mean'], '.3g')} &plusmn; {_fmt(s['act_std'], '.3g')}</td>"
                    f"<td>{_fmt(s['dead_relu'], '.1%')}</td><td>{_fmt(s['saturated'], '.1%')}</td>"
                    f"<td>{_fmt(s['weight_std'], '.3g')}</td>"
                    f"<td{flag}>{_fmt(ratio, '.2e')}</td></tr>")
    head = ("<tr><th>layer</th><th>act.</th><th>output mean &plusmn; std</th>"
            "<th>dead ReLU</th><th>saturated</th><th>weight std</th>"
            "<th>update / weight</th></tr>")
    return ('<table class="cs231n-stats" style="font:11px sans-serif">' + head
            + "".join(rows) + "</table>")


@dataclass
class Picture:
    """A PNG and its size in pixels (the widget shows it at exactly that size)."""

    png: bytes
    width: int
    height: int


def _zoomed(grid, target=220) -> Picture:
    """``grid`` enlarged by a whole factor (nearest pixel) to about ``target`` pixels wide."""
    zoom = int(np.clip(target // max(grid.shape[1], 1), 1, 16))
    return Picture(png_bytes(grid, zoom), grid.shape[1] * zoom, grid.shape[0] * zoom)


def _maps(a) -> np.ndarray:
    """One example's layer output as a grid image: channels ``(C, H, W)`` or a row ``(D,)``."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 3:
        return grid_image(a, scale="all")
    return grid_image(a.reshape(1, 1, -1), scale="all")


def _filters(w) -> np.ndarray:
    """Conv weights ``(F, C, k, k)`` (colour when C is 3) or fc weights ``(D, M)`` as a grid."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim == 4 and w.shape[1] == 3:
        return grid_image(w, scale="all")
    if w.ndim == 4:  # one row of channels per filter; a single channel: a square grid
        ncols = w.shape[1] if w.shape[1] > 1 else None
        return grid_image(w.reshape(-1, *w.shape[2:]), ncols=ncols, scale="all")
    return grid_image(w.T[None], scale="all")


def example_trace(trainer, index):
    """Forward and backward of validation image ``index`` alone (for the per-layer views)."""
    X, y = trainer.data["X_val"], trainer.data["y_val"]
    index = int(index) % len(X)
    with np.errstate(all="ignore"):
        return trainer.net.trace(X[index:index + 1] * trainer.input_scale,
                                 np.asarray(y[index:index + 1]))


def layer_images(trainer, spec, trace) -> dict:
    """``Picture``s of one layer: one example's maps and their gradients; filters and theirs."""
    images = {"activations": _zoomed(_maps(trace.activations[spec.name][0])),
              "activation gradients": _zoomed(_maps(trace.act_grads[spec.name][0]))}
    if spec.params:
        last = trainer.last_trace
        w = trainer.net.params[spec.params[0]]
        images["filters"] = _zoomed(_filters(w))
        if last is not None:
            images["filter gradients"] = _zoomed(_filters(last.grads[spec.params[0]]))
    return images


def layer_histograms(trainer, spec) -> str:
    """SVG histograms of the layer's outputs over the last batch, and of its weights."""
    last = trainer.last_trace
    parts = []
    if last is not None:
        parts.append(svg_histogram(last.activations[spec.name], title=f"{spec.name} outputs"))
    if spec.params:
        parts.append(svg_histogram(trainer.net.params[spec.params[0]],
                                   title=f"{spec.params[0]} weights", color="#ff7f0e"))
    return '<div style="display:flex;gap:6px">' + "".join(parts) + "</div>"


def _thumbnail(X, index, mean_image) -> str:
    image = to_display(X[index:index + 1], mean_image)[0]
    return png_data_uri(image, zoom=max(1, math.ceil(48 / image.shape[0])))


def predictions_html(trainer, start, count=8, thumbnails=None) -> str:
    """``count`` test images from ``start`` on, each with its top-3 class bars.

    ``thumbnails`` (a dict, kept by the caller) caches each image's PNG by
    index: the images never change, only the bars under them do.
    """
    data = trainer.data
    X = data.get("X_test", data["X_val"])
    y = np.asarray(data.get("y_test", data["y_val"]))
    idx = (start + np.arange(count)) % len(X)
    with np.errstate(all="ignore"):
        scores = trainer.net.predict(X[idx] * trainer.input_scale).astype(np.float64)
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
    thumbnails = {} if thumbnails is None else thumbnails
    if len(thumbnails) > 4 * count:
        thumbnails.clear()
    uris = []
    for i in idx:
        if i not in thumbnails:
            thumbnails[i] = _thumbnail(X, i, data.get("mean_image"))
        uris.append(thumbnails[i])
    names = data.get("class_names") or [str(k) for k in range(trainer.net.num_classes)]
    return html_predictions(uris, probs, y[idx], names)
