"""Export grades: a class CSV, Gradescope ``results.json`` files, per-student HTML feedback.

* ``grades.csv``: one row per student; one column per notebook (its score in
  nbgrader's gradebook, manual grades included), the total, the maximum split
  into its autograded and hand-graded parts (``max_total = max_autograded +
  max_by_hand``), the flags worth a look (:func:`attention_flags`) and a
  per-student error column.
* ``gradescope/<assignment>/<student>/results.json``: Gradescope's autograder
  format, one test per autograded cell. Cells that carry hidden tests (an
  nbgrader hidden-test region or a trusted probe) get the ``hidden_visibility``
  (``after_published`` by default) and never show their output.
* ``feedback/<student>/<assignment>/<notebook>.html`` (nbgrader's feedback
  layout): the executed notebook with everything the student wrote escaped,
  no active content at all, test cells shown as released (hidden-test source
  stripped) and the outputs of hidden-test cells replaced by their points. A
  failed hidden check says what it checks and the likely mistake
  (:func:`failed_checks`); after the due date, with the course's switch on
  (:func:`hidden_tests_shown`), test cells are shown with their hidden tests.
* ``class-report.html``: the instructor's class report
  (:mod:`autograder.grading.class_report`).

Everything read from a submission is untrusted text: it is escaped, never
rendered as HTML or Markdown, and images are only embedded as base64 PNG/JPEG.
"""

from __future__ import annotations

import base64
import binascii
import csv
import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.course import (  # noqa: F401
    cell_text,
    has_hidden_tests,
    hidden_lines,
    strip_hidden,
)
from autograder.grading import regrade
from autograder.grading.class_view import mistake_title
from autograder.grading.probes import load_probe_set, probe_folder
from autograder.grading.record import (
    GRADEBOOK_FILE,
    assignment_notebooks,
    grade_cells,
    gradebook_url,
    load_records,
    needs_attention,
    open_gradebook,
)

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
MAX_OUTPUT_CHARS = 20_000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class ExportReport:
    """The files an export wrote."""

    csv: Path | None = None
    gradescope: list[Path] = field(default_factory=list)
    feedback: list[Path] = field(default_factory=list)
    class_report: Path | None = None

    @property
    def class_view(self) -> Path | None:
        """The page with the class view (which mistakes, how often): the class report."""
        return self.class_report

    def summary(self) -> str:
        return (f"wrote {self.csv}\nwrote {len(self.gradescope)} Gradescope results.json "
                f"file(s)\nwrote {len(self.feedback)} HTML feedback file(s)"
                + (f"\nwrote {self.class_report} (the class report: scores, mistakes, "
                   "flags, errors, timings, links to the feedback)"
                   if self.class_report else ""))


# --------------------------------------------------------------------------- hidden tests

def _probe_grade_ids(course: Path, assignment: str) -> set[str]:
    """grade_ids decided by library probes (``<course>/probes/<assignment>/``)."""
    try:
        return {p.grade_id for p in load_probe_set(probe_folder(course, assignment)).probes}
    except Exception:  # an unloadable probe folder still hides every grade cell's output
        return {c["grade_id"] for nb in assignment_notebooks(course, assignment).values()
                for c in grade_cells(nb)}


def _probe_checks(course: Path, assignment: str) -> dict[str, str]:
    """probe name -> the property it checks (``Probe.checks``), where the probe says."""
    try:
        found = load_probe_set(probe_folder(course, assignment))
    except Exception:  # an unloadable folder: the feedback names no property
        return {}
    return {p.name: p.checks for p in found.probes + found.answer_probes
            if getattr(p, "checks", "")}


#: The course's switch (``nbgrader_config.py``): after the assignment's due date in
#: the gradebook, the feedback shows each test cell with its hidden tests.
SHOW_HIDDEN_AFTER_DUE = ("Autograder", "show_hidden_tests_after_due")


