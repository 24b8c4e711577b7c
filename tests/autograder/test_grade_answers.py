"""Answer probes end to end: the mini course's notebook answers, graded in the sandbox.

The mini course gets answer probes for its notebook-only cell (``answer``) and
for a function written in the notebook (``double``). Honest answers earn
trusted points; wrong, forged, patched, oversized or hanging ones earn none
for their own cell and cost nothing elsewhere.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mini_course
import pytest
from mini_course import ASSIGNMENT, POINTS

from autograder.grading.grade import grade_submission
from autograder.sandbox import Limits

pytestmark = pytest.mark.slow

LIMITS = Limits(cell_seconds=4, submission_seconds=60, max_processes=64)
SEED = 4321
ALL_POINTS = {**POINTS, "test_double": 1.0}

ANSWER_PROBES = '''

from autograder.grading.probes import AnswerProbe


def _double_inputs(rng):
    return {"vector": rng.standard_normal(3), "matrix": rng.standard_normal((2, 2))}


ANSWER_PROBES = [
    AnswerProbe("test_notebook_only", "answer", ("answer",), lambda lib, inputs: {"answer": 42}),
    AnswerProbe("test_double", "double", (), lambda lib, inputs: {k: 2 * v for k, v in
                                                                  inputs.items()},
                function="double", make_inputs=_double_inputs),
]
'''

DOUBLE = "def double(x):\n    return 2 * x\n"
DOUBLE_TEST = ("assert double(1.0) == 2.0\nprint('double: ok')\n### BEGIN HIDDEN TESTS\n"
               "assert double(-3.0) == -6.0\n### END HIDDEN TESTS\n")

# student -> (answer cell, double cell): what each one typed in.
STUDENTS = {
    "honest": ("answer = 6 * 7\n", DOUBLE),
    "numpy-types": ("import numpy as np\nanswer = np.int64(42)\n",
                    "def double(x):\n    return np.float64(2.0) * x\n"),
    "wrong": ("answer = 41\n", "def double(x):\n    return x + x + 1e-3\n"),
    # The kernel's own messages go through json: this breaks the kernel, nothing else.
    "patched-json": ("import json\n"
                     "json.dumps = lambda *a, **k: '{\"answer\": {\"value\": 42}}'\n"
                     "answer = 41\n", DOUBLE),
    "patched-numpy": ("import numpy as np\nnp.array = lambda *a, **k: np.ones(3)\n"
                      "np.allclose = lambda *a, **k: True\nanswer = 42\n", DOUBLE),
    "always-equal": ("class Anything:\n    def __eq__(self, other):\n        return True\n"
                     "answer = Anything()\n", DOUBLE),
    "transformer": ("def everything_passes(lines):\n    return ['pass\\n']\n"
                    "get_ipython().input_transformers_post.append(everything_passes)\n"
                    "answer = 41\n", DOUBLE),
    "nan": ("answer = float('nan')\n", "def double(x):\n    return x * float('nan')\n"),
    "huge": ("answer = list(range(10 ** 6))\n", "def double(x):\n    return [0.0] * 10 ** 6\n"),
    "hangs": ("answer = 6 * 7\n", "import signal\n\ndef double(x):\n"
              "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass\n"),
}


def _meta(grade_id, points=None, *, grade=False, solution=False, locked=False):
    meta = {"grade": grade, "solution": solution, "locked": locked, "schema_version": 3,
            "grade_id": grade_id}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _code(source, metadata):
    return {"cell_type": "code", "metadata": metadata, "source": source, "outputs": [],
            "execution_count": None}


def _with_double(nb: dict, double_source: str, test_source: str) -> dict:
    """The notebook with the double answer cell and its test before the manual question."""
    cells = nb["cells"]
    at = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
              and c["metadata"].get("nbgrader", {}).get("grade_id") == "why")
    cells[at:at] = [_code(double_source, _meta("double", solution=True)),
                    _code(test_source, _meta("test_double", 1.0, grade=True, locked=True))]
    return nb


def make_course(root: Path) -> tuple[Path, Path]:
    course, reflib = mini_course.make_mini_course(root)
    source = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    source.write_text(json.dumps(_with_double(json.loads(source.read_text()), DOUBLE,
                                              DOUBLE_TEST)))
    judge = course / "probes" / ASSIGNMENT / "judge.py"
    judge.write_text(judge.read_text() + ANSWER_PROBES)
    for student, (answer, double) in STUDENTS.items():
        folder = mini_course.submit(course, student, "reference")
        path = folder / f"{ASSIGNMENT}.ipynb"
        nb = _with_double(json.loads(path.read_text()), double,
                          DOUBLE_TEST.split("### BEGIN")[0])
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer":
                cell["source"] = answer
        path.write_text(json.dumps(nb))
    return course, reflib


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course, reflib = make_course(tmp_path_factory.mktemp("answers"))

    def one(student):
        return student, grade_submission(course, ASSIGNMENT, student, limits=LIMITS, seed=SEED,
                                         reference_lib=reflib)

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, STUDENTS))


def rows(result) -> dict:
    return {c["grade_id"]: c for c in result["cells"] if c["kind"] == "test"}


def why(result):
    return [(c["grade_id"], c["points"], c["flags"], [p["note"] for p in c["probes"]])
            for c in result["cells"]], result["flags"], result["notes"]


@pytest.mark.parametrize("student", ["honest", "numpy-types"])
def test_right_answers_earn_trusted_points(graded, student):
    r = graded[student]
    assert r["status"] == "graded"
    assert r["score"] == r["max_score"] == sum(ALL_POINTS.values()), why(r)
    assert all(row["trusted"] for row in rows(r).values()), why(r)
    assert not [f for f in r["flags"] if "integrity" in f or "unverified" in f], why(r)


ANSWER = ("test_notebook_only",)
DOUBLE_ONLY = ("test_double",)
BOTH = ("test_notebook_only", "test_double")


@pytest.mark.parametrize(("student", "lost", "flagged"), [
    ("wrong", BOTH, ()), ("patched-json", BOTH, ()), ("always-equal", ANSWER, ANSWER),
    # the export's inputs go through the patched np.array: double sees other numbers
    ("patched-numpy", DOUBLE_ONLY, DOUBLE_ONLY),
    # every later cell becomes `pass`: double is never defined, the tests never fail
    ("transformer", BOTH, BOTH), ("nan", BOTH, ()), ("huge", BOTH, ())])
def test_wrong_or_forged_answers_lose_exactly_their_cells(graded, student, lost, flagged):
    r = graded[student]
    assert r["status"] == "graded", r
    got = rows(r)
    for gid in lost:
        assert got[gid]["points"] == 0 and got[gid]["trusted"], why(r)
    assert r["score"] == sum(v for k, v in ALL_POINTS.items() if k not in lost), why(r)
    # A notebook whose own test passed a wrong answer is flagged for the instructor.
    integrity = {gid for gid in BOTH for f in r["flags"] if f.startswith(f"{gid}: integrity")}
    assert integrity == set(flagged), why(r)


def test_oversized_answers_say_why(graded):
    notes = [p["note"] for p in rows(graded["huge"])["test_notebook_only"]["probes"]]
    assert any("more than" in n for n in notes), notes


def test_a_hanging_function_costs_only_its_cell_and_the_rest_is_graded(graded):
    r = graded["hangs"]
    got = rows(r)
    assert got["test_double"]["points"] == 0 and got["test_double"]["trusted"], why(r)
    notes = [p["note"] for p in got["test_double"]["probes"]]
    assert any("took longer" in n for n in notes), notes
    assert r["score"] == sum(ALL_POINTS.values()) - 1, why(r)


def test_the_feedback_notebook_shows_no_export(graded):
    for r in graded.values():
        text = json.dumps(r["notebook"])
        assert "_export" not in text and "MAX_NUMBERS" not in text
