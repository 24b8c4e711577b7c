"""export: class CSV columns, Gradescope's results.json schema, feedback that hides hidden tests."""

from __future__ import annotations

import csv
import json

from pipeline_helpers import ASSIGNMENT, HIDDEN_LINE, fake_grade, make_course, submit

from autograder.course import strip_hidden
from autograder.grading.assignment_info import AssignmentInfo, format_maxima
from autograder.grading.attention import attention_flags, explain_flag
from autograder.grading.export import export_all
from autograder.grading.feedback_page import feedback_html
from autograder.grading.gradescope import gradescope_results
from autograder.grading.record import Recorder

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> **bold** [l](javascript:1)'


def _graded_course(tmp_path):
    course = make_course(tmp_path)
    with Recorder(course) as rec:
        for student, fake in {"alice": {"print": HOSTILE + "\n" + HIDDEN_LINE,
                                        "flags": ["test_graph: unverified: no probe"]},
                              "bob": {"points": {"test_affine": 2}, "flags": ["tampered"]},
                              "carol": {"error": "malformed notebook JSON"}}.items():
            submit(course, student, fake)
            result = fake_grade(str(course), ASSIGNMENT, student)
            result.update(student=student, assignment=ASSIGNMENT)
            rec.record(result)
    return course


SAFE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "p", "table", "tr", "th",
             "td", "div", "pre", "img"}


def _markup(page: str) -> tuple[set[str], set[str]]:
    """Every tag and attribute name a browser would see in ``page``."""
    from html.parser import HTMLParser

    tags, attributes = set(), set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            attributes.update(name for name, _ in attrs)

    Collect().feed(page)
    return tags, attributes


def test_strip_hidden():
    src = "a = 1\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\nb = 2\n"
    assert strip_hidden(src) == "a = 1\nb = 2\n"
    assert strip_hidden("x\n### BEGIN HIDDEN TESTS\nnever closed\n") == "x\n"


def test_csv_one_row_per_student_with_errors(tmp_path):
    course = _graded_course(tmp_path)
    report = export_all(course, gradescope=False, feedback=False)
    with report.csv.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["student_id", ASSIGNMENT, "total", "max_total", "max_autograded",
                             "max_by_hand", "flags", "errors"]
    by = {r["student_id"]: r for r in rows}
    assert set(by) == {"alice", "bob", "carol"}
    assert (by["alice"][ASSIGNMENT], by["alice"]["total"], by["alice"]["max_total"]) == (
        "5", "5", "6")
    # max_total = the autograded test cells (2 + 3) + the written answer (1)
    assert (by["alice"]["max_autograded"], by["alice"]["max_by_hand"]) == ("5", "1")
    assert by["bob"]["total"] == "2" and "tampered" in by["bob"]["flags"]
    assert by["carol"]["total"] == "0"
    assert by["carol"]["errors"] == f"{ASSIGNMENT}: malformed notebook JSON"
    assert by["alice"]["errors"] == "" and by["alice"]["flags"] == ""  # routine flags stay out


def test_gradescope_schema_and_hidden_visibility(tmp_path):
    course = _graded_course(tmp_path)
    report = export_all(course, csv_file=False, feedback=False, hidden_visibility="hidden")
    files = {p.parent.name: json.loads(p.read_text()) for p in report.gradescope}
    assert set(files) == {"alice", "bob", "carol"}
    for result in files.values():
        assert set(result) >= {"score", "tests"}
        for test in result["tests"]:
            assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
            assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
            assert HIDDEN_LINE not in test["output"]
    tests = {t["name"]: t for t in files["bob"]["tests"]}
    assert set(tests) == {"test_affine", "test_graph"}  # the written answer is not autograded
    assert tests["test_affine"]["visibility"] == "visible"
    assert tests["test_graph"]["visibility"] == "hidden"
    assert (tests["test_affine"]["score"], tests["test_graph"]["score"]) == (2.0, 0.0)
    assert files["bob"]["score"] == 2.0 and files["alice"]["score"] == 5.0
    assert "malformed notebook JSON" in files["carol"]["output"]


def test_gradescope_rejects_unknown_visibility(tmp_path):
    import pytest

    from autograder.grading.assignment_info import AssignmentInfo

    course = make_course(tmp_path, gradebook=False)
    with pytest.raises(ValueError, match="after_published"):
        gradescope_results({"status": "graded"}, AssignmentInfo.load(course, ASSIGNMENT),
                           hidden_visibility="later")


