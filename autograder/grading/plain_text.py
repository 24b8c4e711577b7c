"""Plain text for the reports: points as written, one-line messages, hidden lines
redacted, terminal colour codes removed."""

from __future__ import annotations

import re

# Tracebacks of IPython colour each token; a report shows the plain text.
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def points_text(x: float) -> str:
    """Points as every report writes them: ``2``, ``0.5``, ``27``."""
    return f"{x:g}"


def points_or_dash(x) -> str:
    """Points that may be missing (a cell added or removed): ``-`` for none."""
    return "-" if x is None else points_text(float(x))


def one_line(text: str) -> str:
    """``text`` with every run of white space (newlines included) made one space."""
    return " ".join(str(text).split())


def redact(text: str, hidden_lines: list[str]) -> str:
    """``text`` with every hidden-test line in it replaced by ``[hidden test]``."""
    for line in hidden_lines:
        if line in text:
            text = text.replace(line, "[hidden test]")
    return text
