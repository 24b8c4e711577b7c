"""The instructor's class view: per question, how many students made which mistake.

Read from the grading records (each failed probe carries the class of the
likely mistake ``autograder.diagnosis`` named, or none): per question, a
table and a bar chart (inline SVG: the page opens without a server or a
script). The class report (:mod:`autograder.grading.class_report`,
``exports/class-report.html``) shows them next to the scores, flags, errors and
timings; :func:`write_class_view` writes them alone.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

from autograder.diagnosis.catalogue import CLASSES
from autograder.diagnosis.diagnose import cell_class

UNNAMED = "wrong, no known mistake matches"
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STYLE = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}"
          "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
          "padding:.2em .6em;text-align:left}td.n{text-align:right}")


def cell_mistakes(record: Mapping) -> dict[str, str]:
    """grade_id -> the mistake named for that cell of one student's record
    (``diagnose.cell_class`` of its failed probes; ``UNNAMED`` when it names none).
    Cells that passed, or whose probes raised or timed out, are left out."""
    out = {}
    for row in record.get("cells") or []:
        failed = [p for p in row.get("probes") or [] if not p.get("passed")]
        if not failed or row.get("points") is None or row.get("points") >= row.get(
                "max_points", 0):
            continue
        wrong = [p for p in failed if "relative error" in str(p.get("note", ""))
                 or p.get("diagnosis")]
        if wrong:
            out[row["grade_id"]] = cell_class([p.get("diagnosis") or None
                                               for p in wrong]) or UNNAMED
    return out


def class_counts(records: Iterable[Mapping]) -> dict[str, dict[str, Counter]]:
    """assignment -> grade_id -> Counter of mistake classes over the students."""
    counts: dict[str, dict[str, Counter]] = {}
    for record in records:
        if record.get("status") != "graded":
            continue
        per_cell = counts.setdefault(record["assignment"], {})
        for gid, cls in cell_mistakes(record).items():
            per_cell.setdefault(gid, Counter())[cls] += 1
    return counts


def mistake_title(cls: str) -> str:
    """The catalogue's few words for a class of mistake (the id itself if unknown)."""
    return CLASSES.get(cls, cls)


def mistake_bars(counter: Counter) -> str:
    """A horizontal bar chart as inline SVG: one bar per mistake, its students."""
    rows = counter.most_common()
    top = max(n for _, n in rows)
    height = 22 * len(rows) + 4
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="560" height="{height}" '
             'role="img" aria-label="students per mistake">']
    for i, (cls, n) in enumerate(rows):
        y = 2 + 22 * i
        width = max(2, int(300 * n / top))
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">'
                     f"{html.escape(mistake_title(cls)[:38])}</text>"
                     f'<rect x="240" y="{y + 3}" width="{width}" height="16" fill="#4a7ebb"/>'
                     f'<text x="{246 + width}" y="{y + 15}" font-size="12">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)


def mistakes_table(counter: Counter) -> str:
    """One question's mistakes, most frequent first: a table and its bar chart."""
    rows = [f"<tr><td>{html.escape(mistake_title(cls))}</td><td class=\"n\">{n}</td></tr>"
            for cls, n in counter.most_common()]
    return ("<table><tr><th>mistake</th><th>students</th></tr>" + "".join(rows)
            + "</table>" + mistake_bars(counter))


_INTRO = ("<p>Per question, the students who lost its points, by the mistake the grader "
          "named (comparing their outputs with typical wrong implementations on the same "
          "inputs). A name is a likely cause, not a verdict.</p>")
NOTHING_LOST = "<p>No graded submission lost points on a probed question.</p>"


def class_view_html(counts: Mapping[str, Mapping[str, Counter]]) -> str:
    """The mistakes of every assignment alone, as one page (the class report,
    :mod:`autograder.grading.class_report`, shows them next to the scores)."""
    body = ["<h1>Class view: which mistakes, how often</h1>", _INTRO]
    if not counts:
        body.append(NOTHING_LOST)
    for assignment, cells in sorted(counts.items()):
        body.append(f"<h2>{html.escape(assignment)}</h2>")
        for gid, counter in sorted(cells.items()):
            body.append(f"<h3>{html.escape(gid)}</h3>" + mistakes_table(counter))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f"<title>Class view</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_class_view(records: Iterable[Mapping], dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(class_view_html(class_counts(records)), encoding="utf-8")
    return dest
