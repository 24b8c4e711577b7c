"""The conv source notebook (lecture 5) and its probes."""

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

ASSIGNMENT = "conv"
# Test cells that check numbers worked out by hand in the notebook, not library code.
NOTEBOOK_ANSWERS = {"test_output_sizes", "test_param_counts"}


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
    for grade_id in ("test_conv_forward", "test_conv_backward", "test_max_pool_forward",
                     "test_max_pool_backward"):
        assert all(probe_verdicts(ASSIGNMENT, lib, grade_id).values()), grade_id


@pytest.mark.parametrize(("grade_id", "bugs"), [
    ("test_conv_backward", [("conv", "conv_backward_naive", None)]),
    ("test_max_pool_backward", [("conv", "max_pool_backward_naive", None)]),
    # windows that overlap must add their gradients, not overwrite them
    ("test_max_pool_backward", [("conv", "max_pool_backward_naive",
                                 ("] += dout[:, :, i, j]", "] = dout[:, :, i, j]"))]),
    # the padding's zeros are not part of the input (the sum must ignore them)
    ("test_conv_forward", [("conv", "conv_forward_naive",
                            ("((0, 0), (0, 0), (pad, pad), (pad, pad))",
                             "((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=0.01"))]),
    # the window is pool_height x pool_width, not a single column
    ("test_max_pool_forward", [("conv", "max_pool_forward_naive",
                                ("left:left + pw]", "left:left + 1]"))]),
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
