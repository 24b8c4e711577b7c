"""The batchnorm source notebook (lecture 6) and its probes."""

from __future__ import annotations

import pytest
from notebook_contract import (
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

ASSIGNMENT = "batchnorm"
# Test cells that check an answer typed into the notebook, not library code.
NOTEBOOK_ANSWERS = {"test_initial_loss"}
LIBRARY_CELLS = ("test_batchnorm_forward_train", "test_batchnorm_forward_test",
                 "test_batchnorm_backward", "test_batchnorm_backward_alt",
                 "test_spatial_batchnorm_forward", "test_spatial_batchnorm_backward")


def test_notebook_is_valid_nbgrader_source():
    check_format(ASSIGNMENT)
    check_setup_seeds(ASSIGNMENT)


def test_test_cells_print_assert_and_hide_extra_checks():
    check_test_cells(ASSIGNMENT)


def test_written_questions_have_model_answers():
    check_written_answers(ASSIGNMENT, minimum=3)


def test_every_library_test_cell_has_a_probe():
    check_probe_coverage(ASSIGNMENT, NOTEBOOK_ANSWERS)


def test_probes_are_deterministic_per_seed():
    check_probes_deterministic(ASSIGNMENT)


def test_probes_pass_on_a_faithful_copy(tmp_path):
    lib = library_copy(tmp_path)
    for grade_id in LIBRARY_CELLS:
        assert all(probe_verdicts(ASSIGNMENT, lib, grade_id).values()), grade_id


@pytest.mark.parametrize(("grade_id", "bugs"), [
    # the unbiased variance instead of the paper's biased one
    ("test_batchnorm_forward_train", [("batchnorm", "batchnorm_forward",
                                       ("x_centered) / N", "x_centered) / (N - 1)"))]),
    # momentum applied to the new statistics instead of the running ones
    ("test_batchnorm_forward_train", [("batchnorm", "batchnorm_forward",
                                       ("momentum * running_mean + (1 - momentum) * sample_mean",
                                        "(1 - momentum) * running_mean + momentum * sample_mean"
                                        ))]),
    # test mode that centres with the batch's own mean
    ("test_batchnorm_forward_test", [("batchnorm", "batchnorm_forward",
                                      ("out = x - running_mean", "out = x - x.mean(axis=0)"))]),
    ("test_batchnorm_backward", [("batchnorm", "batchnorm_backward", None)]),
    # the variance's path forgotten where x_centered fans out
    ("test_batchnorm_backward", [("batchnorm", "batchnorm_backward",
                                  ("dx_centered += 2.0 * x_centered * dvar / N",
                                   "dx_centered = dx_centered"))]),
    ("test_batchnorm_backward_alt", [("batchnorm", "batchnorm_backward_alt", None)]),
    # channels and positions mixed up by a reshape without the transpose
    ("test_spatial_batchnorm_forward", [("batchnorm", "spatial_batchnorm_forward",
                                         ("x.transpose(0, 2, 3, 1).reshape(N * H * W, C)",
                                          "x.reshape(N * H * W, C)"))]),
    ("test_spatial_batchnorm_backward", [("batchnorm", "spatial_batchnorm_backward", None)]),
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
