"""The class report: scores, mistakes, flags, errors, timings and links, from grading records."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from autograder.grading.class_report import (
    class_report_html,
    columns_svg,
    grouped_flags,
    run_problems,
    score_bins,
    write_class_report,
)
from autograder.grading.export import export_all
from autograder.grading.record import load_records

ASSIGNMENT = "conv"
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>'
GARBLED = "notebook incomplete: cell 9: Invalid Signature: b'0123abcd'"


def _probe(name: str, passed: bool, diagnosis: str = "", note: str = "") -> dict:
    return {"name": name, "kind": "library", "passed": passed, "diagnosis": diagnosis,
            "note": note}


def _record(student: str, forward: float, backward: float, *, mistake: str = "",
            seconds: float = 3.0, **extra) -> dict:
    """A graded record of two probed questions (2 and 4 points) and a written answer."""
    back_probes = [_probe("conv_backward_stride2_pad1", backward == 4.0, mistake,
                          "your dx ..." if mistake else "")]
    record = {
        "student": student, "assignment": ASSIGNMENT, "status": "graded", "error": None,
        "score": forward + backward, "max_score": 6.0, "manual_max_score": 2.0,
        "flags": [], "notes": [], "limits": {"ended": {"notebook": "ok", "probes": "ok"}},
        "timings": {"total": seconds, "sandbox_notebook": seconds - 1, "sandbox_probes": 0.5},
        "started": "warm",
        "cells": [
            {"grade_id": "test_conv_forward", "kind": "test", "points": forward,
             "max_points": 2.0, "flags": [],
             "probes": [_probe("conv_forward_stride2_pad1", forward == 2.0)]},
            {"grade_id": "test_conv_backward", "kind": "test", "points": backward,
             "max_points": 4.0, "flags": [], "probes": back_probes},
            {"grade_id": "q_why", "kind": "manual", "points": None, "max_points": 2.0,
             "flags": ["manual"], "probes": []},
        ],
    }
    record.update(extra)
    return record


def synthetic_class() -> list[dict]:
    """Five submissions: full marks, two with the same named mistake (one flagged, one
    stopped at the time limit), one with a hostile id and flag, one not graded."""
    fork_bomb = _record("s3-forker", 2.0, 0.0, mistake="pad-not-cropped", seconds=40.0)
    for row in fork_bomb["cells"][:2]:
        row["flags"] = [GARBLED]
    return [
        _record("s1-full", 2.0, 4.0, seconds=2.0),
        _record("s2-pad", 2.0, 0.0, mistake="pad-not-cropped", seconds=25.0,
                notes=["cell(s) 5 hit the 20 s cell time limit"],
                limits={"ended": {"notebook": "timeout", "probes": "ok"}}),
        fork_bomb,
        _record("s4" + HOSTILE, 0.0, 0.0, seconds=5.0, flags=["tampered: " + HOSTILE]),
        {"student": "s5-broken", "assignment": ASSIGNMENT, "status": "error",
         "error": "conv.ipynb is not valid notebook JSON " + HOSTILE, "cells": [],
         "score": 0.0, "max_score": 6.0, "flags": [], "limits": {}, "timings": {}},
    ]


def _section(page: str, title: str) -> str:
    """The text of ``page`` from the heading ``title`` to the next heading."""
    start = page.index(f"<h3>{title}")
    end = page.find("<h3>", start + 1)
    return page[start:end if end > 0 else len(page)]


def _markup(page: str) -> tuple[set[str], set[str], list[str]]:
    """Every tag, attribute name and href a browser would see in ``page``."""
    tags, attributes, hrefs = set(), set(), []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.add(tag)
            attributes.update(name for name, _ in attrs)
            hrefs.extend(value for name, value in attrs if name == "href")

    Collect().feed(page)
    return tags, attributes, hrefs


def test_score_bins_keep_whole_points_apart_and_bin_the_rest():
    assert score_bins([0, 4, 4, 2], 4) == [("0", 1), ("1", 0), ("2", 1), ("3", 0), ("4", 2)]
    bins = score_bins([0.5, 99.0, 100.0, 37.5], 100)
    assert len(bins) == 10 and sum(n for _, n in bins) == 4
    assert bins[0] == ("0-10", 1) and bins[3] == ("30-40", 1) and bins[-1] == ("90-100", 2)


def test_a_column_chart_has_one_bar_per_column():
    svg = columns_svg([("0", 3), ("1", 0), ("2", 5)], "points")
    assert svg.startswith("<svg") and svg.count("<rect") == 3
    heights = [int(h) for h in re.findall(r'<rect [^>]*height="(\d+)"', svg)]
    assert heights == [60, 0, 100]  # scaled to the tallest column


def test_the_report_shows_scores_mistakes_flags_errors_and_timings():
    page = class_report_html(synthetic_class())
    scores = _section(page, "Scores and mistakes per question")
    assert "4 graded of 5" in scores and "6 autograded + 2 by hand" in scores
    assert "1 of 4 with full marks (4 points)" in scores  # test_conv_backward
    assert "padding&#x27;s gradient not cropped" in scores
    assert re.search(r"not cropped[^<]*</td><td class=\"n\">2</td>", scores)
    assert "q_why" not in scores  # graded by hand: not part of the autograded plots
    assert page.count("<svg") >= 3 + 1  # total, two questions, the mistakes' bars

    flagged = _section(page, "Flagged submissions")
    assert "s3-forker" in flagged and "s1-full" not in flagged
    # the same finding on two cells is one line naming both, and it is explained
    assert flagged.count("the kernel&#x27;s messages arrived garbled") == 1
    assert "test_conv_forward, test_conv_backward: notebook incomplete" in flagged

    errors = _section(page, "Errors and timeouts")
    assert "s2-pad" in errors and "stopped at the time limit" in errors
    assert "hit the 20 s cell time limit" in errors
    assert "s5-broken" in errors and "not graded" in errors
    assert "s1-full" not in errors

    slowest = _section(page, "Slowest submissions")
    order = [s for s in ("s3-forker", "s2-pad", "s1-full") if s in slowest]
    assert order == ["s3-forker", "s2-pad", "s1-full"]
    assert slowest.index("s3-forker") < slowest.index("s2-pad") < slowest.index("s4")
    assert slowest.index("s4") < slowest.index("s1-full")

    students = _section(page, "Students")
    assert all(s in students for s in ("s1-full", "s2-pad", "s3-forker", "s5-broken"))
    assert "6 / 6" in students and "(none written)" in students


def test_every_student_string_is_escaped():
    page = class_report_html(synthetic_class())
    tags, attributes, _ = _markup(page)
    assert "script" not in tags and "img" not in tags
    assert not {a for a in attributes if a.startswith("on")}
    assert "&lt;script&gt;" in page
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src 'none'" in page


def test_problems_and_flags_read_from_one_record():
    s2, s3 = synthetic_class()[1:3]
    assert run_problems(s2) == ["the notebook run stopped at the time limit",
                                "cell(s) 5 hit the 20 s cell time limit"]
    assert run_problems(synthetic_class()[0]) == []
    assert len(grouped_flags(s3)) == 1


def _records_course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    for record in synthetic_class():
        student = record["student"] if "<" not in record["student"] else "s4-hostile"
        record["student"] = student
        path = course / "grading" / ASSIGNMENT / f"{student}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
    return course


def test_export_writes_the_report_and_its_links_reach_each_students_feedback(tmp_path):
    course = _records_course(tmp_path)
    report = export_all(course, csv_file=False, gradescope=False)
    assert report.class_report == course / "exports" / "class-report.html"
    assert "class-report.html" in report.summary()
    page = report.class_report.read_text()
    _, _, hrefs = _markup(page)
    assert len(hrefs) == 5
    for href in hrefs:
        target = (report.class_report.parent / unquote(href)).resolve()
        assert target.is_file(), href
        student = target.parent.parent.name
        assert f"feedback for {student}" in target.read_text()
    assert {Path(unquote(h)).parts[-3] for h in hrefs} == {
        "s1-full", "s2-pad", "s3-forker", "s4-hostile", "s5-broken"}


def test_links_are_relative_to_wherever_the_report_is_written(tmp_path):
    course = _records_course(tmp_path)
    export_all(course, csv_file=False, gradescope=False)
    elsewhere = tmp_path / "reports" / "term1" / "class-report.html"
    write_class_report(load_records(course), elsewhere, course / "feedback")
    _, _, hrefs = _markup(elsewhere.read_text())
    assert hrefs and all((elsewhere.parent / unquote(h)).is_file() for h in hrefs)
    assert all(not h.startswith("/") for h in hrefs)
