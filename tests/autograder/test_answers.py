"""Answer probes: the export from the notebook's namespace and the trusted comparison.

The export expression is evaluated here in a plain namespace standing in for
the kernel's (``eval`` sees it as ``globals()``), so these tests need no
kernel; ``test_grade_answers.py`` runs it inside the sandbox.
"""

from __future__ import annotations

import json
import math
import sys
import textwrap
import threading
import types

import numpy as np
import pytest

from autograder.grading import verify
from autograder.grading.probes import AnswerProbe, load_probe_set
from autograder.grading.reference import load_package, reference_for
from autograder.inside import answer_export, kernel_export


def export(namespace: dict, variables=(), function="", inputs=()) -> dict:
    """Evaluate the export in ``namespace``; return the trusted side's parse of it."""
    expr = answer_export.export_expression({"variables": list(variables), "function": function,
                                     "inputs": [[k, v] for k, v in inputs]})
    text = eval(expr, namespace)  # noqa: S307 - the expression is the runner's own
    # The kernel sends the value back as its repr; the runner reads it back.
    entry = answer_export.parse_export_reply({"status": "ok", "user_expressions": {"answers": {
        "status": "ok", "data": {"text/plain": repr(text)}}}})
    return verify.parse_export(entry["text"])


def probe(variables=("x",), expected=None, **kw) -> AnswerProbe:
    expected = expected if expected is not None else {"x": 1.5}
    return AnswerProbe("test_x", "x_probe", tuple(variables), lambda lib, inputs: expected, **kw)


def judge(p: AnswerProbe, answers) -> verify.ProbeVerdict:
    expected = {k: verify.reference_answer(v) for k, v in p.expected(None, {}).items()}
    [verdict] = verify.judge_answers([p], {p.name: expected}, {p.name: answers})
    return verdict


# ------------------------------------------------------------------- export

def test_plain_values_numpy_and_nesting_come_back_as_plain_data():
    ns = {"a": 3, "b": -2.5, "c": "switcher", "d": None, "e": True,
          "f": [1, (2.0, None), {"k": "v"}], "g": np.arange(4.0).reshape(2, 2),
          "h": np.float64(0.25), "i": np.int64(7), "j": {"tanh": np.str_("xavier")},
          "k": "quote \" back\\slash é \U0001F600 \n"}
    got = export(ns, variables=ns)
    assert got == {"a": (True, 3), "b": (True, -2.5), "c": (True, "switcher"),
                   "d": (True, None), "e": (True, True),
                   "f": (True, [1, [2.0, None], {"k": "v"}]),
                   "g": (True, [[0.0, 1.0], [2.0, 3.0]]), "h": (True, 0.25), "i": (True, 7),
                   "j": (True, {"tanh": "xavier"}), "k": (True, ns["k"])}
    assert type(got["i"][1]) is int and type(got["h"][1]) is float


def test_missing_and_unconvertible_values_are_recorded_as_missing():
    class Anything:
        def __eq__(self, other):
            return True

    ns = {"obj": Anything(), "keys": {1: 2.0}, "func": len, "arr": np.array([object()])}
    got = export(ns, variables=["nothing", "obj", "keys", "func", "arr"])
    assert got["nothing"] == (False, "nothing is not defined")
    for name in ("obj", "keys", "func", "arr"):
        assert got[name][0] is False, name
    assert "not a number, string, list or dict" in got["obj"][1]


def test_huge_values_are_refused_in_the_kernel_before_conversion():
    ns = {"big_list": list(range(kernel_export.MAX_ANSWER_NUMBERS + 1)),
          "big_array": np.zeros(kernel_export.MAX_ANSWER_NUMBERS + 1),
          "long_text": "x" * (kernel_export.MAX_ANSWER_STRING + 1), "fine": 1.0}
    nested = []
    for _ in range(kernel_export.MAX_ANSWER_DEPTH + 2):
        nested = [nested]
    ns["deep"] = nested
    got = export(ns, variables=ns)
    for name in ("big_list", "big_array", "long_text", "deep"):
        assert got[name][0] is False, name
    assert got["fine"] == (True, 1.0)  # each value has its own budget


