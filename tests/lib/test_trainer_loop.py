"""The trainer's background thread, headless behaviour and dashboard widgets.

Thread tests wait on the trainer's own condition (``wait_for_step``,
``wait_until_paused``) and listeners, which run between steps; nothing
depends on sleeping or on timings.
"""

from __future__ import annotations

import numpy as np
import pytest

from cs231n_lib.trainer import Network, Trainer
from cs231n_lib.trainer.dashboard import Dashboard, is_headless
from cs231n_lib.viz import InlineFigure

TIMEOUT = 120  # seconds; only reached if the feature is broken

DEFS = [
    {"type": "conv", "filters": 3, "size": 3, "stride": 1, "pad": 1, "activation": "relu"},
    {"type": "pool", "size": 2, "stride": 2},
    {"type": "softmax"},
]


@pytest.fixture
def trainer(rng):
    means = 2 * rng.standard_normal((3, 1, 6, 6))
    y = rng.integers(0, 3, 40)
    X = means[y] + rng.standard_normal((40, 1, 6, 6))
    data = {"X_train": X, "y_train": y, "X_val": X[:10], "y_val": y[:10],
            "X_test": X[10:20], "y_test": y[10:20], "class_names": ("a", "b", "c")}
    t = Trainer(Network(DEFS, input_shape=(1, 6, 6), num_classes=3), data, batch_size=4,
                eval_every=5)
    yield t
    t.stop()


def test_pause_parks_the_thread_and_step_still_works(trainer):
    trainer.start()
    assert trainer.wait_for_step(3, timeout=TIMEOUT)
    trainer.pause()
    parked_at = trainer.steps_done
    assert not trainer.running and not trainer._busy
    assert not trainer.wait_for_step(parked_at + 1, timeout=TIMEOUT)  # parked: returns at once
    trainer.step(2)  # synchronous steps while paused, and nothing interleaves
    assert trainer.steps_done == parked_at + 2
    assert trainer.history["step"][-3:] == [parked_at, parked_at + 1, parked_at + 2]
    trainer.resume()
    assert trainer.wait_for_step(parked_at + 5, timeout=TIMEOUT)
    trainer.stop()
    assert trainer._thread is None


def test_start_with_a_step_count_stops_there(trainer):
    trainer.start(steps=7)
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    assert trainer.steps_done == 7 and trainer.status == "done"
    trainer.start(steps=3)
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    assert trainer.steps_done == 10


def test_a_setting_changed_while_training_applies_at_the_next_step(trainer):
    changed_after = []

    def change_lr(t):  # listeners run on the training thread, between two steps
        if t.steps_done >= 3 and not changed_after:
            t.settings.lr = 0.02
            changed_after.append(t.steps_done)

    trainer.add_listener(change_lr, every_s=0.0)
    trainer.start(steps=6)
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    k = changed_after[0]
    assert trainer.history["lr"][:k] == [1e-3] * k
    assert trainer.history["lr"][k:] == [0.02] * (6 - k)


def test_a_diverging_run_pauses_itself(trainer):
    trainer.settings.lr = 1e12
    trainer.start()
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    assert "diverged" in trainer.status
    assert not np.isfinite(trainer.history["loss"][-1])


def test_a_failing_listener_does_not_stop_training(trainer):
    def broken(_t):
        raise RuntimeError("broken view")

    trainer.add_listener(broken, every_s=0.0)
    trainer.start(steps=3)
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    assert trainer.steps_done == 3
    assert "broken view" in trainer.errors[0]


def test_headless_dashboard_runs_fixed_steps_and_returns_a_figure(trainer, monkeypatch):
    monkeypatch.setenv("CS231N_HEADLESS", "1")
    assert is_headless()
    figure = trainer.dashboard(steps=12)
    assert isinstance(figure, InlineFigure)
    assert figure._repr_png_().startswith(b"\x89PNG")
    assert trainer.steps_done == 12 and trainer._thread is None
    assert trainer.history["val_step"][-1] == 12


def test_outside_a_kernel_is_headless(monkeypatch):
    monkeypatch.delenv("CS231N_HEADLESS", raising=False)
    assert is_headless()  # pytest runs without an IPython kernel


