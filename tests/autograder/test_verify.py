"""Trusted verification refuses tampered outputs and decides points by the rules."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from autograder.grading import verify
from autograder.grading.probes import Probe


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def raw_npy(header: dict, payload: bytes) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + payload


def zip_of(**entries: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name + ".npy", data)
    return buf.getvalue()


def test_plain_arrays_load():
    arrays, bad = verify.load_npz(npz_bytes(**{"p::out": np.arange(6.0).reshape(2, 3)}))
    assert bad == {}
    np.testing.assert_array_equal(arrays["p::out"], np.arange(6.0).reshape(2, 3))


def test_pickled_object_array_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    buf = io.BytesIO()
    np.savez(buf, **{"p::out": np.array([Evil()], dtype=object)}, allow_pickle=True)
    arrays, bad = verify.load_npz(buf.getvalue())
    assert "p::out" in bad and "p::out" not in arrays
    assert not marker.exists()


@pytest.mark.parametrize("value", [np.array(["a", "b"]), np.zeros(2, dtype=[("a", "f8")]),
                                   np.array([b"xx"])])
def test_non_numeric_dtypes_are_refused(value):
    arrays, bad = verify.load_npz(npz_bytes(**{"p::out": value}))
    assert "p::out" in bad


def test_oversized_declared_shape_is_refused_before_allocation():
    huge = raw_npy({"descr": "<f8", "fortran_order": False, "shape": (10**12,)}, b"\0" * 16)
    arrays, bad = verify.load_npz(zip_of(**{"p::out": huge}))
    assert "p::out" in bad and "more than" in bad["p::out"]


def test_entry_over_the_cap_is_refused():
    arrays, bad = verify.load_npz(npz_bytes(**{"p::out": np.zeros(1000)}), max_entry_bytes=100)
    assert "p::out" in bad


def test_not_a_zip_is_an_error():
    with pytest.raises(verify.UntrustedFileError):
        verify.load_npz(b"PK\x03\x04 this is not really a zip")


def test_read_capped_refuses_links_fifos_and_big_files(tmp_path):
    (tmp_path / "ok.txt").write_text("fine")
    assert verify.read_capped(tmp_path, "ok.txt", 100) == b"fine"
    secret = tmp_path / "secret"
    secret.write_text("solution")
    os.symlink(secret, tmp_path / "link")
    os.link(secret, tmp_path / "hard")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "big").write_bytes(b"x" * 1000)
    for name in ("link", "hard", "fifo", "big", "missing", "../secret"):
        with pytest.raises(verify.UntrustedFileError):
            verify.read_capped(tmp_path, name, 100)


def test_errors_json_of_the_wrong_shape_is_ignored():
    assert verify.load_errors(b"[1, 2]") == {}
    assert verify.load_errors(b"not json") == {}
    assert verify.load_errors(b'{"p": 3}') == {"p": "3"}


def probe(name, grade_id="test_a", rtol=1e-6):
    return Probe(grade_id, name, lambda rng: {}, lambda lib, inputs: {}, rtol)


REF = {"p": {"out": np.array([1.0, 2.0, 3.0])}}


@pytest.mark.parametrize("student, note", [
    ({"p::out": np.array([1.0, 2.0, np.nan])}, "NaN"),
    ({"p::out": np.array([1.0, 2.0])}, "shape"),
    ({"p::other": np.array([1.0, 2.0, 3.0])}, "missing"),
    ({"p::out": np.array([1.0, 2.0, 3.1])}, "relative error"),
    ({"p::out": np.array([1.0, 2.0, 3.0]) + 0j}, "complex"),
    ({}, "no output"),
])
def test_wrong_outputs_fail_the_probe(student, note):
    [v] = verify.judge_probes([probe("p")], REF, student, {}, {})
    assert not v.passed and note in v.note


def test_matching_outputs_pass_and_errors_fail():
    good = {"p::out": np.array([1.0, 2.0, 3.0 + 1e-12])}
    assert verify.judge_probes([probe("p")], REF, good, {}, {})[0].passed
    [v] = verify.judge_probes([probe("p")], REF, good, {}, {"p": "Trace\nNotImplementedError: x"})
    assert not v.passed and "NotImplementedError" in v.note
    [v] = verify.judge_probes([probe("p")], REF, {}, {"p::out": "unreadable"}, {})
    assert not v.passed and v.note == "unreadable"


def test_reference_failure_fails_the_probe_with_a_note():
    [v] = verify.judge_probes([probe("p")], {"p": RuntimeError("bug")}, {}, {}, {})
    assert not v.passed and "reference failed" in v.note


def code_cell(grade_id, points, outputs=(), count=1, solution=False):
    return {"cell_type": "code", "source": "", "execution_count": count,
            "outputs": list(outputs),
            "metadata": {"nbgrader": {"grade": True, "solution": solution, "locked": True,
                                      "grade_id": grade_id, "points": points}}}


SOURCE = {"cells": [
    code_cell("test_a", 2), code_cell("test_b", 3), code_cell("test_notebook_only", 1),
    code_cell("answer", 4, solution=True),
    {"cell_type": "markdown", "source": "why?", "metadata": {
        "nbgrader": {"grade": True, "solution": True, "grade_id": "why", "points": 1}}},
]}
ERROR = {"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}


def test_grade_cells_rules():
    cells = verify.grade_cells_of(SOURCE)
    assert [c["kind"] for c in cells] == ["test", "test", "test", "manual", "manual"]
    executed = {"cells": [code_cell("test_a", 2), code_cell("test_b", 3, [ERROR]),
                          code_cell("test_notebook_only", 1)]}
    scores = verify.notebook_scores(executed, cells)
    assert scores["test_a"][0] == 2 and scores["test_b"][0] == 0
    verdicts = [verify.ProbeVerdict("p1", "test_a", True),
                verify.ProbeVerdict("p2", "test_a", True),
                verify.ProbeVerdict("p3", "test_b", True)]
    rows = {r.grade_id: r for r in verify.grade_cells("nb", cells, verdicts, scores)}
    assert rows["test_a"].points == 2 and rows["test_a"].trusted and not rows["test_a"].flags
    # Probes decide; the notebook's disagreement is an integrity flag.
    assert rows["test_b"].points == 3 and "integrity" in rows["test_b"].flags[0]
    assert rows["test_notebook_only"].points == 1 and not rows["test_notebook_only"].trusted
    assert "unverified" in rows["test_notebook_only"].flags[0]
    assert rows["answer"].points is None and rows["why"].kind == "manual"
    zero = {r.grade_id: r for r in verify.grade_cells("nb", cells, verdicts, scores,
                                                       unprobed="zero")}
    assert zero["test_notebook_only"].points == 0


def test_one_failing_probe_zeroes_the_cell_and_a_fake_pass_is_flagged():
    cells = verify.grade_cells_of(SOURCE)[:1]
    scores = verify.notebook_scores({"cells": [code_cell("test_a", 2)]}, cells)
    verdicts = [verify.ProbeVerdict("p1", "test_a", True),
                verify.ProbeVerdict("p2", "test_a", False, "wrong")]
    [row] = verify.grade_cells("nb", cells, verdicts, scores)
    assert row.points == 0 and row.notebook_points == 2 and "integrity" in row.flags[0]


def test_missing_or_unexecuted_cells_score_zero_in_the_notebook():
    cells = verify.grade_cells_of(SOURCE)[:2]
    scores = verify.notebook_scores({"cells": [code_cell("test_a", 2, count=None)]}, cells)
    assert scores == {"test_a": (0.0, "not executed"),
                      "test_b": (0.0, "missing from the executed notebook")}
    assert verify.notebook_scores("garbage", cells)["test_a"][0] == 0


def test_unprobed_cells_get_nothing_when_the_notebook_run_lied():
    cells = verify.grade_cells_of(SOURCE)[:3]
    executed = {"cells": [code_cell("test_a", 2), code_cell("test_b", 3),
                          code_cell("test_notebook_only", 1)]}
    scores = verify.notebook_scores(executed, cells)
    verdicts = [verify.ProbeVerdict("p1", "test_a", False, "wrong"),
                verify.ProbeVerdict("p3", "test_b", False, "wrong")]
    rows = {r.grade_id: r for r in verify.grade_cells("nb", cells, verdicts, scores)}
    assert rows["test_notebook_only"].points == 0
    assert "probes failed (test_a, test_b)" in rows["test_notebook_only"].flags[0]
