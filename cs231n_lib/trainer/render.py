"""Cheap drawing for the live dashboard: PNG tiles, SVG curves and histograms, HTML bars.

A matplotlib figure costs 100-300 ms to draw, too much to redraw twice a
second next to training; the live views are therefore plain PNG images
(Pillow, a few milliseconds), SVG polylines and HTML, built from numpy
arrays. Matplotlib is used only for the static summary (``summary.py``).
"""

from __future__ import annotations

import base64
import html
import io
import math

import numpy as np
from PIL import Image

__all__ = ["png_bytes", "png_data_uri", "svg_curves", "svg_histogram", "html_predictions",
           "to_display"]

HISTOGRAM_SAMPLES = 50_000
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")


def png_bytes(image, zoom=1) -> bytes:
    """PNG of ``image``: ``(H, W)`` grey or ``(H, W, 3)`` colour, values in [0, 1]."""
    pixels = np.clip(np.nan_to_num(np.asarray(image, dtype=np.float64)), 0.0, 1.0)
    pixels = (pixels * 255 + 0.5).astype(np.uint8)
    if zoom > 1:
        pixels = pixels.repeat(zoom, axis=0).repeat(zoom, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def png_data_uri(image, zoom=1) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image, zoom)).decode()


def to_display(images, mean_image=None) -> np.ndarray:
    """Images ``(N, C, H, W)`` as ``(N, H, W, 3)`` or ``(N, H, W)`` in [0, 1], each stretched."""
    x = np.asarray(images, dtype=np.float64)
    if mean_image is not None:
        x = x + mean_image
    low = x.min(axis=(1, 2, 3), keepdims=True)
    high = x.max(axis=(1, 2, 3), keepdims=True)
    x = (x - low) / np.where(high > low, high - low, 1.0)
    return x.transpose(0, 2, 3, 1) if x.shape[1] == 3 else x[:, 0]


def _ticks(low, high) -> tuple[str, str]:
    return f"{low:.3g}", f"{high:.3g}"


def svg_curves(series, *, width=360, height=170, title="", log_y=False) -> str:
    """Line plot of ``series``: a list of ``(label, xs, ys)``; one SVG string.

    Non-finite points are dropped; with ``log_y`` the y axis is log10.
    """
    pad_l, pad_b, pad_t = 44, 18, 20
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    clean = []
    for label, xs, ys in series:
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        keep = np.isfinite(ys) & ((ys > 0) if log_y else True)
        ys = np.log10(ys[keep]) if log_y else ys[keep]
        clean.append((label, xs[keep], ys))
    all_x = np.concatenate([c[1] for c in clean]) if clean else np.zeros(0)
    all_y = np.concatenate([c[2] for c in clean]) if clean else np.zeros(0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'style="background:#fff;font:10px sans-serif">',
             f'<text x="{pad_l}" y="13" font-weight="bold">{html.escape(title)}</text>',
             f'<rect x="{pad_l}" y="{pad_t}" width="{plot_w}" height="{plot_h}" '
             'fill="none" stroke="#999"/>']
    if all_y.size:
        x0, x1 = float(all_x.min()), float(all_x.max())
        y0, y1 = float(all_y.min()), float(all_y.max())
        x1, y1 = (x0 + 1 if x1 == x0 else x1), (y0 + 1 if y1 == y0 else y1)
        for i, (label, xs, ys) in enumerate(clean):
            px = pad_l + (xs - x0) / (x1 - x0) * plot_w
            py = pad_t + (1 - (ys - y0) / (y1 - y0)) * plot_h
            points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))
            color = COLORS[i % len(COLORS)]
            parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                         'stroke-width="1.3"/>')
            parts.append(f'<text x="{width - 8}" y="{pad_t + 12 + 12 * i}" text-anchor="end" '
                         f'fill="{color}">{html.escape(label)}</text>')
        low, high = _ticks(10 ** y0, 10 ** y1) if log_y else _ticks(y0, y1)
        parts += [f'<text x="{pad_l - 3}" y="{pad_t + 8}" text-anchor="end">{high}</text>',
                  f'<text x="{pad_l - 3}" y="{pad_t + plot_h}" text-anchor="end">{low}</text>',
                  f'<text x="{pad_l}" y="{height - 4}">{x0:.0f}</text>',
                  f'<text x="{pad_l + plot_w}" y="{height - 4}" text-anchor="end">'
                  f'{x1:.0f}</text>']
    parts.append("</svg>")
    return "".join(parts)


def svg_histogram(values, *, bins=30, width=220, height=110, title="", color=COLORS[0]) -> str:
    """Histogram of ``values`` (any shape) as an SVG string, with the range in the caption.

    Above ``HISTOGRAM_SAMPLES`` values, an evenly spaced sample of them is drawn.
    """
    v = np.asarray(values).ravel()
    if v.size > HISTOGRAM_SAMPLES:  # an evenly spaced sample draws the same shape, faster
        v = v[::math.ceil(v.size / HISTOGRAM_SAMPLES)]
    v = v.astype(np.float64)
    v = v[np.isfinite(v)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'style="background:#fff;font:10px sans-serif">',
             f'<text x="2" y="11" font-weight="bold">{html.escape(title)}</text>']
    if v.size:
        low, high = float(v.min()), float(v.max())
        counts, _ = np.histogram(v, bins=bins, range=(low, high if high > low else low + 1))
        top, bar_w, plot_h = max(int(counts.max()), 1), width / bins, height - 30
        for i, c in enumerate(counts):
            h = plot_h * c / top
            parts.append(f'<rect x="{i * bar_w:.1f}" y="{14 + plot_h - h:.1f}" '
                         f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" fill="{color}"/>')
        parts += [f'<text x="2" y="{height - 3}">{low:.3g}</text>',
                  f'<text x="{width - 2}" y="{height - 3}" text-anchor="end">{high:.3g}</text>',
                  f'<text x="{width / 2}" y="{height - 3}" text-anchor="middle">'
                  f'mean {v.mean():.3g}, std {v.std():.3g}</text>']
    parts.append("</svg>")
    return "".join(parts)


def html_predictions(uris, probs, labels, class_names, top=3) -> str:
    """A strip of images, each with its ``top`` class probabilities as bars.

    ``uris``: one PNG data URI per image; ``probs``: ``(N, C)``; ``labels``:
    ``(N,)``. A bar is green for the true class, red for another.
    """
    cells = []
    for uri, p, label in zip(uris, probs, labels, strict=True):
        order = np.argsort(p)[::-1][:top]
        bars = "".join(
            f'<div style="font:10px sans-serif;white-space:nowrap">'
            f'<span style="display:inline-block;width:{60 * p[k]:.0f}px;height:8px;'
            f'background:{"#2ca02c" if k == label else "#d62728"}"></span> '
            f'{html.escape(str(class_names[k]))}</div>' for k in order)
        cells.append(f'<div style="display:inline-block;margin:2px 6px;vertical-align:top">'
                     f'<img src="{uri}" style="image-rendering:pixelated"/>{bars}</div>')
    return '<div class="cs231n-predictions">' + "".join(cells) + "</div>"
