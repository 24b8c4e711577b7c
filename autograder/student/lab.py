"""JupyterLab on the learner's workspace, set up for the course (``python -m autograder lab``).

``python -m autograder lab [--dest workspace] [--release DIR] [--port N] [--no-browser]``

1. the workspace gets every released notebook and the one stubbed library it
   does not have yet (:mod:`autograder.student.workspace`; the learner's own
   work is never overwritten);
2. JupyterLab starts on ``DEST`` with the course's settings, kept in
   ``DEST/.jupyter/`` so that nothing in the learner's home is changed:

   - no news feed, no "fetch news?" question, no update check, no extension
     search on PyPI (nothing is fetched from the internet and no pop-up
     interrupts a lesson);
   - the notebooks' kernel is this interpreter (the course's virtual
     environment): Jupyter's data folder is ``DEST/.jupyter/data``, so a
     ``python3`` kernel registered in the learner's home cannot replace it,
     whatever ``JUPYTER_PREFER_ENV_PATH`` says;
   - the kernels import the learner's library: the workspace is on their
     ``PYTHONPATH``, so every notebook, in whichever assignment folder, runs
     the code the learner wrote. An IPython start-up file of the lab's own
     (``DEST/.jupyter/ipython``) puts a notebook's own ``cs231n_lib/`` first
     when its folder has one (a workspace made the old way keeps working on
     the learner's copies) and says so when a notebook got the complete
     reference library instead;
   - ipywidgets' JupyterLab extension is installed in the same environment,
     so the widget plots work without any further step.

The browser tests start JupyterLab through :func:`lab_command` and
:func:`write_course_settings`, so what they check is what a learner gets.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from autograder.course import PACKAGE
from autograder.release.build import ReleaseError
from autograder.student.workspace import prepare_workspace

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
    With ``workspace``, the kernels (and nbgrader's Validate, which starts
    its own) find the learner's one ``cs231n_lib/`` through ``PYTHONPATH``,
    know the workspace (``CS231N_WORKSPACE``) and read IPython's settings
    from ``config_dir/ipython``, where :func:`write_library_guard` puts the
    start-up file that warns about the reference library.
    """
    env = dict(os.environ if base is None else base)
    if workspace is not None:
        root = str(Path(workspace).resolve())
        env["CS231N_WORKSPACE"] = root
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env["IPYTHONDIR"] = str(Path(config_dir) / "ipython")
    env["JUPYTER_CONFIG_DIR"] = str(Path(config_dir))
    # With JUPYTER_PREFER_ENV_PATH=0 the user's data folder is searched first
    # for kernels; a private one leaves this environment's python3 as the only one.
    env["JUPYTER_DATA_DIR"] = str(Path(config_dir) / "data")
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def library_folder(cwd: str, workspace: str) -> str | None:
    """The folder whose ``cs231n_lib/`` a kernel started in ``cwd`` should import.

    The nearest one from ``cwd`` up to ``workspace``: a notebook's own copy
    (a workspace made the old way, one copy per assignment, or a completed
    submission) comes before the workspace's single library. None outside
    the workspace or when there is no library on the way up.
    """
    from pathlib import Path

    here, root = Path(cwd).resolve(), Path(workspace).resolve()
    if here != root and root not in here.parents:
        return None
    for folder in (here, *here.parents):
        if (folder / "cs231n_lib" / "__init__.py").is_file():
            return str(folder)
        if folder == root:
            return None
    return None


def library_warning(module_file: str, workspace: str) -> str | None:
    """What to tell a learner whose notebook imported ``cs231n_lib`` from ``module_file``.

    None when the library is the learner's (anywhere under ``workspace``);
    otherwise it is the complete reference library, whose gaps are filled in,
    and every check would pass without a line of the learner's work.
    """
    from pathlib import Path

    here = Path(module_file).resolve().parent
    root = Path(workspace).resolve()
    if here == root or root in here.parents:
        return None
    return (f"cs231n_lib was imported from {here}, the complete reference library, not "
            f"from your workspace: {root / 'cs231n_lib'} is missing or not on the path. "
            "Restore it (python -m autograder lab adds the files you lack, keeping "
            "yours), open your notebooks from the workspace, then restart the kernel.")


STARTUP_FILE = "00-cs231n-library.py"
_STARTUP_TEMPLATE = """\
# Written by `python -m autograder lab` at each start (edits here are replaced).
# 1. The nearest cs231n_lib/ from the notebook's folder up to the workspace goes
#    first on sys.path: IPython puts the working folder after PYTHONPATH, so the
#    workspace's library would otherwise hide a notebook's own copy.
# 2. After each cell: if cs231n_lib came from outside the workspace, say so once.
# Everything lives inside one function, so the learner's namespace stays clean.
def _cs231n_library_setup():
    import os
    import sys

{functions}
    workspace = os.environ.get("CS231N_WORKSPACE")
    if not workspace:
        return
    folder = library_folder(os.getcwd(), workspace)
    if folder is not None:
        while folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)
    said = set()

    def check(*_args):
        where = getattr(sys.modules.get("{package}"), "__file__", None)
        if where and where not in said:
            said.add(where)
            message = library_warning(where, workspace)
            if message:
                print(message, file=sys.stderr)

    get_ipython().events.register("post_run_cell", check)


_cs231n_library_setup()
del _cs231n_library_setup
"""


def write_library_guard(ipython_dir: Path) -> Path:
    """Write the lab's IPython start-up file: which ``cs231n_lib`` a kernel imports.

    It puts the nearest library (:func:`library_folder`) first on the
    kernel's path and warns after a cell that imported the reference one
    (:func:`library_warning`). This lives with the lab, not in the library:
    the library knows nothing of the tools that run it. Returns the file's path.
    """
    startup = Path(ipython_dir) / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    path = startup / STARTUP_FILE
    functions = "\n".join(textwrap.indent(inspect.getsource(f), "    ")
                          for f in (library_folder, library_warning))
    path.write_text(_STARTUP_TEMPLATE.format(functions=functions, package=PACKAGE),
                    encoding="utf-8")
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m autograder lab`` (defaults stay symbolic in --help)."""
    parser.add_argument("--dest", type=Path, default=Path("workspace"),
                        help="the workspace folder (default: workspace/ in the current folder)")
    parser.add_argument("--release", type=Path, default=None, metavar="DIR",
                        help="the release folder (default: assignments/release/ of this "
                             "repository, built first if missing)")
    parser.add_argument("--port", type=int, default=None,
                        help="the port (default: the first free one from 8888)")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a web browser; print the URL only")


def run(args: argparse.Namespace) -> int:
    """Update the workspace, then serve it with JupyterLab until Ctrl-C."""
    try:
        report = prepare_workspace(args.dest, args.release)
    except (ReleaseError, OSError) as exc:
        print(f"lab: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print(report.summary())
    root = args.dest.resolve()
    print(f"workspace: {root}")
    config_dir = write_course_settings(root / ".jupyter")
    write_library_guard(config_dir / "ipython")
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
