"""Reading folders whose every file may be hostile: submissions and sandbox results.

One walker for every trusted step that looks into a student's files
(collecting, digesting, copying into the sandbox, copying results out,
recording): a file under ``submitted/`` is hostile however it got there.

* No link is followed: directories are opened one component at a time with
  ``O_NOFOLLOW`` relative to their parent's descriptor, and entries are
  examined with ``lstat`` before they are opened.
* Only regular files with a single link are read; devices, FIFOs and
  sockets are skipped (opening a FIFO would block the grader), and a file is
  opened with ``O_NOFOLLOW | O_NONBLOCK`` and checked again with ``fstat``
  (the same inode the ``lstat`` saw, so a swap in between is refused).
* Sizes are never trusted: reading stops at the cap whatever ``st_size``
  said.

Standard library only: the sandbox's init imports it too.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MiB = 1024 * 1024
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK


class UntrustedFileError(ValueError):
    """A file is missing, too large, or not what it claims to be."""


@dataclass(frozen=True)
class Entry:
    """A regular file met by ``walk``: open it with ``open_entry`` while the walk
    is at it (its folder's descriptor is valid until the walk moves on)."""

    rel: str            # path relative to the root, with '/'
    dir_fd: int
    name: str
    size: int           # as lstat saw it: a hint, never a promise
    inode: int


def open_dir(path: str | os.PathLike, dir_fd: int | None = None) -> int:
    """Open a folder refusing a symlink at the last component."""
    return os.open(path, DIR_FLAGS, dir_fd=dir_fd)


def open_dir_nofollow(root_fd: int, rel: str) -> int:
    """Open ``rel`` under ``root_fd`` refusing a symlink at every component."""
    fd = os.dup(root_fd)
    try:
        for part in [p for p in rel.split("/") if p not in ("", ".")]:
            if part == "..":
                raise OSError(errno.EINVAL, f"'..' in {rel!r}")
            nxt = open_dir(part, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except OSError:
        os.close(fd)
        raise
    return fd


def walk(root_fd: int, *, skip: Callable[[str], bool] = lambda name: False,
         notes: list[str] | None = None, max_depth: int = 20,
         _rel: str = "", _depth: int = 0) -> Iterator[Entry]:
    """Every regular, single-link file under the folder ``root_fd``, sorted by name.

    Folders and files whose name ``skip`` accepts are left out silently;
    links and special files are left out with a note in ``notes``. Raises
    ``UntrustedFileError`` for folders nested deeper than ``max_depth``.
    """
    if _depth > max_depth:
        raise UntrustedFileError(f"folders nested too deep at {_rel or '.'}")
    with os.scandir(root_fd) as it:
        names = sorted(e.name for e in it)
    for name in names:
        if skip(name):
            continue
        rel = f"{_rel}{name}"
        try:
            st = os.stat(name, dir_fd=root_fd, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                fd = open_dir(name, dir_fd=root_fd)
            except OSError:
                continue
            try:
                yield from walk(fd, skip=skip, notes=notes, max_depth=max_depth,
                                _rel=rel + "/", _depth=_depth + 1)
            finally:
                os.close(fd)
        elif stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
            yield Entry(rel, root_fd, name, st.st_size, st.st_ino)
        elif notes is not None:
            what = ("a symbolic link" if stat.S_ISLNK(st.st_mode) else
                    "a file with several links" if stat.S_ISREG(st.st_mode) else
                    "not a regular file")
            notes.append(f"{rel} was left out: {what}")


def open_entry(entry: Entry) -> int:
    """A descriptor of ``entry``'s file, checked to be the regular file the walk saw."""
    fd = os.open(entry.name, FILE_FLAGS, dir_fd=entry.dir_fd)
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_ino != entry.inode or st.st_nlink != 1:
        os.close(fd)
        raise UntrustedFileError(f"{entry.rel} changed while it was read")
    return fd


def read_fd(fd: int, max_bytes: int, what: str) -> bytes:
    """All of ``fd`` if it holds at most ``max_bytes``, else ``UntrustedFileError``."""
    chunks, total = [], 0
    while True:
        chunk = os.read(fd, min(MiB, max_bytes + 1 - total) or 1)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise UntrustedFileError(f"{what} is over the cap of {max_bytes} bytes")
        chunks.append(chunk)


def copy_fd(fd: int, dest: str, max_bytes: int) -> int:
    """Copy at most ``max_bytes`` of ``fd`` to a new file ``dest``; returns bytes
    written (the caller decides whether reaching the cap is an error)."""
    written = 0
    with open(dest, "xb") as out:
        while written < max_bytes:
            chunk = os.read(fd, min(MiB, max_bytes - written))
            if not chunk:
                break
            out.write(chunk)
            written += len(chunk)
    return written


def read_capped(folder: str | os.PathLike, name: str, max_bytes: int) -> bytes:
    """Read ``folder/name`` if it is a regular, single-link file of at most
    ``max_bytes``; never follows a link, neither at ``name`` nor at ``folder``."""
    if "/" in name or name in ("", ".", ".."):
        raise UntrustedFileError(f"{name!r} is not a plain file name")
    try:
        dir_fd = open_dir(folder)
    except OSError as exc:
        raise UntrustedFileError(f"no folder {folder}: {exc.strerror}") from None
    try:
        return read_at(dir_fd, name, max_bytes)
    finally:
        os.close(dir_fd)


def read_at(dir_fd: int, name: str, max_bytes: int) -> bytes:
    """``read_capped`` for a file of the folder ``dir_fd`` (already opened safely)."""
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        raise UntrustedFileError(f"{name}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            raise UntrustedFileError(f"{name} is not a regular file")
        if st.st_size > max_bytes:
            raise UntrustedFileError(f"{name} is {st.st_size} bytes, over the cap of "
                                     f"{max_bytes}")
        return read_fd(fd, max_bytes, name)
    finally:
        os.close(fd)


def read_text(folder: str | os.PathLike, name: str, max_bytes: int) -> str | None:
    """``read_capped`` as text (undecodable bytes replaced), or None when the
    file is missing, a link, special or over the cap."""
    try:
        return read_capped(folder, name, max_bytes).decode("utf-8", "replace")
    except UntrustedFileError:
        return None


def digest_tree(folder: str | os.PathLike, *, skip: Callable[[str], bool] = lambda n: False,
                max_bytes: int = 1 << 40) -> str:
    """SHA-256 over the relative paths and bytes of every regular file under
    ``folder`` (links and special files are not content); "" when it is not a
    folder."""
    try:
        root = open_dir(folder)
    except OSError:
        return ""
    h = hashlib.sha256()
    try:
        for entry in walk(root, skip=skip):
            h.update(entry.rel.encode("utf-8", "surrogateescape") + b"\0")
            try:
                fd = open_entry(entry)
            except (OSError, UntrustedFileError):
                continue
            try:
                left = max_bytes
                while left > 0:
                    chunk = os.read(fd, min(MiB, left))
                    if not chunk:
                        break
                    h.update(chunk)
                    left -= len(chunk)
            finally:
                os.close(fd)
            h.update(b"\0")
    finally:
        os.close(root)
    return h.hexdigest()