def test_nan_and_infinity_survive_the_export_and_then_fail():
    got = export({"x": float("nan"), "y": np.array([np.inf, -np.inf])}, variables=["x", "y"])
    assert math.isnan(got["x"][1]) and got["y"] == (True, [math.inf, -math.inf])
    p = probe(variables=("x",), expected={"x": 1.5})
    assert not judge(p, {"x": got["x"]}).passed


def test_the_function_is_called_on_each_input():
    ns = {}
    exec("import numpy as np\ndef dead(h):\n    return float(np.mean(np.all(h == 0, axis=0)))\n",
         ns)
    got = export(ns, function="dead", inputs=[("a", [[0.0, 1.0], [0.0, 2.0]]),
                                               ("b", [[1.0, 1.0]])])
    assert got == {"a": (True, 0.5), "b": (True, 0.0)}
    assert export({}, function="dead", inputs=[("a", [[1.0]])])["a"][0] is False


def test_a_raising_function_loses_only_its_own_answers():
    ns = {}
    exec("def f(h):\n    if h.shape[0] > 1:\n        raise RuntimeError('boom')\n    return 1.0\n",
         ns)
    got = export(ns, function="f", inputs=[("one", [[1.0]]), ("two", [[1.0], [2.0]])])
    assert got["one"] == (True, 1.0)
    assert got["two"][0] is False and "boom" in got["two"][1]


def test_patched_json_numpy_and_builtins_in_the_namespace_do_not_change_the_export(
        monkeypatch):
    """The export converts with builtins it looks up itself: names the notebook
    shadows (json, np, repr, float, isinstance) are never used."""
    fake_json = types.SimpleNamespace(dumps=lambda *a, **k: '{"x": {"value": 42}}')
    ns = {"json": fake_json, "np": types.SimpleNamespace(asarray=lambda *a, **k: 42),
          "repr": lambda v: "42", "float": lambda v: 42.0, "isinstance": lambda *a: True,
          "type": lambda v: int, "x": 41}
    assert export(ns, variables=["x"]) == {"x": (True, 41)}
    # Patching the real json module changes nothing either.
    monkeypatch.setattr(json, "dumps", lambda *a, **k: '{"x": {"value": 42}}')
    assert export({"x": 41}, variables=["x"]) == {"x": (True, 41)}


def test_a_fake_array_converts_to_whatever_it_claims_and_is_judged_as_that():
    """An object posing as an array gives its own numbers: a wrong claim fails."""
    class Pose:
        dtype = "float64"
        size = 1

        def tolist(self):
            return "always equal"

    got = export({"x": Pose()}, variables=["x"])
    assert got == {"x": (True, "always equal")}
    assert not judge(probe(), got).passed


# -------------------------------------------------------- trusted parsing

@pytest.mark.parametrize("text", [
    "not json", "[1, 2]", '{"x": 1}', '{"x": {"value": 1, "missing": "no"}}',
    '{"x": {"other": 1}}', "[" * 100_000 + "]" * 100_000, 12,
])
def test_malformed_exports_are_refused(text):
    with pytest.raises(verify.AnswerError):
        verify.parse_export(text)


def test_oversized_export_text_is_refused():
    with pytest.raises(verify.AnswerError):
        verify.parse_export('{"x": {"value": "' + "a" * verify.MAX_ANSWER_TEXT + '"}}')


def test_values_over_the_caps_are_missing_not_fatal():
    many = json.dumps({"x": {"value": list(range(verify.MAX_ANSWER_ITEMS + 1))},
                       "y": {"value": 2}})
    got = verify.parse_export(many)
    assert got["x"][0] is False and got["y"] == (True, 2)


def test_load_answers_reads_every_entry_and_refuses_junk():
    data = json.dumps({"ok": {"text": '{"x": {"value": 1.5}}'}, "err": {"error": "timed out"},
                       "junk": [1], "bad": {"text": 5}}).encode()
    answers = verify.load_answers(data)
    assert answers["ok"] == {"x": (True, 1.5)}
    assert answers["err"] == "timed out"
    assert isinstance(answers["junk"], str) and isinstance(answers["bad"], str)
    for raw in (b"\xff\xfe", b"[]", b"{" * 10000):
        with pytest.raises(verify.UntrustedFileError):
            verify.load_answers(raw)


