"""The source notebooks and their probes, every check run for every assignment.

The checks are in ``notebook_contract.py``; what differs between the
notebooks (their answer cells, the bugs their probes must catch) is in
``notebook_cases.py``.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from notebook_cases import CASES
from notebook_contract import (
    COURSE,
    LIBRARY,
    SOURCE_TIMEOUT,
    autograded_test_cells,
    check_answer_cells,
    check_format,
    check_probe_coverage,
    check_probes_deterministic,
    check_release_runs_to_the_end,
    check_setup_seeds,
    check_source_executes,
    check_test_cells,
    check_written_answers,
    library_copy,
    nbgrader_meta,
    probe_verdicts,
    read_source,
)

from autograder.release.gaps import library_gaps, read_gap_table, stub_source


def by_name(cases) -> list:
    return [pytest.param(case, id=case.name) for case in cases]


EVERY = by_name(CASES)
PLANTED_BUGS = [pytest.param(case, grade_id, bugs, id=f"{case.name}-{grade_id}-{i}")
                for case in CASES for i, (grade_id, bugs) in enumerate(case.planted_bugs)]


@pytest.mark.parametrize("case", EVERY)
def test_notebook_is_valid_nbgrader_source(case):
    check_format(case.name)
    check_setup_seeds(case.name)


@pytest.mark.parametrize("case", EVERY)
def test_test_cells_print_assert_and_hide_extra_checks(case):
    check_test_cells(case.name)


@pytest.mark.parametrize("case", by_name(c for c in CASES if c.answer_cells_named))
def test_answer_cells_say_what_to_write(case):
    check_answer_cells(case.name)


@pytest.mark.parametrize("case", EVERY)
def test_written_questions_have_model_answers(case):
    check_written_answers(case.name, minimum=case.written_minimum)


@pytest.mark.parametrize("case", by_name(c for c in CASES if c.required_cells))
def test_required_test_cells_are_in_the_notebook(case):
    grade_ids = {nbgrader_meta(c).get("grade_id") for c in read_source(case.name).cells}
    assert case.required_cells <= grade_ids, sorted(case.required_cells - grade_ids)


@pytest.mark.parametrize("case", by_name(c for c in CASES if c.required_calls))
def test_required_calls_are_in_the_code_cells(case):
    source = "\n".join(c.source for c in read_source(case.name).cells if c.cell_type == "code")
    for call in case.required_calls:
        assert call in source, call


@pytest.mark.parametrize("case", EVERY)
def test_every_library_test_cell_has_a_probe(case):
    check_probe_coverage(case.name, set(case.notebook_answers))


@pytest.mark.parametrize("case", EVERY)
def test_probes_are_deterministic_per_seed(case):
    check_probes_deterministic(case.name)


@pytest.mark.parametrize("case", EVERY)
def test_probes_pass_on_a_faithful_copy(tmp_path, case):
    lib = library_copy(tmp_path)
    for grade_id in case.faithful_cells:
        assert all(probe_verdicts(case.name, lib, grade_id).values()), grade_id


@pytest.mark.parametrize(("case", "grade_id", "bugs"), PLANTED_BUGS)
def test_probes_catch_a_planted_bug(tmp_path, case, grade_id, bugs):
    verdicts = probe_verdicts(case.name, library_copy(tmp_path, bugs), grade_id)
    assert not all(verdicts.values()), f"no probe of {grade_id} noticed {bugs}"


@pytest.mark.slow
@pytest.mark.parametrize("case", EVERY)
def test_source_notebook_executes(tmp_path, case):
    check_source_executes(case.name, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("case", EVERY)
def test_released_notebook_runs_to_the_end(tmp_path, case):
    check_release_runs_to_the_end(case.name, tmp_path)


# ------------------------------------------- the visible checks, run headless

# Runs a notebook's code cells in an IPython shell (the student's view: answer
# cells as written, test cells without their hidden part) against the library
# on PYTHONPATH, and writes one record per cell: its error, its printed text and
# what its figures show. Arguments: the cells (JSON), the output file.
_RUN_CELLS = r"""
import contextlib, io, json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from IPython.core.interactiveshell import InteractiveShell

