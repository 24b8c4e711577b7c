"""Import submissions into ``<course>/submitted/<student>/<assignment>/``.

Three sources are understood:

* a folder of per-student folders (``<src>/<student>/...`` or
  ``<src>/<student>/<assignment>/...``);
* an LMS download: a folder (or one bulk ``.zip``) of per-student ``.zip``
  archives or loose files whose names carry a student key, mapped to a student
  id by a regular expression and optionally a CSV roster;
* nbgrader's exchange
  (``<exchange>/<course_id>/inbound/<student>+<assignment>+<timestamp>[+<random>]``).

Everything a student sent is untrusted. Archives are read member by member:
absolute paths, ``..`` components, symlinks, device files, encrypted members
and members larger than the limits are skipped and reported; a corrupt archive
is reported and the other students are still imported. Nothing is ever
executed here. Each submission is assembled in a private staging folder and
moved into place in one rename, so an interrupted collect never leaves half a
submission behind.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from autograder.course import SKIPPED_NAMES, SUBMISSION_CAPS
from autograder.untrusted import UntrustedFileError, copy_fd, open_dir, open_entry, read_text, walk

# A student id becomes a folder name and a gradebook key, so only a plain,
# portable alphabet is accepted.
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")

# Files that editors, notebooks and archivers add on their own; never grading input.
JUNK_NAMES = SKIPPED_NAMES

# Default LMS file-name pattern: the student key up to the first "_" or ".",
# then optionally the original file name ("alice.zip", "alice_backprop.ipynb").
DEFAULT_PATTERN = r"^(?P<student>[^_.]+)(?:_(?P<filename>.+))?"


@dataclass(frozen=True)
class Limits:
    """Size limits for one submission.

    Parameters
    ----------
    max_file_bytes : int
        Largest single file (or archive member, uncompressed).
    max_total_bytes : int
        Largest submission, all files together.
    max_files : int
        Most files in one submission.
    """

    # What grading accepts (``autograder.course.SUBMISSION_CAPS``): a collected
    # submission is never refused later for its size.
    max_file_bytes: int = SUBMISSION_CAPS.max_bytes
    max_total_bytes: int = SUBMISSION_CAPS.max_bytes
    max_files: int = SUBMISSION_CAPS.max_files


@dataclass
class CollectReport:
    """What a collect did.

    ``imported`` lists ``(student, folder)``; ``skipped`` lists ``(student,
    reason)`` for submissions left alone on purpose (already collected);
    ``problems`` lists ``(source, message)`` for everything that was refused,
    either a whole archive or one member of it.
    """

    imported: list[tuple[str, Path]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, other: CollectReport) -> CollectReport:
        self.imported += other.imported
        self.skipped += other.skipped
        self.problems += other.problems
        return self

    def summary(self) -> str:
        lines = [f"imported {len(self.imported)} submission(s), "
                 f"skipped {len(self.skipped)}, problems {len(self.problems)}"]
        lines += [f"  skipped {who}: {why}" for who, why in self.skipped]
        lines += [f"  problem {src}: {msg}" for src, msg in self.problems]
        return "\n".join(lines)


class CollectError(ValueError):
    """The collect cannot start at all (missing source, bad roster or pattern)."""


def check_student_id(student: str) -> str:
    """Return ``student`` if it is a safe id, else raise ``ValueError`` saying why."""
    if not STUDENT_ID.match(student or ""):
        raise ValueError(
            f"student id {student!r} is not usable as a folder name; expected letters, "
            "digits and '_.@-' (at most 100 characters, not starting with punctuation). "
            "Map it to a plain id with a roster (--roster).")
    return student


def read_roster(path: str | os.PathLike) -> dict[str, str]:
    """Read a CSV roster mapping LMS keys to student ids.

    The file needs a header with a ``student_id`` column and one key column
    named ``lms_id``, ``key``, ``name`` or ``email`` (the first present wins).
    Keys are compared case-insensitively.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
            header = rows[0].keys() if rows else []
    except OSError as exc:
        raise CollectError(f"cannot read roster {path}: {exc}") from None
    key_column = next((c for c in ("lms_id", "key", "name", "email") if c in header), None)
    if "student_id" not in header or key_column is None:
        raise CollectError(
            f"roster {path} needs a header with 'student_id' and one of 'lms_id', 'key', "
            f"'name', 'email'; found columns {list(header)}.")
    return {row[key_column].strip().lower(): row["student_id"].strip()
            for row in rows if row.get(key_column) and row.get("student_id")}


