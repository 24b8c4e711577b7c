"""``Trainer``: the training loop plus its views, snapshots and headless behaviour."""

from __future__ import annotations

import numpy as np

from cs231n_lib.trainer.loop import EVAL_KEYS, STEP_KEYS, TrainingLoop
from cs231n_lib.trainer.network import Network
from cs231n_lib.trainer.snapshot import load_state, save_trainer

__all__ = ["Trainer"]

_INT_KEYS = {"step", "batch_size", "val_step"}
HEADLESS_STEPS = 100


class Trainer(TrainingLoop):
    """Train a ``Network`` on ``data`` with SGD + momentum, live or headless.

    Parameters
    ----------
    net : Network
    data : dict
        ``X_train, y_train, X_val, y_val`` (``(N, C, H, W)`` images, labels)
        as ``cs231n_lib.data.load_default()`` returns; ``X_test, y_test``,
        ``class_names`` and ``mean_image`` are used by the views when present.
    lr, momentum, batch_size, weight_decay : numbers
        The initial ``settings``; change them any time, they apply from the
        next step.
    seed : int
        Seeds the batch sampler.
    eval_every : int
        Steps between validation evaluations (0: only when asked).
    num_eval : int
        Validation images per evaluation.

    Inputs are multiplied by ``input_scale`` (one over the standard deviation
    of the training images) before they enter the network.
    """

    def replace_network(self, net) -> None:
        """Train ``net`` from now on, from scratch: step count, history and velocities reset."""
        self.pause()
        if net.input_shape != self.net.input_shape:
            raise ValueError(f"the new network takes input {net.input_shape} but the data is "
                             f"{self.net.input_shape}.")
        with self._step_lock:
            self.net = net
            self.velocity = {name: None for name in net.params}
            self.history = {key: [] for key in self.history}
            self.steps_done, self.last_trace, self.last_params = 0, None, None
            self.status = "ready"

    def run(self, steps=HEADLESS_STEPS):
        """Train ``steps`` steps on this thread, evaluate, and return the summary figure."""
        if self.running:
            self.pause()
        self.step(steps)
        if not self.history["val_step"] or self.history["val_step"][-1] != self.steps_done:
            self.evaluate()
        self.status = "done"
        from cs231n_lib.trainer.summary import summary_figure

        return summary_figure(self)

    def dashboard(self, steps=HEADLESS_STEPS, refresh_s=None):
        """The live dashboard; headless (see ``is_headless``), ``run(steps)``'s figure instead."""
        from cs231n_lib.trainer.dashboard import Dashboard, is_headless

        if is_headless():
            return self.run(steps)
        board = Dashboard(self, **({} if refresh_s is None else {"refresh_s": refresh_s}))
        return board.widget

    def summary(self):
        """The static summary figure of the training so far."""
        from cs231n_lib.trainer.summary import summary_figure

        return summary_figure(self)

    def save(self, path):
        """Write the network, velocities, settings, history and sampler state to ``path`` (.npz)."""
        return save_trainer(self, path)

    @classmethod
    def load(cls, path, data) -> Trainer:
        """A trainer restored from ``save(path)``'s file, training on ``data``."""
        meta, params, velocity, history = load_state(path)
        net = Network(meta["layer_defs"], input_shape=tuple(meta["input_shape"]),
                      num_classes=meta["num_classes"], dtype=np.dtype(meta["dtype"]),
                      seed=meta["net_seed"])
        for name in net.params:
            if name not in params or params[name].shape != net.params[name].shape:
                raise ValueError(f"{path}: parameter {name} is missing or has the wrong shape.")
            net.params[name] = params[name].astype(net.dtype, copy=False)
        trainer = cls(net, data, seed=meta["seed"], eval_every=meta["eval_every"],
                      num_eval=meta["num_eval"], **meta["settings"])
        trainer.velocity.update({k: v.astype(net.dtype, copy=False) for k, v in velocity.items()})
        for key in (*STEP_KEYS, *EVAL_KEYS):
            values = history.get(key, np.zeros(0))
            trainer.history[key] = [int(v) if key in _INT_KEYS else float(v) for v in values]
        trainer.steps_done = meta["steps_done"]
        trainer.input_scale = meta["input_scale"]
        trainer.rng.bit_generator.state = meta["rng_state"]
        return trainer
