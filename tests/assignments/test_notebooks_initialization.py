"""The initialization source notebook (lecture 6: preprocessing, weight init) and its probes."""

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

ASSIGNMENT = "initialization"
# Test cells that check an answer typed into the notebook, not library code.
NOTEBOOK_ANSWERS = {"test_init_choice"}
LIBRARY_CELLS = ("test_mean_image", "test_channel_mean", "test_standardize", "test_pca_whiten",
                 "test_small_and_scaled", "test_xavier_he")


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
    # transform must leave its input alone (the caller still needs the raw data)
    ("test_mean_image", [("preprocess", "MeanImage.transform",
                          ("return X - self.mean_", "X -= self.mean_\n        return X"))]),
    # a median is not a mean
    ("test_channel_mean", [("preprocess", "ChannelMean.fit",
                            ("X_train.mean(axis=(0, 2, 3))",
                             "np.median(X_train, axis=(0, 2, 3))"))]),
    # statistics of the set being transformed instead of the fitted ones
    ("test_channel_mean", [("preprocess", "ChannelMean.transform",
                            ("X - self.mean_[None, :, None, None]",
                             "X - X.mean(axis=(0, 2, 3))[None, :, None, None]"))]),
    # the unbiased variance instead of the biased one the docstring asks for
    ("test_standardize", [("preprocess", "Standardize.fit",
                           ("X_train.var(axis=0)", "X_train.var(axis=0, ddof=1)"))]),
    # eigenvalues in ascending order: the *least* important directions kept
    ("test_pca_whiten", [("preprocess", "PCA.fit",
                          ("np.argsort(eigvals)[::-1][:k]", "np.argsort(eigvals)[:k]"))]),
    ("test_pca_whiten", [("preprocess", "Whiten.transform",
                          ("self.explained_variance_ + self.eps",
                           "self.explained_variance_"))]),
    # the std argument ignored
    ("test_small_and_scaled", [("init", "small_random", ("return std *", "return 0.01 *"))]),
    # a second draw from the generator
    ("test_small_and_scaled", [("init", "scaled_random",
                                ("return scale * rng.standard_normal((fan_in, fan_out))",
                                 "rng.standard_normal(1)\n"
                                 "    return scale * rng.standard_normal((fan_in, fan_out))"))]),
    # the transposed shape's draw
    ("test_xavier_he", [("init", "xavier",
                         ("rng.standard_normal((fan_in, fan_out))",
                          "rng.standard_normal((fan_out, fan_in)).T"))]),
    # He without its factor 2 is Xavier
    ("test_xavier_he", [("init", "he", ("np.sqrt(fan_in / 2.0)", "np.sqrt(fan_in)"))]),
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
