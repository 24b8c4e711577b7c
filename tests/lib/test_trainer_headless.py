"""Headless in a real kernel: executed by nbclient (as nbconvert and nbgrader do).

The kernel is real, so only the frontend is missing; ``trainer.dashboard()``
must notice, run its fixed number of steps and leave the summary figure as
the cell's output, never waiting for a button.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]

CELL = """\
import numpy as np
from cs231n_lib.data import load_default
from cs231n_lib.trainer import DIGITS_DEMO, Network, Trainer

data = load_default()
trainer = Trainer(Network(DIGITS_DEMO, input_shape=(1, 8, 8)), data, lr=1e-2)
trainer.dashboard(steps=30)"""


@pytest.mark.slow
def test_dashboard_under_nbclient_runs_steps_and_leaves_a_figure(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL),
                nbformat.v4.new_code_cell("print(trainer.steps_done, trainer.running)")]
    env = {k: v for k, v in os.environ.items() if k != "CS231N_HEADLESS"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    figure_output = nb.cells[0].outputs[-1]
    assert "image/png" in figure_output["data"], figure_output
    assert "application/vnd.jupyter.widget-view+json" not in figure_output["data"]
    assert nb.cells[1].outputs[0]["text"].strip() == "30 False"