@pytest.mark.parametrize("content", [
    {"status": "error", "ename": "KeyboardInterrupt"},
    {"status": "ok", "user_expressions": {"answers": {"status": "error", "ename": "NameError"}}},
    {"status": "ok", "user_expressions": {"answers": {"status": "ok", "data": {}}}},
    {"status": "ok", "user_expressions": {"answers": {"status": "ok",
                                                      "data": {"text/plain": "[1, 2]"}}}},
    {"status": "ok", "user_expressions": {"answers": {"status": "ok",
                                                      "data": {"text/plain": "__import__('os')"}}}},
    "not a dict",
])
def test_a_reply_without_plain_text_is_an_error_entry(content):
    assert "error" in answer_export.parse_export_reply(content)


# ------------------------------------------------------------- comparison

@pytest.mark.parametrize(("expected", "got", "passed"), [
    (32, 32, True), (32, 32.0, True), (32, 33, False), (32, True, False), (32, "32", False),
    (None, None, True), (None, 0, False), ("router", "router", True), ("router", "Router", False),
    (-4.0, -4.0 + 1e-9, True), (-4.0, -4.01, False), (0.0, 0.0, True), (0.0, -0.0, True),
    ([32, None], [32, None], True), ([32, None], [32, 0], False), ([32, None], [32], False),
    ({"tanh": "xavier"}, {"tanh": "xavier"}, True), ({"tanh": "xavier"}, {"relu": "xavier"}, False),
    ({"tanh": "xavier"}, ["xavier"], False), (1.0, math.nan, False), (1.0, math.inf, False),
    (1.0, 10 ** 400, False),
])
def test_compare_answer(expected, got, passed):
    assert verify.compare_answer(expected, got, 1e-6, 0.0, "x")[0] is passed


def test_absolute_tolerance():
    assert verify.compare_answer(2.302585, 2.3026, 0.0, 1e-4, "loss")[0]
    assert not verify.compare_answer(2.302585, 2.31, 0.0, 1e-4, "loss")[0]


def test_notes_say_where_but_not_the_expected_value():
    ok, note = verify.compare_answer([32, 28, 55, None], [32, 28, 54, None], 1e-6, 0.0,
                                     "output_sizes")
    assert not ok and "output_sizes[2]" in note and "55" not in note
    ok, note = verify.compare_answer({"tanh": "xavier"}, {"tanh": "he"}, 1e-6, 0.0, "good_init")
    assert not ok and "xavier" not in note


def test_judge_answers_outcomes():
    p = probe(variables=("x", "y"), expected={"x": 1.5, "y": "switcher"})
    assert judge(p, {"x": (True, 1.5), "y": (True, "switcher")}).passed
    assert "y was not exported" in judge(p, {"x": (True, 1.5)}).note
    missing = judge(p, {"x": (False, "x is not defined"), "y": (True, "switcher")})
    assert not missing.passed and "not defined" in missing.note
    [timed_out] = verify.judge_answers([p], {p.name: {"x": 1.5, "y": "switcher"}},
                                       {p.name: "exporting the answers took longer than 4 s"})
    assert not timed_out.passed and "took longer" in timed_out.note
    [no_ref] = verify.judge_answers([p], {p.name: RuntimeError("bug")}, {})
    assert not no_ref.passed and "reference failed" in no_ref.note
    [nothing] = verify.judge_answers([p], {p.name: {"x": 1.5, "y": "switcher"}}, {}, "no file")
    assert not nothing.passed and nothing.note == "no file"


def test_answer_verdicts_make_a_cell_trusted_and_flag_disagreement():
    cells = [{"grade_id": "test_x", "max_points": 2.0, "kind": "test"}]
    good = verify.ProbeVerdict("x_probe", "test_x", True)
    bad = verify.ProbeVerdict("x_probe", "test_x", False, "x is not the expected answer")
    [row] = verify.grade_cells("nb", cells, [good], {"test_x": (2.0, "")})
    assert row.points == 2.0 and row.trusted and not row.flags
    [row] = verify.grade_cells("nb", cells, [bad], {"test_x": (2.0, "")})
    assert row.points == 0.0 and row.trusted and row.flags[0].startswith("integrity")


