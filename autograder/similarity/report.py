"""The similarity report: a ranked CSV and one static HTML page.

The page has the ranked table and, for each of the top pairs, each unit
they share side by side with the matching lines marked (the same region
number on both sides). It runs no script and loads nothing (the feedback
pages' Content-Security-Policy), and every string that came from a
submission (student names, code) is escaped. It says what it is: overlap of
normalised code, to be read by a person, not a verdict.
"""

from __future__ import annotations

import csv
import html
import os
from pathlib import Path

from autograder.similarity.compare import UnitMatch
from autograder.similarity.run import SimilarityResult

# Pairs at or above this score are marked "look closer" (see docs/similarity.md
# for where honest and copied pairs of the synthetic class fall).
THRESHOLD = 0.88
CSP = "default-src 'none'; style-src 'unsafe-inline'"
_STYLE = """
body{font-family:sans-serif;margin:1.5rem;max-width:110rem;}
table{border-collapse:collapse;} td,th{border:1px solid #ccc;padding:.2rem .5rem;}
.pair{margin-top:2rem;border-top:2px solid #888;} .side{display:flex;gap:1rem;}
.side>div{flex:1;min-width:0;overflow-x:auto;}
pre{margin:0;font-size:.8rem;} .ln{color:#888;} .m{background:#ffe08a;}
.m1{background:#ffe08a;} .m2{background:#b9e3ff;} .m3{background:#c8f0c0;}
.m4{background:#f6c8e8;} .m5{background:#e0d0ff;} .note{color:#555;font-style:italic;}
.hi{font-weight:bold;}
"""
NOTE = ("A score is the share of the smaller submission's normalised code (names, "
        "comments, docstrings and layout removed; what the release gave and what most of "
        "the class wrote alike subtracted) that also occurs in the other. It is a reason "
        "to read two submissions side by side, not a finding: short exercises have few "
        "ways to be solved.")


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def write_csv(result: SimilarityResult, path: str | os.PathLike,
              threshold: float = THRESHOLD) -> Path:
    """Every pair sharing a fingerprint, best first (the pairs not listed score 0)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["rank", "student_a", "student_b", "score", "shared", "prints_a",
                      "prints_b", "look_closer"])
        for rank, p in enumerate(result.pairs, 1):
            out.writerow([rank, p.a, p.b, f"{p.score:.4f}", p.shared, p.prints_a, p.prints_b,
                          "yes" if p.score >= threshold else ""])
    return path


def _side(text: str, lines: dict[int, int]) -> str:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        region = lines.get(number)
        cls = f' class="m m{(region - 1) % 5 + 1}"' if region else ""
        mark = f"[{region}]" if region else ""
        rows.append(f'<span{cls}><span class="ln">{number:>4} {mark:>4} </span>'
                    f"{_esc(line)}</span>")
    return "<pre>" + "\n".join(rows) + "</pre>"


def _pair_html(result: SimilarityResult, rank: int, a: str, b: str,
               matches: list[UnitMatch]) -> str:
    pair = result.pairs[rank - 1]
    parts = [f'<div class="pair" id="pair-{rank}"><h2>#{rank}: {_esc(a)} and {_esc(b)}, '
             f"score {pair.score:.2f} ({pair.shared} shared fingerprints)</h2>"]
    for match in matches:
        parts.append(f"<h3>{_esc(match.key)} ({match.shared} shared)</h3><div class=\"side\">"
                     f"<div><b>{_esc(a)}</b>"
                     f"{_side(result.texts[a].get(match.key, ''), match.lines_a)}</div>"
                     f"<div><b>{_esc(b)}</b>"
                     f"{_side(result.texts[b].get(match.key, ''), match.lines_b)}</div></div>")
    parts.append("</div>")
    return "\n".join(parts)


def write_html(result: SimilarityResult, path: str | os.PathLike,
               threshold: float = THRESHOLD) -> Path:
    """The ranked pairs and, for those with regions computed, the side-by-side view."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(result.students)
    body = [f"<h1>Similarity: {_esc(result.assignment)}</h1>",
            f'<p class="note">{_esc(NOTE)}</p>',
            f"<p>{n} students, {result.all_pairs} pairs compared, {len(result.pairs)} share "
            f"any fingerprint; pairs scoring {threshold:.2f} or more are marked.</p>",
            "<table><tr><th>#</th><th>student</th><th>student</th><th>score</th>"
            "<th>shared</th><th>look closer</th></tr>"]
    shown = [(rank, p) for rank, p in enumerate(result.pairs, 1)
             if (p.a, p.b) in result.matches]
    for rank, p in shown:
        cls = ' class="hi"' if p.score >= threshold else ""
        body.append(f'<tr{cls}><td><a href="#pair-{rank}">{rank}</a></td><td>{_esc(p.a)}</td>'
                    f"<td>{_esc(p.b)}</td><td>{p.score:.2f}</td><td>{p.shared}</td>"
                    f"<td>{'yes' if p.score >= threshold else ''}</td></tr>")
    body.append("</table>")
    if len(result.pairs) > len(shown):
        body.append(f'<p class="note">{len(result.pairs) - len(shown)} more pairs are in the '
                    "CSV.</p>")
    for rank, p in shown:
        body.append(_pair_html(result, rank, p.a, p.b, result.matches[(p.a, p.b)]))
    if result.notes:
        body.append("<h2>Not compared in full</h2><ul>")
        for student, notes in sorted(result.notes.items()):
            body.append(f"<li>{_esc(student)}: {_esc('; '.join(notes))}</li>")
        body.append("</ul>")
    page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f"<title>Similarity: {_esc(result.assignment)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
    path.write_text(page, encoding="utf-8")
    return path


def format_top(result: SimilarityResult, count: int = 10,
               threshold: float = THRESHOLD) -> str:
    """The best pairs as a text table."""
    lines = [f"{'#':>3} {'student':<24} {'student':<24} {'score':>6} {'shared':>6}",
             "-" * 67]
    for rank, p in enumerate(result.pairs[:count], 1):
        flag = "  look closer" if p.score >= threshold else ""
        lines.append(f"{rank:>3} {p.a:<24} {p.b:<24} {p.score:>6.2f} {p.shared:>6}{flag}")
    if not result.pairs:
        lines.append("    no two submissions share a fingerprint")
    return "\n".join(lines)
