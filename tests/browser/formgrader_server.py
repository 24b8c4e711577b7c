"""nbgrader's formgrader as an instructor starts it: a Jupyter server on a course folder.

The server runs from the course folder, so nbgrader reads the course's own
``nbgrader_config.py`` (``CourseDirectory.root``) as it does when an instructor
types ``jupyter server`` there; the root is also given on the command line.
Only the formgrader extension is loaded (no JupyterLab, no language servers,
no other nbgrader panel), with private config, data and runtime folders, on
loopback, with a random token.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lab_server import free_port, private_environment, stop, wait_for_server
from playwright.sync_api import Page

FORMGRADER_EXTENSION = "nbgrader.server_extensions.formgrader"
# Every server extension the course's environment enables, switched off: the
# formgrader pages need none of them, and each costs start-up time.
OTHER_EXTENSIONS = ("jupyterlab", "notebook", "notebook_shim", "jupyter_lsp",
                    "jupyter_server_terminals",
                    "nbgrader.server_extensions.assignment_list",
                    "nbgrader.server_extensions.course_list",
                    "nbgrader.server_extensions.validate_assignment")


@dataclass
class Formgrader:
    """A running formgrader: where it is and which course it grades."""

    url: str  # base URL, ending in "/"
    token: str
    course: Path
    log: Path

    def page_url(self, path: str, **query: str) -> str:
        """The URL of a formgrader page, ``path`` relative to ``formgrader/``."""
        params = urllib.parse.urlencode(query)
        return f"{self.url}formgrader/{path}" + (f"?{params}" if params else "")

    def log_in(self, page: Page, next_url: str) -> None:
        """Log in through the server's login page with the token, as an instructor does.

        The token in a formgrader page's own URL is no good: nbgrader's pages
        strip the server's base URL, so the login cookie they set is scoped to
        that one page and the page's own calls to ``formgrader/api/`` are sent
        to the login page.
        """
        next_path = urllib.parse.urlsplit(next_url)
        target = next_path.path + (f"?{next_path.query}" if next_path.query else "")
        page.goto(f"{self.url}login?" + urllib.parse.urlencode({"next": target}))
        form = page.locator("form[action*='login']").filter(has=page.locator("#password_input"))
        form.first.locator("#password_input").fill(self.token)
        with page.expect_navigation():
            form.first.locator("#login_submit").click()


def write_server_config(config_dir: Path) -> Path:
    """Write ``config_dir/jupyter_server_config.json``: formgrader on, every other extension off."""
    config_dir.mkdir(parents=True, exist_ok=True)
    extensions = {name: False for name in OTHER_EXTENSIONS}
    extensions[FORMGRADER_EXTENSION] = True
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": extensions}}, indent=2) + "\n",
        encoding="utf-8")
    return config_dir


def formgrader_command(course: Path, *, port: int, token: str) -> list[str]:
    """The command line of a Jupyter server serving ``course`` with nbgrader's formgrader."""
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={course}", f"--CourseDirectory.root={course}"]
    if os.geteuid() == 0:
        # Containers and CI runners often run as root; Jupyter refuses that unless told.
        cmd.append("--allow-root")
    return cmd


@contextlib.contextmanager
def running_formgrader(course: Path, base: Path) -> Iterator[Formgrader]:
    """Start the formgrader on ``course`` (state kept under ``base``); stop it on exit."""
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(write_server_config(base / "config")))
    env = private_environment(base, env)
    port, token = free_port(), secrets.token_hex(24)
    log = base / "formgrader.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(formgrader_command(course, port=port, token=token), cwd=course,
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for_server(url, token, proc, log)
        yield Formgrader(url=url, token=token, course=course, log=log)
    finally:
        stop(proc)
