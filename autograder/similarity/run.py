"""The similarity check of one assignment, fanned out on Dask.

Two kinds of task run on the workers, each over a chunk:

1. *fingerprint*: read and normalise a chunk of students, return their
   fingerprint codes (plain numpy arrays);
2. *pairs*: given the students x fingerprints matrix (scattered once), count
   the fingerprints each row shares with every later row. A chunk is a band
   of rows sized so that every band holds about the same number of pairs.

The coordinator removes the release's and the common fingerprints between
the two, ranks the pairs, and computes the matching regions of the top
pairs only (the HTML needs them; the ranking does not). The cluster is the
grading one (``autograder.grading.schedule.DaskCluster``): a local cluster of
``jobs`` processes, an existing scheduler, or a connected client.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.course import LIBRARY_DIR
from autograder.similarity.compare import (
    DEFAULT_SETTINGS,
    Prints,
    Settings,
    UnitMatch,
    common_codes,
    pair_block,
    prints_matrix,
    scores,
    stub_prints,
    student_prints,
    unit_match,
)
from autograder.similarity.extract import (
    AssignmentSpec,
    assignment_spec,
    list_students,
    read_submission,
)

STUDENTS_PER_TASK = 50
PAIRS_PER_TASK = 50_000
DEFAULT_TOP = 50


@dataclass(frozen=True)
class Pair:
    """One ranked pair: ``a`` sorts before ``b``."""

    a: str
    b: str
    score: float
    shared: int
    prints_a: int
    prints_b: int


@dataclass
class SimilarityResult:
    """What a similarity run found; ``pairs`` are every pair sharing a fingerprint,
    best first (the others score 0)."""

    assignment: str
    students: list[str]
    pairs: list[Pair]
    settings: Settings
    notes: dict[str, list[str]] = field(default_factory=dict)
    matches: dict[tuple[str, str], list[UnitMatch]] = field(default_factory=dict)
    texts: dict[str, dict[str, str]] = field(default_factory=dict)   # student -> unit -> text
    seconds: dict[str, float] = field(default_factory=dict)
    workers: int = 0

    @property
    def all_pairs(self) -> int:
        n = len(self.students)
        return n * (n - 1) // 2


def fingerprint_task(course: str, students: list[str], spec: AssignmentSpec,
                     settings: Settings) -> list[Prints]:
    """Read, normalise and fingerprint a chunk of students (runs on a worker)."""
    stubs = stub_prints(spec, settings)
    return [student_prints(read_submission(course, s, spec), stubs, settings)
            for s in students]


def pairs_task(matrix, start: int, stop: int):
    """Shared counts of a band of rows (runs on a worker)."""
    return pair_block(matrix, start, stop)


def bands(n: int, pairs_per_task: int = PAIRS_PER_TASK) -> list[tuple[int, int]]:
    """Row bands ``[start, stop)`` of an n x n upper triangle with about
    ``pairs_per_task`` pairs each (early rows have more later rows)."""
    out, start, count = [], 0, 0
    for row in range(n):
        count += n - 1 - row
        if count >= pairs_per_task or row == n - 1:
            out.append((start, row + 1))
            start, count = row + 1, 0
    return out


def similarity_check(course: str | os.PathLike, assignment: str, *,
                     settings: Settings = DEFAULT_SETTINGS, jobs: int | None = None,
                     scheduler: str | None = None, client=None, top: int = DEFAULT_TOP,
                     lib_dir: str | os.PathLike = LIBRARY_DIR,
                     students: list[str] | None = None) -> SimilarityResult:
    """Compare every pair of students' submissions of ``assignment``.

    Parameters
    ----------
    course : path
        The course root (``gaps.toml``, ``release/``, ``submitted/``).
    assignment : str
    settings : Settings
        k-gram length, window, score floor and the common-code fraction.
    jobs, scheduler, client
        The Dask cluster, as for grading: ``jobs`` local worker processes
        (default: the number of cores), an existing scheduler's address, or a
        connected client (left open).
    top : int
        How many of the best pairs get their matching regions computed.
    students : list of str, optional
        Only these students (default: every folder under ``submitted/``).

    Raises
    ------
    ValueError
        If the assignment is unknown or not released, or fewer than two students
        submitted it.
    """
    from autograder.grading.schedule import DaskCluster, default_jobs

    course = Path(course).resolve()
    t0 = time.monotonic()
    spec = assignment_spec(course, assignment, lib_dir)
    names = students if students is not None else list_students(course)
    if len(names) < 2:
        raise ValueError(f"{len(names)} student folder(s) under {course / 'submitted'}; "
                         "a similarity check needs at least two.")
    result = SimilarityResult(assignment, [], [], settings)
    t1 = time.monotonic()
    result.seconds["start"] = t1 - t0
    cluster = DaskCluster(jobs or default_jobs(), scheduler, 1, client)
    result.workers = cluster.workers
    try:
        t2 = time.monotonic()
        result.seconds["cluster"] = t2 - t1
        matrix, common, (i, j, shared) = _compare(cluster.client, result, str(course), names,
                                                  spec)
        t4 = time.monotonic()
    finally:
        cluster.close()
    _rank_pairs(result, matrix, i, j, shared)
    _top_matches(result, course, spec, common, top)
    result.seconds["regions"] = time.monotonic() - t4
    result.seconds["total"] = time.monotonic() - t0
    return result


def _compare(client, result: SimilarityResult, course: str, names: list[str],
             spec: AssignmentSpec):
    """Fingerprint every submission and count the prints each pair shares, on the
    cluster: (the students' print matrix, the common codes, (i, j, shared))."""
    settings = result.settings
    t2 = time.monotonic()
    prints = _fingerprints(client, course, names, spec, settings)
    t3 = time.monotonic()
    result.seconds["fingerprints"] = t3 - t2
    result.notes = {p.student: p.notes for p in prints if p.notes}
    # A student with nothing readable is reported in the notes, not compared.
    prints = [p for p in prints if p.codes.size or not p.notes]
    result.students = [p.student for p in prints]
    common = common_codes(prints, settings.common_fraction)
    matrix = prints_matrix(prints, common)
    counts = _pair_counts(client, matrix)
    result.seconds["pairs"] = time.monotonic() - t3
    return matrix, common, counts


def _rank_pairs(result: SimilarityResult, matrix, i, j, shared) -> None:
    """Every pair with its score, best first (ties in a fixed order)."""
    sizes = np.diff(matrix.indptr)
    score = scores(shared, sizes[i], sizes[j], result.settings.min_prints)
    order = np.lexsort((j, i, -shared, -score))
    result.pairs = [Pair(result.students[i[k]], result.students[j[k]], float(score[k]),
                         int(shared[k]), int(sizes[i[k]]), int(sizes[j[k]]))
                    for k in order.tolist()]


def _fingerprints(client, course: str, names: list[str], spec: AssignmentSpec,
                  settings: Settings) -> list[Prints]:
    chunks = [names[k:k + STUDENTS_PER_TASK] for k in range(0, len(names), STUDENTS_PER_TASK)]
    futures = [client.submit(fingerprint_task, course, chunk, spec, settings, pure=False)
               for chunk in chunks]
    return [p for chunk in client.gather(futures) for p in chunk]


def _pair_counts(client, matrix):
    remote = client.scatter(matrix, broadcast=True)
    futures = [client.submit(pairs_task, remote, start, stop, pure=False)
               for start, stop in bands(matrix.shape[0])]
    parts = client.gather(futures)
    if not parts:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, empty
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))


def _top_matches(result: SimilarityResult, course: Path, spec: AssignmentSpec,
                 common: np.ndarray, top: int) -> None:
    """Matching regions and texts of the ``top`` pairs (read again here: cheap for a few)."""
    stubs = stub_prints(spec, result.settings)
    chosen = [p for p in result.pairs[:top] if p.shared]
    subs = {}
    for name in dict.fromkeys(s for p in chosen for s in (p.a, p.b)):
        subs[name] = read_submission(course, name, spec)
        result.texts[name] = {k: u.text for k, u in subs[name].units.items()}
    for pair in chosen:
        a, b = subs[pair.a], subs[pair.b]
        found = [unit_match(a.units[key], b.units[key], stubs.get(key), common,
                            result.settings)
                 for key in a.units if key in b.units]
        result.matches[(pair.a, pair.b)] = [m for m in found if m.shared]
