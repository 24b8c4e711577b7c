"""The instructor's class report: one static HTML page, ``exports/class-report.html``.

Per assignment, read from the grading records only (``grading/<a>/<s>.json``):

* the score distribution, in total and per question (column charts);
* per question, which mistakes how many students made (the class view,
  :mod:`autograder.grading.class_view`);
* the flagged submissions with their flags explained (the one definition of
  "flagged", :func:`autograder.grading.attention.attention_flags`);
* errors and timeouts: submissions that could not be graded, runs that
  crashed, hit a limit or stopped at the time limit;
* the slowest submissions (``timings.total``);
* every student with their score and a relative link to each feedback page.

The page is a plain file: inline SVG and inline style, no script, no remote
content, the same Content-Security-Policy as the feedback pages; every string
that came from a submission or a student id is escaped.
"""

from __future__ import annotations

import html
import math
import os
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from autograder.grading.assignment_info import format_maxima
from autograder.grading.attention import attention_flags, explain_flag
from autograder.grading.class_view import cell_mistakes, mistakes_table
from autograder.grading.feedback_page import CSP

SLOWEST = 10
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;"
          "padding:0 1rem}table{border-collapse:collapse;margin:.5rem 0 1rem}"
          "td,th{border:1px solid #ccc;padding:.2rem .6rem;text-align:left;"
          "vertical-align:top}td.n{text-align:right}.note{color:#555;font-style:italic}"
          "figure{margin:.5rem 0}figcaption{font-size:.9rem;color:#333}"
          "h4{margin:1rem 0 .25rem}.q{display:flex;flex-wrap:wrap;gap:2rem;"
          "align-items:flex-start}.q figure{max-width:24rem}")
_ENDED_WORDS = {"crashed": "crashed", "killed-by-limit": "killed at a resource limit",
                "timeout": "stopped at the time limit"}

Links = Mapping[tuple[str, str], Sequence[tuple[str, str]]]


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _num(x: float) -> str:
    return f"{x:g}"


# --------------------------------------------------------------------------- plots

def score_bins(values: Sequence[float], top: float) -> list[tuple[str, int]]:
    """(label, count) columns of a score histogram over ``[0, top]``.

    Whole-point scores out of at most 30 get a column per value (full marks
    and zero stay visible on their own); others get 10 equal bins, each
    holding its lower end (the last one its upper end too).
    """
    top = max(float(top), max(values, default=0.0), 0.0)
    if top <= 30 and all(float(v).is_integer() for v in values):
        return [(_num(k), sum(1 for v in values if v == k)) for k in range(int(top) + 1)]
    width = top / 10 if top > 0 else 1.0
    counts = [0] * 10
    for v in values:
        counts[min(9, max(0, math.floor(v / width)))] += 1
    return [(f"{_num(round(i * width, 2))}-{_num(round((i + 1) * width, 2))}", n)
            for i, n in enumerate(counts)]