cells = json.load(open(sys.argv[1], encoding="utf-8"))
shell = InteractiveShell.instance()
shown = []

def describe(fig):
    axes = []
    for ax in fig.axes:
        images = [{"shape": list(im.get_array().shape), "clim": list(im.get_clim())}
                  for im in ax.get_images()]
        axes.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(),
                     "ylabel": ax.get_ylabel(), "images": images})
    return axes

def display(*objects, **_):
    shown.extend(describe(o) for o in objects if isinstance(o, Figure))

def show(*_, **__):
    for number in plt.get_fignums():
        shown.append(describe(plt.figure(number)))
    plt.close("all")

plt.show = show
shell.user_ns["display"] = display
records = []
for cell in cells:
    shown.clear()
    text = io.StringIO()
    source = "\n".join(line for line in cell["source"].splitlines()
                       if not line.lstrip().startswith("%"))
    with contextlib.redirect_stdout(text), contextlib.redirect_stderr(io.StringIO()):
        result = shell.run_cell(source, store_history=True)
        show()
    error = result.error_before_exec or result.error_in_exec
    records.append({"grade_id": cell["grade_id"], "stdout": text.getvalue(),
                    "error": type(error).__name__ if error else "",
                    "message": str(error) if error else "", "figures": list(shown)})
json.dump(records, open(sys.argv[2], "w", encoding="utf-8"))
"""


@dataclass
class CellRun:
    """What one code cell did when its notebook ran headless."""

    grade_id: str
    stdout: str
    error: str
    message: str
    figures: list


def student_cells(assignment: str, *, until: str | None = None,
                  answers: dict[str, str] | None = None, hidden: str = "") -> list[dict]:
    """The code cells a student runs, in order: test cells cut before their hidden tests
    (except the cell ``hidden``), answer cells replaced by ``answers[grade_id]`` where
    given; stop after ``until``."""
    cells = []
    for cell in read_source(assignment).cells:
        if cell.cell_type != "code":
            continue
        grade_id = nbgrader_meta(cell).get("grade_id", "")
        source = cell.source if grade_id == hidden else \
            cell.source.split("### BEGIN HIDDEN TESTS")[0]
        source = (answers or {}).get(grade_id, source)
        cells.append({"grade_id": grade_id, "source": source})
        if grade_id == until:
            break
    return cells


def run_cells(cells: list[dict], library_parent: Path, workdir: Path) -> list[CellRun]:
    """Run ``cells`` in a fresh process that imports ``library_parent/cs231n_lib``."""
    spec, result = workdir / "cells.json", workdir / "runs.json"
    spec.write_text(json.dumps(cells), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(library_parent), "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-c", _RUN_CELLS, str(spec), str(result)], cwd=workdir,
                   env=env, check=True, timeout=SOURCE_TIMEOUT, capture_output=True)
    return [CellRun(**r) for r in json.loads(result.read_text(encoding="utf-8"))]


def run_with_bugs(case, tmp_path: Path, bugs, *, until: str | None = None,
                  answers: dict[str, str] | None = None,
                  hidden: str = "") -> tuple[list[CellRun], list[dict]]:
    """Runs of the student's cells with ``bugs`` planted in the library, and the cells."""
    library_copy(tmp_path, bugs)  # writes tmp_path / "cs231n_lib"
    cells = student_cells(case.name, until=until, answers=answers, hidden=hidden)
    return run_cells(cells, tmp_path, tmp_path), cells


def visible_asserts_without_message(source: str) -> list[int]:
    """Line numbers of the ``assert`` statements without a message in ``source``."""
    tree = ast.parse(source)
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Assert) and node.msg is None]


# ------------------------------------------ the visible checks against wrong code

VISIBLE_BUGS = [pytest.param(case, grade_id, bugs, id=f"{case.name}-{grade_id}-{i}")
                for case in CASES for i, (grade_id, bugs) in enumerate(case.visible_bugs)]
