"""`python -m cs231n_lib.sanity_report`: its table, its verdicts and its exit code."""

import io
import re
import sys

import numpy as np
import pytest

from cs231n_lib import sanity_report
from cs231n_lib.activations import relu_forward

EVERY_LAYER = [
    "affine", "relu", "leaky_relu", "prelu (scalar alpha)", "prelu (per-channel alpha)",
    "elu", "sigmoid", "tanh", "maxout", "softmax_loss", "svm_loss", "batchnorm (train)",
    "batchnorm_alt (train)", "spatial_batchnorm (train)", "conv_naive (stride 2, pad 1)",
    "conv_fast (stride 1, pad 1)", "max_pool_naive (3x3, stride 2)",
    "max_pool_fast (2x2, stride 2)", "affine_relu", "affine_batchnorm_relu", "conv_relu",
    "conv_relu_pool",
]

ROW = re.compile(r"^(?P<layer>.+?)\s{2,}(?P<inputs>.+?)\s{2,}(?P<error>\S+)\s{2,}"
                 r"(?P<verdict>pass|FAIL)(  \((?P<note>.*)\))?$")


def table_rows(text):
    """Parse the gradient table out of the printed report."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layer "))
    rows = {}
    for line in lines[start + 2:]:
        match = ROW.match(line)
        if not match:
            break
        rows[match["layer"]] = (match["inputs"], float(match["error"]), match["verdict"])
    return rows


@pytest.fixture(scope="module")
def printed():
    """Run main() once in-process; keep its exit code, stdout and stderr."""
    capture = pytest.MonkeyPatch()
    out, err = io.StringIO(), io.StringIO()
    capture.setattr(sys, "stdout", out)
    capture.setattr(sys, "stderr", err)
    try:
        code = sanity_report.main([])
    finally:
        capture.undo()
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow  # the whole report: about 3 s
def test_exit_code_zero_when_everything_passes(printed):
    code, out, _ = printed
    assert code == 0
    assert out.rstrip().endswith("all checks passed")


@pytest.mark.slow  # the whole report: about 3 s
def test_table_has_a_passing_row_for_every_layer(printed):
    _, out, _ = printed
    rows = table_rows(out)
    assert list(rows) == EVERY_LAYER
    for layer, (_, error, verdict) in rows.items():
        assert verdict == "pass", layer
        assert error < 1e-7, layer


@pytest.mark.slow  # the whole report: about 3 s
def test_table_names_every_input_and_parameter_checked(printed):
    rows = table_rows(printed[1])
    assert rows["affine"][0] == "x, w, b"
    assert rows["prelu (per-channel alpha)"][0] == "x, alpha"
    assert rows["maxout"][0] == "x, w, b"
    assert rows["batchnorm (train)"][0] == "x, gamma, beta"
    assert rows["affine_batchnorm_relu"][0] == "x, w, gamma, beta"
    assert rows["conv_relu_pool"][0] == "x, w, b"
    assert rows["softmax_loss"][0] == "x"


@pytest.mark.slow  # the whole report: about 3 s
def test_sanity_checks_are_reported(printed):
    out = printed[1]
    assert re.search(r"initial loss \d\.\d{4}, log\(10\) = 2\.3026: \d\.\d% off "
                     r"\(tolerance 5%\): pass", out)
    assert re.search(r"overfit 50 examples: training accuracy 100% .*: pass", out)
    assert re.search(r"training accuracy by epoch:\n    epochs 0-9 +0\.\d\d( 0\.\d\d){9}\n", out)
    assert re.search(r"\n    epoch 50 +1\.00\n", out)


@pytest.mark.slow  # the whole report: about 3 s
def test_progress_bar_goes_to_stderr(printed):
    _, out, err = printed
    assert "sanity report" in err
    assert "sanity report" not in out.splitlines()[0]


@pytest.mark.slow  # the whole report: about 3 s
def test_run_returns_the_measurements():
    report = sanity_report.run(verbose=False)
    assert report.passed
    assert [row.layer for row in report.layers] == EVERY_LAYER
    assert report.source in ("digits", "cifar10")
    assert report.initial_loss.relative_deviation < 0.05
    assert report.overfit.final_train_acc == 1.0


@pytest.fixture
def small_data(monkeypatch):
    """Stand-in data for the tests of failures: 100 blurry 8x8 digits-like images."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 100)
    X = rng.standard_normal((10, 1, 8, 8))[y] + 0.5 * rng.standard_normal((100, 1, 8, 8))
    data = {"X_train": X[:80], "y_train": y[:80], "X_val": X[80:], "y_val": y[80:],
            "source": "stand-in", "class_names": tuple("0123456789")}
    monkeypatch.setattr(sanity_report, "load_report_data", lambda seed=0: data)
    return data


def test_a_broken_layer_fails_the_report(monkeypatch, capsys, small_data):
    def wrong_relu_backward(dout, cache):
        return dout  # forgets to zero the gradient where x < 0

    def cases(rng):
        return [sanity_report.GradientCase("relu (broken)", relu_forward, wrong_relu_backward,
                                           {"x": rng.standard_normal((4, 5))})]

    monkeypatch.setattr(sanity_report, "gradient_cases", cases)
    code = sanity_report.main(["--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    rows = table_rows(out)
    assert rows["relu (broken)"][2] == "FAIL"
    assert rows["relu (broken)"][1] > 1e-2
    assert "0 of 1 layers pass" in out
    assert out.rstrip().endswith("SOME CHECKS FAILED")


def test_a_failing_overfit_fails_the_report(monkeypatch, capsys, small_data):
    monkeypatch.setattr(sanity_report, "gradient_cases", lambda rng: [])
    monkeypatch.setattr(sanity_report, "OVERFIT_SETTINGS",
                        {**sanity_report.OVERFIT_SETTINGS, "num_epochs": 1})
    code = sanity_report.main(["--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"overfit 50 examples: .*FAIL", out)


def test_quiet_prints_no_progress_bar(monkeypatch, capsys, small_data):
    monkeypatch.setattr(sanity_report, "gradient_cases", lambda rng: [])
    sanity_report.main(["--quiet"])
    assert capsys.readouterr().err == ""


def test_seed_changes_the_draws():
    a = sanity_report.gradient_cases(np.random.default_rng(0))
    b = sanity_report.gradient_cases(np.random.default_rng(1))
    assert not np.array_equal(a[0].inputs["x"], b[0].inputs["x"])
