"""The command line: every sub-command's help and arguments, and collect -> grade -> export."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys

import pytest
from pipeline_helpers import ASSIGNMENT, GRADER, HELPERS_DIR, make_course, released_notebook

from autograder import cli
from autograder.student.check import find_notebooks, format_check, score_notebook

REPO = HELPERS_DIR.parents[1]
COMMANDS = ("release", "collect", "grade", "export", "check", "lab", "demo")


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
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m autograder {command} ")
    # Defaults are said in words, never as this machine's absolute paths.
    assert str(REPO) not in out and "/home/" not in out and "/tmp/" not in out


def test_no_arguments_is_a_usage_error(capsys):
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


def _course_with_source(tmp_path):
    return make_course(tmp_path)  # source/ and release/ of ASSIGNMENT, an empty gradebook


def test_collect_of_an_unknown_assignment_is_refused(tmp_path, capsys):
    course = _course_with_source(tmp_path)
    (tmp_path / "src" / "alice").mkdir(parents=True)
    (tmp_path / "src" / "alice" / "nosuch.ipynb").write_text("{}")
    assert cli.main(["collect", "nosuch", str(tmp_path / "src"), "--course", str(course)]) == 2
    line = _one_line_error(capsys)
    assert line.startswith("collect: no assignment named 'nosuch'") and ASSIGNMENT in line
    assert not (course / "submitted").exists()


def test_collect_needs_a_course_folder(tmp_path, capsys):
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path), "--course",
                     str(tmp_path / "nope")]) == 2
    assert "is not a course folder" in _one_line_error(capsys)


def test_collect_that_imports_nothing_says_so(tmp_path, capsys):
    course = _course_with_source(tmp_path)
    (tmp_path / "empty").mkdir()
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "empty"), "--course",
                     str(course)]) == 1
    assert capsys.readouterr().err.startswith("collect: nothing imported")


def test_grade_of_an_unknown_assignment_is_refused(tmp_path, capsys):
    course = _course_with_source(tmp_path)
    submit_folder = course / "submitted" / "alice" / ASSIGNMENT
    submit_folder.mkdir(parents=True)
    assert cli.main(["grade", "nosuch", "--course", str(course)]) == 2
    assert _one_line_error(capsys).startswith("grade: no assignment named 'nosuch'")


def test_grade_before_collect_says_what_to_do(tmp_path, capsys):
    course = _course_with_source(tmp_path)
    assert cli.main(["grade", ASSIGNMENT, "--course", str(course)]) == 1
    line = _one_line_error(capsys)
    assert "no submissions of backprop" in line
    assert "python -m autograder collect backprop DIR" in line
    (course / "submitted").mkdir()
    assert cli.main(["grade", "--course", str(course)]) == 1
    assert "collect them first" in _one_line_error(capsys)


def test_export_before_grading_writes_nothing(tmp_path, capsys):
    course = _course_with_source(tmp_path)  # a gradebook exists, as after a release
    assert (course / "gradebook.db").exists()
    assert cli.main(["export", "--course", str(course)]) == 1
    assert "run python -m autograder grade first" in _one_line_error(capsys)
    assert not (course / "exports").exists()
    assert cli.main(["export", "nosuch", "--course", str(course)]) == 2
    assert "no assignment named 'nosuch'" in _one_line_error(capsys)


def test_demo_of_an_unknown_assignment_is_refused(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--assignment", "nosuch", "--out", str(out)]) == 2
    assert _one_line_error(capsys).startswith("demo: no assignment named 'nosuch'")
    assert not out.exists()
    assert cli.main(["demo", "--students", "2", "--out", str(out)]) == 2
    assert "--students must be at least" in _one_line_error(capsys)


def test_check_refuses_what_is_not_a_notebook(tmp_path, capsys):
    (tmp_path / "x.json").write_text("{}")
    assert cli.main(["check", str(tmp_path / "x.json")]) == 2
    assert "is not a notebook (expected a .ipynb file" in _one_line_error(capsys)
    (tmp_path / "broken.ipynb").write_text("{}")
    assert cli.main(["check", str(tmp_path / "broken.ipynb")]) == 1
    captured = capsys.readouterr()
    assert "broken.ipynb: not a Jupyter notebook: it has no list of cells" in captured.err
    assert "jsonschema" not in captured.err + captured.out


def test_release_of_an_unknown_assignment_fails_in_one_line(tmp_path, capsys):
    course = _course_with_source(tmp_path)
    shutil.copyfile(REPO / "assignments" / "gaps.toml", course / "gaps.toml")
    assert cli.main(["release", "--assignment", "nosuch", "--course", str(course)]) == 1
    assert "unknown assignment(s) ['nosuch']" in capsys.readouterr().err


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


def test_collect_from_a_missing_folder_is_refused(tmp_path, capsys):
    course = _course_with_source(tmp_path)
    assert cli.main(["collect", ASSIGNMENT, str(tmp_path / "nope"), "--course",
                     str(course)]) == 2
    assert "does not exist" in _one_line_error(capsys)


def test_collect_auto_detects_folders_and_zips(tmp_path, capsys):
    import zipfile

    folders, course = tmp_path / "folders", _course_with_source(tmp_path)
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


def test_self_check_shows_what_a_failed_cell_printed(tmp_path):
    """The gradient-check tables a failed cell printed say which input is wrong: the
    self-check shows them, and the whole message, under the row."""
    nb = _executed(True)
    table = "affine_forward / affine_backward\nw  (6, 5)  inf  FAIL\nlikely mistake in dw: x"
    message = "a relative error is above 1e-07 in affine: dw: " + "transposed " * 30 + "end"
    nb["cells"][2]["outputs"] = [
        {"output_type": "stream", "name": "stdout", "text": table + "\n"},
        {"output_type": "stream", "name": "stderr", "text": "a warning\n"},
        {"output_type": "error", "ename": "AssertionError", "evalue": message, "traceback": []}]
    text = format_check(score_notebook(nb, tmp_path / "a.ipynb"))
    assert "      w  (6, 5)  inf  FAIL" in text and "likely mistake in dw" in text, text
    assert "a warning" not in text
    assert "    message:\n      " + message in text, text


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
def test_self_check_prints_the_gradient_table_of_a_wrong_backward(tmp_path):
    """The issue's example: ``dw = dout.T @ x`` used to give only "a relative error
    is above 1e-07"; the self-check now shows the notebook's table and the mistake."""
    ws = tmp_path / "ws"
    shutil.copytree(REPO / "cs231n_lib", ws / "cs231n_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    affine = ws / "cs231n_lib" / "affine.py"
    right = "    dw = x_rows.T @ dout\n"
    assert right in affine.read_text()
    affine.write_text(affine.read_text().replace(right, "    dw = dout.T @ x_rows\n"))
    (ws / "backprop").mkdir()
    shutil.copy(REPO / "assignments" / "source" / "backprop" / "backprop.ipynb", ws / "backprop")
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(ws / "backprop")],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    rows = done.stdout.split("test_affine_backward", 1)[1].split("q_matrix_shapes", 1)[0]
    assert "0 / 4  failed" in rows
    assert "affine_forward / affine_backward" in rows and "max rel. error" in rows, rows
    assert "w      (6, 5)      inf             FAIL" in rows, rows
    # the grader's own sentence for this mistake (the catalogue's, via known_mistakes)
    assert "likely mistake in dw: affine_backward (affine.py): dw comes out transposed, " \
        "(M, D) instead of (D, M)" in rows, rows


