"""A learner's working copy of the release, which never overwrites their work.

``python -m autograder.student.workspace [--dest workspace]``

Copies every file of ``assignments/release/<assignment>/`` to
``<dest>/<assignment>/``. A file the learner already has is kept as it is,
whatever it holds; new assignments and new files are added. The command
reports what it added and what it kept. If there is no release yet it builds
one first (``python -m autograder.release.build``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import COURSE_ROOT, LIBRARY_DIR
from autograder.release.build import ReleaseError, release


@dataclass
class WorkspaceReport:
    """Paths (relative to the workspace) that were added or kept."""

    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    kept_changed: list[str] = field(default_factory=list)  # kept, and differs from the release

    def summary(self) -> str:
        """Added files, kept files holding the learner's changes, unchanged counts."""
        lines = [f"  added  {path}" for path in self.added]
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
        return "\n".join(lines)


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


def update_workspace(release_dir: Path, dest: Path,
                     assignments: list[str] | None = None) -> WorkspaceReport:
    """Add every released file missing from ``dest``; keep every file already there.

    Parameters
    ----------
    release_dir : Path
        nbgrader's ``release/`` folder (one folder per assignment).
    dest : Path
        The learner's workspace (created if needed).
    assignments : list of str, optional
        Only these assignments; by default every released one.
    """
    release_dir, dest = Path(release_dir), Path(dest)
    report = WorkspaceReport()
    folders = sorted(p for p in release_dir.iterdir() if p.is_dir())
    if assignments:
        unknown = sorted(set(assignments) - {p.name for p in folders})
        if unknown:
            raise ReleaseError(f"no release of {unknown} in {release_dir}; "
                               "run `python -m autograder.release.build` first.")
        folders = [p for p in folders if p.name in assignments]
    dest.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for src in sorted(folder.rglob("*")):
            if not src.is_file() or "__pycache__" in src.parts:
                continue
            rel = src.relative_to(release_dir)
            target = dest / rel
            if _copy_new(src, target):
                report.added.append(rel.as_posix())
            else:
                report.kept.append(rel.as_posix())
                if not target.is_file() or not _same_bytes(src, target):
                    report.kept_changed.append(rel.as_posix())
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.student.workspace",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=Path("workspace"),
                        help="the workspace folder (default: %(default)s)")
    parser.add_argument("--release", type=Path, default=COURSE_ROOT / "release",
                        help="the release folder (default: %(default)s)")
    parser.add_argument("--assignment", action="append", metavar="NAME",
                        help="only this assignment (repeatable)")
    args = parser.parse_args(argv)
    try:
        has_release = args.release.is_dir() and any(p.is_dir() for p in args.release.iterdir())
        if not has_release:
            if args.release.resolve() != (COURSE_ROOT / "release").resolve():
                raise ReleaseError(f"{args.release} holds no assignments.")
            print("workspace: no release yet; building it (python -m autograder.release.build)")
            release(COURSE_ROOT, LIBRARY_DIR)
        report = update_workspace(args.release, args.dest, args.assignment)
    except ReleaseError as exc:
        print(f"workspace failed: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    print(f"workspace: {args.dest.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