def hidden_tests_shown(course: str | os.PathLike, assignment: str, db: str | None = None,
                       now: datetime | None = None) -> bool:
    """Whether the feedback of ``assignment`` may show its hidden tests: the course
    configuration's ``c.Autograder.show_hidden_tests_after_due`` is true and the
    assignment's due date (nbgrader's gradebook) has passed. No due date: never."""
    from traitlets.config.loader import ConfigFileNotFound, PyFileConfigLoader

    try:
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    except ConfigFileNotFound:
        return False
    section, key = SHOW_HIDDEN_AFTER_DUE
    if config.get(section, {}).get(key, False) is not True:
        return False
    if db is None and not (Path(course) / "gradebook.db").is_file():
        return False
    from nbgrader.api import MissingEntry

    with open_gradebook(gradebook_url(course, db)) as gb:
        try:
            due = gb.find_assignment(assignment).duedate
        except MissingEntry:
            return False
    if due is None:
        return False
    # nbgrader stores due dates as naive UTC
    return (now or datetime.now(timezone.utc)) >= due.replace(tzinfo=timezone.utc)


@dataclass
class AssignmentInfo:
    """What the trusted side knows about an assignment's notebooks."""

    notebooks: dict[str, dict]                 # name -> source notebook JSON
    locked: dict[str, dict[str, str]]          # name -> grade_id -> shown source
    hidden_ids: set[str]                       # grade_ids with hidden tests
    hidden_lines: list[str]                    # lines that must not appear anywhere
    points: dict[str, dict[str, float]]        # name -> grade_id -> max points
    checks: dict[str, str] = field(default_factory=dict)  # probe name -> what it checks
    # name -> grade_id -> the test cell with its hidden tests, and whether the
    # feedback shows it (after the due date, when the course's switch is on)
    full_source: dict[str, dict[str, str]] = field(default_factory=dict)
    show_hidden: bool = False

    @classmethod
    def load(cls, course: Path, assignment: str, *, show_hidden: bool = False
             ) -> AssignmentInfo:
        notebooks = assignment_notebooks(course, assignment)
        locked, hidden, lines, points = {}, set(_probe_grade_ids(course, assignment)), [], {}
        full: dict[str, dict[str, str]] = {}
        for name, nb in notebooks.items():
            locked[name], full[name] = {}, {}
            points[name] = {c.grade_id: c.max_points for c in grade_cells(nb)}
            for cell in nb.get("cells", []):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                source = cell_text(cell.get("source", ""))
                gid = meta.get("grade_id")
                if has_hidden_tests(source):
                    if gid:
                        hidden.add(gid)
                if gid and meta.get("locked") and not meta.get("solution"):
                    locked[name][gid] = strip_hidden(source)
                    if has_hidden_tests(source):
                        full[name][gid] = source
        # A line that also appears in the visible notebook reveals nothing.
        lines = list(dict.fromkeys(line for nb in notebooks.values()
                                   for line in hidden_lines(nb, min_length=8)))
        return cls(notebooks, locked, hidden, lines, points,
                   checks=_probe_checks(course, assignment), full_source=full,
                   show_hidden=show_hidden)


# --------------------------------------------------------------------------- CSV

def _notebook_columns(gb, assignments: Iterable[str]) -> list[tuple[str, str, str]]:
    cols = []
    for a in sorted(assignments):
        try:
            notebooks = sorted(nb.name for nb in gb.find_assignment(a).notebooks)
        except Exception:
            continue
        for nb in notebooks:
            cols.append((a, nb, a if nb == a else f"{a}/{nb}"))
    return cols


def assignment_maxima(info: AssignmentInfo, record: Mapping | None = None
                      ) -> tuple[float, float]:
    """(autograded, by hand) points of an assignment.

    A grading record carries both (``max_score``, ``manual_max_score``); an
    assignment nobody was graded on yet is read from its source notebooks.
    """
    if record is not None and "manual_max_score" in record:
        return float(record.get("max_score") or 0.0), float(record["manual_max_score"] or 0.0)
    auto = hand = 0.0
    for name, cells in info.points.items():
        for gid, points in cells.items():
            if gid in info.locked.get(name, {}):
                auto += points
            else:
                hand += points
    return auto, hand


def format_maxima(autograded: float, by_hand: float) -> str:
    """``"27 autograded + 6 by hand"``: how every report states what a score is out of."""
    text = f"{_num(autograded)} autograded"
    return text + (f" + {_num(by_hand)} by hand" if by_hand else "")


