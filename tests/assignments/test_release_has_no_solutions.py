"""No solution reaches a student: every released file is scanned for every stubbed line.

nbgrader strips solutions from notebooks but copies ``.py`` files verbatim
(nbgrader issue #1237), so the release step stubs the library itself. These
tests do not trust that step: they read the solution regions of the reference
library and of the source notebooks with their own small parser, and look for
each meaningful line of a region that should have been removed in every file
of the release (notebook cell sources, ``.py`` files, any other text file).

A line is meaningful unless it is blank, a comment, punctuation or a bare
keyword, or it also occurs in text that legitimately ships in that release (the
library outside its stubbed regions, the notebook outside its solution and
hidden-test regions): ``return out`` or ``pass`` prove nothing.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import tomllib

from autograder.release.build import release, release_rule, write_library
from autograder.release.gaps import read_gap_table

REPO = Path(__file__).resolve().parents[2]
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS",
           "BEGIN MARK SCHEME", "END MARK SCHEME")
_REGION = re.compile(r"^\s*#*\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")
_TRIVIAL = re.compile(r"^([\])}(\[{,:;.\s]*|else:|try:|finally:|pass|continue|break|return"
                      r"|\"\"\"|''')$")


@dataclass(frozen=True)
class Region:
    origin: str          # "cs231n_lib/affine.py:52" or "backprop.ipynb:test_affine"
    lines: tuple[str, ...]


def split_regions(text: str, origin: str) -> tuple[list[str], list[Region]]:
    """(lines outside every region, regions) of a text, by its marker lines."""
    outside, regions, current, start = [], [], None, 0
    for number, line in enumerate(text.splitlines(), start=1):
        match = _REGION.match(line)
        if match and match[1] == "BEGIN":
            current, start = [], number
        elif match and match[1] == "END":
            regions.append(Region(f"{origin}:{start}", tuple(current or ())))
            current = None
        elif current is not None:
            current.append(line)
        else:
            outside.append(line)
    return outside, regions


def meaningful(line: str) -> str | None:
    text = line.strip()
    if not text or text.startswith("#") or _TRIVIAL.match(text):
        return None
    return text


def released_lines(root: Path):
    """(file, line) for every line of every text file under ``root`` (cells for notebooks)."""
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            for index, cell in enumerate(nb.cells):
                for line in cell.source.splitlines():
                    yield f"{path}[cell {index}]", line
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for line in text.splitlines():
            yield str(path), line


def find_leaks(course: Path, lib: Path, *, stub_all: bool) -> list[str]:
    """Every released line that belongs to a region the release should have removed."""
    table = tomllib.loads((course / "gaps.toml").read_text())["assignment"]
    order = [row["name"] for row in table]
    owner = {module: i for i, row in enumerate(table) for module in row["modules"]}
    library = {}
    for path in sorted(lib.rglob("*.py")):
        module = path.relative_to(lib).with_suffix("").as_posix().replace("/", ".")
        library[module] = split_regions(path.read_text(), f"cs231n_lib/{module}.py")

    leaks = []
    released = sorted(p for p in (course / "release").iterdir() if p.is_dir())
    assert released, "the release is empty"
    for folder in released:
        index = order.index(folder.name)
        allowed, removed = set(), []
        for module, (outside, regions) in library.items():
            allowed.update(t for t in map(meaningful, outside) if t)
            stubbed = module in owner and (stub_all or owner[module] >= index)
            if stubbed:
                removed.extend(regions)
            else:
                for region in regions:
                    allowed.update(t for t in map(meaningful, region.lines) if t)
        for source_nb in sorted((course / "source" / folder.name).glob("*.ipynb")):
            nb = nbformat.read(source_nb, as_version=4)
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
                outside, regions = split_regions(cell.source, f"{source_nb.name}:{grade_id}")
                allowed.update(t for t in map(meaningful, outside) if t)
                removed.extend(regions)
        secret = {}
        for region in removed:
            for line in region.lines:
                text = meaningful(line)
                if text and text not in allowed:
                    secret.setdefault(text, region.origin)
        assert secret or not removed, f"{folder.name}: every removed line counted as trivial"
        for where, line in released_lines(folder):
            if line.strip() in secret:
                leaks.append(f"{where}: {line.strip()!r} (from {secret[line.strip()]})")
            for marker in MARKERS:
                if marker in line:
                    leaks.append(f"{where}: marker {marker!r} survived")
    return leaks


def _copy_course(repo: Path, dest: Path) -> Path:
    """A private copy of the repository's course and library (the release writes into it)."""
    course = dest / "assignments"
    course.mkdir(parents=True)
    for name in ("nbgrader_config.py", "gaps.toml"):
        shutil.copyfile(repo / "assignments" / name, course / name)
    if (repo / "assignments" / "source").is_dir():
        shutil.copytree(repo / "assignments" / "source", course / "source",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copytree(repo / "cs231n_lib", dest / "cs231n_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return course


@pytest.mark.slow
def test_the_fixture_release_has_no_solution_and_a_planted_one_is_found(toy_course):
    lib = toy_course.parent / "cs231n_lib"
    release(toy_course, lib, log=lambda *_: None)
    assert find_leaks(toy_course, lib, stub_all=False) == []

    # The scan must see a leak in a library file and in a notebook.
    planted = toy_course / "release" / "second" / "cs231n_lib" / "toyshapes.py"
    planted.write_text(planted.read_text() + "\n# copied\ndw = (dout * x).sum(axis=0)\n")
    nb_path = toy_course / "release" / "first" / "first.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells[2].source += "\nassert add_backward(-0.5) == (-0.5, -0.5)"
    nbformat.write(nb, nb_path)
    leaks = find_leaks(toy_course, lib, stub_all=False)
    assert any("toyshapes.py" in leak and "dw = (dout * x).sum(axis=0)" in leak
               and "toylayer.py" in leak for leak in leaks), leaks
    assert any("first.ipynb[cell 2]" in leak and "add_backward(-0.5)" in leak
               for leak in leaks), leaks


@pytest.mark.parametrize("stub_all", [False, True], ids=["default", "stub_all"])
def test_the_course_library_copies_have_no_solutions(tmp_path, stub_all):
    """The library part of every assignment's release, written without nbgrader."""
    course = _copy_course(REPO, tmp_path)
    lib = tmp_path / "cs231n_lib"
    table = read_gap_table(course / "gaps.toml")
    for index, row in enumerate(table):
        write_library(lib, course / "release" / row.name / "cs231n_lib", table,
                      release_rule(index, stub_all))
    assert find_leaks(course, lib, stub_all=stub_all) == []
def _real_sources() -> list[str]:
    source = REPO / "assignments" / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("stub_all", [False, True], ids=["default", "stub_all"])
def test_the_course_release_has_no_solutions(tmp_path, stub_all):
    course = _copy_course(REPO, tmp_path)
    lib = tmp_path / "cs231n_lib"
    assert _real_sources(), "no assignment has a source notebook yet"
    release(course, lib, stub_all=stub_all, log=lambda *_: None)
    assert find_leaks(course, lib, stub_all=stub_all) == []
