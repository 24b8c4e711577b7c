"""The source notebooks and their probes, every check run for every assignment.

The checks are in ``notebook_contract.py``; what differs between the
notebooks (their answer cells, the bugs their probes must catch) is in
``notebook_cases.py``.
"""

from __future__ import annotations

import pytest
from notebook_cases import CASES
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
    nbgrader_meta,
    probe_verdicts,
    read_source,
)


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
