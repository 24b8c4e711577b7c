"""A learner's working copy of the course, which never overwrites their work.

Layout::

    workspace/
        cs231n_lib/            ONE copy of the library, every gap stubbed
        backprop/backprop.ipynb
        conv/conv.ipynb
        ...

The library is written from the reference with every gap of every
assignment stubbed, so no file of the workspace holds the solution of a gap
the learner has not done; the release's per-assignment copies (whose earlier
gaps are filled in, for a class that hands each assignment out on its own)
are not copied. The notebooks import the learner's one library (the lab puts
the workspace on ``PYTHONPATH``), so the code written for ``backprop`` is what
runs in ``conv`` and every later notebook.

A file the learner already has is kept as it is, whatever it holds; new
assignments and new files are added. The one exception is the library's data
that no learner writes (:data:`COURSE_DATA`, the grader's known mistakes as
outputs): it is replaced when the course's copy differs, so the notebook's
checks keep naming mistakes in the grader's current words. A workspace made by an older version
(one library copy per assignment) keeps every file, gets no new copies, and
the report says how to move to the single library.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import COURSE_ROOT, LIBRARY_DIR, PACKAGE
from autograder.release.build import MANIFEST, ReleaseError, find_markers, release, write_library
from autograder.release.gaps import read_gap_table

#: Files of the library the course maintains and no learner edits: refreshed, not kept.
COURSE_DATA = frozenset({"known_mistakes.json", "known_mistakes.npz"})


@dataclass
class WorkspaceReport:
    """Paths (relative to the workspace) that were added or kept, and old library copies."""

    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    kept_changed: list[str] = field(default_factory=list)  # kept, and differs from the release
    refreshed: list[str] = field(default_factory=list)  # course data replaced by the course's
    # <assignment>/cs231n_lib folders of a workspace made the old way (one copy per
    # assignment): kept, never added to, and explained in the summary.
    old_copies: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Added files, kept files holding the learner's changes, unchanged counts."""
        lines = [f"  added  {path}" for path in self.added]
        lines += [f"  updated {path}  (the course's data, not your work)"
                  for path in self.refreshed]
        lines += [f"  kept   {path}  (yours: differs from the release)"
                  for path in self.kept_changed]
        unchanged: dict[str, int] = {}
        for path in self.kept:
            if path not in self.kept_changed:
                folder = path.split("/", 1)[0]
                unchanged[folder] = unchanged.get(folder, 0) + 1
        lines += [f"  kept   {count} unchanged file(s) in {folder}/"
                  for folder, count in sorted(unchanged.items())]
        lines.append(f"workspace: {len(self.added)} file(s) added, {len(self.kept)} kept "
                     f"({len(self.kept_changed)} of them with your changes)")
        if self.old_copies:
            lines.append(self.migration_note())
        return "\n".join(lines)

    def migration_note(self) -> str:
        """What to do with the per-assignment library copies of an older workspace."""
        copies = ", ".join(f"{p}/" for p in self.old_copies)
        return (f"workspace: made by an older `make lab`, with one library copy per "
                f"assignment ({copies}); they are kept as they are, and no new copy is "
                f"added. A notebook uses the copy in its own folder if there is one, else "
                f"the single {PACKAGE}/ at the top of the workspace. Copy the functions you "
                f"wrote into {PACKAGE}/, then rename or delete the old copies (the later "
                f"ones also hold earlier assignments' solutions).")