def export_csv(course: str | os.PathLike, dest: str | os.PathLike, *,
               assignments: Iterable[str] | None = None, db: str | None = None) -> Path:
    """Write the class CSV; return its path."""
    from nbgrader.api import MissingEntry

    course, dest = Path(course), Path(dest)
    records = {}
    for rec in load_records(course):
        records.setdefault(rec["student"], []).append(rec)
    with open_gradebook(gradebook_url(course, db)) as gb:
        names = list(assignments) if assignments else [a.name for a in gb.assignments]
        columns = _notebook_columns(gb, names)
        maxima = _class_maxima(course, {a for a, _, _ in columns}, records)
        students = sorted({s.id for s in gb.students} | set(records))
        regraded = regrade.any_regraded(r for rs in records.values() for r in rs
                                        if r["assignment"] in names)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with dest.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["student_id", *[c[2] for c in columns], "total", "max_total",
                             "max_autograded", "max_by_hand", "flags", "errors",
                             *(regrade.CSV_COLUMNS if regraded else ())])
            for student in students:
                row, total, max_total = [student], 0.0, 0.0
                for a, nb, _ in columns:
                    try:
                        sub = gb.find_submission_notebook(nb, a, student)
                        score, top = float(sub.score or 0.0), float(sub.max_score or 0.0)
                    except MissingEntry:
                        score, top = 0.0, float(gb.find_notebook(nb, a).max_score or 0.0)
                    row.append(_num(score))
                    total += score
                    max_total += top
                recs = [r for r in records.get(student, []) if r["assignment"] in names]
                flags = sorted({f"{r['assignment']}: {f}" for r in recs
                                for f in attention_flags(r)})
                errors = [f"{r['assignment']}: {r.get('error')}" for r in recs
                          if r.get("status") != "graded"]
                auto = sum(maxima[a][0] for a in maxima)
                hand = sum(maxima[a][1] for a in maxima)
                writer.writerow([*row, _num(total), _num(max_total), _num(auto), _num(hand),
                                 "; ".join(flags), "; ".join(_one_line(e) for e in errors),
                                 *(regrade.csv_cells(recs) if regraded else ())])
    return dest


def _class_maxima(course: Path, assignments: Iterable[str],
                  records: Mapping[str, list[dict]]) -> dict[str, tuple[float, float]]:
    """Assignment -> (autograded, by hand) points, from any record of it or its notebooks."""
    first = {}
    for recs in records.values():
        for rec in recs:
            first.setdefault(rec["assignment"], rec)
    return {a: assignment_maxima(AssignmentInfo.load(course, a), first.get(a))
            for a in sorted(assignments)}


def _num(x: float) -> str:
    return f"{x:g}"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _flag_text(flag) -> str:
    if isinstance(flag, Mapping):
        return _one_line(flag.get("message") or flag.get("kind") or json.dumps(flag))
    return _one_line(flag)


def _all_flags(record: Mapping) -> list:
    flags = list(record.get("flags") or [])
    for row in record.get("cells") or []:
        flags += [f"{row.get('grade_id')}: {_flag_text(f)}" for f in row.get("flags") or []]
    return list(dict.fromkeys(flags))


# jupyter_client refuses a message whose HMAC does not match ("Invalid Signature:
# b'<hex>'"). Processes forked by a notebook share the kernel's sockets, and their
# interleaved writes garble the messages: the raw error says nothing to a reader.
_BAD_SIGNATURE = re.compile(r"(\w+Error: )?Invalid Signature: b?'[^']*'?")
_BAD_SIGNATURE_TEXT = (
    "the kernel's messages arrived garbled (jupyter_client rejected their signature): "
    "processes forked by the notebook's code wrote on the kernel's connection at once, "
    "as a fork bomb does, so the run was stopped there")


def explain_flag(text: str) -> str:
    """A flag's text with the raw errors an instructor cannot read put in words."""
    return _BAD_SIGNATURE.sub(_BAD_SIGNATURE_TEXT, _one_line(text))


