"""The notebook's checks name a known mistake in the grader's words (cs231n_lib.known_mistakes).

The students' functions here are written by hand, the way a student might
write the mistake, and checked on inputs other than the stored ones.
"""

from __future__ import annotations

import importlib
import json
import sys

import numpy as np
import pytest

from cs231n_lib import known_mistakes
from cs231n_lib.activations import sigmoid_forward
from cs231n_lib.affine import affine_backward, affine_forward
from cs231n_lib.conv import conv_forward_naive
from cs231n_lib.gradient_check import check_gradients
from cs231n_lib.known_mistakes import find_known_mistake, known_mistake, load_table


def _sentence(key: str) -> str:
    """The stored sentence of the mistake ``key`` (the catalogue's: ``module.function:class``)."""
    backward = key.split(":")[0].split(".")[1]
    found = [m["sentence"] for m in load_table()[backward]["mistakes"] if m["key"] == key]
    assert len(found) == 1, (key, found)
    return found[0]


DB_ROWS = "affine.affine_backward:bias-not-summed"


# --------------------------------------------------------------- students
def sigmoid_backward(dout, cache):
    """Wrong: the local gradient is written with the cache as if it were x."""
    s = 1.0 / (1.0 + np.exp(-cache))
    return dout * s * (1.0 - s)


