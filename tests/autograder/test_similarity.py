"""The similarity check: normalising, planted copies on top, the release and hostile
files, the report's escaping, the command line."""

from __future__ import annotations

import ast
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from autograder.course import LIBRARY_DIR, PACKAGE
from autograder.release.gaps import strip_markers
from autograder.similarity import extract, report, synthetic
from autograder.similarity.compare import (
    DEFAULT_SETTINGS,
    Settings,
    common_codes,
    pair_block,
    prints_matrix,
    scores,
    stub_prints,
    student_prints,
)
from autograder.similarity.variants import FUNCTIONS

ONE_EACH = [("rename",), ("reorder",), ("reformat",), ("dead_code",),
            ("rename", "reorder", "reformat", "dead_code")]


def _tokens(source: str) -> tuple[str, ...]:
    return extract.normalise(ast.parse(source).body[0])[0]


def _ranked(course: Path, settings: Settings = DEFAULT_SETTINGS) -> list[tuple[float, str, str]]:
    """Every pair sharing a fingerprint, best first, scored in this process."""
    spec = extract.assignment_spec(course, synthetic.ASSIGNMENT)
    names = extract.list_students(course)
    stubs = stub_prints(spec, settings)
    prints = [student_prints(extract.read_submission(course, s, spec), stubs, settings)
              for s in names]
    matrix = prints_matrix(prints, common_codes(prints, settings.common_fraction))
    i, j, shared = pair_block(matrix, 0, len(names))
    sizes = np.diff(matrix.indptr)
    score = scores(shared, sizes[i], sizes[j], settings.min_prints)
    return sorted(((float(s), names[a], names[b]) for s, a, b in zip(score, i, j,
                                                                      strict=True)),
                  reverse=True)


# --------------------------------------------------------------------------- normalising

def test_names_comments_docstrings_and_layout_do_not_change_the_tokens():
    a = '''
def f(x, w):
    """Doc."""
    rows = x.reshape(x.shape[0], -1)  # flatten
    return rows @ w
'''
    b = '''
def g(inp, weights):
    # a comment
    flat = (inp.reshape(
        inp.shape[0], -1))
    return (flat @ weights)
'''
    assert _tokens(a) == _tokens(b)
    assert "reshape" in _tokens(a) and "rows" not in _tokens(a)


def test_dead_code_is_dropped_and_live_code_is_not():
    live = "def f(x):\n    y = x + 1\n    return y\n"
    padded = ("def f(x):\n    unused = 3 * 2\n    y = x + 1\n    if False:\n"
              "        print('never')\n    for _ in range(0):\n        pass\n"
              "    assert True\n    return y\n")
    assert _tokens(live) == _tokens(padded)
    changed = "def f(x):\n    y = x - 1\n    return y\n"
    assert _tokens(live) != _tokens(changed)


# --------------------------------------------------------------------------- the fixtures are right

