"""The training loop: synchronous steps, or a background thread with pause, resume and step.

Why a thread: numpy releases the GIL inside BLAS and most array loops, so a
training thread leaves the kernel free to handle button clicks and slider
changes (the page stays responsive), and ``pause()`` takes effect after the
step in progress, a few tens of milliseconds. Listeners (the dashboard's
refresh) run on the training thread *between* steps, at most once per their
interval: they read the network while it is not being updated, so no lock is
needed around the drawing, and their cost is counted in
``Trainer.listener_seconds`` against the training time.

Control is one condition variable: ``pause()`` returns only once the thread
is parked between steps, so after it returns the step counter no longer moves.
"""

from __future__ import annotations

import threading
import time
import traceback

import numpy as np

from cs231n_lib.optim import sgd_momentum
from cs231n_lib.trainer.settings import Settings
from cs231n_lib.trainer.stats import layer_stats

__all__ = ["TrainingLoop"]

STEP_KEYS = ("step", "loss", "train_acc", "examples_per_s", "forward_ms", "backward_ms",
             "lr", "momentum", "batch_size", "weight_decay")
EVAL_KEYS = ("val_step", "val_acc", "val_loss")
PAUSE_TIMEOUT_S = 60.0  # a single step of a large batch on a loaded machine


def _check_data(data, input_shape) -> None:
    missing = [k for k in ("X_train", "y_train", "X_val", "y_val") if k not in data]
    if missing:
        raise KeyError(f"data needs X_train, y_train, X_val and y_val (like Solver's); "
                       f"missing {missing}. cs231n_lib.data.load_default() gives all four.")
    for split in ("train", "val"):
        X, y = data[f"X_{split}"], data[f"y_{split}"]
        if np.ndim(X) != 4 or tuple(X.shape[1:]) != tuple(input_shape) or len(X) != len(y):
            raise ValueError(f"X_{split} must be (N, {', '.join(map(str, input_shape))}) with "
                             f"one label per image in y_{split}; got X_{split} "
                             f"{np.shape(X)} and y_{split} {np.shape(y)}.")


