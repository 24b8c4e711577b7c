"""Copying results out of a sandbox: regular files only, links never followed, capped."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence

from autograder.sandbox.limits import MiB

# ---------------------------------------------------------------------------
# Copying results out: regular files only, never following links, capped.

def copy_out(src_root: str, names: Sequence[str], dest_root: str, max_bytes: int,
             max_files: int = 10_000) -> list[str]:
    """Copy the trees ``src_root/<name>`` to ``dest_root/<name>``.

    Only directories and regular files with a single link are copied;
    symlinks, devices, fifos and sockets are skipped, and no path is
    followed through a link (``O_NOFOLLOW`` on every component, via
    directory file descriptors). Copying stops at ``max_bytes`` in total.
    Returns notes about what was skipped.
    """
    notes: list[str] = []
    budget = [max_bytes, max_files]

    def copy_dir(src_dir_fd: int, dest_dir: str, rel: str) -> None:
        os.makedirs(dest_dir, mode=0o700, exist_ok=True)
        with os.scandir(src_dir_fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            here = f"{rel}/{entry.name}"
            try:
                st = os.stat(entry.name, dir_fd=src_dir_fd, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                try:
                    fd = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                 dir_fd=src_dir_fd)
                except OSError:
                    continue
                try:
                    copy_dir(fd, os.path.join(dest_dir, entry.name), here)
                finally:
                    os.close(fd)
            elif stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                copy_file(src_dir_fd, entry.name, os.path.join(dest_dir, entry.name), here)
            else:
                notes.append(f"skipped {here}: not a regular file")

    def copy_file(src_dir_fd: int, name: str, dest: str, rel: str) -> None:
        if budget[1] <= 0:
            notes.append(f"skipped {rel}: too many files")
            return
        budget[1] -= 1
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=src_dir_fd)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return
            if st.st_size > budget[0]:
                notes.append(f"skipped {rel}: {st.st_size} bytes is over the copy budget")
                return
            with open(dest, "wb") as out:
                remaining = budget[0]
                while True:
                    chunk = os.read(fd, min(MiB, remaining + 1))
                    if not chunk:
                        break
                    if len(chunk) > remaining:
                        notes.append(f"truncated {rel}: over the copy budget")
                        out.write(chunk[:remaining])
                        remaining = 0
                        break
                    out.write(chunk)
                    remaining -= len(chunk)
                budget[0] = remaining
        finally:
            os.close(fd)

    root_fd = os.open(src_root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            try:
                fd = _open_dir_nofollow(root_fd, name)
            except OSError:
                notes.append(f"no folder {name} to copy back")
                continue
            try:
                copy_dir(fd, os.path.join(dest_root, name), name)
            finally:
                os.close(fd)
    finally:
        os.close(root_fd)
    return notes


def _open_dir_nofollow(root_fd: int, rel: str) -> int:
    """Open ``rel`` under ``root_fd`` refusing a symlink at every component."""
    fd = os.dup(root_fd)
    try:
        for part in [p for p in rel.split("/") if p not in ("", ".")]:
            if part == "..":
                raise OSError(errno.EINVAL, f"'..' in {rel!r}")
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except OSError:
        os.close(fd)
        raise
    return fd


