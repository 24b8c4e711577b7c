"""A fresh workspace holds no solution line of any gap: not of the assignment the
learner is on, and not of the earlier ones (whose release copies fill them in).

The solution regions are read with the release test's own parser
(``test_release_has_no_solutions``), not with the code under test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from test_release_has_no_solutions import meaningful, released_lines, split_regions

from autograder.release.build import release
from autograder.student.workspace import prepare_workspace, write_stubbed_library

REPO = Path(__file__).resolve().parents[2]


def secret_lines(lib: Path, source: Path | None = None) -> dict[str, str]:
    """Meaningful line -> origin, for every line of every solution region of the library
    (and of the source notebooks), less lines that also occur outside any region."""
    allowed, removed = set(), []
    for path in sorted(lib.rglob("*.py")):
        outside, regions = split_regions(path.read_text(), str(path.relative_to(lib)))
        allowed.update(t for t in map(meaningful, outside) if t)
        removed += regions
    for nb_path in sorted(source.rglob("*.ipynb")) if source else []:
        for cell in nbformat.read(nb_path, as_version=4).cells:
            outside, regions = split_regions(cell.source, nb_path.name)
            allowed.update(t for t in map(meaningful, outside) if t)
            removed += regions
    secret = {}
    for region in removed:
        for line in region.lines:
            text = meaningful(line)
            if text and text not in allowed:
                secret.setdefault(text, region.origin)
    assert secret, "no solution line found: the scan would prove nothing"
    return secret


def leaks(root: Path, secret: dict[str, str]) -> list[str]:
    return [f"{where}: {line.strip()!r} (from {secret[line.strip()]})"
            for where, line in released_lines(root) if line.strip() in secret]


def test_the_workspace_library_stubs_every_gap_of_the_course(tmp_path):
    lib = write_stubbed_library(tmp_path / "cs231n_lib", REPO / "assignments",
                                REPO / "cs231n_lib")
    assert leaks(lib, secret_lines(REPO / "cs231n_lib")) == []
    assert (lib / "affine.py").is_file()


@pytest.mark.slow
def test_a_fresh_workspace_has_no_solution_line(toy_course, tmp_path):
    lib = toy_course.parent / "cs231n_lib"
    release(toy_course, lib, log=lambda *_: None)
    secret = secret_lines(lib, toy_course / "source")
    # The release of the second assignment fills in the first one's gaps: the
    # scan finds them there, so finding none in the workspace means something.
    assert leaks(toy_course / "release" / "second", secret)

    ws = tmp_path / "workspace"
    report = prepare_workspace(ws, toy_course / "release", lib_dir=lib, log=lambda *_: None)
    assert sorted(p.name for p in ws.iterdir()) == ["cs231n_lib", "first", "second"]
    assert (ws / "second" / "second.ipynb").is_file() and "cs231n_lib/toygraph.py" in report.added
    assert leaks(ws, secret) == []