def test_feedback_hides_hidden_tests_and_escapes_student_text(tmp_path):
    course = _graded_course(tmp_path)
    report = export_all(course, csv_file=False, gradescope=False)
    pages = {p.parts[-3]: p.read_text() for p in report.feedback}
    assert set(pages) == {"alice", "bob", "carol"}
    assert all(p.parts[-4] == "feedback" and p.name == f"{ASSIGNMENT}.html"
               for p in report.feedback)
    alice = pages["alice"]
    assert HIDDEN_LINE not in alice and "BEGIN HIDDEN TESTS" not in alice
    tags, attributes = _markup(alice)
    assert tags <= SAFE_TAGS, tags - SAFE_TAGS
    assert not any(a.startswith("on") for a in attributes)
    assert "&lt;script&gt;" in alice  # the student's text is shown, escaped
    assert "Content-Security-Policy" in alice
    assert "assert double(2) == 4" in alice  # visible tests are shown as released
    assert "test_graph: 3 / 3" in alice and "hidden tests" in alice
    assert "could not be graded" in pages["carol"] and "malformed notebook JSON" in pages["carol"]
    for page in pages.values():
        assert HIDDEN_LINE not in page


def test_maxima_are_stated_the_same_way_in_the_feedback(tmp_path):
    course = _graded_course(tmp_path)
    report = export_all(course, csv_file=False, gradescope=False)
    page = next(p for p in report.feedback if p.parts[-3] == "bob").read_text()
    assert format_maxima(5, 1) == "5 autograded + 1 by hand"
    assert format_maxima(27, 0) == "27 autograded"
    assert "is worth 5 autograded + 1 by hand points" in page


BAD_SIGNATURE = ("the notebook run crashed (exit 1, signal None): ValueError: Invalid "
                 "Signature: b'aa6d0f3c9e'")


def test_a_garbled_kernel_message_is_explained():
    text = explain_flag(BAD_SIGNATURE)
    assert "Invalid Signature" not in text and "aa6d" not in text
    assert text.startswith("the notebook run crashed (exit 1, signal None): the kernel's "
                           "messages arrived garbled")
    assert "fork bomb" in text
    assert explain_flag("tampered") == "tampered"


def test_flagged_means_the_same_everywhere():
    record = {"flags": ["unverified: no probe", BAD_SIGNATURE],
              "cells": [{"grade_id": "test_graph", "flags": ["integrity: checker replaced"]},
                        {"grade_id": "test_affine", "flags": ["unverified: no probe"]}]}
    flags = attention_flags(record)
    assert len(flags) == 2, flags  # the routine "unverified" ones stay out
    assert flags[1] == "test_graph: integrity: checker replaced"
    assert "garbled" in flags[0]
    assert attention_flags({"flags": ["test_x: unverified: no probe"]}) == []


def test_feedback_says_when_a_run_crashed(tmp_path):
    course = make_course(tmp_path, gradebook=False)
    info = AssignmentInfo.load(course, ASSIGNMENT)
    record = {"student": "dave", "assignment": ASSIGNMENT, "status": "graded",
              "cells": [], "max_score": 5.0, "manual_max_score": 1.0,
              "limits": {"ended": {"notebook": "crashed", "probe": "ok"}}}
    page = feedback_html(record, info, ASSIGNMENT, None)
    assert "The notebook run crashed before it finished" in page
    assert "probe run" not in page
    record["limits"]["ended"] = {"notebook": "killed-by-limit"}
    assert "killed for going over a resource limit" in feedback_html(record, info,
                                                                      ASSIGNMENT, None)
    record["limits"]["ended"] = {"notebook": "ok"}
    assert "before it finished" not in feedback_html(record, info, ASSIGNMENT, None)
    record["cells"] = [{"grade_id": g, "flags": ["notebook incomplete: the kernel died in "
                                                 "cell 8"]} for g in ("test_affine", "test_graph")]
    page = feedback_html(record, info, ASSIGNMENT, None)
    assert page.count("Your notebook did not run to its end (the kernel died in cell 8)") == 1


# --------------------------------------------------------------------------- hidden tests
# Before the due date a failed hidden check says what it checks and the likely mistake;
# after it, with the course's switch on, the feedback shows the test cell in full.

PROBE_CALLS = "def graph(lib, inputs):\n    return {}\n"
PROBE_JUDGE = '''from autograder.grading.probes import Probe

from . import calls

PROBES = [Probe("test_graph", "graph_strided", lambda rng: {}, calls.graph,
                checks="stride 2 with padding 1"),
          Probe("test_graph", "graph_ties", lambda rng: {}, calls.graph,
                checks="ties in the max")]
'''
# What the grader saw on the hidden inputs: it stays in the record, never in the page.
INPUT_NOTE = "raised: ValueError: shapes (3,7) and (5,2) not aligned"
DIAGNOSED = "your dx is the right dx times 2: look for a missing or extra factor"


