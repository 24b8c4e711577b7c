"""Synthetic submissions (autograder.demo.synth), without running nbgrader."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from toy_course import TOYGRAPH, TOYLAYER

from autograder.demo.synth import default_mutation, make_submission, plant_bug, reference_notebook
from autograder.release.build import release_rule, write_library
from autograder.release.gaps import find_gaps, read_gap_table, strip_markers


def _fake_release(course):
    """release/<a>/ as nbgrader would lay it out, made without nbgrader (fast)."""
    lib = course.parent / "cs231n_lib"
    table = read_gap_table(course / "gaps.toml")
    for index, row in enumerate(table):
        dest = course / "release" / row.name
        dest.mkdir(parents=True)
        nb = nbformat.read(course / "source" / row.name / f"{row.name}.ipynb", as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("solution"):
                cell.source = "# YOUR CODE HERE\nraise NotImplementedError()"
        nbformat.write(nb, dest / f"{row.name}.ipynb")
        write_library(lib, dest / "cs231n_lib", table, release_rule(index))
    return lib


def test_default_mutation_scales_the_last_gradient_assignment():
    source = plant_bug(TOYLAYER, "cs231n_lib/toylayer.py", "scale_backward")
    assert "    dw = ((dout * x).sum(axis=0)) * 1.01\n" in source
    assert "    dx = dout * w[None, :]\n" in source
    assert len(find_gaps(source, "p")) == 2  # markers kept: still a gapped module
    index, line = default_mutation(("        self.grad += out.grad * 2",))
    assert (index, line) == (0, "        self.grad += (out.grad * 2) * 1.01")
    with pytest.raises(ValueError, match="explicit mutation"):
        default_mutation(("    out = x", "    dx = np.zeros_like(x)"))


def test_explicit_mutation_and_unknown_function():
    source = plant_bug(TOYGRAPH, "cs231n_lib/toygraph.py", "add_backward",
                       ("db = dout", "db = -dout"))
    assert "db = -dout" in strip_markers(source, "p")
    with pytest.raises(ValueError, match=r"its gaps are \['add_backward'\]"):
        plant_bug(TOYGRAPH, "cs231n_lib/toygraph.py", "mul_backward")
    with pytest.raises(ValueError, match="does not occur"):
        plant_bug(TOYGRAPH, "cs231n_lib/toygraph.py", "add_backward", ("nope", "x"))


def test_reference_notebook_takes_solutions_from_source(toy_course):
    _fake_release(toy_course)
    nb = reference_notebook(toy_course / "release" / "second" / "second.ipynb",
                            toy_course / "source" / "second" / "second.ipynb")
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}
    assert sources["double"] == "def double(x):\n    return 2 * x"
    assert "Each weight scales a whole column" in sources["written_sum"]
    assert "SOLUTION" not in "".join(sources.values())


def test_submissions_of_every_kind(toy_course):
    lib = _fake_release(toy_course)
    ref = make_submission(toy_course, "second", "s1", "reference", lib_dir=lib)
    assert ref == toy_course / "submitted" / "s1" / "second"
    assert (ref / "timestamp.txt").read_text().endswith("UTC\n")
    assert (ref / "cs231n_lib" / "toylayer.py").read_text() == strip_markers(TOYLAYER, "p")

    untouched = make_submission(toy_course, "second", "s2", "release", lib_dir=lib)
    assert ((untouched / "cs231n_lib" / "toylayer.py").read_bytes()
            == (toy_course / "release" / "second" / "cs231n_lib" / "toylayer.py").read_bytes())

    partial = make_submission(toy_course, "first", "s3", "partial", lib_dir=lib,
                              filled=["scale_forward"])
    text = (partial / "cs231n_lib" / "toylayer.py").read_text()
    assert "out = x * w[None, :]" in text
    assert "Implement scale_backward" in text and "dw = (dout" not in text
    assert "Implement add_backward" in (partial / "cs231n_lib" / "toygraph.py").read_text()

    wrong = make_submission(toy_course, "second", "s4", "wrong_backward", lib_dir=lib,
                            wrong_function="scale_backward")
    assert "* 1.01" in (wrong / "cs231n_lib" / "toylayer.py").read_text()
    assert "SOLUTION" not in (wrong / "cs231n_lib" / "toylayer.py").read_text()
    with pytest.raises(ValueError, match="no gap in a function named"):
        make_submission(toy_course, "second", "s5", "wrong_backward", lib_dir=lib,
                        wrong_function="nothing_backward")
    with pytest.raises(ValueError, match="kind must be one of"):
        make_submission(toy_course, "second", "s6", "hostile", lib_dir=lib)


def test_a_stale_release_is_reported(toy_course):
    _fake_release(toy_course)
    shutil.rmtree(toy_course / "release" / "first")
    with pytest.raises(FileNotFoundError, match="run the release first"):
        make_submission(toy_course, "first", "s1", "reference")
