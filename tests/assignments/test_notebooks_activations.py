"""The activations source notebook (lecture 6) and its probes."""

from __future__ import annotations

import pytest
from notebook_contract import (
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
    probe_verdicts,
    read_source,
)

ASSIGNMENT = "activations"
# The dead-unit counter is written in the notebook, not in the library.
NOTEBOOK_ANSWERS = {"test_dead_fraction"}
# Every gapped activation has its own graded test cell.
ACTIVATION_CELLS = {"test_sigmoid", "test_tanh", "test_leaky_relu", "test_prelu", "test_elu",
                    "test_maxout"}


def test_notebook_is_valid_nbgrader_source():
    check_format(ASSIGNMENT)
    check_setup_seeds(ASSIGNMENT)


def test_test_cells_print_assert_and_hide_extra_checks():
    check_test_cells(ASSIGNMENT)


def test_answer_cells_say_what_to_write():
    check_answer_cells(ASSIGNMENT)


def test_written_questions_have_model_answers():
    check_written_answers(ASSIGNMENT, minimum=3)


def test_every_activation_has_a_graded_cell_and_a_probe():
    cells = read_source(ASSIGNMENT).cells
    grade_ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in cells}
    assert ACTIVATION_CELLS <= grade_ids
    check_probe_coverage(ASSIGNMENT, NOTEBOOK_ANSWERS)


def test_the_explorers_are_in_the_notebook():
    source = "\n".join(c.source for c in read_source(ASSIGNMENT).cells if c.cell_type == "code")
    assert "activation_explorer(" in source and "figure_explorer(" in source


def test_probes_are_deterministic_per_seed():
    check_probes_deterministic(ASSIGNMENT)


def test_probes_pass_on_a_faithful_copy(tmp_path):
    lib = library_copy(tmp_path)
    for grade_id in sorted(ACTIVATION_CELLS):
        assert all(probe_verdicts(ASSIGNMENT, lib, grade_id).values()), grade_id


@pytest.mark.parametrize(("grade_id", "bugs"), [
    ("test_sigmoid", [("activations", "sigmoid_backward", None)]),
    ("test_tanh", [("activations", "tanh_backward", None)]),
    ("test_leaky_relu", [("activations", "leaky_relu_backward", None)]),
    ("test_prelu", [("activations", "prelu_backward", None)]),
    ("test_elu", [("activations", "elu_backward", None)]),
    ("test_maxout", [("activations", "maxout_backward", None)]),
    # a per-channel alpha shares one slope over N, H and W: its gradient must sum over them
    ("test_prelu", [("activations", "prelu_backward",
                     ("range(x.ndim) if ax != 1", "range(x.ndim) if ax == 0"))]),
])
def test_probes_catch_a_planted_bug(tmp_path, grade_id, bugs):
    verdicts = probe_verdicts(ASSIGNMENT, library_copy(tmp_path, bugs), grade_id)
    assert not all(verdicts.values()), f"no probe of {grade_id} noticed {bugs}"


@pytest.mark.slow
def test_source_notebook_executes(tmp_path):
    check_source_executes(ASSIGNMENT, tmp_path)


@pytest.mark.slow
def test_released_notebook_runs_to_the_end(tmp_path):
    check_release_runs_to_the_end(ASSIGNMENT, tmp_path)
