"""The browser suite's plumbing: paths, a private course copy, a JupyterLab process.

Kept out of ``conftest.py`` so that test modules import it by a name no other
test folder uses.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

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

    The group holds the server and whatever started it (``autograder.student.lab``);
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


def kernel_processes(runtime_dir: Path) -> dict[int, list[str]]:
    """pid -> command line of every kernel whose connection file is in ``runtime_dir``."""
    found = {}
    marker = str(runtime_dir).encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(marker in arg and b"kernel-" in arg for arg in cmdline):
            found[int(pid)] = [arg.decode(errors="replace") for arg in cmdline if arg]
    return found


def kill_kernels(runtime_dir: Path) -> None:
    """Kill kernels a server left behind (it had no time to stop them on a busy machine).

    Kernels run in their own sessions, so stopping the server's process group
    does not reach them.
    """
    for pid in kernel_processes(runtime_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


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
