"""Checks shared by the tests of each source notebook and its probes.

``test_source_notebooks.py`` calls these for every assignment, with what
differs between the notebooks from ``notebook_cases.py`` (which test cells
check notebook answers rather than library code, which library functions a
planted bug must be caught in). See
``docs/architecture.md`` for the contract between notebooks, probes and the
autograder.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbgrader.nbgraderformat import MetadataValidator

import cs231n_lib
from autograder.demo.synth import plant_bug
from autograder.grading.probes import load_probe_set
from autograder.grading.reference import load_package
from autograder.grading.verify import compare_outputs, plain_outputs
from autograder.release.build import release

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "assignments"
LIBRARY = REPO / "cs231n_lib"
SOURCE_TIMEOUT = 120  # seconds per cell; a reference notebook takes well under 30 s in all


def source_path(assignment: str) -> Path:
    return COURSE / "source" / assignment / f"{assignment}.ipynb"


def read_source(assignment: str) -> nbformat.NotebookNode:
    return nbformat.read(source_path(assignment), as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def graded_cells(nb) -> list:
    return [c for c in nb.cells if nbgrader_meta(c).get("grade")]


def autograded_test_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """grade_id -> cell, for code cells with ``grade: true`` that are not answers."""
    return {nbgrader_meta(c)["grade_id"]: c for c in nb.cells
            if c.cell_type == "code" and nbgrader_meta(c).get("grade")
            and not nbgrader_meta(c).get("solution")}


def load_probes(assignment: str) -> list:
    return list(load_probe_set(COURSE / "probes" / assignment).probes)


# --------------------------------------------------------------- the notebook

def check_format(assignment: str) -> None:
    """Valid nbformat and nbgrader metadata; graded cells have unique ids and points."""
    nb = read_source(assignment)
    nbformat.validate(nb)
    MetadataValidator().validate_nb(nb)  # raises on a missing id, duplicate id, bad schema
    ids = [nbgrader_meta(c)["grade_id"] for c in graded_cells(nb)]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {ids}"
    for cell in graded_cells(nb):
        meta = nbgrader_meta(cell)
        assert meta["schema_version"] == 3
        assert isinstance(meta.get("points"), (int, float)) and meta["points"] > 0, meta
        if cell.cell_type == "code" and not meta.get("solution"):
            assert meta["grade_id"].startswith("test_"), meta["grade_id"]
            assert meta["locked"], f"{meta['grade_id']} must be locked"


def check_written_answers(assignment: str, minimum: int = 2) -> None:
    """Manually graded questions: markdown, graded, with a model answer between markers."""
    nb = read_source(assignment)
    written = [c for c in graded_cells(nb) if c.cell_type == "markdown"]
    assert len(written) >= minimum
    for cell in written:
        meta = nbgrader_meta(cell)
        assert meta["solution"], meta["grade_id"]
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        answer = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
        assert len(answer.split()) >= 30, f"{meta['grade_id']}: the model answer is too short"


def check_test_cells(assignment: str) -> None:
    """Every autograded test cell asserts, and hides extra checks from the student."""
    for grade_id, cell in autograded_test_cells(read_source(assignment)).items():
        assert "assert" in cell.source, grade_id
        assert cell.source.count("### BEGIN HIDDEN TESTS") == 1, grade_id
        assert cell.source.count("### END HIDDEN TESTS") == 1, grade_id
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert "print(" in visible, f"{grade_id} should print what it compares"


def check_answer_cells(assignment: str) -> None:
    """Code answer cells keep, outside the solution region, a line that names what to write:
    the release replaces the region, and the student must still know the variable names."""
    cells = [c for c in read_source(assignment).cells
             if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    assert cells, "at least one answer cell"
    for cell in cells:
        before, rest = cell.source.split("### BEGIN SOLUTION")
        after = rest.split("### END SOLUTION")[1]
        assert (before + after).strip(), f"{nbgrader_meta(cell)['grade_id']}: nothing survives"


def check_setup_seeds(assignment: str) -> None:
    nb = read_source(assignment)
    setup = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "setup"]
    assert setup, "a setup cell with grade_id 'setup'"
    assert "np.random.seed(" in setup[0].source and "%autoreload 2" in setup[0].source


# ------------------------------------------------------------------ the probes

def check_probe_coverage(assignment: str, notebook_answers: set[str]) -> None:
    """Every autograded test cell of library code has a probe; every probe names such a cell.

    ``notebook_answers`` are the test cells that check answers typed into the
    notebook (no library code to call, so no library probe: their answer
    probes, ``ANSWER_PROBES``, are checked by ``test_answer_probes.py``).
    """
    tests = autograded_test_cells(read_source(assignment))
    probes = load_probes(assignment)
    names = [p.name for p in probes]
    assert len(names) == len(set(names)), "probe names must be unique"
    assert all("::" not in n and "/" not in n for n in names)
    assert notebook_answers <= set(tests), notebook_answers - set(tests)
    probed = {p.grade_id for p in probes}
    assert probed <= set(tests), f"probes name cells that do not exist: {probed - set(tests)}"
    assert not probed & notebook_answers, probed & notebook_answers
    missing = set(tests) - notebook_answers - probed
    assert not missing, f"test cells of library code without a probe: {sorted(missing)}"


def check_probes_deterministic(assignment: str, seed: int = 231) -> None:
    """Same seed: same inputs and same outputs; another seed: other inputs."""
    for probe in load_probes(assignment):
        first = plain_outputs(probe.make_inputs(np.random.default_rng(seed)))
        again = plain_outputs(probe.make_inputs(np.random.default_rng(seed)))
        other = plain_outputs(probe.make_inputs(np.random.default_rng(seed + 1)))
        assert first.keys() == again.keys() == other.keys(), probe.name
        for key in first:
            assert np.array_equal(first[key], again[key]), (probe.name, key)
        assert any(first[k].shape != other[k].shape or not np.array_equal(first[k], other[k])
                   for k in first), f"{probe.name}: another seed drew the same inputs"

        out = plain_outputs(probe.run(cs231n_lib, _copy(first)))
        out_again = plain_outputs(probe.run(cs231n_lib, _copy(again)))
        assert out, probe.name
        assert out.keys() == out_again.keys(), probe.name
        for key in out:
            assert np.array_equal(out[key], out_again[key]), (probe.name, key)
            assert np.all(np.isfinite(out[key])), (probe.name, key)


def _copy(inputs: dict) -> dict:
    return {k: v.copy() for k, v in inputs.items()}


def library_copy(tmp_path: Path, bugs=()) -> object:
    """A copy of the reference library under a private name, with bugs planted.

    ``bugs`` holds ``(module, function, mutation)`` triples for
    ``autograder.demo.synth.plant_bug`` (``mutation`` None: its default, the
    function's last gradient assignment scaled by 1.01).
    """
    dest = tmp_path / "cs231n_lib"
    shutil.copytree(LIBRARY, dest, ignore=shutil.ignore_patterns("__pycache__"))
    for module, function, mutation in bugs:
        path = dest / f"{module}.py"
        path.write_text(plant_bug(path.read_text(encoding="utf-8"), f"cs231n_lib/{module}.py",
                                  function, mutation), encoding="utf-8")
    alias = "_probe_check_" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:12]
    return load_package(dest, alias)


def probe_verdicts(assignment: str, lib, grade_id: str, seed: int = 7) -> dict[str, bool]:
    """probe name -> whether ``lib`` matches the reference on that probe's inputs."""
    verdicts = {}
    for probe in load_probes(assignment):
        if probe.grade_id != grade_id:
            continue
        inputs = plain_outputs(probe.make_inputs(np.random.default_rng(seed)))
        reference = plain_outputs(probe.run(cs231n_lib, _copy(inputs)))
        try:
            student = plain_outputs(probe.run(lib, _copy(inputs)))
        except Exception:  # noqa: BLE001 - a crash is a failed probe
            verdicts[probe.name] = False
            continue
        verdicts[probe.name] = compare_outputs(reference, student, probe.rtol)[0]
    assert verdicts, f"no probe for {grade_id}"
    return verdicts


# ----------------------------------------------------------------- execution

def execute(path: Path, cwd: Path, *, allow_errors: bool = False) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=SOURCE_TIMEOUT, kernel_name="python3",
                            allow_errors=allow_errors, resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def errors_of(nb) -> list[tuple[str, str]]:
    return [(nbgrader_meta(c).get("grade_id", ""), o.get("ename", ""))
            for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def check_source_executes(assignment: str, tmp_path: Path) -> None:
    """The source notebook (complete reference library) runs without an error, and no
    graded cell writes to stderr (nbgrader counts that as a failed test)."""
    nb = execute(source_path(assignment), tmp_path)
    assert not errors_of(nb), errors_of(nb)
    for grade_id, cell in autograded_test_cells(nb).items():
        streams = [o for o in cell.outputs if o.get("output_type") == "stream"]
        assert all(o["name"] == "stdout" for o in streams), f"{grade_id} wrote to stderr"


def check_release_runs_to_the_end(assignment: str, tmp_path: Path) -> None:
    """Released (gaps stubbed), the notebook runs to its last cell with --allow-errors,
    and fails only where a stub or an unanswered question is used."""
    course = tmp_path / "assignments"
    course.mkdir()
    for name in ("nbgrader_config.py", "gaps.toml"):
        shutil.copy(COURSE / name, course / name)
    shutil.copytree(COURSE / "source" / assignment, course / "source" / assignment)
    release(course, LIBRARY, assignments=[assignment], log=lambda *_: None)
    released = course / "release" / assignment
    nb = execute(released / f"{assignment}.ipynb", released, allow_errors=True)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "every code cell must have run"
    errors = errors_of(nb)
    assert errors, "the release must leave something to implement"
    assert {ename for _, ename in errors} <= {"NotImplementedError", "AnswerMissingError"}, errors
    # An unanswered question is named by the test cell that reads it, not by a
    # NameError from the middle of some later cell.
    answer_probes = load_probe_set(COURSE / "probes" / assignment).answer_probes
    answer_tests = {p.grade_id for p in answer_probes}
    stray = [(gid, ename) for gid, ename in errors
             if ename == "AnswerMissingError" and gid not in answer_tests]
    assert not stray, stray
    setup = [gid for gid, _ in errors if gid in ("setup", "imports")]
    assert not setup, "setup and import cells must work in the release"
