"""demo: the whole pipeline on a small synthetic class of the real course (slow)."""

from __future__ import annotations

import csv

import pytest

from autograder.demo.class_demo import (
    HONEST_KINDS,
    format_table,
    meets_expectation,
    run_demo,
    summarise,
)


def test_summary_groups_by_kind():
    records = [
        {"student": "a", "status": "graded", "score": 10.0, "max_score": 10.0, "flags": []},
        {"student": "b", "status": "graded", "score": 4.0, "max_score": 10.0,
         "flags": ["test_x: unverified: no probe"]},
        {"student": "c", "status": "error", "score": None, "max_score": 10.0,
         "flags": ["time limit: stopped after 5 s"]},
    ]
    rows = summarise(records, {"a": "complete", "b": "complete", "c": "hostile:infinite_loop"})
    by = {r["kind"]: r for r in rows}
    assert by["complete"]["count"] == 2 and by["complete"]["mean"] == 7.0
    assert by["complete"]["flagged"] == 0  # "unverified" is routine, not a suspicion
    assert by["hostile (all)"]["errors"] == 1 and by["hostile:infinite_loop"]["flagged"] == 1
    assert by["hostile:infinite_loop"]["expected"] == "full"
    assert by["hostile:infinite_loop"]["met"] == "NO"
    assert "hostile:infinite_loop" in format_table(rows)


def test_summary_counts_flags_as_the_csv_does_and_states_both_maxima():
    records = [
        # A flag on a cell only: grades.csv lists it, so the summary counts it.
        {"student": "a", "status": "graded", "score": 27.0, "max_score": 27.0,
         "manual_max_score": 6.0, "flags": [],
         "cells": [{"grade_id": "test_x", "flags": ["integrity: checker replaced"]}]},
        {"student": "b", "status": "graded", "score": 20.0, "max_score": 27.0,
         "manual_max_score": 6.0, "flags": [],
         "cells": [{"grade_id": "test_y", "flags": ["unverified: no probe"]}]},
    ]
    rows = summarise(records, {"a": "complete", "b": "complete"})
    assert rows[0]["flagged"] == 1
    table = format_table(rows)
    assert "27 + 6" in table.splitlines()[2]
    assert "scores are out of 27 autograded + 6 by hand" in table


def _cell(points, max_points, *kinds):
    return {"points": points, "max_points": max_points,
            "probes": [{"name": f"p{i}", "kind": k, "passed": points == max_points}
                       for i, k in enumerate(kinds)]}


def test_probed_expectation_spares_only_answers_a_dead_notebook_never_gave():
    library, answer = _cell(4.0, 4.0, "library"), _cell(0.0, 3.0, "answer")
    ok = {"status": "graded", "score": 4.0, "max_score": 7.0, "cells": [library, answer]}
    assert meets_expectation(ok, "probed")
    lost = {"status": "graded", "score": 0.0, "max_score": 7.0,
            "cells": [_cell(0.0, 4.0, "library"), answer]}
    assert not meets_expectation(lost, "probed")


def test_refuses_to_replace_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        run_demo(tmp_path, students=4, hostile=False, progress=False, log=lambda *_: None)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


@pytest.mark.slow
def test_demo_grades_a_small_class_end_to_end(tmp_path):
    lines = []
    out = run_demo(tmp_path / "demo", students=len(HONEST_KINDS), jobs=2, hostile=False,
                   progress=False, log=lines.append)
    rows = {r["kind"]: r for r in out["rows"]}
    assert set(rows) == set(HONEST_KINDS)
    complete, empty = rows["complete"], rows["empty"]
    assert complete["mean"] == complete["max_score"] > 0
    assert empty["mean"] == 0 and empty["errors"] == 0
    assert rows["wrong"]["mean"] < complete["mean"]
    course = out["course"]
    with (course / "exports" / "grades.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == len(HONEST_KINDS)
    assert len(out["export"].feedback) == len(HONEST_KINDS)
    assert (course / "gradebook.db").is_file()
    assert any("per minute" in line for line in lines)
