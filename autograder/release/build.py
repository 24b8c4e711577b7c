"""Regenerate the students' release of every assignment from source.

``python -m autograder release [--assignment NAME] [--stub-all]``

For each assignment of ``assignments/gaps.toml`` (in that order):

1. nbgrader's ``generate_assignment`` turns ``source/<a>/`` into
   ``release/<a>/`` (notebook solutions and hidden tests removed, the
   gradebook updated);
2. ``release/<a>/cs231n_lib/`` is written from the reference library: the
   gaps of this assignment and of every later one are stubbed, the earlier
   ones filled in (``--stub-all``: every gap stubbed). Only the library's
   files travel: no tests, no caches;
3. ``release/<a>/gaps.json`` lists what was stubbed and what was filled;
4. the release is scanned for any surviving solution or hidden-test marker.

Nothing in the output depends on the time or the machine, so a second run
writes the same bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import COURSE_ROOT, FORBIDDEN_MARKERS, LIBRARY_DIR, PACKAGE
from autograder.release.gaps import AssignmentGaps, Gap, find_gaps, read_gap_table, render

MANIFEST = "gaps.json"

# Text that must never reach a student (nbgrader's and the library's markers).

_SKIPPED_NAMES = {"__pycache__", "tests", "test"}
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


class ReleaseError(RuntimeError):
    """The release could not be built, or would have leaked a solution."""


@dataclass
class AssignmentRelease:
    """What one assignment's release holds (the content of its ``gaps.json``)."""

    assignment: str
    stub_all: bool
    stubbed: list[dict] = field(default_factory=list)
    filled: list[dict] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"assignment": self.assignment, "stub_all": self.stub_all,
                "stubbed": self.stubbed, "filled": self.filled, "files": self.files}


