"""The command line: every sub-command's help and arguments, and collect -> grade -> export."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from pipeline_helpers import ASSIGNMENT, GRADER, HELPERS_DIR, make_course, released_notebook

from autograder import cli
from autograder.student.check import find_notebooks, format_check, score_notebook

REPO = HELPERS_DIR.parents[1]
COMMANDS = ("release", "collect", "grade", "export", "check", "demo")


def test_top_level_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main([command, "--help"])
    assert stop.value.code == 0
    assert "usage: python -m autograder" in capsys.readouterr().out


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--help"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "--scheduler" in done.stdout and "--force" in done.stdout


def test_grade_arguments_are_parsed():
    args = cli.build_parser().parse_args(
        ["grade", "backprop", "--student", "a", "--student", "b", "--jobs", "3",
         "--scheduler", "tcp://127.0.0.1:8786", "--force", "--course", "/x"])
    assert (args.assignment, args.student, args.jobs, args.scheduler, args.force) == (
        "backprop", ["a", "b"], 3, "tcp://127.0.0.1:8786", True)
    assert str(args.course) == "/x"
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["grade", "--jobs", "0"])


def test_collect_and_grade_report_clear_errors(tmp_path, capsys):
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "nope"), "--course",
                     str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert cli.main(["grade", "--course", str(tmp_path)]) == 2
    assert "collect them first" in capsys.readouterr().err
    assert cli.main(["export", "--course", str(tmp_path)]) == 2


def test_collect_auto_detects_folders_and_zips(tmp_path, capsys):
    import zipfile

    folders, course = tmp_path / "folders", tmp_path / "course"
    (folders / "alice").mkdir(parents=True)
    (folders / "alice" / "backprop.ipynb").write_text("{}")
    assert cli.main(["collect", ASSIGNMENT, str(folders), "--course", str(course)]) == 0
    lms = tmp_path / "lms"
    lms.mkdir()
    with zipfile.ZipFile(lms / "bob.zip", "w") as zf:
        zf.writestr("backprop.ipynb", "{}")
    (lms / "broken.zip").write_bytes(b"not a zip")
    assert cli.main(["collect", ASSIGNMENT, str(lms), "--course", str(course)]) == 0
    out = capsys.readouterr().out
    assert "problem broken.zip" in out
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "bob"]


@pytest.mark.slow
def test_grade_then_export_from_the_command_line(tmp_path, monkeypatch, capsys):
    course = make_course(tmp_path, {"alice": {}, "bob": {"error": "no notebook"}})
    monkeypatch.setattr("autograder.grading.schedule.DEFAULT_GRADER", GRADER)
    from autograder.grading import schedule

    original = schedule.grade_class

    def with_stand_in(*args, **kwargs):
        kwargs["grader"] = GRADER
        return original(*args, **kwargs)

    monkeypatch.setattr(schedule, "grade_class", with_stand_in)
    assert cli.main(["grade", ASSIGNMENT, "--course", str(course), "--jobs", "1",
                     "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "graded 1, errors 1" in out and "no notebook" in out
    assert cli.main(["grade", "--course", str(course), "--no-progress"]) == 0
    assert "skipped (already graded) 2" in capsys.readouterr().out
    assert cli.main(["export", "--course", str(course)]) == 0
    rows = list(csv.DictReader((course / "exports" / "grades.csv").open()))
    assert [r["total"] for r in rows] == ["5", "0"]
    assert (course / "feedback" / "alice" / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    assert json.loads((course / "exports/gradescope/backprop/alice/results.json").read_text())


# ------------------------------------------------------------------ check (self-check)

def _executed(passing: bool) -> dict:
    nb = released_notebook()
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = 1
            cell["outputs"] = []
    if not passing:
        nb["cells"][2]["outputs"] = [{"output_type": "error", "ename": "NotImplementedError",
                                      "evalue": "", "traceback": []}]
        nb["cells"][3]["execution_count"] = None
        nb["metadata"]["self_check_stopped"] = "the notebook ran for more than 5 s"
    return nb


def test_self_check_tally(tmp_path):
    good = score_notebook(_executed(True), tmp_path / "a.ipynb")
    assert [(q.grade_id, q.points, q.status) for q in good.questions] == [
        ("test_affine", 2.0, "passed"), ("test_graph", 3.0, "passed"),
        ("why_router", None, "graded by hand")]
    assert (good.earned, good.possible, good.all_passed) == (5.0, 5.0, True)
    bad = score_notebook(_executed(False), tmp_path / "a.ipynb")
    assert [(q.points, q.status) for q in bad.questions[:2]] == [(0.0, "failed"),
                                                                 (0.0, "not run")]
    assert not bad.all_passed and "5 s" in bad.error
    table = format_check(bad)
    assert "test_affine" in table and "0 / 2" in table and "NotImplementedError" in table


def test_self_check_finds_workspace_notebooks(tmp_path):
    (tmp_path / "ws" / "backprop" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "ws" / "backprop" / "backprop.ipynb").write_text("{}")
    (tmp_path / "ws" / "backprop" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    (tmp_path / "ws" / "conv").mkdir()
    (tmp_path / "ws" / "conv" / "conv.ipynb").write_text("{}")
    assert [p.name for p in find_notebooks([tmp_path / "ws"])] == ["backprop.ipynb",
                                                                   "conv.ipynb"]
    assert [p.name for p in find_notebooks([tmp_path / "ws" / "conv"])] == ["conv.ipynb"]
    with pytest.raises(FileNotFoundError):
        find_notebooks([tmp_path / "missing"])


def _workspace_notebook(tmp_path, body: str):
    nb = released_notebook()
    nb["cells"][1]["source"] = body
    folder = tmp_path / "ws" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))
    return folder


@pytest.mark.slow
def test_self_check_runs_the_students_notebook(tmp_path):
    folder = _workspace_notebook(tmp_path, "def double(x):\n    return x + x\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(folder)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_affine" in done.stdout and "5 / 5" in done.stdout


@pytest.mark.slow
def test_self_check_reports_failures_and_stops_runaway_cells(tmp_path):
    folder = _workspace_notebook(
        tmp_path, "import time\ndef double(x):\n    while True:\n        time.sleep(1)\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(folder),
                           "--cell-timeout", "3", "--timeout", "60"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0 / 2" in done.stdout and "failed" in done.stdout