def affine_backward_db_rows(dout, cache):
    """Wrong: db keeps one row per sample."""
    x, w, _ = cache
    rows = x.reshape(len(x), -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout, dout


affine_backward_db_rows.__name__ = "affine_backward"


def affine_backward_dw_mean(dout, cache):
    """Wrong: dw averaged over the batch."""
    x, w, _ = cache
    rows = x.reshape(len(x), -1)
    return (dout @ w.T).reshape(x.shape), rows.T @ dout / len(x), dout.sum(axis=0)


affine_backward_dw_mean.__name__ = "affine_backward"


def affine_backward_einsum(dout, cache):
    """Right, written with einsum."""
    x, w, _ = cache
    rows = x.reshape(len(x), -1)
    dx = np.einsum("nm,dm->nd", dout, w).reshape(x.shape)
    return dx, np.einsum("nd,nm->dm", rows, dout), np.einsum("nm->m", dout)


affine_backward_einsum.__name__ = "affine_backward"


def conv_backward_naive(dout, cache):
    """Wrong in dw only: dw's windows start at (i, j), not at (i * stride, j * stride)."""
    x, w, _, conv_param = cache
    s, p = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, [(0, 0), (0, 0), (p, p), (p, p)])
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    hh, ww = w.shape[2:]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            up = dout[:, :, i, j]
            dxp[:, :, i * s:i * s + hh, j * s:j * s + ww] += np.einsum("nf,fchw->nchw", up, w)
            dw += np.einsum("nf,nchw->fchw", up, xp[:, :, i:i + hh, j:j + ww])
    return dxp[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


# ------------------------------------------------------------------ named
def test_sigmoid_written_with_the_input_gets_the_graders_sentence(rng):
    report = check_gradients(sigmoid_forward, sigmoid_backward, [rng.standard_normal((3, 7))])
    expected = _sentence("activations.sigmoid_backward:derivative-of-input")
    assert not report.passed
    assert report["x"].mistake == expected
    assert expected in report.failure_message()
    assert known_mistake(sigmoid_forward, sigmoid_backward) == ("derivative-of-input", expected)


def test_db_not_summed_is_named_on_db_only(rng):
    x, w, b = rng.standard_normal((6, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    report = check_gradients(affine_forward, affine_backward_db_rows, [x, w, b])
    assert report["x"].passed and report["w"].passed
    assert report["b"].mistake == _sentence(DB_ROWS)
    assert report["x"].mistake == report["w"].mistake == ""


def test_a_stride_ignored_in_dw_alone_is_named_on_dw(rng):
    x, w, b = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), \
        rng.standard_normal(3)
    report = check_gradients(conv_forward_naive, conv_backward_naive,
                             [x, w, b, {"stride": 2, "pad": 1}])
    assert report["x"].passed and not report["w"].passed
    assert report["w"].mistake == _sentence("conv.conv_backward_naive:stride-ignored")
    # The stored mistake ignores the stride in dx too: it is matched on dw alone.
    found = find_known_mistake(conv_forward_naive, conv_backward_naive, failed=["dw"])
    assert found.cls == "stride-ignored" and found.outputs == ("dw",)
    # Unrestricted, the matcher explains outputs one by one: dw still names it.
    assert find_known_mistake(conv_forward_naive, conv_backward_naive).cls == "stride-ignored"


def test_the_callers_input_names_name_the_outputs(rng):
    inputs = {"h": rng.standard_normal((5, 3)), "W1": rng.standard_normal((3, 2)),
              "b1": rng.standard_normal(2)}
    report = check_gradients(affine_forward, affine_backward_db_rows, inputs)
    assert report["b1"].mistake == _sentence(DB_ROWS)
    found = find_known_mistake(affine_forward, affine_backward_db_rows, list(inputs))
    assert found.outputs == ("db1",)


# ------------------------------------------------------------- not named
@pytest.mark.parametrize("backward", sorted(load_table()))
def test_the_reference_reproduces_no_known_mistake(backward):
    entry = load_table()[backward]
    module = importlib.import_module(f"cs231n_lib.{entry['module']}")
    assert find_known_mistake(getattr(module, entry["forward"]),
                              getattr(module, backward)) is None


def test_a_correct_einsum_implementation_is_accused_of_nothing(rng):
    x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    report = check_gradients(affine_forward, affine_backward_einsum, [x, w, b])
    assert report.passed and all(row.mistake == "" for row in report.rows)
    assert find_known_mistake(affine_forward, affine_backward_einsum) is None
    assert find_known_mistake(affine_forward, affine_backward_einsum,
                              failed=["dx", "dw", "db"]) is None


def test_a_pair_with_nothing_stored_or_another_forward_is_not_looked_up():
    def my_layer_backward(dout, cache):
        return dout

    assert find_known_mistake(affine_forward, my_layer_backward) is None
    assert find_known_mistake(sigmoid_forward, affine_backward) is None


def test_code_that_raises_on_the_stored_inputs_gives_no_diagnosis_and_no_error(rng):
    def affine_backward(dout, cache):  # noqa: F811 - a student's, raising on 3-D inputs
        if cache[0].ndim != 2:
            raise ValueError("I only handle (N, D)")
        return affine_backward_db_rows(dout, cache)

    assert find_known_mistake(affine_forward, affine_backward) is None
    x, w, b = rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    report = check_gradients(affine_forward, affine_backward, [x, w, b])
    assert not report["b"].passed  # the check itself still runs and says what it can


def test_missing_or_broken_data_files_give_no_diagnosis(tmp_path):
    def table_in(folder):
        load_table.cache_clear()  # it keeps what it read per folder
        return load_table(str(folder))

    good = known_mistakes.DATA_DIR
    json_file, npz_file = tmp_path / known_mistakes.JSON_NAME, tmp_path / known_mistakes.NPZ_NAME
    assert table_in(tmp_path) == {}
    assert find_known_mistake(sigmoid_forward, sigmoid_backward, folder=str(tmp_path)) is None
    json_file.write_text("{not json")
    npz_file.write_bytes(b"not a zip")
    assert table_in(tmp_path) == {}
    json_file.write_text((good / known_mistakes.JSON_NAME).read_text(encoding="utf-8"))
    assert table_in(tmp_path) == {}  # the arrays are still unreadable
    npz_file.write_bytes((good / known_mistakes.NPZ_NAME).read_bytes())
    assert table_in(tmp_path).keys() == table_in(good).keys()
    newer = dict(json.loads(json_file.read_text(encoding="utf-8")),
                 format=known_mistakes.FORMAT + 1)
    json_file.write_text(json.dumps(newer))
    assert table_in(tmp_path) == {}  # a layout this library does not know


def test_the_catalogue_sentence_takes_precedence_over_the_relation(monkeypatch, rng):
    x, w, b = rng.standard_normal((6, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    report = check_gradients(affine_forward, affine_backward_dw_mean, [x, w, b])
    assert report["w"].mistake == _sentence("affine.affine_backward:scale-1/N")
    # Without the data files: the relation's sentence, as before.
    monkeypatch.setattr(known_mistakes, "load_table", lambda folder=None: {})
    report = check_gradients(affine_forward, affine_backward_dw_mean, [x, w, b])
    assert report["w"].mistake.startswith("your dw is the right dw divided by N (N = 6)")


def test_the_students_prints_and_writes_stay_inside(capsys):
    stored = load_table()["sigmoid_backward"]["cases"][0]
    before = [np.copy(stored["args"][0]), np.copy(stored["dout"])]

    def sigmoid_forward(x):  # noqa: F811 - a student's: chatty, writes into its input
        print("forward", x.shape)
        x += 0.5
        s = 1.0 / (1.0 + np.exp(0.5 - x))
        return s, s

    def sigmoid_backward(dout, cache):  # noqa: F811 - and into dout
        print("backward", file=sys.stderr)
        s = 1.0 / (1.0 + np.exp(-cache))
        dout *= s * (1.0 - s)
        return dout

    first = find_known_mistake(sigmoid_forward, sigmoid_backward)
    assert capsys.readouterr() == ("", "")
    assert first is not None and first.cls == "derivative-of-input"
    assert np.array_equal(stored["args"][0], before[0])
    assert np.array_equal(stored["dout"], before[1])
    assert find_known_mistake(sigmoid_forward, sigmoid_backward) == first
