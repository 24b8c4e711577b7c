"""Fixtures of the browser suite: a release, a learner's workspace, JupyterLab, Chromium.

Everything is built once per test session in pytest's temporary folder: a copy
of the course is released (``autograder.release.build``), a learner's workspace is
made from it (``autograder.student.workspace``: the notebooks and one stubbed
library), and JupyterLab is started on it with the course's settings
(``autograder.student.lab``, the workspace on the kernels' path) in private
config, data and runtime folders, on loopback, with a random token. Chromium is
Debian's (``/usr/bin/chromium``), driven by Playwright.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
from lab_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    REPO,
    TEST_USER_SETTINGS,
    Lab,
    artifacts_dir,
    copy_course,
    free_port,
    kill_kernels,
    private_environment,
    stop,
    wait_for_server,
)

from autograder.demo.synth import make_submission
from autograder.release.build import release
from autograder.student.lab import (
    lab_command,
    lab_environment,
    write_course_settings,
    write_library_guard,
)
from autograder.student.workspace import prepare_workspace


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
    prepare_workspace(workspace, released_course / "release", lib_dir=REPO / "cs231n_lib",
                      log=lambda *_: None)
    reference = root / "reference"
    for folder in sorted((released_course / "release").iterdir()):
        done = make_submission(released_course, folder.name, "reference", "reference",
                               lib_dir=REPO / "cs231n_lib")
        shutil.copytree(done, reference / folder.name,
                        ignore=shutil.ignore_patterns("timestamp.txt"))
    config_dir = write_course_settings(base / "config", TEST_USER_SETTINGS)
    env = private_environment(base, lab_environment(config_dir, workspace=workspace))
    # The lab's kernel start-up file, in the private IPython folder. The server's
    # root holds reference/ next to the workspace: with the root as the lab's
    # folder, the completed notebooks there import their own library.
    env["CS231N_WORKSPACE"] = str(root.resolve())
    write_library_guard(Path(env["IPYTHONDIR"]))
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
        kill_kernels(Path(env["JUPYTER_RUNTIME_DIR"]))
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
