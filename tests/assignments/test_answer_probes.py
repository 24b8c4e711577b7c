"""The real assignments: every autograded test cell is decided by a probe of some kind,
and the answer probes accept the source notebook's own answers and refuse wrong ones.

The answer cells of the source notebook are executed here on their own (they
are small: literals, a little arithmetic, one function), exported as the
notebook run would export them, and judged against the reference answers.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from notebook_contract import COURSE, autograded_test_cells, nbgrader_meta, read_source

import cs231n_lib
from autograder.grading import verify
from autograder.grading.probes import judge_module, load_probe_set
from autograder.grading.reference import Reference, reference_for
from autograder.inside import answer_export

ASSIGNMENTS = ("backprop", "conv", "activations", "initialization", "batchnorm", "training")
SOLUTION_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.MULTILINE)

# One wrong answer per answer cell: what a student might plausibly type.
WRONG = {
    "hand_gradients": "dfdz = -4.0",
    "gate_patterns": 'max_gate_pattern, add_gate_pattern = "distributor", "router"',
    "output_sizes": "output_sizes = [32, 28, 55, 54, None, 14, 8, 5]",
    "param_counts": "params_b = 64 * 3 * 3 * 10",
    "dead_fraction": "def dead_fraction(hidden):\n    return float(np.mean(hidden == 0))",
    "init_choice": 'good_init = {"tanh": "he", "relu": "xavier"}',
    "initial_loss_answer": "expected_initial_loss = np.log(9)",
    "loss_five_answer": "expected_loss_5 = np.log(10)",
    "search_counts_answer": "grid_rates, random_rates = 9, 27",
}
TESTED_BY = {"hand_gradients": "test_hand_gradients", "gate_patterns": "test_gate_patterns",
             "output_sizes": "test_output_sizes", "param_counts": "test_param_counts",
             "dead_fraction": "test_dead_fraction", "init_choice": "test_init_choice",
             "initial_loss_answer": "test_initial_loss",
             "loss_five_answer": "test_initial_loss_five",
             "search_counts_answer": "test_search_counts"}


def probe_file(assignment: str):
    return COURSE / "probes" / assignment


def reference(assignment: str, seed: int = 5) -> Reference:
    return reference_for(probe_file(assignment), seed, assignment, cs231n_lib)


def answer_cells(assignment: str) -> dict[str, tuple[int, str]]:
    """Solution code cells (grade_id -> position, source without markers)."""
    return {nbgrader_meta(c)["grade_id"]: (i, SOLUTION_MARKER.sub("", c.source))
            for i, c in enumerate(read_source(assignment).cells)
            if c.cell_type == "code" and nbgrader_meta(c).get("solution")}


def position(assignment: str, grade_id: str) -> int:
    return next(i for i, c in enumerate(read_source(assignment).cells)
                if nbgrader_meta(c).get("grade_id") == grade_id)


def answers_before(assignment: str, grade_id: str, replace: dict[str, str] | None = None
                   ) -> dict:
    """The namespace the answer cells before test cell ``grade_id`` leave (each answer
    cell appended to by ``replace``, as a student's later line would override it)."""
    namespace: dict = {"np": np}
    stop = position(assignment, grade_id)
    for gid, (index, source) in sorted(answer_cells(assignment).items(), key=lambda t: t[1][0]):
        if index < stop:
            exec(source + "\n" + (replace or {}).get(gid, ""), namespace)  # noqa: S102
    return namespace


def verdicts(assignment: str, replace: dict[str, str] | None = None) -> dict[str, bool]:
    ref = reference(assignment)
    requests = {r["name"]: r for r in ref.answer_requests()}
    out = {}
    for probe in ref.answer_probes:
        namespace = answers_before(assignment, probe.grade_id, replace)
        text = eval(answer_export.export_expression(requests[probe.name]), namespace)  # noqa: S307
        parsed = verify.parse_export(text)
        [verdict] = verify.judge_answers([probe], ref.answers, {probe.name: parsed})
        out[probe.grade_id] = verdict.passed
    return out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_autograded_test_cell_has_a_probe_of_some_kind(assignment):
    tests = autograded_test_cells(read_source(assignment))
    probe_set = load_probe_set(probe_file(assignment))
    probes, answer_probes = probe_set.probes, probe_set.answer_probes
    library = {p.grade_id for p in probes}
    answers = {p.grade_id for p in answer_probes}
    assert answers <= set(tests), answers - set(tests)
    assert not library & answers, "a cell is decided by library probes or answer probes"
    assert set(tests) == library | answers, sorted(set(tests) - library - answers)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answer_probes_read_names_the_notebook_assigns_before_the_test(assignment):
    answer_probes = load_probe_set(probe_file(assignment)).answer_probes
    assert answer_probes
    for probe in answer_probes:
        namespace = answers_before(assignment, probe.grade_id)
        for name in probe.variables + ((probe.function,) if probe.function else ()):
            assert name in namespace, (probe.name, name)
        assert probe.grade_id in autograded_test_cells(read_source(assignment))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_source_notebooks_answers_pass(assignment):
    got = verdicts(assignment)
    assert got and all(got.values()), got


@pytest.mark.parametrize("answer_cell", sorted(WRONG))
def test_a_wrong_answer_fails_its_cell_only(answer_cell):
    assignment = next(a for a in ASSIGNMENTS if answer_cell in answer_cells(a))
    got = verdicts(assignment, {answer_cell: WRONG[answer_cell]})
    failed = {gid for gid, ok in got.items() if not ok}
    assert failed == {TESTED_BY[answer_cell]}, got


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_answer_cell_has_a_wrong_answer_in_these_tests(assignment):
    tested = {gid for gid in answer_cells(assignment)
              if any(name in answer_cells(assignment)[gid][1]
                     for p in load_probe_set(probe_file(assignment)).answer_probes
                     for name in p.variables + (p.function,) if name)}
    assert tested <= set(WRONG), tested - set(WRONG)


def test_output_size_configurations_are_the_notebooks():
    namespace: dict = {}
    [cell] = [c for c in read_source("conv").cells
              if c.cell_type == "code" and c.source.startswith("configurations = [")]
    exec(cell.source, namespace)  # noqa: S102
    module = judge_module(probe_file("conv"))
    assert module.OUTPUT_SIZE_CONFIGURATIONS == namespace["configurations"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answer_inputs_are_drawn_from_the_seed(assignment):
    first, again, other = reference(assignment, 11), reference(assignment, 11), reference(
        assignment, 12)
    for name, inputs in first.answer_inputs.items():
        assert inputs.keys() == again.answer_inputs[name].keys()
        for key in inputs:
            assert np.array_equal(inputs[key], again.answer_inputs[name][key])
        if any(p.function for p in first.answer_probes if p.name == name):
            assert any(not np.array_equal(inputs[k], other.answer_inputs[name][k])
                       for k in inputs if inputs[k].shape == other.answer_inputs[name][k].shape
                       ) or any(inputs[k].shape != other.answer_inputs[name][k].shape
                                for k in inputs), name
    assert all(not isinstance(v, Exception) for v in first.answers.values()), first.answers