def _same_bytes(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return a.read_bytes() == b.read_bytes()


def _copy_new(src: Path, dest: Path) -> bool:
    """Copy ``src`` to ``dest`` only if ``dest`` does not exist; True if copied.

    The file is created with O_EXCL, so a file that appears between the check
    and the copy is still never overwritten.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out, open(src, "rb") as inp:
        shutil.copyfileobj(inp, out)
    return True


def _add(src: Path, dest: Path, rel: str, report: WorkspaceReport) -> None:
    if _copy_new(src, dest):
        report.added.append(rel)
    else:
        report.kept.append(rel)
        if not dest.is_file() or not _same_bytes(src, dest):
            report.kept_changed.append(rel)


def _refresh(src: Path, dest: Path, rel: str, report: WorkspaceReport) -> None:
    """Replace course data the workspace holds an older copy of (in one rename)."""
    if not dest.is_file() or dest.is_symlink():
        _add(src, dest, rel, report)
        return
    if _same_bytes(src, dest):
        report.kept.append(rel)
        return
    tmp = dest.with_name(f".{dest.name}.new")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)
    report.refreshed.append(rel)


def _files(root: Path) -> list[Path]:
    return [p for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts]


def write_stubbed_library(dest: Path, course_root: Path = COURSE_ROOT,
                          lib_dir: Path = LIBRARY_DIR) -> Path:
    """Write the library into ``dest`` with every gap of every assignment stubbed.

    Raises
    ------
    ReleaseError
        If any solution or hidden-test marker survived (nothing is kept then).
    """
    table = read_gap_table(Path(course_root) / "gaps.toml")
    write_library(Path(lib_dir), Path(dest), table, lambda _owner, _gap: True)
    hits = find_markers(Path(dest))
    if hits:
        shutil.rmtree(dest)
        raise ReleaseError("a solution marker survived in the workspace's library:\n"
                           + "\n".join(hits[:20]))
    return Path(dest)


def update_workspace(release_dir: Path, dest: Path, assignments: list[str] | None = None,
                     *, library: Path | None = None) -> WorkspaceReport:
    """Add every released notebook and the stubbed library where missing; keep the rest.

    Parameters
    ----------
    release_dir : Path
        nbgrader's ``release/`` folder (one folder per assignment). Its
        ``<assignment>/cs231n_lib/`` copies and ``gaps.json`` are not copied.
    dest : Path
        The learner's workspace (created if needed).
    assignments : list of str, optional
        Only these assignments; by default every released one.
    library : Path, optional
        A library with every gap stubbed (see :func:`write_stubbed_library`),
        copied to ``dest/cs231n_lib/`` file by file where missing.
    """
    release_dir, dest = Path(release_dir), Path(dest)
    report = WorkspaceReport()
    folders = sorted(p for p in release_dir.iterdir() if p.is_dir())
    if assignments:
        unknown = sorted(set(assignments) - {p.name for p in folders})
        if unknown:
            raise ReleaseError(f"no release of {unknown} in {release_dir}; "
                               "run `python -m autograder release` first.")
        folders = [p for p in folders if p.name in assignments]
    dest.mkdir(parents=True, exist_ok=True)
    report.old_copies = sorted(p.relative_to(dest).as_posix()
                               for p in dest.glob(f"*/{PACKAGE}") if p.is_dir())
    if library is not None:
        for src in _files(Path(library)):
            rel = f"{PACKAGE}/{src.relative_to(library).as_posix()}"
            (_refresh if src.name in COURSE_DATA else _add)(src, dest / rel, rel, report)
    for folder in folders:
        for src in _files(folder):
            inside = src.relative_to(folder)
            if inside.parts[0] == PACKAGE or inside.as_posix() == MANIFEST:
                continue  # solution-bearing copies stay out; the one library is above
            rel = src.relative_to(release_dir).as_posix()
            _add(src, dest / rel, rel, report)
    return report


def prepare_workspace(dest: Path, release_dir: Path | None = None,
                      assignments: list[str] | None = None, *, lib_dir: Path = LIBRARY_DIR,
                      log=print) -> WorkspaceReport:
    """Build the release if there is none, then update ``dest`` (what ``lab`` runs first).

    The library comes from the reference ``lib_dir`` (this repository's by
    default), stubbed with the gap table of the course that holds ``release_dir``.
    """
    release_dir = Path(release_dir) if release_dir is not None else COURSE_ROOT / "release"
    has_release = release_dir.is_dir() and any(p.is_dir() for p in release_dir.iterdir())
    if not has_release:
        if release_dir.resolve() != (COURSE_ROOT / "release").resolve():
            raise ReleaseError(f"{release_dir} holds no released assignments; give the "
                               "release/ folder of a course (python -m autograder release).")
        log("workspace: no release yet; building it (python -m autograder release)")
        release(COURSE_ROOT, LIBRARY_DIR, log=log)
    course = release_dir.parent if (release_dir.parent / "gaps.toml").is_file() else COURSE_ROOT
    with tempfile.TemporaryDirectory(prefix="workspace-lib-") as tmp:
        library = write_stubbed_library(Path(tmp) / PACKAGE, course, lib_dir)
        return update_workspace(release_dir, dest, assignments, library=library)
