"""The learner's workspace never overwrites their files (autograder.student.workspace)."""

from __future__ import annotations

from pathlib import Path

from autograder.student.workspace import main, update_workspace


def _fake_release(root: Path) -> Path:
    release = root / "release"
    (release / "backprop" / "cs231n_lib").mkdir(parents=True)
    (release / "backprop" / "backprop.ipynb").write_text('{"cells": "release"}')
    (release / "backprop" / "cs231n_lib" / "affine.py").write_text("# stub\n")
    (release / "backprop" / "cs231n_lib" / "__pycache__").mkdir()
    (release / "backprop" / "cs231n_lib" / "__pycache__" / "affine.pyc").write_bytes(b"x")
    return release


def test_first_run_adds_everything(tmp_path):
    release = _fake_release(tmp_path)
    report = update_workspace(release, tmp_path / "ws")
    assert report.added == ["backprop/backprop.ipynb", "backprop/cs231n_lib/affine.py"]
    assert report.kept == []
    assert (tmp_path / "ws" / "backprop" / "cs231n_lib" / "affine.py").read_text() == "# stub\n"
    assert not (tmp_path / "ws" / "backprop" / "cs231n_lib" / "__pycache__").exists()


def test_existing_work_is_kept_and_new_files_and_assignments_are_added(tmp_path):
    release = _fake_release(tmp_path)
    ws = tmp_path / "ws"
    update_workspace(release, ws)
    mine = ws / "backprop" / "cs231n_lib" / "affine.py"
    mine.write_text("def affine_forward(x, w, b):\n    return x @ w + b, None\n")
    (ws / "backprop" / "notes.txt").write_text("my notes")
    # A new release: the library changed, a file and an assignment were added.
    (release / "backprop" / "cs231n_lib" / "affine.py").write_text("# newer stub\n")
    (release / "backprop" / "cs231n_lib" / "conv.py").write_text("# conv stub\n")
    (release / "conv").mkdir()
    (release / "conv" / "conv.ipynb").write_text('{"cells": "conv"}')

    report = update_workspace(release, ws)
    assert mine.read_text().startswith("def affine_forward")
    assert (ws / "backprop" / "notes.txt").read_text() == "my notes"
    assert report.added == ["backprop/cs231n_lib/conv.py", "conv/conv.ipynb"]
    assert report.kept == ["backprop/backprop.ipynb", "backprop/cs231n_lib/affine.py"]
    assert report.kept_changed == ["backprop/cs231n_lib/affine.py"]
    summary = report.summary()
    assert "kept   backprop/cs231n_lib/affine.py  (yours" in summary
    assert "kept   1 unchanged file(s) in backprop/" in summary


def test_a_folder_where_a_file_would_go_is_left_alone(tmp_path):
    release = _fake_release(tmp_path)
    ws = tmp_path / "ws"
    (ws / "backprop" / "backprop.ipynb").mkdir(parents=True)
    report = update_workspace(release, ws)
    assert (ws / "backprop" / "backprop.ipynb").is_dir()
    assert "backprop/backprop.ipynb" in report.kept_changed


def test_command_line_reports_and_rejects_unknown_assignments(tmp_path, capsys):
    release = _fake_release(tmp_path)
    assert main(["--release", str(release), "--dest", str(tmp_path / "ws")]) == 0
    out = capsys.readouterr().out
    assert "added  backprop/backprop.ipynb" in out and "2 file(s) added, 0 kept" in out
    assert main(["--release", str(release), "--dest", str(tmp_path / "ws")]) == 0
    assert "0 file(s) added, 2 kept (0 of them with your changes)" in capsys.readouterr().out
    assert main(["--release", str(release), "--dest", str(tmp_path / "ws"),
                 "--assignment", "nope"]) == 1
    assert "no release of ['nope']" in capsys.readouterr().err
