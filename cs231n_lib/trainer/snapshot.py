"""Save and load a trainer as one ``.npz`` file, readable with ``allow_pickle=False``.

Arrays are stored under ``param/<name>``, ``velocity/<name>`` and
``history/<key>``; everything else (the layer list, input shape, dtype,
settings, step count and the batch sampler's random state) is one JSON
string under ``meta``. Loading never unpickles, so a snapshot from someone
else cannot run code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["save_trainer", "load_state", "FORMAT"]

FORMAT = "cs231n-trainer-1"


def save_trainer(trainer, path) -> Path:
    """Write ``trainer``'s network, optimiser state, settings and history to ``path``."""
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"the snapshot is an .npz file; got {str(path)!r}. Name it '*.npz'.")
    net = trainer.net
    meta = {
        "format": FORMAT,
        "layer_defs": net.layer_defs, "input_shape": list(net.input_shape),
        "num_classes": net.num_classes, "dtype": net.dtype.name, "net_seed": net.seed,
        "settings": trainer.settings.as_dict(), "seed": trainer.seed,
        "eval_every": trainer.eval_every, "num_eval": trainer.num_eval,
        "steps_done": trainer.steps_done, "input_scale": trainer.input_scale,
        "rng_state": trainer.rng.bit_generator.state,
    }
    arrays = {"meta": np.array(json.dumps(meta))}
    arrays.update({f"param/{k}": v for k, v in net.params.items()})
    arrays.update({f"velocity/{k}": v for k, v in trainer.velocity.items() if v is not None})
    arrays.update({f"history/{k}": np.asarray(v, dtype=np.float64)
                   for k, v in trainer.history.items()})
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    return path


def load_state(path) -> tuple[dict, dict, dict, dict]:
    """Read a snapshot: ``(meta, params, velocity, history)``, without pickle."""
    with np.load(Path(path), allow_pickle=False) as archive:
        if "meta" not in archive.files:
            raise ValueError(f"{path} is not a trainer snapshot (no 'meta' entry); make one "
                             "with Trainer.save(path).")
        meta = json.loads(str(archive["meta"]))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} has snapshot format {meta.get('format')!r}; this "
                             f"library reads {FORMAT!r}.")
        groups = {"param": {}, "velocity": {}, "history": {}}
        for key in archive.files:
            group, _, name = key.partition("/")
            if group in groups:
                groups[group][name] = archive[key]
    return meta, groups["param"], groups["velocity"], groups["history"]
