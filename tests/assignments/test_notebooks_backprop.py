"""The backprop source notebook (lecture 4) and its probes."""

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
)

ASSIGNMENT = "backprop"
# Test cells that check numbers worked out by hand in the notebook, not library code.
NOTEBOOK_ANSWERS = {"test_hand_gradients", "test_gate_patterns"}


def test_notebook_is_valid_nbgrader_source():
    check_format(ASSIGNMENT)
    check_setup_seeds(ASSIGNMENT)


def test_test_cells_print_assert_and_hide_extra_checks():
    check_test_cells(ASSIGNMENT)


def test_answer_cells_say_what_to_write():
    check_answer_cells(ASSIGNMENT)


def test_written_questions_have_model_answers():
    check_written_answers(ASSIGNMENT, minimum=3)


def test_every_library_test_cell_has_a_probe():
    check_probe_coverage(ASSIGNMENT, NOTEBOOK_ANSWERS)


def test_probes_are_deterministic_per_seed():
    check_probes_deterministic(ASSIGNMENT)


def test_probes_pass_on_a_faithful_copy(tmp_path):
    lib = library_copy(tmp_path)
    for grade_id in ("test_numerical_gradient", "test_value_backward", "test_affine_backward"):
        assert all(probe_verdicts(ASSIGNMENT, lib, grade_id).values()), grade_id


@pytest.mark.parametrize(("grade_id", "bugs"), [
    ("test_value_backward", [("graph", "Value.__mul__._backward", None)]),
    ("test_sigmoid_neuron", [("graph", "Value.sigmoid._backward", None)]),
    ("test_staged_gates", [("graph", "max_gate_backward", None)]),
    # ties of the max gate must go to x, as documented
    ("test_staged_gates", [("graph", "max_gate_backward",
                            ("dx = (x >= y) * dout", "dx = (x > y) * dout"))]),
    ("test_affine_backward", [("affine", "affine_backward", None)]),
    # a one-sided difference: right to first order only, off by about h f''/2
    ("test_numerical_gradient", [
        ("gradient_check", "eval_numerical_gradient", ("x[ix] = old - h", "x[ix] = old")),
        ("gradient_check", "eval_numerical_gradient", ("/ (2 * h)", "/ h")),
    ]),
    ("test_grad_check_sparse", [("gradient_check", "grad_check_sparse",
                                 ("/ (2 * h)", "/ (2.02 * h)"))]),
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