def library_files(lib_dir: Path) -> list[Path]:
    """The files of the library that a release carries, relative to ``lib_dir``, sorted."""
    found = []
    for path in sorted(lib_dir.rglob("*")):
        rel = path.relative_to(lib_dir)
        if any(part in _SKIPPED_NAMES or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.name.endswith(_SKIPPED_SUFFIXES):
            found.append(rel)
    return found


def module_owners(table: list[AssignmentGaps]) -> dict[str, int]:
    """Module name -> index (release order) of the assignment whose gaps it holds."""
    return {module: index for index, row in enumerate(table) for module in row.modules}


def check_library(lib_dir: Path, table: list[AssignmentGaps]) -> None:
    """Fail unless every module with gaps is listed in gaps.toml and every listed one exists."""
    owners = module_owners(table)
    for module in owners:
        if not (lib_dir / f"{module}.py").is_file():
            raise ReleaseError(f"gaps.toml lists module {module!r}, but {lib_dir}/{module}.py "
                               "does not exist. Add it or remove it from gaps.toml.")
    for rel in library_files(lib_dir):
        if rel.suffix != ".py":
            continue
        source = (lib_dir / rel).read_text(encoding="utf-8")
        gaps = find_gaps(source, f"{PACKAGE}/{rel.as_posix()}")
        module = rel.with_suffix("").as_posix().replace("/", ".")
        if gaps and module not in owners:
            raise ReleaseError(
                f"{PACKAGE}/{rel.as_posix()} has solution regions ({gaps[0].function} at "
                f"line {gaps[0].begin}) but gaps.toml gives the module to no assignment; "
                "add it to an assignment's modules so the release can stub it.")


def write_library(lib_dir: Path, dest: Path, table: list[AssignmentGaps],
                  stub: Callable[[int, Gap], bool], *, record: AssignmentRelease | None = None,
                  edit: Callable[[str, str], str] | None = None) -> None:
    """Write a copy of the library into ``dest`` (replaced if present).

    Parameters
    ----------
    lib_dir : Path
        The reference library (solutions included).
    dest : Path
        The ``cs231n_lib`` folder to write.
    table : list of AssignmentGaps
        gaps.toml, in release order.
    stub : callable
        ``stub(owner_index, gap) -> bool``: whether a gap of the module owned by
        the assignment at ``owner_index`` is stubbed (otherwise filled in).
    record : AssignmentRelease, optional
        Receives what was stubbed, filled and written.
    edit : callable, optional
        ``edit(display_path, source) -> source`` applied to a module's reference
        text before its gaps are rendered (used to plant bugs in test submissions).
    """
    owners = module_owners(table)
    if dest.exists():
        shutil.rmtree(dest)
    for rel in library_files(lib_dir):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        display = f"{PACKAGE}/{rel.as_posix()}"
        if rel.suffix != ".py":
            shutil.copyfile(lib_dir / rel, target)
            if record is not None:
                record.files.append(display)
            continue
        module = rel.with_suffix("").as_posix().replace("/", ".")
        source = (lib_dir / rel).read_text(encoding="utf-8")
        if edit is not None:
            source = edit(display, source)
        owner = owners.get(module)
        if owner is None:
            text = source
        else:
            owner_name = table[owner].name
            decisions = {gap.begin: stub(owner, gap) for gap in find_gaps(source, display)}
            text = render(source, display, owner_name, lambda gap, d=decisions: d[gap.begin])
            if record is not None:
                for gap in find_gaps(source, display):
                    entry = {"module": module, "function": gap.function,
                             "assignment": owner_name}
                    (record.stubbed if decisions[gap.begin] else record.filled).append(entry)
        with open(target, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        if record is not None:
            record.files.append(display)


def release_rule(release_index: int, stub_all: bool = False) -> Callable[[int, Gap], bool]:
    """The release's choice: stub this assignment's gaps and later ones' (or all)."""
    return lambda owner, _gap: stub_all or owner >= release_index


def find_markers(root: Path) -> list[str]:
    """``"path:line: marker"`` for every forbidden marker in the files under ``root``."""
    hits = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for marker in FORBIDDEN_MARKERS:
                if marker in line:
                    hits.append(f"{path}:{number}: {marker}")
    return hits


def nbgrader_env() -> dict[str, str]:
    """The environment for an nbgrader subprocess.

    nbgrader creates a gradebook by running the ``alembic`` executable from
    ``PATH``; it sits next to this interpreter, which may not be on ``PATH``.
    """
    env = dict(os.environ)
    bin_dir = os.path.dirname(sys.executable)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def run_nbgrader(course_root: Path, *args: str) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` with the course's config (cwd = course root); fail loudly."""
    command = [sys.executable, "-m", "nbgrader", *args]
    done = subprocess.run(command, cwd=course_root, env=nbgrader_env(),
                          capture_output=True, text=True)
    if done.returncode != 0:
        log = (done.stdout + done.stderr).strip().splitlines()
        raise ReleaseError(f"`nbgrader {' '.join(args)}` failed in {course_root} "
                           f"(exit {done.returncode}); last lines:\n" + "\n".join(log[-25:]))
    return done


def release(course_root: Path = COURSE_ROOT, lib_dir: Path = LIBRARY_DIR, *,
            assignments: list[str] | None = None, stub_all: bool = False,
            log=print) -> dict[str, AssignmentRelease]:
    """Regenerate ``<course_root>/release/<a>/`` for the named assignments (default: all).

    Parameters
    ----------
    course_root : Path
        The nbgrader course folder (holds ``nbgrader_config.py``, ``gaps.toml``,
        ``source/``).
    lib_dir : Path
        The reference ``cs231n_lib`` folder, solutions included.
    assignments : list of str, optional
        Names from gaps.toml; by default every assignment that has a
        ``source/<name>/`` folder.
    stub_all : bool
        Stub every gap, not only this assignment's and later ones'.

    Returns
    -------
    dict
        Assignment name -> what its release holds.
    """
    course_root, lib_dir = Path(course_root).resolve(), Path(lib_dir).resolve()
    table = read_gap_table(course_root / "gaps.toml")
    order = [row.name for row in table]
    chosen = _chosen_assignments(course_root, order, assignments, log)
    check_library(lib_dir, table)
    for name in chosen:
        if (course_root / "source" / name / PACKAGE).exists():
            raise ReleaseError(f"source/{name}/{PACKAGE} exists; nbgrader would release it "
                               "verbatim, solutions included. Remove it: the release step "
                               "writes the student's library.")

    # One nbgrader call for every assignment when all are released keeps it quick.
    if set(chosen) == {p.name for p in (course_root / "source").iterdir() if p.is_dir()}:
        run_nbgrader(course_root, "generate_assignment", "*", "--force")
    else:
        for name in chosen:
            run_nbgrader(course_root, "generate_assignment", name, "--force")
    results = {}
    for name in chosen:
        results[name] = _finish_release(course_root, lib_dir, table, name, stub_all, log)
    return results


def _chosen_assignments(course_root: Path, order: list[str], assignments: list[str] | None,
                        log) -> list[str]:
    """The assignments to release, in ``gaps.toml``'s order: the named ones (each
    must have a source folder), else every one that has a source folder."""
    if assignments:
        unknown = [a for a in assignments if a not in order]
        if unknown:
            raise ReleaseError(f"unknown assignment(s) {unknown}; gaps.toml lists {order}.")
        missing = [a for a in assignments if not (course_root / "source" / a).is_dir()]
        if missing:
            raise ReleaseError(f"no source folder for {missing} under {course_root / 'source'}.")
        chosen = [a for a in order if a in assignments]
    else:
        chosen = [a for a in order if (course_root / "source" / a).is_dir()]
        for name in order:
            if name not in chosen:
                log(f"release: skipping {name}: no source/{name}/ yet")
    if not chosen:
        raise ReleaseError(f"nothing to release: no source/<assignment>/ folder under "
                           f"{course_root} for any of {order}.")
    return chosen


def _finish_release(course_root: Path, lib_dir: Path, table, name: str, stub_all: bool,
                    log) -> AssignmentRelease:
    """After nbgrader wrote ``release/<name>/``: the student's library (gaps stubbed
    or filled), its manifest, and the check that no marker survived."""
    order = [row.name for row in table]
    dest = course_root / "release" / name
    if not dest.is_dir():
        raise ReleaseError(f"nbgrader wrote no {dest}; see `nbgrader generate_assignment "
                           f"{name}` run in {course_root}.")
    for junk in list(dest.rglob("__pycache__")):
        shutil.rmtree(junk)
    record = AssignmentRelease(assignment=name, stub_all=stub_all)
    write_library(lib_dir, dest / PACKAGE, table,
                  release_rule(order.index(name), stub_all), record=record)
    (dest / MANIFEST).write_text(json.dumps(record.as_json(), indent=2, sort_keys=True)
                                 + "\n", encoding="utf-8")
    hits = find_markers(dest)
    if hits:
        shutil.rmtree(dest)
        raise ReleaseError("a solution or hidden-test marker survived in the release "
                           f"of {name} (release removed):\n" + "\n".join(hits[:20]))
    log(f"release: {name}: {len(record.stubbed)} gap(s) stubbed, "
        f"{len(record.filled)} filled -> {dest}")
    return record


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m autograder release`` (defaults stay symbolic in --help)."""
    parser.add_argument("--assignment", action="append", metavar="NAME",
                        help="release only this assignment (repeatable); default: all")
    parser.add_argument("--stub-all", action="store_true",
                        help="stub every gap, including earlier assignments' ones")
    parser.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="the nbgrader course folder (default: assignments/ of this "
                             "repository)")
    parser.add_argument("--lib", type=Path, default=None, metavar="DIR",
                        help="the reference library folder (default: cs231n_lib/ of this "
                             "repository)")


def run(args: argparse.Namespace) -> int:
    """Release as ``args`` say; a one-line error and status 1 if nothing was released."""
    course = args.course if args.course is not None else COURSE_ROOT
    lib = args.lib if args.lib is not None else LIBRARY_DIR
    try:
        release(course, lib, assignments=args.assignment, stub_all=args.stub_all)
    except (ReleaseError, ValueError, OSError) as exc:
        print(f"release failed: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.release.build``: the same as ``python -m autograder release``."""
    parser = argparse.ArgumentParser(prog="python -m autograder release",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
