"""The release step on the fixture course (autograder.release.build)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.release.build import ReleaseError, find_markers, main, release


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _import_release_lib(assignment_dir: Path):
    """Import the released cs231n_lib of one assignment in a clean module namespace.

    The repository's own ``cs231n_lib`` modules are put back afterwards, so that
    other test modules keep holding the very objects ``sys.modules`` holds.
    """
    def ours(name):
        return name == "cs231n_lib" or name.startswith("cs231n_lib.")

    saved = {name: sys.modules.pop(name) for name in [m for m in sys.modules if ours(m)]}
    sys.path.insert(0, str(assignment_dir))
    try:
        return (importlib.import_module("cs231n_lib.toygraph"),
                importlib.import_module("cs231n_lib.toylayer"))
    finally:
        sys.path.remove(str(assignment_dir))
        for name in [m for m in sys.modules if ours(m)]:
            sys.modules.pop(name)
        sys.modules.update(saved)


@pytest.mark.slow
def test_release_stubs_this_and_later_gaps_and_is_reproducible(toy_course):
    lib = toy_course.parent / "cs231n_lib"
    records = release(toy_course, lib, log=lambda *_: None)
    assert list(records) == ["first", "second"]
    first, second = toy_course / "release" / "first", toy_course / "release" / "second"

    # Only the notebook, the library's own files and the manifest are released.
    assert sorted(_tree_bytes(first)) == ["cs231n_lib/__init__.py", "cs231n_lib/toygraph.py",
                                          "cs231n_lib/toylayer.py", "cs231n_lib/toyshapes.py",
                                          "first.ipynb", "gaps.json"]
    assert find_markers(toy_course / "release") == []

    # first: its own gap and the later one stubbed; second: first's gap filled in.
    graph, layer = _import_release_lib(first)
    with pytest.raises(NotImplementedError, match="add_backward in cs231n_lib/toygraph.py"):
        graph.add_backward(1.0)
    with pytest.raises(NotImplementedError, match="scale_forward"):
        layer.scale_forward([[1.0]], [1.0])
    graph, layer = _import_release_lib(second)
    assert graph.add_backward(2.0) == (2.0, 2.0)
    with pytest.raises(NotImplementedError, match="sums over rows"):
        layer.scale_backward([[1.0]], ([[1.0]], [1.0]))
    with pytest.raises(ValueError, match=r"\(N, D\)"):  # validation outside the gap survives
        layer.scale_forward([1.0], [1.0])

    manifest = json.loads((second / "gaps.json").read_text())
    assert manifest["stubbed"] == [
        {"assignment": "second", "function": "scale_forward", "module": "toylayer"},
        {"assignment": "second", "function": "scale_backward", "module": "toylayer"}]
    assert manifest["filled"] == [{"assignment": "first", "function": "add_backward",
                                   "module": "toygraph"}]

    # The notebook went through nbgrader: solution replaced, hidden tests gone.
    nb = nbformat.read(second / "second.ipynb", as_version=4)
    sources = "\n".join(cell.source for cell in nb.cells)
    assert "raise NotImplementedError()" in sources and "return 2 * x" not in sources
    assert "np.arange(6.0)" not in sources

    before = _tree_bytes(toy_course / "release")
    release(toy_course, lib, log=lambda *_: None)
    assert _tree_bytes(toy_course / "release") == before


@pytest.mark.slow
def test_stub_all_and_single_assignment(toy_course):
    lib = toy_course.parent / "cs231n_lib"
    assert main(["--course", str(toy_course), "--lib", str(lib), "--assignment", "second",
                 "--stub-all"]) == 0
    assert not (toy_course / "release" / "first").exists()
    manifest = json.loads((toy_course / "release" / "second" / "gaps.json").read_text())
    assert manifest["filled"] == [] and len(manifest["stubbed"]) == 3
    graph, _ = _import_release_lib(toy_course / "release" / "second")
    with pytest.raises(NotImplementedError):
        graph.add_backward(1.0)


def test_unknown_assignment_is_refused(toy_course):
    lib = toy_course.parent / "cs231n_lib"
    with pytest.raises(ReleaseError, match="unknown assignment"):
        release(toy_course, lib, assignments=["third"], log=lambda *_: None)


def test_a_module_with_gaps_missing_from_the_table_is_refused(toy_course):
    lib = toy_course.parent / "cs231n_lib"
    (lib / "stray.py").write_text("def f():\n    ### BEGIN SOLUTION\n    return 1\n"
                                  "    ### END SOLUTION\n")
    with pytest.raises(ReleaseError, match="stray.py has solution regions"):
        release(toy_course, lib, log=lambda *_: None)
    assert not (toy_course / "release").exists()


def test_a_library_copy_in_source_is_refused(toy_course):
    lib = toy_course.parent / "cs231n_lib"
    (toy_course / "source" / "first" / "cs231n_lib").mkdir()
    with pytest.raises(ReleaseError, match="solutions included"):
        release(toy_course, lib, log=lambda *_: None)


def test_nbgrader_config_points_at_its_own_folder(toy_course):
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(toy_course)).load_config()
    assert config.CourseDirectory.root == str(toy_course)
    assert config.CourseDirectory.course_id == "cs231n"
    assert config.Autograde.exclude_overwriting == {
        name: ["cs231n_lib/__init__.py", "cs231n_lib/toygraph.py", "cs231n_lib/toylayer.py",
               "cs231n_lib/toyshapes.py"] for name in ("first", "second")}
