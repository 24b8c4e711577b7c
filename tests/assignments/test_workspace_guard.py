"""A learner's kernel that imports the installed reference library instead of
their own copy says so (the reference's gaps are filled in: every check would
pass without a line of their work)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cs231n_lib
from autograder.student.lab import lab_environment

REFERENCE_INIT = Path(cs231n_lib.__file__)
IMPORT = ("import warnings; warnings.simplefilter('always'); import cs231n_lib; "
          "print(cs231n_lib.__file__)")


def _import_in(cwd: Path, workspace: Path | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CS231N_WORKSPACE"}
    if workspace is not None:
        env["CS231N_WORKSPACE"] = str(workspace)
    return subprocess.run([sys.executable, "-c", IMPORT], cwd=cwd, env=env,
                          capture_output=True, text=True, check=True)


def test_the_reference_imported_in_a_workspace_kernel_warns(tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    done = _import_in(workspace, workspace)
    assert Path(done.stdout.strip()) == REFERENCE_INIT
    assert "the complete reference library" in done.stderr
    assert str(workspace.resolve()) in done.stderr and "restart the kernel" in done.stderr


def test_the_learners_copy_does_not_warn(tmp_path):
    workspace = tmp_path / "workspace"
    copy = workspace / "backprop" / "cs231n_lib"
    copy.mkdir(parents=True)
    shutil.copy(REFERENCE_INIT, copy / "__init__.py")
    done = _import_in(copy.parent, workspace)
    assert Path(done.stdout.strip()) == copy / "__init__.py"
    assert "reference library" not in done.stderr


def test_outside_make_lab_nothing_is_said(tmp_path):
    done = _import_in(tmp_path, None)
    assert Path(done.stdout.strip()) == REFERENCE_INIT
    assert "reference library" not in done.stderr


def test_make_lab_tells_its_kernels_the_workspace(tmp_path):
    env = lab_environment(tmp_path / "config", base={"PATH": "/usr/bin"},
                          workspace=tmp_path / "ws")
    assert env["CS231N_WORKSPACE"] == str((tmp_path / "ws").resolve())
    assert "CS231N_WORKSPACE" not in lab_environment(tmp_path / "config", base={})
