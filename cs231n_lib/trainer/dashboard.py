"""The live dashboard (ipywidgets), and when to use the static summary instead.

The controls' callbacks run on the kernel's thread (ipywidgets delivers
them there); the views are refreshed by a listener on the training thread,
between steps, at most every ``refresh_s`` seconds (``REFRESH_S``). Setting a widget's value
from another thread is safe in ipykernel 6 and 7: the message goes out
through the kernel's IOPub thread. The views are HTML, SVG and PNG bytes
(``render.py``), a few milliseconds each, so refreshing twice a second costs
a few percent of training time (``benchmarks/bench_trainer.py`` measures it).
"""

from __future__ import annotations

import html
import os
import threading
import time

from cs231n_lib.trainer import views
from cs231n_lib.trainer.netspec import format_layer_defs, read_layer_defs

__all__ = ["is_headless", "Dashboard", "REFRESH_S"]

# A refresh is due this long after the previous one began, and happens after
# the step in progress: 0.4 s keeps the rate above two per second.
REFRESH_S = 0.4
# Test images the prediction strip moves on by at each refresh.
STREAM_STEP = 2


def is_headless() -> bool:
    """True without an interactive frontend: ``CS231N_HEADLESS=1``, no kernel, or nbclient.

    nbconvert, nbgrader and papermill execute through nbclient, which sends
    every cell with ``allow_stdin=False``; JupyterLab sends ``True``.
    """
    if os.environ.get("CS231N_HEADLESS", "") not in ("", "0"):
        return True
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return True
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    return kernel is None or not getattr(kernel, "_allow_stdin", False)


def _controls(ipywidgets, settings):
    layout = ipywidgets.Layout(width="190px")
    style = {"description_width": "90px"}
    return {
        "lr": ipywidgets.FloatText(value=settings.lr, description="learning rate",
                                   layout=layout, style=style),
        "momentum": ipywidgets.BoundedFloatText(value=settings.momentum, min=0.0, max=0.999,
                                                step=0.05, description="momentum",
                                                layout=layout, style=style),
        "batch_size": ipywidgets.BoundedIntText(value=settings.batch_size, min=1, max=4096,
                                                description="batch size", layout=layout,
                                                style=style),
        "weight_decay": ipywidgets.FloatText(value=settings.weight_decay,
                                             description="weight decay", layout=layout,
                                             style=style),
    }


