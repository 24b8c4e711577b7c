"""In the lab, a kernel that imports the installed reference library instead of the
learner's one says so (the reference's gaps are filled in: every check would pass
without a line of their work). The check belongs to the lab, not to the library."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cs231n_lib
from autograder.student.lab import (
    lab_environment,
    library_folder,
    library_warning,
    write_library_guard,
)

REFERENCE_INIT = Path(cs231n_lib.__file__)
IMPORT = "import cs231n_lib; print(cs231n_lib.__file__)"


def _lab_kernel_import(tmp_path: Path, workspace: Path, cwd: Path) -> subprocess.CompletedProcess:
    """``import cs231n_lib`` in IPython started the way the lab starts its kernels."""
    config = tmp_path / "config"
    write_library_guard(config / "ipython")
    env = lab_environment(config, base=dict(os.environ), workspace=workspace)
    return subprocess.run([sys.executable, "-m", "IPython", "--colors=NoColor", "-c", IMPORT],
                          cwd=cwd, env=env, capture_output=True, text=True, check=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_the_reference_imported_in_a_lab_kernel_warns(tmp_path):
    workspace = tmp_path / "workspace"
    (workspace / "backprop").mkdir(parents=True)
    done = _lab_kernel_import(tmp_path, workspace, workspace / "backprop")
    assert Path(done.stdout.strip().splitlines()[-1]) == REFERENCE_INIT
    assert "the complete reference library" in done.stderr
    assert str(workspace.resolve() / "cs231n_lib") in done.stderr
    assert "restart the kernel" in done.stderr


def test_the_learners_library_is_found_from_any_assignment_and_does_not_warn(tmp_path):
    workspace = tmp_path / "workspace"
    mine = workspace / "cs231n_lib"
    mine.mkdir(parents=True)
    shutil.copy(REFERENCE_INIT, mine / "__init__.py")
    (workspace / "conv").mkdir()
    done = _lab_kernel_import(tmp_path, workspace, workspace / "conv")
    assert Path(done.stdout.strip().splitlines()[-1]) == mine / "__init__.py"
    assert "reference library" not in done.stderr


def test_a_notebooks_own_copy_comes_first_in_an_old_workspace(tmp_path):
    workspace = tmp_path / "workspace"
    for copy in (workspace / "cs231n_lib", workspace / "backprop" / "cs231n_lib"):
        copy.mkdir(parents=True)
        shutil.copy(REFERENCE_INIT, copy / "__init__.py")
    done = _lab_kernel_import(tmp_path, workspace, workspace / "backprop")
    # PYTHONPATH alone would give the workspace's library: the learner's work
    # in their old per-assignment copy must stay the one that runs.
    assert Path(done.stdout.strip().splitlines()[-1]) == workspace / "backprop" / \
        "cs231n_lib" / "__init__.py"


def test_library_folder_is_the_nearest_inside_the_workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / "cs231n_lib").mkdir(parents=True)
    (ws / "cs231n_lib" / "__init__.py").write_text("")
    (ws / "conv" / "sub").mkdir(parents=True)
    assert library_folder(str(ws / "conv" / "sub"), str(ws)) == str(ws.resolve())
    (ws / "conv" / "cs231n_lib").mkdir()
    (ws / "conv" / "cs231n_lib" / "__init__.py").write_text("")
    assert library_folder(str(ws / "conv"), str(ws)) == str((ws / "conv").resolve())
    assert library_folder(str(tmp_path), str(ws)) is None  # outside the workspace


def test_the_library_itself_says_nothing(tmp_path):
    env = dict(os.environ, CS231N_WORKSPACE=str(tmp_path))
    done = subprocess.run([sys.executable, "-W", "always", "-c", IMPORT], cwd=tmp_path,
                          env=env, capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()) == REFERENCE_INIT
    assert done.stderr == ""
    assert "CS231N_WORKSPACE" not in REFERENCE_INIT.read_text()


def test_library_warning_accepts_any_copy_inside_the_workspace(tmp_path):
    ws = tmp_path / "ws"
    assert library_warning(str(ws / "cs231n_lib" / "__init__.py"), str(ws)) is None
    assert library_warning(str(ws / "conv" / "cs231n_lib" / "__init__.py"), str(ws)) is None
    assert "reference library" in library_warning(str(REFERENCE_INIT), str(ws))


def test_the_lab_puts_the_workspace_on_its_kernels_path(tmp_path):
    env = lab_environment(tmp_path / "config", base={"PATH": "/usr/bin", "PYTHONPATH": "/x"},
                          workspace=tmp_path / "ws")
    root = str((tmp_path / "ws").resolve())
    assert env["CS231N_WORKSPACE"] == root
    assert env["PYTHONPATH"] == os.pathsep.join([root, "/x"])
    assert env["IPYTHONDIR"] == str(tmp_path / "config" / "ipython")
    plain = lab_environment(tmp_path / "config", base={})
    assert "CS231N_WORKSPACE" not in plain and "PYTHONPATH" not in plain
