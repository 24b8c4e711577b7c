"""What a learner does in JupyterLab, as Playwright steps, and what they can read there.

Every action goes through JupyterLab's own interface (menus, toolbar,
editor, keyboard) and every result is read from the page, never from the
kernel or the file on disk.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

KERNEL_READY_MS = 120_000  # a kernel start on a busy 2-core machine
RUN_MS = 240_000  # one "run" of many cells

# A Python exception's last traceback line: "NotImplementedError: your code here".
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b(:.*)?$")

_PROMPTS_JS = """() => Array.from(document.querySelectorAll(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell .jp-InputPrompt'))
    .map(p => p.textContent.trim())"""

_IDLE_JS = """(before) => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return false;
    const prompts = Array.from(panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
        .map(p => p.textContent.trim());
    if (before !== null && JSON.stringify(prompts) === JSON.stringify(before)) return false;
    if (prompts.some(p => p.includes('*'))) return false;
    const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    return !indicator || indicator.dataset.status === 'idle';
}"""

# The status bar says "Python 3 (ipykernel) | Idle" once the kernel is connected.
_KERNEL_IDLE_JS = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    if (!panel) return false;
    const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
    if (indicator && indicator.dataset.status !== 'idle') return false;
    return Array.from(document.querySelectorAll('.jp-StatusBar-Widget'))
        .some(w => /\\(ipykernel\\) \\| Idle/.test(w.textContent));
}"""

_CELLS_JS = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
    return Array.from(panel.querySelectorAll('.jp-Notebook .jp-CodeCell')).map(cell => ({
        prompt: cell.querySelector('.jp-InputPrompt').textContent.trim(),
        source: cell.querySelector('.jp-InputArea-editor').textContent,
        outputs: Array.from(cell.querySelectorAll('.jp-OutputArea-output')).map(o => ({
            mime: o.dataset.mimeType || '',
            text: o.textContent,
        })),
    }));
}"""


@dataclass
class CellView:
    """One code cell as the page shows it."""

    index: int  # among the code cells
    prompt: str  # "[3]:", "[ ]:", "[*]:"
    source: str
    outputs: list[dict]

    @property
    def ran(self) -> bool:
        return bool(re.fullmatch(r"\[\d+\]:", self.prompt))

    @property
    def text(self) -> str:
        return "\n".join(o["text"] for o in self.outputs)

    @property
    def errors(self) -> list[str]:
        """``"Name: message"`` of every exception shown in the cell's outputs."""
        found = []
        for out in self.outputs:
            if out["mime"] != "application/vnd.jupyter.stderr":
                continue
            lines = [line.strip() for line in out["text"].splitlines() if line.strip()]
            if lines and (match := _EXCEPTION_LINE.match(lines[-1])):
                found.append(match.group(1) + (match.group(2) or ""))
        return found


def open_notebook(page: Page, url: str) -> None:
    """Open a notebook URL; wait until its cells are shown and its kernel is connected and idle.

    Under load JupyterLab may open the notebook before its kernel is known and
    ask "Select Kernel" (jupyter_server issue #1265 shows the server side of
    that race); the learner then accepts the preselected kernel, and so does
    this step.
    """
    page.goto(url)
    wait_for_kernel(page)


def wait_for_kernel(page: Page) -> None:
    """Wait until the notebook on show has its cells and a connected, idle kernel."""
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=KERNEL_READY_MS)
    deadline = time.monotonic() + KERNEL_READY_MS / 1000
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog")
        if dialog.count() and dialog.first.is_visible():
            header = dialog.first.locator(".jp-Dialog-header").inner_text().strip()
            if header != "Select Kernel":
                no_dialog(page, "opening the notebook")
            dialog.first.locator("button.jp-mod-accept").click()
        if page.evaluate(_KERNEL_IDLE_JS):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the notebook's kernel was not idle within {KERNEL_READY_MS} ms "
                         f"(status bar: {page.locator('.jp-StatusBar-Widget').all_inner_texts()})")


def menu(page: Page, top: str, item: str) -> None:
    """Click ``top`` in the menu bar, then the menu item labelled exactly ``item``."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(top)}$")).click()
    entry = page.locator(".lm-Menu-item:visible").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")))
    entry.first.click()


def prompts(page: Page) -> list[str]:
    return page.evaluate(_PROMPTS_JS)


def wait_until_idle(page: Page, before: list[str] | None) -> None:
    """Wait until the prompts changed from ``before`` and no cell is running or queued."""
    page.wait_for_function(_IDLE_JS, arg=before, timeout=RUN_MS, polling=250)


def no_dialog(page: Page, doing: str) -> None:
    """Fail with the dialog's text if JupyterLab shows one (a dead kernel, a lost file...)."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        text = " ".join(dialog.first.inner_text().split())
        raise AssertionError(f"JupyterLab shows a dialog while {doing}: {text[:1000]}")


def code_cells(page: Page) -> list[CellView]:
    return [CellView(index=i, **cell) for i, cell in enumerate(page.evaluate(_CELLS_JS))]


def select_code_cell(page: Page, index: int) -> None:
    """Make the code cell ``index`` the active one (click its prompt, command mode)."""
    prompt = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-CodeCell "
                          ".jp-InputPrompt").nth(index)
    prompt.scroll_into_view_if_needed()
    prompt.click()


def run_every_cell(page: Page, max_rounds: int = 200) -> list[CellView]:
    """Run all cells as a learner does when some raise: past every error, to the end.

    "Run All Cells" stops at the first exception; the learner then selects the
    next cell and uses "Run Selected Cell and All Below", until every code cell
    has run. Returns the cells as shown at the end.
    """
    before = prompts(page)
    menu(page, "Run", "Run All Cells")
    wait_until_idle(page, before)
    rounds = []
    for _ in range(max_rounds):
        cells = code_cells(page)
        pending = [c.index for c in cells if not c.ran]
        rounds.append(pending)
        if not pending:
            return cells
        if len(rounds) > 1 and rounds[-2] == pending:
            raise AssertionError(f"code cell {pending[0]} does not run; cells not run after "
                                 f"each round: {rounds}")
        no_dialog(page, f"running the notebook (cells not run yet: {pending})")
        before = prompts(page)
        select_code_cell(page, pending[0])
        menu(page, "Run", "Run Selected Cell and All Below")
        wait_until_idle(page, before)
    raise AssertionError(f"cells still not run after {max_rounds} rounds: {rounds}")


def run_cell(page: Page, index: int) -> CellView:
    """Select code cell ``index``, run it with Shift+Enter, return it when it finished."""
    before = prompts(page)
    select_code_cell(page, index)
    page.keyboard.press("Shift+Enter")
    wait_until_idle(page, before)
    return code_cells(page)[index]


def save_notebook_screenshot(page: Page, path: Path, max_height: int = 16_000) -> None:
    """A screenshot of the whole notebook: the window is made as tall as the notebook."""
    height = page.evaluate("""() => {
        const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
        if (!nb) return 0;
        const scrollers = [nb, ...nb.querySelectorAll('.jp-WindowedPanel-outer')];
        return Math.max(...scrollers.map(e => e.scrollHeight));
    }""")
    size = page.viewport_size or {"width": 1400, "height": 900}
    page.set_viewport_size({"width": size["width"],
                            "height": max(size["height"], min(height + 200, max_height))})
    try:
        page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").evaluate(
            "nb => nb.scrollTo(0, 0)")
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
