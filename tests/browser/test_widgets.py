"""The widget plots render in JupyterLab and redraw when a control is moved.

Each notebook with widget plots (``cs231n_lib.viz``'s explorers) is opened
with every answer and gap filled in (the reference solutions) and run; the
completed notebook must run without any error. Then, for every widget plot:
its controls are on the page; moving the slider or choosing another
dropdown entry changes the plot's image.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from lab_server import REPO, artifacts_dir
from lab_ui import open_notebook, run_every_cell, save_notebook_screenshot
from playwright.sync_api import Locator, Page

EXPLORER_CALL = re.compile(r"\b\w+_explorer\(")
# A widget view is an output holding a VBox; the figures inside the widget's
# own output area are outputs too, but hold no VBox.
WIDGET_VIEW = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output:has(> .widget-vbox)"
REDRAW_MS = 120_000  # the initialization histograms recompute a 10-layer net


def widget_notebooks() -> dict[str, int]:
    """Assignment -> how many code cells of its source notebook build an explorer widget."""
    found = {}
    for folder in sorted((REPO / "assignments" / "source").iterdir()):
        path = folder / f"{folder.name}.ipynb"
        if not path.is_file():
            continue
        cells = nbformat.read(path, as_version=4).cells
        count = sum(1 for c in cells if c.cell_type == "code" and EXPLORER_CALL.search(c.source))
        if count:
            found[folder.name] = count
    return found


WIDGET_NOTEBOOKS = widget_notebooks()


def plot_image(widget: Locator) -> str:
    """The ``src`` of the figure in the widget's output area ("" if none is shown)."""
    images = widget.locator(".widget-output img")
    return images.first.get_attribute("src") if images.count() else ""


def wait_for_new_image(page: Page, widget: Locator, old: str) -> str:
    widget.locator(".widget-output img").first.wait_for(state="visible")
    handle = widget.element_handle()
    page.wait_for_function(
        """([w, old]) => {
            const img = w.querySelector('.widget-output img');
            return img && img.getAttribute('src') && img.getAttribute('src') !== old;
        }""", arg=[handle, old], timeout=REDRAW_MS, polling=200)
    return plot_image(widget)


def change_every_control(page: Page, widget: Locator, label: str) -> list[str]:
    """Move each slider and dropdown of ``widget`` once; the plot must change each time."""
    changed = []
    image = plot_image(widget)
    assert image.startswith("data:image/png"), f"{label}: no plot shown before any change"
    dropdowns = widget.locator(".widget-dropdown select")
    for i in range(dropdowns.count()):
        select = dropdowns.nth(i)
        options = select.locator("option")
        assert options.count() > 1, f"{label}: dropdown {i} offers a single option"
        current = select.evaluate("s => s.selectedIndex")
        select.select_option(index=(current + 1) % options.count())
        image = wait_for_new_image(page, widget, image)
        changed.append(f"dropdown {i}")
    sliders = widget.locator(".widget-slider")
    for i in range(sliders.count()):
        slider = sliders.nth(i)
        readout = slider.locator(".widget-readout")
        before = readout.text_content()
        handle = slider.locator(".noUi-handle")
        handle.focus()
        # One step down (the sliders start above their minimum); one step is one
        # redraw, so the image compared next is the one for this position.
        handle.press("ArrowLeft")
        assert readout.text_content() != before, f"{label}: slider {i} did not move"
        image = wait_for_new_image(page, widget, image)
        changed.append(f"slider {i}")
    return changed


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(WIDGET_NOTEBOOKS))
def test_widget_plots_react(lab, page, name):
    open_notebook(page, lab.tree_url(f"reference/{name}/{name}.ipynb"))
    cells = run_every_cell(page)
    errors = [(c.index, e) for c in cells for e in c.errors]
    assert not errors, f"the completed notebook shows errors: {errors}"

    widgets = page.locator(WIDGET_VIEW)
    assert widgets.count() == WIDGET_NOTEBOOKS[name], (
        f"{widgets.count()} widget(s) on the page, the notebook builds {WIDGET_NOTEBOOKS[name]}")
    for i in range(widgets.count()):
        widget = widgets.nth(i)
        widget.scroll_into_view_if_needed()
        label = f"{name} widget {i}"
        controls = widget.locator(".widget-dropdown select, .widget-slider")
        assert controls.count() >= 1, f"{label}: no slider or dropdown shown"
        for j in range(controls.count()):
            assert controls.nth(j).is_visible(), f"{label}: control {j} is hidden"
        changed = change_every_control(page, widget, label)
        assert changed, f"{label}: nothing to move"
        widget.screenshot(path=str(artifacts_dir() / f"{name}-widget{i}.png"))
    save_notebook_screenshot(page, artifacts_dir() / f"{name}-completed.png")