WRONG_ANSWERS = [pytest.param(case, grade_id, answers, id=f"{case.name}-{grade_id}-{i}")
                 for case in CASES
                 for i, (grade_id, answers) in enumerate(case.wrong_answers)]
INDEPENDENT = [pytest.param(case, grade_id, bugs, id=f"{case.name}-{grade_id}-{i}")
               for case in CASES for i, (grade_id, bugs) in enumerate(case.independent_cells)]
GUARDED = [pytest.param(case, bugs, snippet, id=f"{case.name}-{i}")
           for case in CASES for i, (bugs, snippet) in enumerate(case.guarded_demos)]


def _failed_with_a_message(run: CellRun, what) -> None:
    assert run.error and run.error != "NotImplementedError", \
        f"the visible checks of {run.grade_id} pass {what}"
    assert run.message.strip(), f"{run.grade_id} fails on {what} without saying why"


@pytest.mark.parametrize("case", EVERY)
def test_every_visible_assert_has_a_message(case):
    for grade_id, cell in autograded_test_cells(read_source(case.name)).items():
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        bare = visible_asserts_without_message(visible)
        assert not bare, f"{grade_id}: asserts without a message on visible lines {bare}"


@pytest.mark.parametrize(("case", "grade_id", "bugs"), VISIBLE_BUGS)
def test_what_a_visible_check_catches_its_probes_catch_under_every_seed(tmp_path, case,
                                                                         grade_id, bugs):
    """The probes decide the points: wrong code the notebook's own visible check
    catches must lose points too, whatever the grading seed draws."""
    lib = library_copy(tmp_path, bugs)
    missed = [seed for seed in range(12)
              if all(probe_verdicts(case.name, lib, grade_id, seed).values())]
    assert not missed, f"no probe of {grade_id} notices {bugs} under seeds {missed}"


@pytest.mark.slow
@pytest.mark.parametrize(("case", "grade_id", "bugs"), VISIBLE_BUGS)
def test_visible_checks_catch_wrong_code(tmp_path, case, grade_id, bugs):
    runs, _ = run_with_bugs(case, tmp_path, bugs, until=grade_id)
    assert runs[-1].grade_id == grade_id
    _failed_with_a_message(runs[-1], bugs)


@pytest.mark.slow
@pytest.mark.parametrize(("case", "grade_id", "answers"), WRONG_ANSWERS)
def test_visible_checks_catch_wrong_answers(tmp_path, case, grade_id, answers):
    runs, _ = run_with_bugs(case, tmp_path, [], until=grade_id, answers=answers)
    assert runs[-1].grade_id == grade_id
    _failed_with_a_message(runs[-1], answers)


@pytest.mark.slow
@pytest.mark.parametrize(("case", "grade_id", "bugs"), INDEPENDENT)
def test_one_wrong_function_costs_only_its_own_cell(tmp_path, case, grade_id, bugs):
    """A test cell, hidden part included, does not judge one gap by another gap's output."""
    runs, _ = run_with_bugs(case, tmp_path, bugs, until=grade_id, hidden=grade_id)
    assert runs[-1].grade_id == grade_id
    assert not runs[-1].error, f"{grade_id} fails on {bugs}: {runs[-1].message}"


@pytest.mark.slow
@pytest.mark.parametrize(("case", "bugs", "snippet"), GUARDED)
def test_demos_skip_instead_of_showing_wrong_numbers(tmp_path, case, bugs, snippet):
    runs, cells = run_with_bugs(case, tmp_path, bugs)
    crashed = [(c["source"].splitlines()[0], r.error) for c, r in zip(cells, runs, strict=True)
               if r.error and not r.grade_id.startswith("test_")]
    assert not crashed, f"cells other than test cells fail on {bugs}: {crashed}"
    demo = next(r for c, r in zip(cells, runs, strict=True) if snippet in c["source"])
    assert "demo is skipped" in demo.stdout, demo.stdout
    assert not demo.figures, "a skipped demo draws nothing"


