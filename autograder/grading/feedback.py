"""Step 5 of grading: the executed notebook, made safe to show the student.

Plain cells only, outputs capped, and, in case a hidden line reached an output
some other way (the notebook run never holds one), every hidden-test line
removed from sources and outputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from autograder.course import MiB, cell_text, has_hidden_tests, nbgrader_meta, strip_hidden

MAX_FEEDBACK_BYTES = 4 * MiB
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def feedback_notebook(executed, hidden: Sequence[str], cap: int = MAX_FEEDBACK_BYTES
                      ) -> dict | None:
    """A sanitised copy of the executed notebook: plain cells, outputs capped,
    hidden tests removed from every source and hidden-test lines from every
    output."""
    if not isinstance(executed, dict) or not isinstance(executed.get("cells"), list):
        return None

    def scrub(text: str) -> str:
        # Tracebacks colour each token, so match on the text without ANSI codes.
        if not any(h in ANSI_RE.sub("", text) for h in hidden):
            return text
        return "\n".join("[hidden test line removed]"
                         if any(h in ANSI_RE.sub("", ln) for h in hidden) else ln
                         for ln in text.split("\n"))

    def clean(value):
        if isinstance(value, str):
            return scrub(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        return value if isinstance(value, int | float | bool) or value is None else str(value)

    cells = []
    for cell in executed["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        meta = nbgrader_meta(cell)
        source = cell_text(cell.get("source"))
        if has_hidden_tests(source):
            source = strip_hidden(source)
        new = {"cell_type": cell["cell_type"], "source": source,
               "metadata": {"nbgrader": clean(meta)} if meta else {}}
        if cell["cell_type"] == "code":
            outputs = cell.get("outputs")
            new["outputs"] = clean(outputs) if isinstance(outputs, list) else []
            count = cell.get("execution_count")
            new["execution_count"] = count if isinstance(count, int) else None
        cells.append(new)
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": cells}
    # Over the cap: drop outputs from the largest cells first.
    while len(json.dumps(nb)) > cap:
        sized = [(len(json.dumps(c.get("outputs", []))), c) for c in cells if c.get("outputs")]
        if not sized:
            break
        _, biggest = max(sized, key=lambda t: t[0])
        biggest["outputs"] = [{"output_type": "stream", "name": "stderr",
                               "text": "[output removed: the notebook was too large]\n"}]
    return nb