def columns_svg(columns: Sequence[tuple[str, int]], label: str) -> str:
    """A column chart as inline SVG: students per score (or bin), counts on top."""
    step = max(16, min(48, 540 // max(1, len(columns))))
    height, base = 140, 120
    top = max((n for _, n in columns), default=0) or 1
    width = 40 + step * len(columns)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'role="img" aria-label="{_esc(label)}"><title>{_esc(label)}</title>'
             f'<line x1="30" y1="{base}" x2="{width}" y2="{base}" stroke="#888"/>']
    for i, (name, n) in enumerate(columns):
        x = 34 + step * i
        bar = int(100 * n / top)
        parts.append(f'<rect x="{x}" y="{base - bar}" width="{step - 4}" height="{bar}" '
                     f'fill="#4a7ebb"><title>{_esc(name)}: {n}</title></rect>')
        if n:
            parts.append(f'<text x="{x + (step - 4) / 2:g}" y="{base - bar - 3}" '
                         f'font-size="10" text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x + (step - 4) / 2:g}" y="{base + 14}" font-size="10" '
                     f'text-anchor="middle">{_esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _figure(values: Sequence[float], top: float, label: str) -> str:
    return (f"<figure>{columns_svg(score_bins(values, top), label)}"
            f"<figcaption>{_esc(label)}; column height: students</figcaption></figure>")


# --------------------------------------------------------------------------- sections

def _graded(records: Iterable[Mapping]) -> list[Mapping]:
    return [r for r in records if r.get("status") == "graded"]


def _autograded_cells(records: Sequence[Mapping]) -> dict[str, float]:
    """grade_id -> max points of every autograded cell, in notebook order."""
    cells: dict[str, float] = {}
    for record in records:
        for row in record.get("cells") or []:
            if row.get("kind", "test") != "manual" and row.get("points") is not None:
                cells.setdefault(row["grade_id"], float(row.get("max_points") or 0.0))
    return cells


def _scores_section(records: Sequence[Mapping]) -> list[str]:
    graded = _graded(records)
    if not graded:
        return ["<p>No submission of this assignment was graded.</p>"]
    totals = [float(r.get("score") or 0.0) for r in graded]
    top = max(float(r.get("max_score") or 0.0) for r in graded)
    hand = max(float(r.get("manual_max_score") or 0.0) for r in graded)
    by_hand = " (the written answers, graded by hand, are not counted here)" if hand else ""
    body = [f"<p>{len(graded)} graded of {len(records)}; scores out of "
            f"{_esc(format_maxima(top, hand))}{by_hand}. Mean {statistics.mean(totals):.1f}, "
            f"median {_num(statistics.median(totals))}.</p>",
            _figure(totals, top, f"total autograded score (out of {_num(top)})")]
    mistakes: dict[str, dict] = {r["student"]: cell_mistakes(r) for r in graded}
    for gid, max_points in _autograded_cells(graded).items():
        points = [float(row.get("points") or 0.0) for r in graded
                  for row in r.get("cells") or [] if row.get("grade_id") == gid]
        full = sum(1 for p in points if p >= max_points)
        counter = Counter(m[gid] for m in mistakes.values() if gid in m)
        body.append(f'<h4>{_esc(gid)}</h4><p>{full} of {len(points)} with full marks '
                    f"({_num(max_points)} points), mean {statistics.mean(points):.2f}.</p>"
                    '<div class="q">'
                    + _figure(points, max_points, f"{gid}: points (out of {_num(max_points)})")
                    + "<div>" + (mistakes_table(counter) if counter else
                                 '<p class="note">No mistake named on this question.</p>')
                    + "</div></div>")
    return body


def grouped_flags(record: Mapping) -> list[str]:
    """The record's flags worth a look, one line per finding: a finding repeated
    on several cells ("test_a: x", "test_b: x") becomes "test_a, test_b: x"."""
    gids = {row.get("grade_id") for row in record.get("cells") or []}
    cells: dict[str, list[str]] = {}
    for flag in attention_flags(record):
        gid, sep, rest = flag.partition(": ")
        key, where = (rest, gid) if sep and gid in gids else (flag, "")
        cells.setdefault(key, [])
        if where:
            cells[key].append(where)
    return [f"{', '.join(where)}: {text}" if where else text for text, where in cells.items()]


def _flagged_section(records: Sequence[Mapping]) -> list[str]:
    rows = [(r["student"], grouped_flags(r)) for r in _graded(records)]
    rows = [(s, flags) for s, flags in rows if flags]
    if not rows:
        return ["<p>No submission was flagged.</p>"]
    return (["<table><tr><th>student</th><th>flags (worth a look, not a verdict)</th></tr>"]
            + [f"<tr><td>{_esc(s)}</td><td>{'<br>'.join(_esc(f) for f in flags)}</td></tr>"
               for s, flags in rows] + ["</table>"])


# The grader's notes about the run (others are about the files: a cell restored
# from the source, a link left out; the flags report what matters there), and
# the prefix verify.grade_cells gives a cell the notebook never reached.
_RUN_NOTES = ("time limit", "no executed notebook came back")
_INCOMPLETE = "notebook incomplete: "


def run_problems(record: Mapping) -> list[str]:
    """Why a submission's run did not simply finish: the error that kept it from
    being graded, a run that crashed, hit a limit or the time limit, where the
    notebook stopped, and cells stopped at the cell time limit."""
    problems = []
    if record.get("status") != "graded":
        problems.append("not graded: " + explain_flag(str(record.get("error") or "unknown")))
    ended = (record.get("limits") or {}).get("ended") or {}
    for phase, how in ended.items() if isinstance(ended, Mapping) else ():
        if how in _ENDED_WORDS:
            problems.append(f"the {phase} run {_ENDED_WORDS[how]}")
    problems += [explain_flag(str(note)) for note in record.get("notes") or []
                 if any(key in str(note) for key in _RUN_NOTES)]
    for row in record.get("cells") or []:
        problems += ["the notebook stopped: " + explain_flag(str(f)[len(_INCOMPLETE):])
                     for f in row.get("flags") or [] if str(f).startswith(_INCOMPLETE)]
    return list(dict.fromkeys(problems))


def _errors_section(records: Sequence[Mapping]) -> list[str]:
    rows = [(r["student"], run_problems(r)) for r in records]
    rows = [(s, p) for s, p in rows if p]
    if not rows:
        return ["<p>Every submission ran to its end within the limits.</p>"]
    return (["<table><tr><th>student</th><th>what happened</th></tr>"]
            + [f"<tr><td>{_esc(s)}</td><td>{'<br>'.join(_esc(p) for p in problems)}</td></tr>"
               for s, problems in rows] + ["</table>"])


def _seconds(record: Mapping, key: str) -> float | None:
    value = (record.get("timings") or {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


def _slowest_section(records: Sequence[Mapping]) -> list[str]:
    timed = [r for r in records if _seconds(r, "total") is not None]
    timed.sort(key=lambda r: _seconds(r, "total"), reverse=True)
    if not timed:
        return ["<p>No timings recorded.</p>"]
    body = ["<table><tr><th>student</th><th>total</th><th>notebook run</th>"
            "<th>probes run</th><th>sandbox start</th></tr>"]
    for r in timed[:SLOWEST]:
        cols = [_seconds(r, k) for k in ("total", "sandbox_notebook", "sandbox_probes")]
        body.append(f"<tr><td>{_esc(r['student'])}</td>"
                    + "".join(f'<td class="n">{"" if s is None else f"{s:.1f} s"}</td>'
                              for s in cols)
                    + f"<td>{_esc(r.get('started') or '')}</td></tr>")
    return body + ["</table>"]


def _students_section(records: Sequence[Mapping], links: Links) -> list[str]:
    body = ["<table><tr><th>student</th><th>score</th><th>status</th><th>flags</th>"
            "<th>feedback</th></tr>"]
    for r in sorted(records, key=lambda r: r["student"]):
        graded = r.get("status") == "graded"
        score = (f"{_num(float(r.get('score') or 0.0))} / "
                 f"{_num(float(r.get('max_score') or 0.0))}") if graded else "-"
        pages = links.get((r["student"], r["assignment"]), ())
        anchors = " ".join(f'<a href="{_esc(href)}">{_esc(name)}</a>' for name, href in pages)
        flags = len(grouped_flags(r)) if graded else 0
        body.append(f"<tr><td>{_esc(r['student'])}</td><td class=\"n\">{score}</td>"
                    f"<td>{_esc(r.get('status') or '?')}</td><td class=\"n\">"
                    f"{flags or ''}</td><td>{anchors or '(none written)'}</td></tr>")
    return body + ["</table>"]


# --------------------------------------------------------------------------- the page

def class_report_html(records: Iterable[Mapping], links: Links | None = None) -> str:
    """The whole report of ``records`` (any number of assignments).

    ``links`` maps (student, assignment) to (notebook name, href relative to
    the report) of each feedback page (:func:`feedback_links`).
    """
    by_assignment: dict[str, list[Mapping]] = {}
    for record in records:
        by_assignment.setdefault(record["assignment"], []).append(record)
    body = ["<h1>Class report</h1>",
            "<p>Scores, the mistakes the grader named, flags, errors and timings of every "
            "graded submission, from the grading records. A named mistake or a flag is a "
            "lead to check, not a verdict.</p>"]
    if not by_assignment:
        body.append("<p>Nothing graded yet.</p>")
    for assignment, recs in sorted(by_assignment.items()):
        recs.sort(key=lambda r: r["student"])
        body.append(f'<h2 id="{_esc(assignment)}">{_esc(assignment)}</h2>')
        sections = (("Scores and mistakes per question", _scores_section(recs)),
                    ("Flagged submissions", _flagged_section(recs)),
                    ("Errors and timeouts", _errors_section(recs)),
                    (f"Slowest submissions (top {SLOWEST})", _slowest_section(recs)),
                    ("Students", _students_section(recs, links or {})))
        for title, parts in sections:
            body.append(f"<h3>{_esc(title)}</h3>")
            body += parts
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>Class report</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def feedback_links(records: Iterable[Mapping], feedback_root: Path, report_dir: Path
                   ) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(student, assignment) -> (notebook, href) of every feedback page that exists,
    the href relative to ``report_dir`` (the report opens from disk, no server)."""
    links, root = {}, Path(feedback_root).resolve()
    for record in records:
        folder = root / record["student"] / record["assignment"]
        pages = sorted(folder.glob("*.html")) if folder.is_dir() else []
        links[(record["student"], record["assignment"])] = [
            (page.stem, quote(Path(os.path.relpath(page, report_dir)).as_posix()))
            for page in pages]
    return links


def write_class_report(records: Iterable[Mapping], dest: str | os.PathLike,
                       feedback_root: str | os.PathLike) -> Path:
    """Write the report of ``records`` to ``dest``, linking the pages under
    ``feedback_root`` (``<course>/feedback``); return ``dest``."""
    records, dest = list(records), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    links = feedback_links(records, Path(feedback_root), dest.parent.resolve())
    dest.write_text(class_report_html(records, links), encoding="utf-8")
    return dest