# ------------------------------------------------------- the library's hints

HINT_LINE = re.compile(r"^\s*#\s*hint\s*:", re.IGNORECASE)


def _graded_modules() -> list[str]:
    return [m for row in read_gap_table(COURSE / "gaps.toml") for m in row.modules]


def test_every_gap_has_a_hint_that_points_the_way_without_the_line():
    for gaps in library_gaps(LIBRARY, _graded_modules()).values():
        for gap in gaps:
            first = next(line for line in gap.body if line.strip())
            assert HINT_LINE.match(first), f"{gap.where}: starts without a '# Hint:' line"
            assert "`" not in gap.hint, f"{gap.where}: the hint shows reST markup"
            hint = "".join(gap.hint.split())
            for line in gap.body:
                code = "".join(line.split("#")[0].split())
                assert len(code) < 12 or code not in hint, f"{gap.where}: the hint is the line"


def test_graph_stubs_leave_the_gate_patterns_to_the_student():
    source = (LIBRARY / "graph.py").read_text(encoding="utf-8")
    stubbed = stub_source(source, "cs231n_lib/graph.py", "backprop").lower()
    for name in ("distributor", "switcher", "router", "distributes", "switches", "routes"):
        assert name not in stubbed, f"the released graph.py names the pattern {name!r}"


# ----------------------------------------------- what the demos show, as stated

@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory):
    """name -> (runs, cells) of that notebook on the reference library, run once."""
    done = {}

    def run(name: str) -> tuple[list[CellRun], list[dict]]:
        if name not in done:
            where = tmp_path_factory.mktemp(name)
            shutil.copytree(LIBRARY, where / "cs231n_lib",
                            ignore=shutil.ignore_patterns("__pycache__"))
            cells = student_cells(name)
            done[name] = run_cells(cells, where, where), cells
        return done[name]

    return run


def _output_of(runs, cells, snippet: str) -> CellRun:
    return next(r for c, r in zip(cells, runs, strict=True) if snippet in c["source"])


@pytest.mark.slow
def test_dead_relu_figure_has_a_row_per_unit_as_its_text_says(reference_runs):
    runs, cells = reference_runs("activations")
    figure = _output_of(runs, cells, "if demo_needs(\"dead_fraction\"):").figures[0]
    assert [ax["ylabel"] for ax in figure][0] == "hidden unit"
    assert {ax["xlabel"] for ax in figure} == {"validation digit"}
    # 100 hidden units (rows) by 200 validation digits (columns)
    assert all(image["shape"] == [100, 200] for ax in figure for image in ax["images"])


@pytest.mark.slow
def test_zero_centring_demo_shows_what_its_text_says(reference_runs):
    runs, cells = reference_runs("activations")
    text = _output_of(runs, cells, "w_target = np.array([1.0, -1.0])").stdout
    fewest = dict(re.findall(r"(positive|zero-centred) inputs: fewest steps (\d+)", text))
    table = {label: row.split() for label, row in
             re.findall(r"^ *(positive|zero-centred) inputs((?: +\S+)+)$", text, re.M)}
    # the text: about as many steps at one small rate; fewer for centred inputs at each
    # one's best rate
    small_positive, small_centred = float(table["positive"][0]), float(table["zero-centred"][0])
    assert abs(small_positive - small_centred) < 0.1 * small_positive, table
    assert int(fewest["zero-centred"]) < int(fewest["positive"]), fewest


@pytest.mark.slow
def test_a_failed_gradient_check_names_the_wrong_gradient(tmp_path):
    backprop = next(case for case in CASES if case.name == "backprop")
    transposed = ("affine", "affine_backward", ("dw = x_rows.T @ dout", "dw = dout.T @ x_rows"))
    runs, _ = run_with_bugs(backprop, tmp_path, [transposed], until="test_affine_backward")
    assert "dw: backward returned shape (5, 6), expected (6, 5)" in runs[-1].message, \
        runs[-1].message