def test_reference_answer_converts_numpy_and_refuses_objects():
    assert verify.reference_answer({"a": np.arange(2), "b": (np.float64(1.5), None)}) == {
        "a": [0, 1], "b": [1.5, None]}
    for bad in (object(), {1: 2}, np.array([object()])):
        with pytest.raises(verify.AnswerError):
            verify.reference_answer(bad)


# ------------------------------------------------------ the probe file loads

def _probe_file(tmp_path, body: str):
    """A probe folder whose ``judge.py`` is ``body`` (its runs are lambdas: no calls)."""
    folder = tmp_path / "probes"
    folder.mkdir()
    (folder / "judge.py").write_text(textwrap.dedent(body))
    (folder / "calls.py").write_text("")
    return folder


def test_reference_answers_must_cover_what_the_probe_exports(tmp_path, monkeypatch):
    path = _probe_file(tmp_path, """
        import numpy as np
        from autograder.grading.probes import AnswerProbe
        ANSWER_PROBES = [
            AnswerProbe("test_a", "good", ("a",), lambda lib, i: {"a": 1}),
            AnswerProbe("test_b", "short", ("a", "b"), lambda lib, i: {"a": 1}),
            AnswerProbe("test_c", "calls", (), lambda lib, i: {k: 0.0 for k in i},
                        function="f", make_inputs=lambda rng: {"p": rng.random(2)}),
            AnswerProbe("test_d", "nan_input", (), lambda lib, i: {"p": 0.0},
                        function="f", make_inputs=lambda rng: {"p": np.array([np.nan])}),
        ]
    """)
    ref = reference_for(path, 3, "x", types.ModuleType("fake_reference_lib"))
    assert ref.answers["good"] == {"a": 1}
    assert isinstance(ref.answers["short"], ValueError)
    assert isinstance(ref.answers["nan_input"], ValueError)
    assert ref.answers["calls"] == {"p": 0.0} and ref.answer_inputs["calls"]["p"].shape == (2,)


@pytest.mark.parametrize("bad", ['("not a name!",)', '("__import__(\'os\')",)'])
def test_answer_probe_variables_must_be_names(tmp_path, bad):
    path = _probe_file(tmp_path, f"""
        from autograder.grading.probes import AnswerProbe
        ANSWER_PROBES = [AnswerProbe("test_a", "a", {bad}, lambda lib, i: {{}})]
    """)
    with pytest.raises(ValueError, match="Python names"):
        load_probe_set(path)


def test_probe_names_are_unique_across_both_kinds(tmp_path):
    path = _probe_file(tmp_path, """
        import numpy as np
        from autograder.grading.probes import AnswerProbe, Probe
        PROBES = [Probe("test_a", "same", lambda rng: {}, lambda lib, i: {"o": np.zeros(1)})]
        ANSWER_PROBES = [AnswerProbe("test_b", "same", ("x",), lambda lib, i: {"x": 1})]
    """)
    with pytest.raises(ValueError, match="unique"):
        load_probe_set(path)


# -------------------------------------------- reference loading under threads

def test_a_slow_reference_library_is_never_seen_half_imported(tmp_path):
    """Two grading threads load the reference library at once: the second must wait
    for the first, not take the half-built package from sys.modules."""
    lib = tmp_path / "slowlib"
    lib.mkdir()
    (lib / "__init__.py").write_text("import time\ntime.sleep(0.3)\nfrom . import part  # noqa\n")
    (lib / "part.py").write_text("VALUE = 1\n")
    seen = {}
    start = threading.Barrier(3)

    def load(i):
        start.wait()
        seen[i] = hasattr(load_package(lib), "part")

    threads = [threading.Thread(target=load, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {0: True, 1: True, 2: True}


def test_a_reference_library_that_fails_to_import_is_not_kept(tmp_path):
    lib = tmp_path / "brokenlib"
    lib.mkdir()
    (lib / "__init__.py").write_text("raise ImportError('not yet')\n")
    with pytest.raises(ImportError):
        load_package(lib, "_broken_reference_for_test")
    assert "_broken_reference_for_test" not in sys.modules
