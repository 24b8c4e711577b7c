"""The learner's workspace: one stubbed library, the notebooks, and never their work
overwritten (autograder.student.workspace)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder import cli
from autograder.student.workspace import update_workspace


def _fake_release(root: Path) -> Path:
    release = root / "release"
    (release / "backprop" / "cs231n_lib").mkdir(parents=True)
    (release / "backprop" / "backprop.ipynb").write_text('{"cells": "release"}')
    (release / "backprop" / "gaps.json").write_text("{}")
    # The release's per-assignment copy: later ones carry earlier solutions.
    (release / "backprop" / "cs231n_lib" / "affine.py").write_text("# release copy\n")
    return release


def _fake_library(root: Path) -> Path:
    library = root / "stubbed" / "cs231n_lib"
    (library / "__pycache__").mkdir(parents=True)
    (library / "affine.py").write_text("# stub\n")
    (library / "__pycache__" / "affine.pyc").write_bytes(b"x")
    return library


def test_first_run_adds_the_notebooks_and_one_library(tmp_path):
    release, library = _fake_release(tmp_path), _fake_library(tmp_path)
    report = update_workspace(release, tmp_path / "ws", library=library)
    assert report.added == ["cs231n_lib/affine.py", "backprop/backprop.ipynb"]
    assert report.kept == [] and report.old_copies == []
    assert (tmp_path / "ws" / "cs231n_lib" / "affine.py").read_text() == "# stub\n"
    # No per-assignment copy, no manifest, no caches.
    assert not (tmp_path / "ws" / "backprop" / "cs231n_lib").exists()
    assert not (tmp_path / "ws" / "backprop" / "gaps.json").exists()
    assert not (tmp_path / "ws" / "cs231n_lib" / "__pycache__").exists()


def test_existing_work_is_kept_and_new_files_and_assignments_are_added(tmp_path):
    release, library = _fake_release(tmp_path), _fake_library(tmp_path)
    ws = tmp_path / "ws"
    update_workspace(release, ws, library=library)
    mine = ws / "cs231n_lib" / "affine.py"
    mine.write_text("def affine_forward(x, w, b):\n    return x @ w + b, None\n")
    (ws / "backprop" / "notes.txt").write_text("my notes")
    # A new version: the library changed, a file and an assignment were added.
    (library / "affine.py").write_text("# newer stub\n")
    (library / "conv.py").write_text("# conv stub\n")
    (release / "conv").mkdir()
    (release / "conv" / "conv.ipynb").write_text('{"cells": "conv"}')

    report = update_workspace(release, ws, library=library)
    assert mine.read_text().startswith("def affine_forward")
    assert (ws / "backprop" / "notes.txt").read_text() == "my notes"
    assert report.added == ["cs231n_lib/conv.py", "conv/conv.ipynb"]
    assert report.kept == ["cs231n_lib/affine.py", "backprop/backprop.ipynb"]
    assert report.kept_changed == ["cs231n_lib/affine.py"]
    summary = report.summary()
    assert "kept   cs231n_lib/affine.py  (yours" in summary
    assert "kept   1 unchanged file(s) in backprop/" in summary


def test_the_courses_known_mistakes_are_refreshed_the_learners_code_is_not(tmp_path):
    """The grader's known mistakes are the course's data, not the learner's work: a
    newer course replaces them, so the notebook's checks use the current words."""
    release, library = _fake_release(tmp_path), _fake_library(tmp_path)
    (library / "known_mistakes.json").write_text('{"format": 1, "old": true}')
    ws = tmp_path / "ws"
    update_workspace(release, ws, library=library)
    (ws / "cs231n_lib" / "affine.py").write_text("# mine\n")
    (library / "known_mistakes.json").write_text('{"format": 1, "new": true}')
    (library / "affine.py").write_text("# newer stub\n")

    report = update_workspace(release, ws, library=library)
    assert (ws / "cs231n_lib" / "known_mistakes.json").read_text() == '{"format": 1, "new": true}'
    assert (ws / "cs231n_lib" / "affine.py").read_text() == "# mine\n"
    assert report.refreshed == ["cs231n_lib/known_mistakes.json"]
    assert "updated cs231n_lib/known_mistakes.json" in report.summary()
    assert not list((ws / "cs231n_lib").glob(".*.new"))
    again = update_workspace(release, ws, library=library)
    assert again.refreshed == [] and "cs231n_lib/known_mistakes.json" in again.kept


def test_a_folder_where_a_file_would_go_is_left_alone(tmp_path):
    release = _fake_release(tmp_path)
    ws = tmp_path / "ws"
    (ws / "backprop" / "backprop.ipynb").mkdir(parents=True)
    report = update_workspace(release, ws)
    assert (ws / "backprop" / "backprop.ipynb").is_dir()
    assert "backprop/backprop.ipynb" in report.kept_changed


def test_an_old_workspace_keeps_its_copies_gets_no_new_ones_and_is_told_what_to_do(tmp_path):
    release, library = _fake_release(tmp_path), _fake_library(tmp_path)
    (release / "conv" / "cs231n_lib").mkdir(parents=True)
    (release / "conv" / "conv.ipynb").write_text('{"cells": "conv"}')
    (release / "conv" / "cs231n_lib" / "affine.py").write_text("# filled in: a solution\n")
    ws = tmp_path / "ws"
    old = ws / "backprop" / "cs231n_lib" / "affine.py"  # made by the old make lab
    old.parent.mkdir(parents=True)
    old.write_text("# the learner's half-done affine layer\n")

    report = update_workspace(release, ws, library=library)
    assert old.read_text() == "# the learner's half-done affine layer\n"
    assert not (ws / "conv" / "cs231n_lib").exists()  # no solution-bearing copy
    assert (ws / "conv" / "conv.ipynb").is_file()
    assert (ws / "cs231n_lib" / "affine.py").read_text() == "# stub\n"
    assert report.old_copies == ["backprop/cs231n_lib"]
    note = report.summary().splitlines()[-1]
    assert "backprop/cs231n_lib/" in note and "Copy the functions you wrote into" in note


def test_command_line_rejects_a_release_without_assignments(tmp_path, capsys):
    (tmp_path / "release").mkdir()
    assert cli.main(["lab", "--release", str(tmp_path / "release"), "--dest",
                     str(tmp_path / "ws"), "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("lab: ") and "holds no released assignments" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "ws").exists()


def test_unknown_assignments_are_refused(tmp_path):
    from autograder.release.build import ReleaseError

    with pytest.raises(ReleaseError, match=r"no release of \['nope'\]"):
        update_workspace(_fake_release(tmp_path), tmp_path / "ws", ["nope"])
