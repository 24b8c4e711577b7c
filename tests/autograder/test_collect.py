"""collect: per-student folders, LMS zip downloads (good and hostile), nbgrader's exchange."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from autograder.grading.collect import (
    CollectError,
    Limits,
    collect_exchange,
    collect_folders,
    collect_zips,
    read_roster,
)

NB = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def _zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_folders_land_in_submitted(tmp_path):
    src, course = tmp_path / "in", tmp_path / "course"
    (src / "alice" / "cs231n_lib").mkdir(parents=True)
    (src / "alice" / "backprop.ipynb").write_text(NB)
    (src / "alice" / "cs231n_lib" / "affine.py").write_text("x = 1\n")
    (src / "alice" / ".ipynb_checkpoints").mkdir()
    (src / "alice" / ".ipynb_checkpoints" / "backprop-checkpoint.ipynb").write_text(NB)
    (src / "bob" / "backprop").mkdir(parents=True)  # nested <student>/<assignment>/
    (src / "bob" / "backprop" / "backprop.ipynb").write_text(NB)
    report = collect_folders(src, course, "backprop")
    assert sorted(s for s, _ in report.imported) == ["alice", "bob"]
    assert _files(course / "submitted" / "alice" / "backprop") == {
        "backprop.ipynb", "cs231n_lib/affine.py"}
    assert _files(course / "submitted" / "bob" / "backprop") == {"backprop.ipynb"}
    assert not report.problems
    # No staging folders are left behind.
    assert sorted(p.name for p in (course / "submitted").iterdir()) == ["alice", "bob"]


def test_folders_skip_existing_unless_forced(tmp_path):
    src, course = tmp_path / "in", tmp_path / "course"
    (src / "alice").mkdir(parents=True)
    (src / "alice" / "backprop.ipynb").write_text(NB)
    collect_folders(src, course, "backprop")
    (src / "alice" / "backprop.ipynb").write_text(NB.replace("[]", "[ ]"))
    again = collect_folders(src, course, "backprop")
    assert again.skipped and not again.imported
    assert (course / "submitted/alice/backprop/backprop.ipynb").read_text() == NB
    forced = collect_folders(src, course, "backprop", force=True)
    assert [s for s, _ in forced.imported] == ["alice"]
    assert "[ ]" in (course / "submitted/alice/backprop/backprop.ipynb").read_text()


def test_folders_refuse_links_bad_ids_and_big_files(tmp_path):
    src, course = tmp_path / "in", tmp_path / "course"
    secret = tmp_path / "solutions.py"
    secret.write_text("SECRET\n")
    (src / "alice").mkdir(parents=True)
    (src / "alice" / "backprop.ipynb").write_text(NB)
    os.symlink(secret, src / "alice" / "link.py")
    (src / "alice" / "big.bin").write_bytes(b"0" * 2048)
    (src / "bad name!").mkdir()
    (src / "bad name!" / "backprop.ipynb").write_text(NB)
    report = collect_folders(src, course, "backprop", limits=Limits(max_file_bytes=1024))
    assert [s for s, _ in report.imported] == ["alice"]
    assert _files(course / "submitted/alice/backprop") == {"backprop.ipynb"}
    text = report.summary()
    assert "link.py: symbolic link skipped" in text
    assert "big.bin" in text and "file limit" in text
    assert "bad name!" in text


def test_zips_good_wrapped_and_loose_files(tmp_path):
    src, course = tmp_path / "dl", tmp_path / "course"
    src.mkdir()
    _zip(src / "alice.zip", {"alice/backprop/backprop.ipynb": NB,
                             "alice/backprop/cs231n_lib/affine.py": "y = 2\n",
                             "__MACOSX/._backprop.ipynb": "junk"})
    (src / "bob_backprop.ipynb").write_text(NB)
    report = collect_zips(src, course, "backprop")
    assert sorted(s for s, _ in report.imported) == ["alice", "bob"]
    assert _files(course / "submitted/alice/backprop") == {
        "backprop.ipynb", "cs231n_lib/affine.py"}
    assert _files(course / "submitted/bob/backprop") == {"backprop.ipynb"}


def test_zips_hostile_archives_are_reported_not_fatal(tmp_path):
    src, course = tmp_path / "dl", tmp_path / "course"
    src.mkdir()
    (src / "carol.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    _zip(src / "dave.zip", {"backprop.ipynb": NB, "../../escape.py": "x",
                            "/etc/evil.py": "x"})
    with zipfile.ZipFile(src / "erin.zip", "w") as zf:
        zf.writestr("backprop.ipynb", NB)
        link = zipfile.ZipInfo("cs231n_lib")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/work/main/assignments/source")
    # A bomb: 5 MB of zeros that compresses to a few kB, over a 1 MB limit.
    with zipfile.ZipFile(src / "frank.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("backprop.ipynb", NB)
        zf.writestr("bomb.bin", b"\0" * (5 * 2**20))
    (src / "___.zip").write_bytes(b"")  # no student key at all
    report = collect_zips(src, course, "backprop", limits=Limits(max_file_bytes=2**20))
    imported = sorted(s for s, _ in report.imported)
    assert imported == ["dave", "erin", "frank"]
    assert not (tmp_path / "escape.py").exists() and not (course / "escape.py").exists()
    assert _files(course / "submitted/dave/backprop") == {"backprop.ipynb"}
    assert _files(course / "submitted/erin/backprop") == {"backprop.ipynb"}
    assert not (course / "submitted/erin/backprop/cs231n_lib").is_symlink()
    assert _files(course / "submitted/frank/backprop") == {"backprop.ipynb"}
    problems = {src_: msg for src_, msg in report.problems}
    assert "not a readable zip" in problems["carol.zip"]
    assert "leaves the submission folder" in problems["dave.zip"]
    assert "symbolic link" in problems["erin.zip"]
    assert "limit" in problems["frank.zip"]
    assert "___.zip" in problems
    assert not (course / "submitted" / "carol").exists()


def test_zip_bomb_that_lies_about_its_size(tmp_path):
    src, course = tmp_path / "dl", tmp_path / "course"
    src.mkdir()
    path = _zip(src / "gina.zip", {"backprop.ipynb": NB, "a.bin": b"\0" * (3 * 2**20)})
    # Rewrite the declared size in both headers so only the real output can tell.
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("a.bin")
    real = info.file_size.to_bytes(4, "little")
    fake = (10).to_bytes(4, "little")
    data = data.replace(real, fake)
    path.write_bytes(bytes(data))
    report = collect_zips(src, course, "backprop", limits=Limits(max_file_bytes=2**20))
    assert not (course / "submitted/gina/backprop/a.bin").exists()
    assert any(s == "gina.zip" for s, _ in report.problems)


def test_zips_with_roster_and_pattern(tmp_path):
    src, course = tmp_path / "dl", tmp_path / "course"
    src.mkdir()
    (src / "smithjane_late_1234_999_backprop.ipynb").write_text(NB)
    (src / "doejohn_5678_1000_backprop.ipynb").write_text(NB)
    (src / "nobody_42_1_backprop.ipynb").write_text(NB)
    roster = tmp_path / "roster.csv"
    roster.write_text("lms_id,student_id\n1234,jsmith\n5678,jdoe\n")
    pattern = r"^[a-z]+_(?:late_)?(?P<student>\d+)_\d+_(?P<filename>.+)$"
    report = collect_zips(src, course, "backprop", pattern=pattern, roster=roster)
    assert sorted(s for s, _ in report.imported) == ["jdoe", "jsmith"]
    assert _files(course / "submitted/jsmith/backprop") == {"backprop.ipynb"}
    assert any("not in the roster" in msg for _, msg in report.problems)


def test_bulk_download_zip_of_zips(tmp_path):
    inner = _zip(tmp_path / "alice.zip", {"backprop.ipynb": NB})
    bulk = _zip(tmp_path / "bulk.zip", {"submissions/alice.zip": inner.read_bytes(),
                                        "submissions/bob_backprop.ipynb": NB})
    report = collect_zips(bulk, tmp_path / "course", "backprop")
    assert sorted(s for s, _ in report.imported) == ["alice", "bob"]


def test_roster_and_pattern_errors_are_clear(tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text("id,name\n1,a\n")
    with pytest.raises(CollectError, match="student_id"):
        read_roster(bad)
    (tmp_path / "dl").mkdir()
    with pytest.raises(CollectError, match="named group"):
        collect_zips(tmp_path / "dl", tmp_path / "c", "backprop", pattern=r"(\w+)")
    with pytest.raises(CollectError, match="not a folder"):
        collect_folders(tmp_path / "missing", tmp_path / "c", "backprop")


def _exchange_submit(root: Path, student: str, assignment: str, stamp: str, body: str,
                     suffix: str = "") -> None:
    folder = root / "cs231n" / "inbound" / f"{student}+{assignment}+{stamp}{suffix}"
    folder.mkdir(parents=True)
    (folder / f"{assignment}.ipynb").write_text(body)
    (folder / "timestamp.txt").write_text(stamp)


def test_exchange_takes_newest_and_updates_when_newer(tmp_path):
    ex, course = tmp_path / "exchange", tmp_path / "course"
    _exchange_submit(ex, "alice", "backprop", "2026-11-01 10:00:00.000000 UTC", "old")
    _exchange_submit(ex, "alice", "backprop", "2026-11-02 10:00:00.000000 UTC", "new",
                     suffix="+Zx9_q")
    _exchange_submit(ex, "bob", "backprop", "2026-11-01 09:00:00.000000 UTC", "bob")
    _exchange_submit(ex, "bob", "conv", "2026-11-01 09:00:00.000000 UTC", "other")
    report = collect_exchange(ex, "cs231n", course, "backprop")
    assert sorted(s for s, _ in report.imported) == ["alice", "bob"]
    assert (course / "submitted/alice/backprop/backprop.ipynb").read_text() == "new"
    assert "2026-11-02" in (course / "submitted/alice/backprop/timestamp.txt").read_text()
    again = collect_exchange(ex, "cs231n", course, "backprop")
    assert not again.imported and len(again.skipped) == 2
    _exchange_submit(ex, "bob", "backprop", "2026-11-03 09:00:00.000000 UTC", "bob2")
    newer = collect_exchange(ex, "cs231n", course, "backprop")
    assert [s for s, _ in newer.imported] == ["bob"]
    assert (course / "submitted/bob/backprop/backprop.ipynb").read_text() == "bob2"


def test_exchange_missing_is_a_clear_error(tmp_path):
    with pytest.raises(CollectError, match="inbound"):
        collect_exchange(tmp_path, "nope", tmp_path / "c", "backprop")
