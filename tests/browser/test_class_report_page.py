"""The class report opens from disk in Chromium: its plots render, its links reach the feedback.

A small class is written as grading records (no grading needed), ``export``
writes the feedback pages and the report, and Chromium opens the report as a
``file://`` page: no server, no script, nothing fetched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lab_server import artifacts_dir

from autograder.grading.export import export_all

pytestmark = pytest.mark.browser

ASSIGNMENT = "conv"
# (student, points of the forward and backward questions, likely mistake, seconds)
CLASS = [("ana", 2.0, 4.0, "", 3.0), ("ben", 2.0, 0.0, "pad-not-cropped", 9.0),
         ("cy", 0.0, 0.0, "", 4.0), ("dee", 2.0, 0.0, "stride-ignored", 30.0)]


def _record(student: str, forward: float, backward: float, mistake: str,
            seconds: float) -> dict:
    probe = {"name": "conv_backward_stride2_pad1", "kind": "library",
             "passed": backward == 4.0, "diagnosis": mistake,
             "note": "your dx looks like ..." if mistake else ""}
    return {
        "student": student, "assignment": ASSIGNMENT, "status": "graded", "error": None,
        "score": forward + backward, "max_score": 6.0, "manual_max_score": 0.0,
        "flags": ["tampered: the checks module was replaced"] if student == "cy" else [],
        "notes": [], "limits": {"ended": {"notebook": "ok", "probes": "ok"}},
        "timings": {"total": seconds, "sandbox_notebook": seconds - 1.0},
        "cells": [{"grade_id": "test_conv_forward", "kind": "test", "points": forward,
                   "max_points": 2.0, "flags": [], "probes": []},
                  {"grade_id": "test_conv_backward", "kind": "test", "points": backward,
                   "max_points": 4.0, "flags": [], "probes": [probe]}],
    }


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    course = tmp_path_factory.mktemp("report") / "course"
    for row in CLASS:
        path = course / "grading" / ASSIGNMENT / f"{row[0]}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_record(*row)))
    return export_all(course, csv_file=False, gradescope=False).class_report


def test_the_report_renders_its_plots_without_errors(browser, report):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(report.as_uri())
        assert page.title() == "Class report"
        # the total, one per question, and the bars of the named mistakes
        assert page.locator("svg").count() >= 4
        bars = page.locator("svg rect")
        assert bars.count() >= 7 + 3 + 5
        box = page.locator("figure svg").first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100  # laid out, not empty
        assert page.locator("text=padding's gradient not cropped").count() >= 1
        assert page.locator("h3", has_text="Flagged submissions").count() == 1
        page.screenshot(path=str(artifacts_dir() / "class-report.png"), full_page=True)
        assert problems == []
    finally:
        context.close()


def test_a_feedback_link_opens_the_students_page(browser, report):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(report.as_uri())
        row = page.locator("tr", has=page.locator("td", has_text="ben"))
        row.locator("a").first.click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/feedback/ben/{ASSIGNMENT}/{ASSIGNMENT}.html")
        assert "feedback for ben" in page.locator("h1").inner_text()
    finally:
        context.close()