def test_dashboard_views_and_controls(trainer):
    board = Dashboard(trainer)
    trainer.step(3)
    board.refresh()
    assert 'class="cs231n-step">3<' in board.status.value
    assert "<polyline" in board.curves.value
    assert "conv1" in board.stats.value
    assert bytes(board.images["filters"].value).startswith(b"\x89PNG")
    assert int(board.images["filters"].width) >= 3  # shown at its own size, not stretched
    assert board.predictions.value.count("<img") == board.num_predictions
    before = board.predictions.value
    board.refresh()
    assert board.predictions.value != before  # the test strip streams on

    board.settings["lr"].value = 0.03
    assert trainer.settings.lr == 0.03
    board.settings["lr"].value = -1.0
    assert trainer.settings.lr == 0.03 and "lr must be" in board.message.value
    board.buttons["step"].click()
    assert trainer.steps_done == 4 and trainer.history["lr"][-1] == 0.03
    board.layer.value = "softmax"  # no maps for filters of a pooling layer, but fc weights
    assert board.image_boxes["filters"].layout.display is None
    board.layer.value = "pool1"
    assert board.image_boxes["filters"].layout.display == "none"


def test_dashboard_refreshes_while_training_and_on_pause(trainer):
    board = Dashboard(trainer, refresh_s=0.0)
    refreshes = board.refreshes
    trainer.start(steps=5)
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    assert board.refreshes >= refreshes + 5
    assert 'class="cs231n-step">5<' in board.status.value
    board.close()
    trainer.step(1)
    assert 'class="cs231n-step">5<' in board.status.value


def test_an_error_in_a_step_parks_the_thread_with_the_message(trainer, monkeypatch):
    def unwritten(*_args, **_kwargs):
        raise NotImplementedError("conv_forward: your code here")

    monkeypatch.setattr("cs231n_lib.fast_layers.conv_forward_fast", unwritten)
    trainer.start()
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    assert trainer.status == ("stopped by an error: NotImplementedError: "
                              "conv_forward: your code here")
    assert "NotImplementedError" in trainer.errors[-1]
    trainer.pause()  # returns at once: no step is running
    assert trainer.steps_done == 0


def test_dashboard_rebuilds_from_the_edited_layer_list(trainer):
    board = Dashboard(trainer)
    trainer.step(2)
    board.layer_list.value = board.layer_list.value.replace("'filters': 3", "'filters': 5")
    board.buttons["rebuild"].click()
    assert trainer.net.params["W1"].shape == (5, 1, 3, 3)
    assert trainer.steps_done == 0 and trainer.history["loss"] == []
    trainer.step(1)
    assert trainer.history["step"] == [1]

    board.layer_list.value = board.layer_list.value.replace("'pad': 1", "'pad': 0") \
        .replace("'size': 3", "'size': 4")
    board.buttons["rebuild"].click()
    # conv1 now gives 3x3 maps, which 2x2 pooling cannot tile
    assert "does not tile" in board.message.value and "layer 1" in board.message.value
    assert trainer.net.params["W1"].shape == (5, 1, 3, 3)  # the old network stays


def test_dashboard_saves_a_snapshot(trainer, tmp_path):
    board = Dashboard(trainer)
    trainer.step(2)
    board.path.value = str(tmp_path / "board.npz")
    board.buttons["save"].click()
    assert "saved step 2" in board.message.value
    loaded = Trainer.load(tmp_path / "board.npz", trainer.data)
    assert np.array_equal(loaded.net.params["W1"], trainer.net.params["W1"])


def test_a_listener_can_pause_the_training(trainer):
    def stop_at_four(t):
        if t.steps_done >= 4:
            t.pause()

    trainer.add_listener(stop_at_four, every_s=0.0)
    trainer.start()
    assert trainer.wait_until_paused(timeout=TIMEOUT)
    assert trainer.steps_done == 4


def test_colour_input_shows_colour_first_layer_filters(rng):
    import io

    from PIL import Image

    from cs231n_lib.trainer import CIFAR10_DEMO
    from cs231n_lib.trainer.views import example_trace, layer_images

    X = rng.uniform(-1, 1, (6, 3, 32, 32))
    y = rng.integers(0, 10, 6)
    t = Trainer(Network(CIFAR10_DEMO, input_shape=(3, 32, 32)),
                {"X_train": X, "y_train": y, "X_val": X, "y_val": y}, batch_size=2)
    t.step(1)
    pictures = layer_images(t, t.net.layers[0], example_trace(t, 0))
    filters = Image.open(io.BytesIO(pictures["filters"].png))
    assert filters.mode == "RGB" and filters.size == (pictures["filters"].width,
                                                     pictures["filters"].height)
    deeper = layer_images(t, t.net.layers[2], example_trace(t, 0))["filters"]
    assert Image.open(io.BytesIO(deeper.png)).mode == "L"  # 16 input channels: grey tiles
    t.summary().savefig(io.BytesIO(), format="png")
