"""The feedback page of one notebook of one submission,
``feedback/<student>/<assignment>/<notebook>.html`` (nbgrader's feedback layout).

The executed notebook with everything the student wrote escaped, no active
content at all, test cells shown as released (hidden-test source stripped) and
the outputs of hidden-test cells replaced by their points. A failed hidden check
says what it checks and the likely mistake
(:func:`autograder.grading.failed_checks.failed_checks`); after the due date,
with the course's switch on
(:func:`autograder.grading.assignment_info.hidden_tests_shown`), test cells are
shown with their hidden tests.

Everything read from a submission is untrusted text: it is escaped, never
rendered as HTML or Markdown, and images are only embedded as base64 PNG/JPEG.
"""

from __future__ import annotations

import base64
import binascii
import html
from collections.abc import Mapping

from autograder.course import cell_text, has_hidden_tests
from autograder.grading.assignment_info import AssignmentInfo, assignment_maxima, format_maxima
from autograder.grading.attention import explain_flag, flag_text
from autograder.grading.failed_checks import diagnosed_notes, failed_checks
from autograder.grading.plain_text import ANSI, points_text, redact
from autograder.grading.regrade_export import feedback_notice

MAX_OUTPUT_CHARS = 20_000
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;}
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.5rem;margin:0;}
.cell{border-left:4px solid #ddd;margin:1rem 0;padding-left:.75rem;}
.code pre.src{background:#eef;} .out pre{background:#fff;border:1px solid #eee;}
.points{font-weight:bold;margin:.25rem 0;} .ok{color:#176f2c;} .bad{color:#a4161a;}
.note{color:#555;font-style:italic;} table{border-collapse:collapse;}
td,th{border:1px solid #ccc;padding:.2rem .6rem;text-align:left;}
"""

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
            text = flag_text(flag)
            if text.startswith(_INCOMPLETE):
                reasons.append(explain_flag(text[len(_INCOMPLETE):]))
    for reason in dict.fromkeys(reasons):
        notes.append(f"Your notebook did not run to its end ({reason}); the cells after "
                     "that point earned no points.")
    return notes


# No scripts, no remote content, no forms: only inline style and data: images.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


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
            text = ANSI.sub("", "\n".join(out.get("traceback") or [])) or \
                f"{out.get('ename')}: {out.get('evalue')}"
        elif kind in ("execute_result", "display_data"):
            img = _image(out)
            if img:
                parts.append(img)
                continue
            text = cell_text(out.get("data", {}).get("text/plain", ""))
        else:
            continue
        text = redact(text, hidden_lines)
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
            feedback_notice(record)]
    if not graded:
        body.append(f'<p class="bad">This submission could not be graded: '
                    f'{_esc(explain_flag(str(record.get("error") or "unknown error")))}</p>')
    body += [f'<p class="bad">{_esc(note)}</p>' for note in run_notes(record)]
    auto_max, hand_max = assignment_maxima(info, record)
    body.append(f'<p class="note">{_esc(assignment)} is worth '
                f"{_esc(format_maxima(auto_max, hand_max))} points.</p>")
    body.append("<table><tr><th>question</th><th>points</th></tr>")
    for gid, got, mx in auto:
        body.append(f"<tr><td>{_esc(gid)}</td><td>{points_text(got)} / {points_text(mx)}</td></tr>")
    total = sum(g for _, g, _ in auto)
    body.append(f"<tr><th>autograded total</th><th>{points_text(total)} / "
                f"{points_text(sum(m for _, _, m in auto))}</th></tr></table>")
    hand = record.get("hand_grades") or {}
    body += _hand_graded_html([gid for gid in maxes if gid not in locked], hand, maxes)
    for cell in (executed or {}).get("cells", []):
        body.append(_cell_html(cell, info, locked, rows, maxes, graded)
                    + _hand_grade_html(cell, hand, maxes))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>{_esc(assignment)}: {_esc(student)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def _hand_graded_html(written: list[str], hand: Mapping, maxes: Mapping) -> list[str]:
    """The written answers: points a grader gave in formgrader, or that they are pending."""
    done = [gid for gid in written if (hand.get(gid) or (None, ""))[0] is not None]
    pending = [gid for gid in written if gid not in done]
    out = []
    if done:
        out.append("<table><tr><th>written answer</th><th>points (by hand)</th></tr>")
        out += [f"<tr><td>{_esc(gid)}</td><td>{points_text(float(hand[gid][0]))} / "
                f"{points_text(maxes[gid])}</td></tr>" for gid in done]
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
        parts.append(f'<div class="points">{_esc(gid)}: {points_text(float(score))} / '
                     f"{points_text(maxes[gid])}</div>")
    if comment:
        parts.append(f'<p class="note">Grader\'s comment: {_esc(comment)}</p>')
    return "".join(parts)


def _cell_html(cell: Mapping, info: AssignmentInfo, locked: Mapping[str, str],
               rows: Mapping, maxes: Mapping, graded: bool) -> str:
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    if gid in locked:
        source = locked[gid]  # the instructor's cell as released, never the submitted one
    else:
        source = redact(cell_text(cell.get("source", "")), info.hidden_lines)
    kind = "code" if cell.get("cell_type") == "code" else "text"
    parts = [f'<div class="cell {kind}">']
    if gid in maxes and gid in locked:
        got = float(rows.get(gid, {}).get("points") or 0.0) if graded else 0.0
        ok = "ok" if got >= maxes[gid] else "bad"
        parts.append(f'<div class="points {ok}">{_esc(gid)}: {points_text(got)} / '
                     f"{points_text(maxes[gid])}</div>")
        parts += [f'<p class="bad">Failed hidden check: {_esc(text)}</p>'
                  for text in failed_checks(rows.get(gid, {}), info.checks)]
        parts += [f'<p class="bad">What went wrong: {_esc(note)}</p>'
                  for note in diagnosed_notes(rows.get(gid, {}))]
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