class TrainingLoop:
    """Steps, history and thread control; ``Trainer`` adds views, snapshots and the dashboard."""

    def __init__(self, net, data, lr=1e-3, momentum=0.9, batch_size=20, weight_decay=1e-4,
                 seed=0, eval_every=50, num_eval=200):
        _check_data(data, net.input_shape)
        self.net, self.data = net, data
        self.settings = Settings(lr=lr, momentum=momentum, batch_size=batch_size,
                                 weight_decay=weight_decay)
        self.seed, self.eval_every, self.num_eval = seed, int(eval_every), int(num_eval)
        self.rng = np.random.default_rng(seed)
        # One number for the whole set: He/Xavier initialisation expects inputs
        # of unit scale, and raw pixels (0-255 minus the mean) are far larger.
        std = float(np.std(data["X_train"][:1000]))
        self.input_scale = 1.0 / std if std > 0 else 1.0
        self.velocity = {name: None for name in net.params}
        self.history = {key: [] for key in (*STEP_KEYS, *EVAL_KEYS)}
        self.steps_done = 0
        self.last_trace = self.last_params = None
        self.last_lr = self.settings.lr
        self.listener_seconds, self.listener_calls, self.errors = 0.0, 0, []
        self._listeners = []
        self._step_lock = threading.Lock()
        self._cv = threading.Condition()
        self._want_run = self._busy = self._closing = False
        self._target = None
        self._thread = None
        self.status = "ready"

    # ---------------------------------------------------------------- steps
    def _batch(self, batch_size):
        X, y = self.data["X_train"], self.data["y_train"]
        idx = self.rng.integers(0, len(X), size=batch_size)
        return X[idx] * self.input_scale, np.asarray(y)[idx]

    def _one_step(self) -> float:
        s = self.settings.copy()
        start = time.perf_counter()
        X, y = self._batch(s.batch_size)
        with np.errstate(all="ignore"):  # a diverging rate shows as nan in the history
            trace = self.net.trace(X, y, reg=s.weight_decay)
            before = dict(self.net.params)
            for name, dw in trace.grads.items():
                config = {"learning_rate": s.lr, "momentum": s.momentum,
                          "velocity": self.velocity[name]}
                self.net.params[name], config = sgd_momentum(before[name], dw, config)
                self.velocity[name] = config["velocity"]
        elapsed = time.perf_counter() - start
        self.last_trace, self.last_params, self.last_lr = trace, before, s.lr
        accuracy = float((np.argmax(trace.scores, axis=1) == y).mean())
        self._record(s, trace, accuracy, elapsed)
        if self.eval_every and self.steps_done % self.eval_every == 0:
            self.evaluate()
        return trace.loss

    def _record(self, s, trace, accuracy, elapsed) -> None:
        with self._cv:
            self.steps_done += 1
            h, n = self.history, s.batch_size
            row = (self.steps_done, trace.loss, accuracy, n / elapsed,
                   1e3 * trace.forward_s / n, 1e3 * trace.backward_s / n,
                   s.lr, s.momentum, s.batch_size, s.weight_decay)
            for key, value in zip(STEP_KEYS, row, strict=True):
                h[key].append(value)
            self._cv.notify_all()

    def evaluate(self, num=None) -> tuple[float, float]:
        """Accuracy and loss on the first ``num`` validation images; appended to the history."""
        num = self.num_eval if num is None else num
        X, y = self.data["X_val"][:num], np.asarray(self.data["y_val"][:num])
        with np.errstate(all="ignore"):
            scores = self.net.predict(X * self.input_scale).astype(np.float64)
            shifted = scores - scores.max(axis=1, keepdims=True)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        accuracy = float((scores.argmax(axis=1) == y).mean())
        loss = float(-log_probs[np.arange(len(y)), y].mean())
        with self._cv:
            for key, value in zip(EVAL_KEYS, (self.steps_done, accuracy, loss), strict=True):
                self.history[key].append(value)
        return accuracy, loss

    def step(self, n=1) -> float:
        """Run ``n`` steps now, on the caller's thread; returns the last loss."""
        if isinstance(n, bool) or int(n) != n or n < 0:
            raise ValueError(f"n must be a whole number >= 0; got {n!r}.")
        loss = float("nan")
        for _ in range(int(n)):
            with self._step_lock:
                loss = self._one_step()
        return loss

    def layer_stats(self) -> dict:
        """Per layer (by name) a dict of the last step's numbers; see ``stats.LayerStats``.

        Before any step, the numbers come from one batch without an update.
        """
        trace, params, lr = self.last_trace, self.last_params, self.last_lr
        if trace is None:
            X, y = self._batch(self.settings.batch_size)
            trace, params = self.net.trace(X, y, reg=self.settings.weight_decay), self.net.params
        stats = layer_stats(self.net.layers, trace, params, lr)
        return {name: row.as_dict() for name, row in stats.items()}

    # ------------------------------------------------------ background thread
    def add_listener(self, callback, every_s=0.5) -> None:
        """Call ``callback(trainer)`` on the training thread, at most every ``every_s`` seconds."""
        self._listeners.append([callback, float(every_s), -np.inf])

    def remove_listener(self, callback) -> None:
        self._listeners = [entry for entry in self._listeners if entry[0] is not callback]

    def _notify_listeners(self, force=False) -> None:
        for entry in list(self._listeners):
            callback, every_s, last = entry
            now = time.perf_counter()
            if not force and now - last < every_s:
                continue
            entry[2] = now
            try:
                callback(self)
            except Exception:  # a broken view must not stop training
                self.errors.append(traceback.format_exc())
            self.listener_seconds += time.perf_counter() - now
            self.listener_calls += 1

    def _loop(self) -> None:
        while True:
            with self._cv:
                if self._busy:
                    self._busy = False
                    self._cv.notify_all()
                self._cv.wait_for(lambda: self._want_run or self._closing)
                if self._closing:
                    return
                finished = self._target is not None and self.steps_done >= self._target
                if finished:
                    self._want_run, self.status = False, "done"
                else:
                    self._busy, self.status = True, "training"
            if finished:
                continue
            loss, failure = self._guarded_step()
            with self._cv:
                if failure:
                    self._want_run, self.status = False, f"stopped by an error: {failure}"
                elif not np.isfinite(loss):
                    self._want_run, self.status = False, "diverged (loss is not finite)"
                elif self._target is not None and self.steps_done >= self._target:
                    self._want_run, self.status = False, "done"
                stopping = not self._want_run
            # The last refresh before parking always happens, so a paused view is current.
            self._notify_listeners(force=stopping)

    def _guarded_step(self) -> tuple[float, str]:
        """One step on the training thread; an exception (e.g. a layer still to be
        written) parks the thread with the error instead of ending it."""
        try:
            with self._step_lock:
                return self._one_step(), ""
        except Exception as err:
            self.errors.append(traceback.format_exc())
            return float("nan"), f"{type(err).__name__}: {err}"

    def start(self, steps=None) -> None:
        """Train on a background thread until paused, or for ``steps`` more steps."""
        with self._cv:
            self._target = None if steps is None else self.steps_done + int(steps)
            self._want_run, self._closing = True, False
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="cs231n-trainer",
                                                daemon=True)
                self._thread.start()
            self._cv.notify_all()

    def resume(self) -> None:
        """Continue training after ``pause()`` (starts the thread if needed)."""
        if self._thread is None or not self._thread.is_alive():
            target = self._target
            self.start(None if target is None else max(0, target - self.steps_done))
            return
        with self._cv:
            self._want_run = True
            self._cv.notify_all()

    def pause(self) -> None:
        """Stop after the step in progress; returns once no step is running."""
        with self._cv:
            self._want_run = False
            if self.status == "training":
                self.status = "paused"
            self._cv.notify_all()
            if threading.current_thread() is self._thread:
                return  # called from a listener: the thread parks after it returns
            self._cv.wait_for(lambda: not self._busy, timeout=PAUSE_TIMEOUT_S)

    def stop(self) -> None:
        """Pause and end the background thread."""
        self.pause()
        with self._cv:
            self._closing = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=PAUSE_TIMEOUT_S)
        self._thread = None

    @property
    def running(self) -> bool:
        """Whether the background thread is asked to train."""
        return self._want_run

    def wait_for_step(self, step, timeout=None) -> bool:
        """Block until ``steps_done >= step`` (or the thread parks); True if it was reached."""
        with self._cv:
            return self._cv.wait_for(
                lambda: self.steps_done >= step or (not self._want_run and not self._busy),
                timeout=timeout) and self.steps_done >= step

    def wait_until_paused(self, timeout=None) -> bool:
        """Block until the background thread is parked (finished its steps, or paused)."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._want_run and not self._busy,
                                     timeout=timeout)