def _course_with_hidden_checks(tmp_path, *, due, switch: bool | None = True):
    from autograder.grading.record import gradebook_url, open_gradebook

    course = make_course(tmp_path)
    folder = course / "probes" / ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / "calls.py").write_text(PROBE_CALLS)
    (folder / "judge.py").write_text(PROBE_JUDGE)
    if switch is not None:
        (course / "nbgrader_config.py").write_text(
            f"c = get_config()  # noqa: F821\nc.Autograder.show_hidden_tests_after_due = "
            f"{switch}\n")
    submit(course, "dan", {"points": {"test_affine": 2}})
    result = fake_grade(str(course), ASSIGNMENT, "dan")
    result.update(student="dan", assignment=ASSIGNMENT)
    graph = next(row for row in result["cells"] if row["grade_id"] == "test_graph")
    graph["probes"] = [
        {"name": "graph_strided", "kind": "library", "passed": False, "note": DIAGNOSED,
         "diagnosis": "scale"},
        {"name": "graph_ties", "kind": "library", "passed": False, "note": INPUT_NOTE,
         "diagnosis": ""}]
    with Recorder(course) as rec:
        rec.record(result)
    if due is not None:
        with open_gradebook(gradebook_url(course)) as gb:
            gb.update_or_create_assignment(ASSIGNMENT, duedate=due)
    return course


def _dan(course) -> str:
    report = export_all(course, csv_file=False, gradescope=False)
    return next(p for p in report.feedback if p.parts[-3] == "dan").read_text()


def _days(n: int):
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) + timedelta(days=n)).replace(tzinfo=None)


def test_before_the_due_date_a_failed_hidden_check_says_what_it_checks(tmp_path):
    page = _dan(_course_with_hidden_checks(tmp_path, due=_days(7)))
    assert ("Failed hidden check: stride 2 with padding 1 (likely mistake: output off by a "
            "constant factor)") in page
    assert "Failed hidden check: ties in the max</p>" in page  # no mistake named: no class
    assert "What went wrong: " + DIAGNOSED in page
    # never the inputs or the code of the hidden test
    assert INPUT_NOTE not in page and "(3,7)" not in page
    assert HIDDEN_LINE not in page and "BEGIN HIDDEN TESTS" not in page
    assert "The due date has passed" not in page
    tags, attributes = _markup(page)
    assert tags <= SAFE_TAGS and not any(a.startswith("on") for a in attributes)


def test_gradescope_output_names_the_failed_checks_too(tmp_path):
    course = _course_with_hidden_checks(tmp_path, due=_days(7))
    report = export_all(course, csv_file=False, feedback=False)
    result = json.loads(next(p for p in report.gradescope if p.parts[-2] == "dan").read_text())
    graph = next(t for t in result["tests"] if t["name"] == "test_graph")
    assert graph["output"].endswith(
        "Failed hidden checks: stride 2 with padding 1 (likely mistake: output off by a "
        "constant factor); ties in the max.")
    assert INPUT_NOTE not in graph["output"] and HIDDEN_LINE not in graph["output"]


def test_after_the_due_date_the_switch_shows_the_hidden_test(tmp_path):
    page = _dan(_course_with_hidden_checks(tmp_path, due=_days(-1)))
    graph = page[page.index("test_graph: 0 / 3"):]
    assert "The due date has passed" in graph
    assert "### BEGIN HIDDEN TESTS\n" + HIDDEN_LINE in graph.replace("&quot;", '"')
    assert "Failed hidden check: stride 2 with padding 1" in graph
    assert INPUT_NOTE not in page  # the grader's view of the inputs stays in the record


def test_hidden_tests_stay_hidden_without_the_switch_or_a_due_date(tmp_path):
    from autograder.grading.assignment_info import hidden_tests_shown

    cases = {"switch off": dict(due=_days(-1), switch=False),
             "no config": dict(due=_days(-1), switch=None),
             "no due date": dict(due=None, switch=True)}
    for i, (why, kwargs) in enumerate(cases.items()):
        course = _course_with_hidden_checks(tmp_path / str(i), **kwargs)
        assert not hidden_tests_shown(course, ASSIGNMENT), why
        page = _dan(course)
        assert HIDDEN_LINE not in page and "The due date has passed" not in page, why
        assert "Failed hidden check: stride 2 with padding 1" in page, why


def test_the_course_configuration_holds_the_switch():
    from traitlets.config.loader import PyFileConfigLoader

    from autograder.course import COURSE_ROOT
    from autograder.grading.assignment_info import SHOW_HIDDEN_AFTER_DUE

    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE_ROOT)).load_config()
    section, key = SHOW_HIDDEN_AFTER_DUE
    assert config[section][key] is True  # shown once the gradebook's due date has passed


def test_every_probe_of_the_course_says_what_it_checks():
    from autograder.course import COURSE_ROOT
    from autograder.grading.probes import load_probe_set, probe_folder

    folders = sorted(p.name for p in (COURSE_ROOT / "probes").iterdir() if p.is_dir())
    assert len(folders) == 6
    for assignment in folders:
        found = load_probe_set(probe_folder(COURSE_ROOT, assignment))
        probes = found.probes + found.answer_probes
        assert probes, assignment
        for probe in probes:
            assert 5 <= len(probe.checks) <= 90, (assignment, probe.name, probe.checks)
