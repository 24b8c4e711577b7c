"""``make lab`` (``python -m autograder lab``): the learner's workspace in JupyterLab.

The command is run as a learner runs it, on a workspace that already holds
some of their work: that work is kept, every assignment is added, JupyterLab
serves the workspace with the course's settings (no news or update
question), a notebook opened from the file browser gets a kernel running
this virtual environment's Python (even if the learner's home registers
another ``python3`` kernel), and nothing is written to the home folder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lab_server import (
    REPO,
    artifacts_dir,
    free_port,
    kernel_processes,
    kill_kernels,
    private_environment,
    stop,
)
from lab_ui import wait_for_kernel

START_TIMEOUT = 120  # seconds: the workspace copy plus a cold JupyterLab start
LEARNER_WORK = "# my own affine layer, half done\n"


def wait_for_url(log: Path, port: int, proc: subprocess.Popen) -> str:
    """The ``http://127.0.0.1:<port>/lab?token=...`` URL JupyterLab prints once it serves."""
    pattern = re.compile(rf"http://127\.0\.0\.1:{port}/lab\?token=\w+")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if match := pattern.search(text):
            return match.group(0)
        if proc.poll() is not None:
            raise AssertionError(f"python -m autograder lab exited with {proc.returncode}:\n"
                                 f"{text[-4000:]}")
        time.sleep(0.25)
    raise AssertionError(f"no JupyterLab URL within {START_TIMEOUT} s:\n"
                         f"{log.read_text(errors='replace')[-4000:]}")


@pytest.mark.browser
def test_make_lab_opens_the_workspace(released_course, browser, tmp_path):
    release_dir = released_course / "release"
    workspace = tmp_path / "workspace"
    mine = workspace / "cs231n_lib" / "affine.py"
    mine.parent.mkdir(parents=True)
    mine.write_text(LEARNER_WORK)
    home = tmp_path / "home"
    # A python3 kernel registered in the learner's home, for another interpreter:
    # the course's kernel must still be this environment's.
    decoy = home / ".local" / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    decoy.parent.mkdir(parents=True)
    decoy.write_text(json.dumps({"argv": ["/usr/bin/false", "-f", "{connection_file}"],
                                 "display_name": "Python 3 (ipykernel)", "language": "python"}))
    home_before = sorted(home.rglob("*"))
    # JUPYTER_PREFER_ENV_PATH=0: the home's kernels are searched first, as some
    # learners' setups do.
    env = private_environment(tmp_path / "private", dict(os.environ, HOME=str(home),
                                                         JUPYTER_PREFER_ENV_PATH="0"))
    runtime = Path(env["JUPYTER_RUNTIME_DIR"])
    port = free_port()
    log = tmp_path / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "autograder", "lab", "--dest", str(workspace),
             "--release", str(release_dir), "--port", str(port), "--no-browser"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    context = None
    try:
        url = wait_for_url(log, port, proc)
        assert mine.read_text() == LEARNER_WORK, "make lab overwrote the learner's file"
        released = sorted(p.name for p in release_dir.iterdir() if p.is_dir())
        assert all((workspace / name / f"{name}.ipynb").is_file() for name in released)
        # One library for every notebook; no per-assignment copy with earlier solutions.
        assert (workspace / "cs231n_lib" / "__init__.py").is_file()
        assert not any((workspace / name / "cs231n_lib").exists() for name in released)
        settings = json.loads((workspace / ".jupyter" / "jupyter_server_config.json").read_text())
        assert settings["LabApp"]["news_url"] is None

        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(60_000)
        page = context.new_page()
        page.goto(url)
        listing = page.locator(".jp-DirListing-content")
        for name in released:
            listing.locator(".jp-DirListing-item", has_text=re.compile(rf"^{name}")).wait_for()
        page.locator(".jp-DirListing-item", has_text=re.compile(r"^backprop")).dblclick()
        page.locator(".jp-DirListing-item", has_text=re.compile(r"^backprop\.ipynb")).dblclick()
        wait_for_kernel(page)
        page.screenshot(path=str(artifacts_dir() / "make-lab.png"))
        # No question about news or updates, and no other notification, interrupts.
        toasts = page.locator(".Toastify__toast").all_inner_texts()
        assert not toasts, f"notifications shown: {toasts}"
        count = page.locator(".jp-Notification-Status-Text").inner_text().strip()
        assert count == "0", f"{count} notification(s) waiting in the status bar"

        # argv[0], not the resolved binary: a virtual environment's python is a
        # link to the base interpreter, and only the path says which one runs.
        interpreters = [cmd[0] for cmd in kernel_processes(runtime).values()]
        assert interpreters, "no kernel process found for the opened notebook"
        assert set(interpreters) == {sys.executable}, interpreters
        written = sorted(set(home.rglob("*")) - set(home_before))
        assert not written, f"make lab wrote into HOME: {written}"
    finally:
        if context is not None:
            context.close()
        stop(proc)
        kill_kernels(runtime)
