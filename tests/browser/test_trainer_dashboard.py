"""The live trainer in JupyterLab: start, watch it learn, pause, change the learning rate.

A notebook that builds ``trainer.dashboard()`` on the embedded digits is
written next to a copy of this repository's ``cs231n_lib`` and opened in the
suite's JupyterLab. Everything is read from the page: the step counter, the
loss curve, the layer images, and the output of cells that print the
trainer's state.
"""

from __future__ import annotations

import re
import shutil

import nbformat
import pytest
from lab_server import REPO, artifacts_dir
from lab_ui import code_cells, open_notebook, run_cell
from playwright.sync_api import Page

TRAINING_MS = 120_000  # a kernel sharing two busy cores with the rest of the suite
NEW_LR = "0.0123"

SETUP = """\
from cs231n_lib.data import load_default
from cs231n_lib.trainer import DIGITS_DEMO, Network, Trainer

data = load_default()
net = Network(DIGITS_DEMO, input_shape=data["X_train"].shape[1:], num_classes=10)
trainer = Trainer(net, data, lr=1e-3, momentum=0.9, batch_size=20)
trainer.dashboard()"""
STATE = ('print("steps", trainer.steps_done, "running", trainer.running, '
         '"lrs", sorted(set(trainer.history["lr"])))')

BOARD = ".jp-NotebookPanel:not(.lm-mod-hidden) .cs231n-trainer"


def write_notebook(folder):
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "cs231n_lib", folder / "cs231n_lib", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(STATE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nbformat.write(nb, folder / "trainer_live.ipynb")


def counter(page: Page) -> int:
    return int(page.locator(f"{BOARD} .cs231n-step").first.inner_text())


def wait_js(page: Page, body: str, arg=None) -> None:
    page.wait_for_function(f"(arg) => {{ const b = document.querySelector('{BOARD}'); "
                           f"if (!b) return false; {body} }}", arg=arg, timeout=TRAINING_MS,
                           polling=100)


def click(page: Page, label: str) -> None:
    page.locator(f"{BOARD} button", has_text=re.compile(rf"^{label}$")).click()


def printed_state(page: Page) -> tuple[int, bool, str]:
    text = run_cell(page, 1).text
    match = re.search(r"steps (\d+) running (True|False) lrs (\[.*\])", text)
    assert match, f"the state cell printed {text!r}"
    return int(match.group(1)), match.group(2) == "True", match.group(3)


@pytest.mark.browser
def test_trainer_dashboard_trains_pauses_and_takes_a_new_rate(lab, page):
    write_notebook(lab.root / "trainer-live")
    open_notebook(page, lab.tree_url("trainer-live/trainer_live.ipynb"))
    cell = run_cell(page, 0)
    assert not cell.errors, cell.errors
    page.locator(BOARD).wait_for(state="visible", timeout=TRAINING_MS)
    assert counter(page) == 0
    curve = page.locator(f"{BOARD} .cs231n-curves").inner_html()
    maps = page.locator(f"{BOARD} .widget-image").first.get_attribute("src")

    click(page, "start")
    wait_js(page, "return Number(b.querySelector('.cs231n-step').textContent) >= 50 && "
                  "b.querySelector('.cs231n-curves').innerHTML !== arg[0] && "
                  "b.querySelector('.widget-image').getAttribute('src') !== arg[1];",
            arg=[curve, maps])

    lr_box = page.locator(f"{BOARD} .widget-text", has_text="learning rate").locator("input")
    lr_box.fill(NEW_LR)
    lr_box.press("Enter")
    wait_js(page, "return b.querySelector('.cs231n-last-lr').textContent === arg;", arg=NEW_LR)

    click(page, "pause")
    wait_js(page, "return b.querySelector('.cs231n-status').textContent === 'paused';")
    steps, running, lrs = printed_state(page)
    assert not running
    assert counter(page) == steps, "the dashboard's counter is not the trainer's step count"
    assert lrs == f"[0.001, {NEW_LR}]", f"learning rates used by the steps: {lrs}"

    click(page, "step")
    wait_js(page, "return Number(b.querySelector('.cs231n-step').textContent) === arg;",
            arg=steps + 1)
    steps_after, running, _ = printed_state(page)
    assert (steps_after, running) == (steps + 1, False), "pause did not stop the training"
    assert counter(page) == steps + 1
    page.locator(BOARD).screenshot(path=str(artifacts_dir() / "trainer-dashboard.png"))
    assert not [e for c in code_cells(page) for e in c.errors]
