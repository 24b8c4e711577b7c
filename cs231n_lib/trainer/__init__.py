"""A live trainer for small convnets, ConvNetJS's CIFAR-10 demo in a notebook.

::

    from cs231n_lib.trainer import Network, Trainer, CIFAR10_DEMO

    net = Network(CIFAR10_DEMO, input_shape=(3, 32, 32), num_classes=10)
    trainer = Trainer(net, data, lr=1e-3, momentum=0.9, batch_size=20, weight_decay=1e-4)
    trainer.dashboard()          # live in JupyterLab; headless: run 100 steps, a figure
    trainer.settings.lr = 3e-3   # applies from the next step
    trainer.history["loss"]; trainer.layer_stats()["conv1"]["dead_relu"]

The network is built from the library's layer functions (``netspec`` for
the layer list, ``network`` for the passes), so a student's release trains
the student's own layers. ``loop`` runs the steps (synchronously or on a
background thread with pause / resume / step), ``stats`` computes the
per-layer numbers, ``views``/``render``/``dashboard`` draw the live view,
``summary`` the static figure, ``snapshot`` saves and loads ``.npz`` files.

Additions to the agreed interface (nothing removed or renamed):

- ``trainer.history`` holds per-step lists (``step, loss, train_acc``
  (batch accuracy), ``examples_per_s, forward_ms, backward_ms`` (per
  example), ``lr, momentum, batch_size, weight_decay``) and per-evaluation
  lists (``val_step, val_acc, val_loss``), evaluated every ``eval_every``
  steps and at the end of ``run``; the two groups have different lengths.
- ``layer_stats()`` gives ``nan`` where a number does not apply (dead ReLUs
  of a tanh layer, the update ratio of a pooling layer).
- ``Trainer.stop()`` ends the background thread; ``wait_for_step(k)`` and
  ``wait_until_paused()`` let code wait for the thread without sleeping.
- Inputs are scaled by ``trainer.input_scale`` (one over the training
  images' standard deviation) before entering the network.
- ``Network`` takes ``reg`` (L2 weight decay used by ``loss``; the trainer
  passes its ``weight_decay`` instead) and has ``trace(X, y)`` and ``predict(X)``.
- ``demo_layer_defs(input_shape)`` picks ``CIFAR10_DEMO`` (32x32 colour) or
  ``DIGITS_DEMO`` (the embedded 8x8 digits) to match ``load_default()``'s data.
- ``Trainer.replace_network(net)`` starts over with another network (the
  dashboard's "rebuild" button, from its editable layer list).
- A step that raises on the background thread (e.g. a layer still to be
  written in a student's release) parks the thread; ``status`` says why and
  ``errors`` holds the traceback.
"""

from cs231n_lib.trainer.netspec import (
    CIFAR10_DEMO,
    DIGITS_DEMO,
    LayerSpec,
    demo_layer_defs,
    format_layer_defs,
    parse_layer_defs,
    read_layer_defs,
)
from cs231n_lib.trainer.network import Network, Trace
from cs231n_lib.trainer.settings import Settings
from cs231n_lib.trainer.stats import dead_fraction, saturated_fraction, update_to_weight_ratio
from cs231n_lib.trainer.trainer import Trainer

__all__ = ["CIFAR10_DEMO", "DIGITS_DEMO", "LayerSpec", "Network", "Settings", "Trace",
           "Trainer", "dead_fraction", "demo_layer_defs", "format_layer_defs",
           "parse_layer_defs", "read_layer_defs", "saturated_fraction",
           "update_to_weight_ratio"]