def test_self_check_finds_the_workspace_library_above_a_notebook(tmp_path):
    from autograder.student.check import library_root

    ws = tmp_path / "ws"
    (ws / "cs231n_lib").mkdir(parents=True)
    (ws / "cs231n_lib" / "__init__.py").write_text("")
    (ws / "conv").mkdir()
    assert library_root(ws / "conv") == ws.resolve()
    assert library_root(tmp_path / "elsewhere") is None


@pytest.mark.slow
def test_self_check_runs_a_notebook_on_the_learners_one_library(tmp_path):
    folder = _workspace_notebook(tmp_path, "import cs231n_lib\n"
                                           "def double(x):\n    return cs231n_lib.twice(x)\n")
    lib = folder.parent / "cs231n_lib"
    lib.mkdir()
    (lib / "__init__.py").write_text("def twice(x):\n    return x + x\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(folder)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 / 5" in done.stdout


@pytest.mark.slow
def test_self_check_reports_failures_and_stops_runaway_cells(tmp_path):
    folder = _workspace_notebook(
        tmp_path, "import time\ndef double(x):\n    while True:\n        time.sleep(1)\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "check", str(folder),
                           "--cell-timeout", "3", "--timeout", "60"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0 / 2" in done.stdout and "failed" in done.stdout