# --------------------------------------------------------------------------- staging

class _Staging:
    """A private folder beside ``submitted/`` that becomes one submission."""

    def __init__(self, course: Path, limits: Limits):
        self.submitted = course / "submitted"
        self.submitted.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.submitted))
        self.limits = limits
        self.files = 0
        self.bytes = 0

    def admit(self, rel: PurePosixPath, size: int) -> str | None:
        """Reason to refuse a file of ``size`` bytes at ``rel``, or None."""
        if size > self.limits.max_file_bytes:
            return f"{rel}: {size} bytes, over the {self.limits.max_file_bytes}-byte file limit"
        if self.bytes + size > self.limits.max_total_bytes:
            return f"{rel}: submission would exceed {self.limits.max_total_bytes} bytes"
        if self.files + 1 > self.limits.max_files:
            return f"{rel}: more than {self.limits.max_files} files"
        return None

    def target(self, rel: PurePosixPath) -> Path:
        dest = self.path.joinpath(*rel.parts)
        dest.parent.mkdir(parents=True, exist_ok=True)
        return dest

    def commit(self, student: str, assignment: str, force: bool) -> tuple[Path | None, str]:
        """Move the staged files into place; return (folder, '') or (None, why not)."""
        dest = self.submitted / student / assignment
        if dest.exists() and not force:
            self.discard()
            return None, "already collected (use --force to replace it)"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            old = Path(tempfile.mkdtemp(prefix=".replaced-", dir=self.submitted))
            dest.rename(old / "old")
            self.path.rename(dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            self.path.rename(dest)
        return dest, ""

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _safe_relative(name: str) -> PurePosixPath | None:
    """``name`` as a relative path inside the submission, or None if it escapes."""
    name = name.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return PurePosixPath(*parts)


def _is_junk(rel: PurePosixPath) -> bool:
    return any(p in JUNK_NAMES or p.startswith("._") for p in rel.parts)


def _strip_wrapper(rels: list[PurePosixPath]) -> int:
    """How many leading folders every path shares and can drop.

    Archives often wrap everything in one folder (``alice/``, ``backprop/``);
    the submission folder itself is the assignment folder, so single wrapping
    folders are removed.
    """
    depth = 0
    while rels and all(len(r.parts) > depth + 1 for r in rels):
        tops = {r.parts[depth] for r in rels}
        # A lone package folder is content, not wrapping.
        if len(tops) != 1 or tops == {"cs231n_lib"}:
            break
        depth += 1
    return depth


# --------------------------------------------------------------------------- folders

def _copy_tree(src: Path, staging: _Staging, origin: str,
               report: CollectReport) -> None:
    """Copy a folder's regular files into ``staging`` (``autograder.untrusted``:
    no link followed, no special file opened, caps before reading)."""
    notes: list[str] = []
    try:
        root = open_dir(src)
    except OSError as exc:
        report.problems.append((origin, f"cannot open the folder: {exc.strerror}"))
        return
    try:
        for entry in walk(root, skip=lambda name: name in JUNK_NAMES or name.startswith("._"),
                          notes=notes):
            rel = PurePosixPath(entry.rel)
            why = staging.admit(rel, entry.size)
            if why:
                report.problems.append((origin, why))
                continue
            try:
                fd = open_entry(entry)
            except (OSError, UntrustedFileError):
                continue
            try:
                size = copy_fd(fd, str(staging.target(rel)), staging.limits.max_file_bytes + 1)
            finally:
                os.close(fd)
            if size > staging.limits.max_file_bytes:
                report.problems.append((origin, f"{rel}: grew over the file limit"))
                staging.target(rel).unlink()
                continue
            staging.files += 1
            staging.bytes += size
    except UntrustedFileError as exc:
        report.problems.append((origin, str(exc)))
    finally:
        os.close(root)
    for note in notes:
        rel, _, what = note.partition(" was left out: ")
        what = "symbolic link" if what == "a symbolic link" else what + ","
        report.problems.append((origin, f"{rel}: {what} skipped"))


def collect_folders(src: str | os.PathLike, course: str | os.PathLike, assignment: str, *,
                    force: bool = False, limits: Limits = Limits()) -> CollectReport:
    """Import ``<src>/<student>/`` folders (or ``<src>/<student>/<assignment>/``).

    Parameters
    ----------
    src : path
        A folder with one sub-folder per student, named by student id.
    course : path
        The course root; submissions land in ``submitted/<student>/<assignment>/``.
    assignment : str
        The assignment these submissions belong to.
    force : bool
        Replace submissions that were already collected.
    """
    src, course = Path(src), Path(course)
    if not src.is_dir():
        raise CollectError(f"{src} is not a folder; expected one sub-folder per student.")
    report = CollectReport()
    for entry in sorted(src.iterdir()):
        if entry.name in JUNK_NAMES or entry.name.startswith("."):
            continue
        if entry.is_symlink() or not entry.is_dir():
            report.problems.append((entry.name, "not a student folder (a file or a link), "
                                                "skipped"))
            continue
        try:
            student = check_student_id(entry.name)
        except ValueError as exc:
            report.problems.append((entry.name, str(exc)))
            continue
        inner = entry / assignment
        root = inner if inner.is_dir() and not inner.is_symlink() else entry
        staging = _Staging(course, limits)
        _copy_tree(root, staging, student, report)
        _finish(staging, student, assignment, force, report)
    return report


def _finish(staging: _Staging, student: str, assignment: str, force: bool,
            report: CollectReport) -> None:
    if staging.files == 0:
        staging.discard()
        report.problems.append((student, "nothing usable was submitted"))
        return
    dest, why = staging.commit(student, assignment, force)
    if dest is None:
        report.skipped.append((student, why))
    else:
        report.imported.append((student, dest))


# --------------------------------------------------------------------------- zip files

def _member_is_symlink(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


def _extract_zip(archive: zipfile.ZipFile, staging: _Staging, origin: str,
                 report: CollectReport) -> None:
    members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        rel = _safe_relative(info.filename)
        if rel is None:
            report.problems.append((origin, f"{info.filename!r}: path leaves the submission "
                                            "folder, skipped"))
            continue
        if _is_junk(rel):
            continue
        if _member_is_symlink(info):
            report.problems.append((origin, f"{rel}: symbolic link skipped"))
            continue
        # Archivers that record no file type leave the type bits at zero.
        if stat.S_IFMT(info.external_attr >> 16) not in (0, stat.S_IFREG):
            report.problems.append((origin, f"{rel}: not a regular file, skipped"))
            continue
        if info.flag_bits & 0x1:
            report.problems.append((origin, f"{rel}: encrypted, skipped"))
            continue
        members.append((info, rel))
    depth = _strip_wrapper([rel for _, rel in members])
    for info, rel in members:
        rel = PurePosixPath(*rel.parts[depth:])
        why = staging.admit(rel, info.file_size)
        if why:
            report.problems.append((origin, why))
            continue
        dest = staging.target(rel)
        # The header's size may lie (zip bombs): count what really comes out.
        budget = min(staging.limits.max_file_bytes,
                     staging.limits.max_total_bytes - staging.bytes)
        written = 0
        try:
            with archive.open(info) as fin, dest.open("wb") as fout:
                while chunk := fin.read(1 << 20):
                    written += len(chunk)
                    if written > budget:
                        raise OverflowError
                    fout.write(chunk)
        except OverflowError:
            dest.unlink(missing_ok=True)
            report.problems.append((origin, f"{rel}: expands beyond the size limit, skipped"))
            continue
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            dest.unlink(missing_ok=True)
            report.problems.append((origin, f"{rel}: unreadable member ({exc}), skipped"))
            continue
        staging.files += 1
        staging.bytes += written


class _KeyMapper:
    """File name -> (student id, original file name) via a pattern and an optional roster."""

    def __init__(self, pattern: str | None, roster: dict[str, str] | None):
        try:
            self.regex = re.compile(pattern or DEFAULT_PATTERN)
        except re.error as exc:
            raise CollectError(f"--pattern {pattern!r} is not a regular expression: {exc}") \
                from None
        if "student" not in self.regex.groupindex:
            raise CollectError(f"--pattern {pattern!r} needs a named group (?P<student>...) "
                               "that captures the student key.")
        self.roster = roster

    def __call__(self, name: str) -> tuple[str, str | None]:
        match = self.regex.match(name)
        if not match:
            raise ValueError(f"file name does not match the pattern {self.regex.pattern!r}")
        key = match.group("student")
        filename = match.groupdict().get("filename")
        if self.roster is not None:
            if key.lower() not in self.roster:
                raise ValueError(f"key {key!r} is not in the roster")
            key = self.roster[key.lower()]
        return check_student_id(key), filename


def collect_zips(src: str | os.PathLike, course: str | os.PathLike, assignment: str, *,
                 pattern: str | None = None, roster: str | os.PathLike | None = None,
                 force: bool = False, limits: Limits = Limits()) -> CollectReport:
    """Import an LMS download of per-student archives and files.

    Parameters
    ----------
    src : path
        A folder of files, or one bulk ``.zip`` that holds them. Each ``.zip``
        is one student's submission; any other file (``alice_backprop.ipynb``)
        is added to its student's submission under the name captured by the
        pattern's ``filename`` group.
    pattern : str, optional
        Regular expression matched against each file name, with a named group
        ``student`` (the key) and optionally ``filename``. The default takes
        the text up to the first ``_`` or ``.``.
    roster : path, optional
        CSV mapping keys to student ids (see :func:`read_roster`).
    """
    src, course = Path(src), Path(course)
    mapper = _KeyMapper(pattern, read_roster(roster) if roster else None)
    report = CollectReport()
    with tempfile.TemporaryDirectory(prefix="collect-") as unpack:
        folder = _download_folder(src, Path(unpack), report, limits)
        for student, files in sorted(_files_by_student(folder, mapper, report).items()):
            staging = _Staging(course, limits)
            for path, filename in files:
                _stage_file(path, filename, staging, report)
            _finish(staging, student, assignment, force, report)
    return report


def _download_folder(src: Path, unpack: Path, report: CollectReport, limits: Limits) -> Path:
    """The folder of per-student files: ``src`` itself, or a bulk ``.zip`` unpacked
    into ``unpack``."""
    if src.is_file():
        try:
            with zipfile.ZipFile(src) as bulk:
                _extract_bulk(bulk, unpack, src.name, report, limits)
        except (zipfile.BadZipFile, OSError) as exc:
            raise CollectError(f"{src} is not a readable zip file: {exc}") from None
        return unpack
    if src.is_dir():
        return src
    raise CollectError(f"{src} does not exist; expected a folder or a .zip download.")


def _files_by_student(folder: Path, mapper: _KeyMapper, report: CollectReport
                      ) -> dict[str, list[tuple[Path, str | None]]]:
    """student id -> (file, the name it gets in the submission, if the pattern says)."""
    by_student: dict[str, list[tuple[Path, str | None]]] = {}
    for path in sorted(folder.iterdir()):
        if path.name in JUNK_NAMES or path.name.startswith("."):
            continue
        if path.is_symlink() or not path.is_file():
            report.problems.append((path.name, "not a file, skipped"))
            continue
        try:
            student, filename = mapper(path.name)
        except ValueError as exc:
            report.problems.append((path.name, f"{exc}; not imported"))
            continue
        by_student.setdefault(student, []).append((path, filename))
    return by_student


def _stage_file(path: Path, filename: str | None, staging: _Staging,
                report: CollectReport) -> None:
    """Add one downloaded file to a student's staging: a ``.zip`` unpacked, any other
    file copied under its name, within the caps."""
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                _extract_zip(archive, staging, path.name, report)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            report.problems.append((path.name, f"not a readable zip file ({exc})"))
        return
    rel = _safe_relative(filename or path.name)
    size = path.stat().st_size
    why = staging.admit(rel, size) if rel else f"{path.name}: bad file name"
    if why:
        report.problems.append((path.name, why))
        return
    shutil.copyfile(path, staging.target(rel))
    staging.files += 1
    staging.bytes += size


def _extract_bulk(bulk: zipfile.ZipFile, folder: Path, origin: str, report: CollectReport,
                  limits: Limits) -> None:
    """Flatten a bulk LMS download into ``folder`` (one file per student entry)."""
    budget = limits.max_total_bytes * max(1, limits.max_files)
    total = 0
    for info in bulk.infolist():
        if info.is_dir():
            continue
        rel = _safe_relative(info.filename)
        if rel is None or _member_is_symlink(info) or info.flag_bits & 0x1:
            report.problems.append((origin, f"{info.filename!r}: unsafe member, skipped"))
            continue
        if _is_junk(rel):
            continue
        if info.file_size > limits.max_total_bytes:
            report.problems.append((origin, f"{rel}: {info.file_size} bytes, over the "
                                            f"{limits.max_total_bytes}-byte limit, skipped"))
            continue
        dest = folder / rel.name
        written = 0
        try:
            with bulk.open(info) as fin, dest.open("wb") as fout:
                while chunk := fin.read(1 << 20):
                    written += len(chunk)
                    if written > limits.max_total_bytes or total + written > budget:
                        raise OverflowError
                    fout.write(chunk)
        except OverflowError:
            dest.unlink(missing_ok=True)
            report.problems.append((origin, f"{rel}: expands beyond the size limit, skipped"))
            continue
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
            dest.unlink(missing_ok=True)
            report.problems.append((origin, f"{rel}: unreadable member ({exc}), skipped"))
            continue
        total += written


# --------------------------------------------------------------------------- exchange

def _parse_exchange_name(name: str, assignment: str) -> tuple[str, str] | None:
    """``student+assignment+timestamp[+random]`` -> (student, timestamp)."""
    marker = f"+{assignment}+"
    at = name.rfind(marker)
    if at <= 0:
        return None
    student, rest = name[:at], name[at + len(marker):]
    timestamp = rest.rsplit("+", 1)[0] if rest.count("+") >= 1 else rest
    return student, timestamp


def _parse_time(text: str) -> datetime | None:
    from nbgrader.utils import parse_utc  # local: nbgrader is heavy to import

    try:
        return parse_utc(text.strip())
    except (ValueError, TypeError, OverflowError):
        return None


def collect_exchange(exchange: str | os.PathLike, course_id: str, course: str | os.PathLike,
                     assignment: str, *, force: bool = False,
                     limits: Limits = Limits()) -> CollectReport:
    """Import the newest submission of each student from nbgrader's exchange.

    Parameters
    ----------
    exchange : path
        The exchange root (nbgrader's ``Exchange.root``).
    course_id : str
        The course's id inside the exchange.
    force : bool
        Replace collected submissions even when the exchange copy is not newer.
        Without it, a newer timestamp still replaces an older collected copy,
        as ``nbgrader collect --update`` does.
    """
    inbound = Path(exchange) / course_id / "inbound"
    if not inbound.is_dir():
        raise CollectError(f"{inbound} does not exist; expected nbgrader's exchange "
                           "(--exchange ROOT --course-id ID).")
    course = Path(course)
    newest: dict[str, tuple[datetime, Path]] = {}
    report = CollectReport()
    for entry in sorted(inbound.iterdir()):
        parsed = _parse_exchange_name(entry.name, assignment)
        if parsed is None:
            continue
        student, stamp = parsed
        when = _parse_time(stamp)
        if when is None or entry.is_symlink() or not entry.is_dir():
            report.problems.append((entry.name, "not a submission folder "
                                                "(bad timestamp or not a folder), skipped"))
            continue
        try:
            check_student_id(student)
        except ValueError as exc:
            report.problems.append((entry.name, str(exc)))
            continue
        if student not in newest or when > newest[student][0]:
            newest[student] = (when, entry)
    for student, (when, entry) in sorted(newest.items()):
        dest = course / "submitted" / student / assignment
        replace = force
        if dest.exists() and not force:
            stamp = read_text(dest, "timestamp.txt", 256)
            existing = _parse_time(stamp) if stamp is not None else None
            replace = existing is None or when > existing
            if not replace:
                report.skipped.append((student, "already collected and not newer "
                                                "(use --force to replace it)"))
                continue
        staging = _Staging(course, limits)
        _copy_tree(entry, staging, student, report)
        if not (staging.path / "timestamp.txt").exists():
            (staging.path / "timestamp.txt").write_text(str(when))
        _finish(staging, student, assignment, replace, report)
    return report
