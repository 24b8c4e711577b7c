"""JupyterLab on the learner's workspace, set up for the course (what ``make lab`` runs).

``python -m autograder.student.lab [--dest workspace] [--release DIR] [--port N] [--no-browser]``

1. ``python -m autograder.student.workspace --dest DEST`` adds every released file the
   learner does not have yet (their own work is never overwritten);
2. JupyterLab starts on ``DEST`` with the course's settings, kept in
   ``DEST/.jupyter/`` so that nothing in the learner's home is changed:

   - no news feed, no "fetch news?" question, no update check, no extension
     search on PyPI (nothing is fetched from the internet and no pop-up
     interrupts a lesson);
   - the notebooks' kernel is this interpreter (the course's virtual
     environment): Jupyter's data folder is ``DEST/.jupyter/data``, so a
     ``python3`` kernel registered in the learner's home cannot replace it,
     whatever ``JUPYTER_PREFER_ENV_PATH`` says;
   - ipywidgets' JupyterLab extension is installed in the same environment,
     so the widget plots work without any further step.

The browser tests start JupyterLab through :func:`lab_command` and
:func:`write_course_settings`, so what they check is what a learner gets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from autograder.course import COURSE_ROOT
from autograder.student.workspace import main as workspace_main

# Server-side settings: nothing is fetched, no update is announced.
SERVER_CONFIG = {
    "LabApp": {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
        # The extension manager would search PyPI; a course needs no new extensions.
        "extension_manager": "readonly",
    },
    # The instructor's tools (formgrader, exchange-based assignment lists) have
    # no use in a learner's workspace; Validate stays.
    "ServerApp": {
        "jpserver_extensions": {
            "nbgrader.server_extensions.formgrader": False,
            "nbgrader.server_extensions.assignment_list": False,
            "nbgrader.server_extensions.course_list": False,
            "nbgrader.server_extensions.validate_assignment": True,
            # No language server is installed; looking for them runs npm at every start.
            "jupyter_lsp": False,
        },
    },
}

# Front-end settings (JupyterLab's user settings): never ask about news.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}

# Front-end plugins that only make sense for an instructor or an exchange.
DISABLED_LAB_PLUGINS = {
    "@jupyter/nbgrader:formgrader": True,
    "@jupyter/nbgrader:assignment-list": True,
    "@jupyter/nbgrader:course-list": True,
    "@jupyter/nbgrader:create-assignment": True,
}


def write_course_settings(config_dir: Path, extra_user_settings: dict | None = None) -> Path:
    """Write the course's JupyterLab settings into ``config_dir`` (a JUPYTER_CONFIG_DIR).

    The server configuration is the course's and is rewritten every time; a
    user-settings file that already exists is the learner's and is kept.

    Parameters
    ----------
    config_dir : Path
        The folder to use as ``JUPYTER_CONFIG_DIR``; created if needed.
    extra_user_settings : dict, optional
        More user settings, ``"<plugin path>.jupyterlab-settings" -> dict``
        (the tests use it to make every cell render at once).

    Returns
    -------
    Path
        ``config_dir``.
    """
    config_dir = Path(config_dir)
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps(SERVER_CONFIG, indent=2) + "\n", encoding="utf-8")
    labconfig = config_dir / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": DISABLED_LAB_PLUGINS}, indent=2) + "\n",
        encoding="utf-8")
    settings = dict(USER_SETTINGS)
    settings.update(extra_user_settings or {})
    for rel, values in settings.items():
        path = config_dir / "lab" / "user-settings" / rel
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
    return config_dir


def lab_command(root: Path, *, port: int | None = None, token: str | None = None,
                open_browser: bool = True, ip: str = "127.0.0.1") -> list[str]:
    """The command line that starts JupyterLab on ``root`` with this interpreter.

    Parameters
    ----------
    root : Path
        The folder JupyterLab serves (the workspace).
    port : int, optional
        The port; by default JupyterLab picks a free one from 8888 up.
    token : str, optional
        The access token; by default JupyterLab makes a random one and prints
        the URL that carries it.
    open_browser : bool
        Open the learner's web browser on the URL.
    ip : str
        The address to listen on (loopback: nobody else can connect).
    """
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={Path(root)}",
           f"--ServerApp.ip={ip}"]
    if port is not None:
        cmd.append(f"--ServerApp.port={port}")
    if token is not None:
        cmd.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI runners often run as root; JupyterLab refuses without this.
        cmd.append("--allow-root")
    return cmd


def lab_environment(config_dir: Path, base: dict[str, str] | None = None,
                    workspace: Path | None = None) -> dict[str, str]:
    """The environment for JupyterLab: the course's config and data folders, this venv on PATH.

    The kernel is started as ``python -m ipykernel_launcher``; JupyterLab
    replaces a bare ``python`` with its own interpreter, and putting this
    interpreter's folder first on PATH makes every other lookup agree.
    With ``workspace``, kernels know it (``CS231N_WORKSPACE``): a notebook
    that imports the installed reference library instead of the learner's
    copy then gets a warning that says how to fix it.
    """
    env = dict(os.environ if base is None else base)
    if workspace is not None:
        env["CS231N_WORKSPACE"] = str(Path(workspace).resolve())
    env["JUPYTER_CONFIG_DIR"] = str(Path(config_dir))
    # With JUPYTER_PREFER_ENV_PATH=0 the user's data folder is searched first
    # for kernels; a private one leaves this environment's python3 as the only one.
    env["JUPYTER_DATA_DIR"] = str(Path(config_dir) / "data")
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.student.lab",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=Path("workspace"),
                        help="the workspace folder (default: %(default)s)")
    parser.add_argument("--release", type=Path, default=COURSE_ROOT / "release",
                        help="the release folder (default: %(default)s)")
    parser.add_argument("--port", type=int, default=None,
                        help="the port (default: the first free one from 8888)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a web browser; print the URL only")
    args = parser.parse_args(argv)
    status = workspace_main(["--dest", str(args.dest), "--release", str(args.release)])
    if status != 0:
        return status
    root = args.dest.resolve()
    config_dir = write_course_settings(root / ".jupyter")
    cmd = lab_command(root, port=args.port, open_browser=not args.no_browser)
    print("lab: " + " ".join(cmd))
    server = subprocess.Popen(cmd, env=lab_environment(config_dir, workspace=root))
    while True:
        try:
            return server.wait()
        except KeyboardInterrupt:
            # JupyterLab gets the same Ctrl-C: it asks, then stops its kernels and
            # exits. Killing it from here would leave the kernels running.
            continue


if __name__ == "__main__":
    sys.exit(main())
