"""Fixtures of the browser suite: a release, a learner's workspace, JupyterLab, Chromium.

Everything is built once per test session in pytest's temporary folder: a copy
of the course is released (``autograder.release``), copied into a workspace
(``autograder.workspace``), and JupyterLab is started on it with the course's
settings (``autograder.lab``) in private config, data and runtime folders, on
loopback, with a random token. Chromium is Debian's (``/usr/bin/chromium``),
driven by Playwright.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.lab import lab_command, lab_environment, write_course_settings
from autograder.release import release
from autograder.synth import make_submission
from autograder.workspace import update_workspace

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# Every cell is attached to the page at once, so the whole notebook can be
# read from the DOM and captured in one screenshot.
TEST_USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}
SERVER_START_TIMEOUT = 90  # seconds; a cold start imports nbgrader and jupyterlab


@dataclass
class Lab:
    """A running JupyterLab: where it is and what it serves."""

    url: str  # base URL, ending in "/"
    token: str
    root: Path  # the folder it serves
    workspace: Path  # root/workspace: a fresh learner's copy of the release
    reference: Path  # root/reference: every assignment completed (reference solutions)
    course: Path  # the private course copy (source/, release/, nbgrader_config.py)
    log: Path

    def tree_url(self, rel_path: str) -> str:
        """The URL that opens ``rel_path`` (relative to ``root``) in a fresh layout."""
        return f"{self.url}lab/tree/{rel_path}?reset&token={self.token}"

    def api(self, path: str, data: bytes | None = None, method: str = "GET") -> bytes:
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.read()


def artifacts_dir() -> Path:
    """``$ARTIFACTS_DIR/browser`` if set, else ``test-artifacts/browser/`` in the repo."""
    base = os.environ.get("ARTIFACTS_DIR")
    folder = Path(base) / "browser" if base else REPO / "test-artifacts" / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def copy_course(dest: Path) -> Path:
    """A private copy of the course folder, without any release or grades."""
    course = dest / "assignments"
    course.mkdir(parents=True)
    for name in ("nbgrader_config.py", "gaps.toml"):
        shutil.copyfile(REPO / "assignments" / name, course / name)
    shutil.copytree(REPO / "assignments" / "source", course / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return course


def private_environment(base: Path, env: dict[str, str]) -> dict[str, str]:
    """``env`` with Jupyter's data and runtime folders, IPython's and matplotlib's under ``base``.

    Nothing is read from or written to the user's home (kernels' connection
    files, the server's cookie secret, IPython history, the font cache).
    """
    env = dict(env)
    for var, name in (("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                      ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "matplotlib")):
        (base / name).mkdir(parents=True, exist_ok=True)
        env[var] = str(base / name)
    return env


def stop(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Stop a server started in its own session: SIGTERM to its process group, then SIGKILL.

    The group holds the server and whatever started it (``autograder.lab``);
    the server stops its kernels itself on SIGTERM.
    """
    def group_alive() -> bool:
        try:
            os.killpg(proc.pid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False

    if group_alive():
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (proc.poll() is None or group_alive()):
        time.sleep(0.2)
    if group_alive():
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url: str, token: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode} before serving; "
                               f"its log:\n{log.read_text()[-4000:]}")
        try:
            request = urllib.request.Request(f"{url}api/status",
                                             headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(request, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise RuntimeError(f"JupyterLab did not answer at {url} within {SERVER_START_TIMEOUT} s; "
                       f"its log:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium; a missing one fails the test with how to install it."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}, and there is none. "
                    "Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu), "
                    "or point the CHROMIUM environment variable at a Chromium binary. "
                    "Playwright's own browser download is not used.", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def released_course(chromium_path, tmp_path_factory) -> Path:
    """A private course copy with every assignment released; returns the course folder.

    Chromium is checked first, so that a machine without it fails at once.
    """
    course = copy_course(tmp_path_factory.mktemp("course"))
    release(course, REPO / "cs231n_lib", log=lambda *_: None)
    return course


@pytest.fixture(scope="session")
def lab(released_course, tmp_path_factory) -> Lab:
    """JupyterLab on a fresh learner's workspace; stopped at the end of the session.

    It serves a folder holding the workspace and, next to it, every assignment
    completed with the reference solutions (for the widgets and Validate).
    """
    base = tmp_path_factory.mktemp("lab")
    root = base / "served"
    workspace = root / "workspace"
    update_workspace(released_course / "release", workspace)
    reference = root / "reference"
    for folder in sorted((released_course / "release").iterdir()):
        done = make_submission(released_course, folder.name, "reference", "reference",
                               lib_dir=REPO / "cs231n_lib")
        shutil.copytree(done, reference / folder.name,
                        ignore=shutil.ignore_patterns("timestamp.txt"))
    config_dir = write_course_settings(base / "config", TEST_USER_SETTINGS)
    env = private_environment(base, lab_environment(config_dir))
    port, token = free_port(), secrets.token_hex(24)
    cmd = lab_command(root, port=port, token=token, open_browser=False)
    log = base / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_server(url, token, proc, log)
        yield Lab(url=url, token=token, root=root, workspace=workspace, reference=reference,
                  course=released_course, log=log)
    finally:
        stop(proc)
        # Keep the server's log with the screenshots: it explains most failures.
        shutil.copyfile(log, artifacts_dir() / "jupyterlab.log")


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path),
                                              args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, lab):
    """A fresh browser context and page on ``lab``; afterwards its kernels are shut down.

    Each test starts the kernels it needs; stopping them keeps a later test
    from sharing two cores with kernels nobody uses any more.
    """
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()
    for session in json.loads(lab.api("api/sessions")):
        lab.api(f"api/sessions/{session['id']}", method="DELETE")