def _load(name: str, text: str) -> types.ModuleType:
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(text, name, "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module


def _check_module(module: types.ModuleType, name: str) -> None:
    rng = np.random.default_rng(0)
    if name == "gradient_check":
        x = rng.standard_normal((3, 4))
        before = x.copy()
        grad = module.eval_numerical_gradient(lambda v: float(np.sum(v ** 3)), x,
                                              verbose=False)
        assert np.allclose(grad, 3 * x ** 2, rtol=1e-6)
        assert np.array_equal(x, before)
        df = rng.standard_normal((3, 4))
        grad = module.eval_numerical_gradient_array(lambda v: 2 * v ** 2, x, df)
        assert np.allclose(grad, 4 * x * df, rtol=1e-6)
        assert np.array_equal(x, before)
        buffer = np.zeros_like(x)  # f that reuses its output: the checker must copy
        grad = module.eval_numerical_gradient_array(
            lambda v: np.multiply(v, v, out=buffer), x, df)
        assert np.allclose(grad, 2 * x * df, rtol=1e-6)
    else:
        x, w, b = rng.standard_normal((4, 3, 2)), rng.standard_normal((6, 5)), \
            rng.standard_normal(5)
        out, cache = module.affine_forward(x, w, b)
        assert np.allclose(out, x.reshape(4, -1) @ w + b)
        dout = rng.standard_normal((4, 5))
        dx, dw, db = module.affine_backward(dout, cache)
        assert np.allclose(dx, (dout @ w.T).reshape(x.shape))
        assert np.allclose(dw, x.reshape(4, -1).T @ dout)
        assert np.allclose(db, dout.sum(axis=0))


@pytest.mark.parametrize("variant", range(5))
def test_dealt_solutions_and_their_disguises_are_correct(variant):
    reference = {m: strip_markers((LIBRARY_DIR / f"{m}.py").read_text(encoding="utf-8"),
                                  f"{PACKAGE}/{m}.py")
                 for m in {m for m, _ in FUNCTIONS}}
    assert all(len(templates) == 5 for templates, _ in FUNCTIONS.values())
    for seed in range(3):  # names, formulas, spellings, order and temporaries vary
        rng = random.Random(100 * variant + seed)
        dealt = synthetic.deal(reference, rng, variant=variant)
        assert all(dealt[m] != reference[m] for m in dealt)
        for texts in (dealt, synthetic.disguise(dealt, synthetic.TRANSFORMS, rng),
                      synthetic.disguise(dealt, [synthetic.TRANSFORMS[seed]], rng)):
            for name, text in texts.items():
                _check_module(_load(f"{PACKAGE}._similarity_{name}", text), name)


# --------------------------------------------------------------------------- ranking

def test_each_disguise_ranks_on_top_and_honest_pairs_stay_below_the_threshold(tmp_path):
    truth = synthetic.make_class(tmp_path, 24, ONE_EACH, seed=3)
    ranked = _ranked(tmp_path)
    planted = truth.planted_pairs()
    top = {frozenset((a, b)) for _, a, b in ranked[:len(planted)]}
    assert top == planted
    honest = [s for s, a, b in ranked if frozenset((a, b)) not in planted]
    copied = [s for s, a, b in ranked if frozenset((a, b)) in planted]
    assert max(honest) < report.THRESHOLD <= min(copied)


def test_the_release_alone_scores_nothing(tmp_path):
    synthetic.make_class(tmp_path, 3, seed=1)
    released = tmp_path / "release" / synthetic.ASSIGNMENT / PACKAGE
    for student in ("r1", "r2"):
        folder = tmp_path / "submitted" / student / synthetic.ASSIGNMENT / PACKAGE
        folder.mkdir(parents=True)
        for module in synthetic.MODULES:
            (folder / f"{module}.py").write_text((released / f"{module}.py").read_text())
    ranked = _ranked(tmp_path)
    assert all(frozenset((a, b)) != frozenset(("r1", "r2")) for _, a, b in ranked)
    assert all(s < 0.05 for s, a, b in ranked if "r1" in (a, b) or "r2" in (a, b))


# --------------------------------------------------------------------------- hostile files

def test_links_and_oversized_files_are_not_read(tmp_path, monkeypatch):
    truth = synthetic.make_class(tmp_path, 2, seed=2)
    victim, other = truth.students
    spec = extract.assignment_spec(tmp_path, synthetic.ASSIGNMENT)
    lib = tmp_path / "submitted" / victim / synthetic.ASSIGNMENT / PACKAGE
    (lib / "affine.py").unlink()
    (lib / "affine.py").symlink_to(tmp_path / "submitted" / other / synthetic.ASSIGNMENT
                                   / PACKAGE / "affine.py")
    monkeypatch.setattr(extract, "MAX_MODULE_BYTES", 4096)
    (lib / "gradient_check.py").write_text("x = 1\n" * 5000)
    sub = extract.read_submission(tmp_path, victim, spec)
    assert not any("affine.py" in key or "gradient_check.py" in key for key in sub.units)
    assert any("affine.py" in n for n in sub.notes)
    assert any("gradient_check.py" in n and "cap" in n for n in sub.notes)
    # A student folder that is a link is not a student; a linked library is not read.
    (tmp_path / "submitted" / "linked").symlink_to(tmp_path / "submitted" / other)
    assert "linked" not in extract.list_students(tmp_path)
    third = tmp_path / "submitted" / "third" / synthetic.ASSIGNMENT
    third.mkdir(parents=True)
    (third / PACKAGE).symlink_to(tmp_path / "submitted" / other / synthetic.ASSIGNMENT
                                 / PACKAGE)
    assert extract.read_submission(tmp_path, "third", spec).units == {}


def test_unparsable_and_deeply_nested_code_is_noted_not_fatal(tmp_path):
    truth = synthetic.make_class(tmp_path, 2, seed=4)
    spec = extract.assignment_spec(tmp_path, synthetic.ASSIGNMENT)
    lib = tmp_path / "submitted" / truth.students[0] / synthetic.ASSIGNMENT / PACKAGE
    (lib / "affine.py").write_text("def affine_forward(:\n")
    (lib / "gradient_check.py").write_text("x = " + "(" * 5000 + ")" * 5000 + "\n")
    sub = extract.read_submission(tmp_path, truth.students[0], spec)
    assert any("affine.py does not parse" in n for n in sub.notes)
    assert any("gradient_check.py does not parse" in n for n in sub.notes)


# --------------------------------------------------------------------------- report and CLI

@pytest.fixture
def inline_client():
    from distributed import Client

    with Client(processes=False, n_workers=1, threads_per_worker=2,
                dashboard_address=None) as client:
        yield client


@pytest.mark.slow
def test_end_to_end_report_escapes_student_text(tmp_path, inline_client):
    from autograder.similarity.run import similarity_check

    truth = synthetic.make_class(tmp_path, 6, [("rename",)], seed=5)
    original, copier, _ = truth.planted[0]
    evil = "</pre><script>alert(1)</script>"
    for student in (original, copier):
        path = tmp_path / "submitted" / student / synthetic.ASSIGNMENT / PACKAGE / "affine.py"
        text = path.read_text().replace("def affine_forward(x, w, b):",
                                        f"def affine_forward(x, w, b):\n    # {evil}", 1)
        path.write_text(text)
    linked = tmp_path / "submitted" / "linked" / synthetic.ASSIGNMENT
    linked.mkdir(parents=True)
    (linked / PACKAGE).symlink_to(tmp_path / "submitted" / original / synthetic.ASSIGNMENT
                                  / PACKAGE)
    result = similarity_check(tmp_path, synthetic.ASSIGNMENT, client=inline_client, top=3)
    assert {result.pairs[0].a, result.pairs[0].b} == {original, copier}
    assert result.pairs[0].score >= report.THRESHOLD
    assert result.all_pairs == 21 and "linked" not in result.students
    assert any("link" in note for note in result.notes["linked"])
    page = report.write_html(result, tmp_path / "out" / "similarity.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "Content-Security-Policy" in page and 'id="pair-1"' in page
    assert 'class="m m1"' in page  # matching lines are marked
    assert "Not compared in full" in page and "linked" in page
    rows = (report.write_csv(result, tmp_path / "out" / "similarity.csv")
            .read_text().splitlines())
    assert rows[0].startswith("rank,student_a,student_b,score")
    assert rows[1].split(",")[-1] == "yes"


def test_cli_has_the_command_and_reports_a_missing_release(tmp_path, capsys):
    from autograder.cli import build_parser, main

    args = build_parser().parse_args(["similarity", "backprop", "--jobs", "2",
                                      "--threshold", "0.9"])
    assert (args.command, args.assignment, args.jobs, args.threshold) == \
        ("similarity", "backprop", 2, 0.9)
    (tmp_path / "gaps.toml").write_text(
        (LIBRARY_DIR.parent / "assignments" / "gaps.toml").read_text())
    assert main(["similarity", "backprop", "--course", str(tmp_path)]) == 2
    assert "release" in capsys.readouterr().err


def test_bands_cover_every_pair_once():
    from autograder.similarity.run import bands

    for n in (1, 2, 7, 300):
        covered = sum((stop - start) * n - sum(range(start + 1, stop + 1))
                      for start, stop in bands(n, pairs_per_task=500))
        assert covered == n * (n - 1) // 2
        assert all(a[1] == b[0] for a, b in zip(bands(n, 500), bands(n, 500)[1:],
                                                strict=False))