def attention_flags(record: Mapping) -> list[str]:
    """The flags of a graded submission worth an instructor's look, explained.

    The one definition of "flagged" (record-level and per-cell flags, less the
    routine ones, see :func:`autograder.grading.record.needs_attention`): the
    CSV's flags column, ``grade``'s report and the demo's summary count these.
    """
    return list(dict.fromkeys(explain_flag(_flag_text(f)) for f in _all_flags(record)
                              if needs_attention(f)))


_ENDED = {
    "crashed": "crashed before it finished",
    "killed-by-limit": "was killed for going over a resource limit (memory, processes "
                       "or output)",
    "timeout": "was stopped at the time limit",
}


_INCOMPLETE = "notebook incomplete: "


def run_notes(record: Mapping) -> list[str]:
    """Sentences for the feedback when the notebook did not run to its end.

    A run that did not end normally (``limits.ended``: crashed, killed by a
    limit, stopped at the time limit), and why the notebook stopped (the
    cells' "notebook incomplete" flags: the kernel died in cell 8, ...).
    """
    ended = (record.get("limits") or {}).get("ended") or {}
    notes = []
    for phase, how in ended.items() if isinstance(ended, Mapping) else ():
        if how in _ENDED:
            notes.append(f"The {phase} run {_ENDED[how]}: cells that had not run by then "
                         "show no output and earn no points.")
    reasons = []
    for row in record.get("cells") or []:
        for flag in row.get("flags") or []:
            text = _flag_text(flag)
            if text.startswith(_INCOMPLETE):
                reasons.append(explain_flag(text[len(_INCOMPLETE):]))
    for reason in dict.fromkeys(reasons):
        notes.append(f"Your notebook did not run to its end ({reason}); the cells after "
                     "that point earned no points.")
    return notes


# --------------------------------------------------------------------------- Gradescope

def gradescope_results(record: Mapping, info: AssignmentInfo, *,
                       hidden_visibility: str = "after_published",
                       executed: Mapping[str, dict] | None = None) -> dict:
    """One submission in Gradescope's ``results.json`` format."""
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {VISIBILITIES}; "
                         f"got {hidden_visibility!r}.")
    rows = {r["grade_id"]: r for r in record.get("cells") or []}
    graded = record.get("status") == "graded"
    tests = []
    number = 0
    for name, cells in info.points.items():
        for gid, max_points in cells.items():
            autograded = gid in info.locked.get(name, {})
            if not autograded:
                continue  # written answers are graded by hand, not by Gradescope
            number += 1
            row = rows.get(gid, {})
            score = float(row.get("points") or 0.0) if graded else 0.0
            hidden = gid in info.hidden_ids
            if hidden:
                output = ("This question includes hidden tests; their details are not shown. "
                          f"Points: {_num(score)} / {_num(max_points)}.")
                failed = failed_checks(row, info.checks) if graded else []
                if failed:
                    output += " Failed hidden checks: " + "; ".join(failed) + "."
            elif not graded:
                output = "Not graded: " + _one_line(record.get("error") or "unknown error")
            else:
                output = _cell_error_text((executed or {}).get(name), gid, info) or (
                    "Passed." if score >= max_points else "Failed.")
            tests.append({
                "name": gid, "number": str(number), "score": score,
                "max_score": float(max_points),
                "status": "passed" if score >= max_points > 0 else "failed",
                "output": output,
                "visibility": hidden_visibility if hidden else "visible",
            })
    result = {
        "score": sum(t["score"] for t in tests),
        "tests": tests,
        "visibility": "visible",
        "stdout_visibility": "hidden",
    }
    timings = record.get("timings") or {}
    seconds = timings.get("total") or timings.get("worker_seconds")
    if isinstance(seconds, (int, float)):
        result["execution_time"] = float(seconds)
    if not graded:
        result["output"] = "This submission could not be graded: " + _one_line(
            record.get("error") or "unknown error")
    return result


def _cell_error_text(nb: Mapping | None, grade_id: str, info: AssignmentInfo) -> str:
    """The error a visible test cell raised, as plain text (hidden lines redacted)."""
    if not nb:
        return ""
    for cell in nb.get("cells", []):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") != grade_id:
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                text = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"
                return _redact(_ANSI.sub("", text), info.hidden_lines)[:2000]
    return ""


