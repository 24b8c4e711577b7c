"""Copying results out of a sandbox: regular files only, links never followed, capped."""

from __future__ import annotations

import os
from collections.abc import Sequence

from autograder.untrusted import UntrustedFileError, copy_fd, open_dir_nofollow, open_entry, walk


def copy_out(src_root: str, names: Sequence[str], dest_root: str, max_bytes: int,
             max_files: int = 10_000) -> list[str]:
    """Copy the trees ``src_root/<name>`` to ``dest_root/<name>``.

    Only regular files with a single link are copied (``autograder.untrusted``:
    symlinks, devices, fifos and sockets are skipped, no path is followed
    through a link). Copying stops at ``max_bytes`` in total; the file that
    crosses the budget is truncated. Returns notes about what was skipped.
    """
    notes: list[str] = []
    budget, files = max_bytes, max_files
    root_fd = os.open(src_root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            try:
                fd = open_dir_nofollow(root_fd, name)
            except OSError:
                notes.append(f"no folder {name} to copy back")
                continue
            try:
                os.makedirs(os.path.join(dest_root, name), mode=0o700, exist_ok=True)
                for entry in walk(fd, notes=notes):
                    if files <= 0:
                        notes.append(f"skipped {name}/{entry.rel}: too many files")
                        continue
                    files -= 1
                    dest = os.path.join(dest_root, name, entry.rel)
                    os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
                    try:
                        src = open_entry(entry)
                    except (OSError, UntrustedFileError):
                        continue
                    try:
                        written = copy_fd(src, dest, budget)
                        if written == budget and os.read(src, 1):
                            notes.append(f"truncated {name}/{entry.rel}: over the copy budget")
                        budget -= written
                    finally:
                        os.close(src)
            except UntrustedFileError as exc:
                notes.append(str(exc))
            finally:
                os.close(fd)
    finally:
        os.close(root_fd)
    return notes