class Dashboard:
    """Controls, curves, per-layer views and a prediction strip for one ``Trainer``.

    ``widget`` is the ipywidgets box to display. ``refresh()`` redraws every
    view from the trainer's current state; ``refreshes``, ``refresh_seconds``
    and ``refresh_cpu_seconds`` count the redraws and their cost (wall clock,
    CPU time of the refreshing thread).
    """

    def __init__(self, trainer, refresh_s=REFRESH_S, num_predictions=8):
        import ipywidgets

        self.trainer, self.refresh_s, self.num_predictions = trainer, refresh_s, num_predictions
        self.refreshes, self.refresh_seconds, self.refresh_cpu_seconds = 0, 0.0, 0.0
        self._lock = threading.Lock()
        self._stream, self._thumbnails = 0, {}
        w = ipywidgets
        self.buttons = {name: w.Button(description=name, layout=w.Layout(width="80px"))
                        for name in ("start", "pause", "step", "rebuild", "save")}
        self.settings = _controls(w, trainer.settings)
        self.message = w.HTML()
        self.status, self.curves, self.stats = w.HTML(), w.HTML(), w.HTML()
        names = [spec.name for spec in trainer.net.layers]
        self.layer = w.Dropdown(options=names, value=names[0], description="layer")
        self.example = w.BoundedIntText(value=0, min=0, max=len(trainer.data["X_val"]) - 1,
                                        description="example", layout=w.Layout(width="160px"))
        self.images = {name: w.Image(format="png") for name in
                       ("activations", "activation gradients", "filters", "filter gradients")}
        self.image_boxes = {name: w.VBox([w.HTML(f"<small>{name}</small>"), image])
                            for name, image in self.images.items()}
        self.histograms, self.predictions = w.HTML(), w.HTML()
        self.layer_list = w.Textarea(value=format_layer_defs(trainer.net.layer_defs),
                                     layout=w.Layout(width="640px", height="150px"))
        self.path = w.Text(value="trainer.npz", description="snapshot",
                           layout=w.Layout(width="260px"))
        self.widget = w.VBox([
            w.HBox([*(self.buttons[b] for b in ("start", "pause", "step")), self.message]),
            w.HBox([self.layer_list, w.VBox([self.buttons["rebuild"], self.path,
                                             self.buttons["save"]])]),
            w.HBox(list(self.settings.values())), self.status, self.curves, self.stats,
            w.HBox([self.layer, self.example]), w.HBox(list(self.image_boxes.values())),
            self.histograms, w.HTML("<b>test images, top-3 predictions</b>"), self.predictions,
        ])
        self.widget.add_class("cs231n-trainer")
        self._connect()
        trainer.add_listener(self._on_training_thread, every_s=refresh_s)
        self.refresh()

    def _connect(self) -> None:
        t = self.trainer
        self.buttons["start"].on_click(lambda _b: t.resume())
        self.buttons["pause"].on_click(lambda _b: (t.pause(), self.refresh()))
        self.buttons["step"].on_click(lambda _b: self._step())
        self.buttons["rebuild"].on_click(lambda _b: self.rebuild())
        self.buttons["save"].on_click(lambda _b: self._save())
        for name, control in self.settings.items():
            control.observe(lambda change, name=name: self._set(name, change["new"]),
                            names="value")
        for control in (self.layer, self.example):
            control.observe(lambda _c: self._refresh_if_idle(), names="value")

    def _set(self, name, value) -> None:
        try:
            setattr(self.trainer.settings, name, value)
            self.message.value = ""
        except (TypeError, ValueError) as err:
            self._report(str(err), error=True)

    def _report(self, text, error=False) -> None:
        color = "#d62728" if error else "#2ca02c"
        self.message.value = f'<span style="color:{color}">{html.escape(text)}</span>'

    def rebuild(self) -> None:
        """Build the network in the layer-list box and train it from scratch.

        A list that does not fit the input leaves the current network in
        place and shows why (``conv_output_size``'s explanation).
        """
        from cs231n_lib.trainer.network import Network

        old = self.trainer.net
        try:
            net = Network(read_layer_defs(self.layer_list.value), input_shape=old.input_shape,
                          num_classes=old.num_classes, dtype=old.dtype, seed=old.seed)
        except (TypeError, ValueError) as err:
            self._report(str(err), error=True)
            return
        self.trainer.replace_network(net)
        names = [spec.name for spec in net.layers]
        self.layer.options = names
        self.layer.value = names[0]
        self._report(f"rebuilt: {len(net.layers)} layers")
        self.refresh()

    def _save(self) -> None:
        try:
            path = self.trainer.save(self.path.value)
        except (OSError, ValueError) as err:
            self._report(str(err), error=True)
            return
        self._report(f"saved step {self.trainer.steps_done} to {path}")

    def _step(self) -> None:
        if not self.trainer.running:
            self.trainer.step(1)
            self.refresh()

    def _refresh_if_idle(self) -> None:
        if not self.trainer.running:
            self.refresh()

    def _on_training_thread(self, _trainer) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw every view from the trainer's current state."""
        with self._lock:
            start, cpu_start = time.perf_counter(), time.thread_time()
            t = self.trainer
            self.status.value = views.status_html(t)
            self.curves.value = views.curves_html(t)
            self.stats.value = views.stats_html(t)
            spec = t.net.layers[self.layer.index or 0]
            pictures = views.layer_images(t, spec, views.example_trace(t, self.example.value))
            for name, image in self.images.items():
                if name in pictures:
                    picture = pictures[name]
                    image.value = picture.png
                    image.width, image.height = str(picture.width), str(picture.height)
                self.image_boxes[name].layout.display = None if name in pictures else "none"
            self.histograms.value = views.layer_histograms(t, spec)
            self.predictions.value = views.predictions_html(
                t, self._stream, self.num_predictions, self._thumbnails)
            # A stream of test images, as in ConvNetJS: new ones enter on the right.
            self._stream += STREAM_STEP
            self.refreshes += 1
            self.refresh_seconds += time.perf_counter() - start
            self.refresh_cpu_seconds += time.thread_time() - cpu_start

    def close(self) -> None:
        """Detach from the trainer and close the widgets."""
        self.trainer.remove_listener(self._on_training_thread)
        self.widget.close()