# --------------------------------------------------------------------------- HTML

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.5rem;margin:0;}
.cell{border-left:4px solid #ddd;margin:1rem 0;padding-left:.75rem;}
.code pre.src{background:#eef;} .out pre{background:#fff;border:1px solid #eee;}
.points{font-weight:bold;margin:.25rem 0;} .ok{color:#176f2c;} .bad{color:#a4161a;}
.note{color:#555;font-style:italic;} table{border-collapse:collapse;}
td,th{border:1px solid #ccc;padding:.2rem .6rem;text-align:left;}
"""
# No scripts, no remote content, no forms: only inline style and data: images.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _redact(text: str, hidden_lines: list[str]) -> str:
    for line in hidden_lines:
        if line in text:
            text = text.replace(line, "[hidden test]")
    return text


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _image(out: Mapping) -> str:
    data = out.get("data", {})
    for mime in ("image/png", "image/jpeg"):
        raw = data.get(mime)
        if not raw:
            continue
        raw = "".join(raw) if isinstance(raw, list) else str(raw)
        raw = "".join(raw.split())
        try:
            base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            return ""
        return f'<img alt="figure" src="data:{mime};base64,{raw}">'
    return ""


def _outputs_html(outputs: list, hidden_lines: list[str]) -> str:
    parts, used = [], 0
    for out in outputs or []:
        kind = out.get("output_type")
        if kind == "stream":
            text = cell_text(out.get("text", ""))
        elif kind == "error":
            text = _ANSI.sub("", "\n".join(out.get("traceback") or [])) or \
                f"{out.get('ename')}: {out.get('evalue')}"
        elif kind in ("execute_result", "display_data"):
            img = _image(out)
            if img:
                parts.append(img)
                continue
            text = cell_text(out.get("data", {}).get("text/plain", ""))
        else:
            continue
        text = _redact(text, hidden_lines)
        if used + len(text) > MAX_OUTPUT_CHARS:
            text = text[:max(0, MAX_OUTPUT_CHARS - used)] + "\n[output truncated]"
        used += len(text)
        if text:
            parts.append(f"<pre>{_esc(text)}</pre>")
        if used >= MAX_OUTPUT_CHARS:
            break
    return "".join(parts)


def feedback_html(record: Mapping, info: AssignmentInfo, notebook_name: str,
                  executed: Mapping | None) -> str:
    """The feedback page of one notebook of one submission."""
    student, assignment = record["student"], record["assignment"]
    rows = {r["grade_id"]: r for r in record.get("cells") or []}
    graded = record.get("status") == "graded"
    locked = info.locked.get(notebook_name, {})
    if info.show_hidden:  # after the due date: the test cells as the instructor wrote them
        locked = {**locked, **info.full_source.get(notebook_name, {})}
    maxes = info.points.get(notebook_name, {})
    auto = [(gid, (float(rows.get(gid, {}).get("points") or 0.0) if graded else 0.0), mx)
            for gid, mx in maxes.items() if gid in locked]
    body = [f"<h1>{_esc(assignment)} / {_esc(notebook_name)}: feedback for {_esc(student)}</h1>",
            regrade.feedback_notice(record)]
    if not graded:
        body.append(f'<p class="bad">This submission could not be graded: '
                    f'{_esc(explain_flag(str(record.get("error") or "unknown error")))}</p>')
    body += [f'<p class="bad">{_esc(note)}</p>' for note in run_notes(record)]
    auto_max, hand_max = assignment_maxima(info, record)
    body.append(f'<p class="note">{_esc(assignment)} is worth '
                f"{_esc(format_maxima(auto_max, hand_max))} points.</p>")
    body.append("<table><tr><th>question</th><th>points</th></tr>")
    for gid, got, mx in auto:
        body.append(f"<tr><td>{_esc(gid)}</td><td>{_num(got)} / {_num(mx)}</td></tr>")
    total = sum(g for _, g, _ in auto)
    body.append(f"<tr><th>autograded total</th><th>{_num(total)} / "
                f"{_num(sum(m for _, _, m in auto))}</th></tr></table>")
    hand = record.get("hand_grades") or {}
    body += _hand_graded_html([gid for gid in maxes if gid not in locked], hand, maxes)
    for cell in (executed or {}).get("cells", []):
        body.append(_cell_html(cell, info, locked, rows, maxes, graded)
                    + _hand_grade_html(cell, hand, maxes))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f"<title>{_esc(assignment)}: {_esc(student)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _hand_graded_html(written: list[str], hand: Mapping, maxes: Mapping) -> list[str]:
    """The written answers: points a grader gave in formgrader, or that they are pending."""
    done = [gid for gid in written if (hand.get(gid) or (None, ""))[0] is not None]
    pending = [gid for gid in written if gid not in done]
    out = []
    if done:
        out.append("<table><tr><th>written answer</th><th>points (by hand)</th></tr>")
        out += [f"<tr><td>{_esc(gid)}</td><td>{_num(float(hand[gid][0]))} / "
                f"{_num(maxes[gid])}</td></tr>" for gid in done]
        out.append("</table>")
    if pending:
        out.append(f'<p class="note">Written answers ({_esc(", ".join(pending))}) '
                   "are graded by hand.</p>")
    return out


def _hand_grade_html(cell: Mapping, hand: Mapping, maxes: Mapping) -> str:
    """Under a written answer graded by hand: its points and the grader's comment."""
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    score, comment = hand.get(gid) or (None, "")
    if gid not in maxes:
        score = None
    parts = []
    if score is not None:
        parts.append(f'<div class="points">{_esc(gid)}: {_num(float(score))} / '
                     f"{_num(maxes[gid])}</div>")
    if comment:
        parts.append(f'<p class="note">Grader\'s comment: {_esc(comment)}</p>')
    return "".join(parts)


def hand_grades(course: Path, records: list[Mapping], db: str | None = None
                ) -> dict[tuple[str, str], dict[str, tuple[float | None, str]]]:
    """(student, assignment) -> written answer's grade_id -> (points, comment) a grader
    gave in formgrader (None: not graded yet), read from nbgrader's gradebook."""
    from nbgrader.api import MissingEntry

    out: dict = {}
    if not records or not (course / GRADEBOOK_FILE).exists() and db is None:
        return out
    with open_gradebook(gradebook_url(course, db)) as gb:
        for record in records:
            student, a = record["student"], record["assignment"]
            found = out.setdefault((student, a), {})
            for name, nb in assignment_notebooks(course, a).items():
                for cell in grade_cells(nb):
                    if cell.autograded:
                        continue
                    try:
                        score = gb.find_grade(cell.grade_id, name, a, student).manual_score
                    except MissingEntry:
                        continue
                    try:
                        comment = gb.find_comment(cell.grade_id, name, a, student)
                        text = comment.manual_comment or ""
                    except MissingEntry:
                        text = ""
                    found[cell.grade_id] = (score, text)
    return out


def _cell_html(cell: Mapping, info: AssignmentInfo, locked: Mapping[str, str],
               rows: Mapping, maxes: Mapping, graded: bool) -> str:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if gid in locked:
        source = locked[gid]  # the instructor's cell as released, never the submitted one
    else:
        source = _redact(cell_text(cell.get("source", "")), info.hidden_lines)
    kind = "code" if cell.get("cell_type") == "code" else "text"
    parts = [f'<div class="cell {kind}">']
    if gid in maxes and gid in locked:
        got = float(rows.get(gid, {}).get("points") or 0.0) if graded else 0.0
        ok = "ok" if got >= maxes[gid] else "bad"
        parts.append(f'<div class="points {ok}">{_esc(gid)}: {_num(got)} / '
                     f"{_num(maxes[gid])}</div>")
        parts += [f'<p class="bad">Failed hidden check: {_esc(text)}</p>'
                  for text in failed_checks(rows.get(gid, {}), info.checks)]
        parts += [f'<p class="bad">What went wrong: {_esc(note)}</p>'
                  for note in _diagnosed_notes(rows.get(gid, {}))]
        if info.show_hidden and gid in info.hidden_ids and has_hidden_tests(source):
            parts.append('<p class="note">The due date has passed: this cell is shown with '
                         "its hidden tests.</p>")
    parts.append(f'<pre class="src">{_esc(source)}</pre>')
    if kind == "code":
        if gid in info.hidden_ids:
            parts.append('<p class="note">This cell includes hidden tests; its output is '
                         "not shown.</p>")
        else:
            outs = _outputs_html(cell.get("outputs", []), info.hidden_lines)
            if outs:
                parts.append(f'<div class="out">{outs}</div>')
    parts.append("</div>")
    return "".join(parts)


def failed_checks(row: Mapping, checks: Mapping[str, str]) -> list[str]:
    """One line per failed probe of a cell: the property it checks and, when the
    grader named one, the class of the likely mistake. Never its inputs, its
    expected values or its code (those stay hidden until the due date)."""
    lines = []
    for probe in row.get("probes") or []:
        if probe.get("passed"):
            continue
        text = checks.get(probe.get("name"), "") or "a hidden check"
        if probe.get("diagnosis"):
            text += f" (likely mistake: {mistake_title(probe['diagnosis'])})"
        lines.append(text)
    return list(dict.fromkeys(lines))


def _diagnosed_notes(row: Mapping) -> list[str]:
    """The notes of a cell's failed probes that name a likely mistake (one per
    mistake): what is wrong and where to look, never a hidden input."""
    notes = [p.get("note", "") for p in row.get("probes") or []
             if not p.get("passed") and p.get("diagnosis")]
    return list(dict.fromkeys(n for n in notes if n))


# --------------------------------------------------------------------------- all of it

def _executed_notebooks(course: Path, record: Mapping) -> dict[str, dict]:
    folder = course / "autograded" / record["student"] / record["assignment"]
    out = {}
    for name in record.get("notebook_files") or []:
        try:
            out[Path(name).stem] = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out


def export_all(course: str | os.PathLike, *, to: str | os.PathLike | None = None,
               assignments: Iterable[str] | None = None, db: str | None = None,
               hidden_visibility: str = "after_published", csv_file: bool = True,
               gradescope: bool = True, feedback: bool = True) -> ExportReport:
    """Write the CSV, Gradescope files and HTML feedback for graded submissions.

    Parameters
    ----------
    course : path
        The course root.
    to : path, optional
        Folder for ``grades.csv`` and ``gradescope/`` (default ``<course>/exports``).
        Feedback always goes to ``<course>/feedback/`` so nbgrader's
        ``release_feedback`` can hand it out.
    assignments : iterable of str, optional
        Only these assignments (default: all in the gradebook).
    """
    course = Path(course)
    out = Path(to) if to else course / "exports"
    wanted = set(assignments) if assignments else None
    report = ExportReport()
    if csv_file:
        report.csv = export_csv(course, out / "grades.csv", assignments=assignments, db=db)
    infos: dict[str, AssignmentInfo] = {}
    records = [r for r in load_records(course) if wanted is None or r["assignment"] in wanted]
    hand = hand_grades(course, records, db) if feedback else {}
    for record in records:
        record = dict(record, hand_grades=hand.get((record["student"], record["assignment"])))
        a = record["assignment"]
        if wanted is not None and a not in wanted:
            continue
        if a not in infos:  # once per assignment: the gradebook is read for its due date
            infos[a] = AssignmentInfo.load(
                course, a, show_hidden=hidden_tests_shown(course, a, db=db))
        info = infos[a]
        executed = _executed_notebooks(course, record)
        if gradescope:
            path = out / "gradescope" / a / record["student"] / "results.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(gradescope_results(
                record, info, hidden_visibility=hidden_visibility, executed=executed),
                indent=1), encoding="utf-8")
            report.gradescope.append(path)
        if feedback:
            for name in info.notebooks or executed or {a: None}:
                path = course / "feedback" / record["student"] / a / f"{name}.html"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(feedback_html(record, info, name, executed.get(name)),
                                encoding="utf-8")
                report.feedback.append(path)
    # Imported here: the report builds on this module's definitions of the flags.
    from autograder.grading.class_report import write_class_report

    report.class_report = write_class_report(records, out / "class-report.html",
                                             course / "feedback")
    return report
