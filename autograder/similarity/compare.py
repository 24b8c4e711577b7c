"""Fingerprints of normalised units and the score of every pair of students.

Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003): hash every run of
``k`` consecutive tokens, keep the smallest hash of every window of ``w``
consecutive hashes. Two units sharing a run of at least ``k + w - 1`` tokens
are guaranteed to share a fingerprint.

The selection is copydetect's (``copydetect.utils.winnow``); the hashes are
ours. copydetect hashes character k-grams with Python's ``hash``, which is
salted per process, so fingerprints made on two Dask workers would not
agree; here a k-gram of tokens is hashed with BLAKE2b per token and a
polynomial over the k tokens, the same on every machine. Hashes keep 52 bits
because copydetect's pure-Python fallback compares them as floats.

A student's fingerprints are the union over units of ``(unit, hash)``; a
fingerprint that the release's version of the same unit has is removed, and
so is one that more than ``common_fraction`` of the class has (code that
everyone writes alike, or that everyone was given, is not evidence). The
score of a pair is ``shared / max(min(size_a, size_b), min_prints)``: the
part of the smaller submission found in the other (so added dead code does
not dilute it), damped when little is left to compare.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from autograder.similarity.extract import AssignmentSpec, Submission, Unit

K = 5
WINDOW = 4
MIN_PRINTS = 30
COMMON_FRACTION = 0.5
MASK = (1 << 52) - 1
_BASE = np.uint64(1_000_003)


@dataclass(frozen=True)
class Settings:
    """The knobs of a comparison (the defaults are the ones measured in docs/similarity.md)."""

    k: int = K
    window: int = WINDOW
    min_prints: int = MIN_PRINTS
    common_fraction: float = COMMON_FRACTION

    def __post_init__(self):
        if self.k < 2 or self.window < 1 or self.min_prints < 1:
            raise ValueError(f"k >= 2, window >= 1 and min_prints >= 1 expected; got "
                             f"k={self.k}, window={self.window}, min_prints={self.min_prints}")
        if not 0 < self.common_fraction <= 1:
            raise ValueError(f"common_fraction must be in (0, 1]; got {self.common_fraction}")


DEFAULT_SETTINGS = Settings()


@dataclass
class Prints:
    """The fingerprints of one student: unique ``(unit, hash)`` codes, (F,) int64."""

    student: str
    codes: np.ndarray
    notes: list[str] = field(default_factory=list)


def _token_hash(token: str, cache: dict[str, int]) -> int:
    value = cache.get(token)
    if value is None:
        value = int.from_bytes(hashlib.blake2b(token.encode("utf-8", "surrogatepass"),
                                               digest_size=8).digest(), "little")
        cache[token] = value
    return value


_TOKEN_CACHE: dict[str, int] = {}


def kgram_hashes(tokens: tuple[str, ...] | list[str], k: int) -> np.ndarray:
    """Hashes of every k-gram of tokens: (T - k + 1,) int64 in [0, 2**52)."""
    if len(tokens) < k:
        return np.zeros(0, dtype=np.int64)
    ids = np.fromiter((_token_hash(t, _TOKEN_CACHE) for t in tokens), dtype=np.uint64,
                      count=len(tokens))
    n = len(tokens) - k + 1
    acc = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(k):  # unsigned arithmetic wraps modulo 2**64, by design
            acc = acc * _BASE + ids[j:j + n]
    return (acc & np.uint64(MASK)).astype(np.int64)


def unit_prints(unit: Unit, k: int = K, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Winnowed fingerprints of a unit: ``(hashes, starts)``, both (F,) int64, where
    ``starts`` is the first token of each fingerprint's k-gram."""
    from copydetect.utils import winnow

    hashes = kgram_hashes(unit.tokens, k)
    if hashes.size == 0:
        return hashes, np.zeros(0, dtype=np.int64)
    selected, starts = winnow(hashes, window, remove_duplicates=False)
    return np.asarray(selected, dtype=np.int64), np.asarray(starts, dtype=np.int64)


def unit_code(key: str) -> np.int64:
    """A per-unit salt, so one k-gram in two different functions is two fingerprints."""
    return np.int64(int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(),
                                   "little") & MASK)


def stub_prints(spec: AssignmentSpec, settings: Settings) -> dict[str, np.ndarray]:
    """The release's fingerprints per unit key (subtracted from every student's)."""
    return {key: unit_prints(unit, settings.k, settings.window)[0]
            for key, unit in spec.stubs.items()}


def student_prints(sub: Submission, stubs: dict[str, np.ndarray],
                   settings: Settings) -> Prints:
    """One student's fingerprint codes, the release's removed."""
    parts = []
    for key, unit in sub.units.items():
        hashes, _ = unit_prints(unit, settings.k, settings.window)
        stub = stubs.get(key)
        if stub is not None and stub.size:
            hashes = hashes[~np.isin(hashes, stub)]
        if hashes.size:
            parts.append(np.bitwise_xor(hashes, unit_code(key)))
    codes = np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
    return Prints(sub.student, codes, list(sub.notes))


def common_codes(prints: list[Prints], fraction: float) -> np.ndarray:
    """Codes held by more than ``fraction`` of the students (and by more than two)."""
    if not prints:
        return np.zeros(0, dtype=np.int64)
    codes, counts = np.unique(np.concatenate([p.codes for p in prints]), return_counts=True)
    return codes[counts > max(fraction * len(prints), 2)]


def prints_matrix(prints: list[Prints], common: np.ndarray) -> sparse.csr_matrix:
    """Students x fingerprints, 1 where a student has a fingerprint: (n, C) float32.

    float32 counts are exact up to 2**24 shared fingerprints per pair.
    """
    kept = [p.codes[~np.isin(p.codes, common)] for p in prints]
    columns, inverse = np.unique(np.concatenate(kept) if kept else np.zeros(0, np.int64),
                                 return_inverse=True)
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in kept])])
    data = np.ones(len(inverse), dtype=np.float32)
    return sparse.csr_matrix((data, inverse, indptr), shape=(len(prints), len(columns)))


def pair_block(matrix: sparse.csr_matrix, start: int, stop: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shared-fingerprint counts of rows ``start:stop`` against every later row.

    Returns
    -------
    i, j, shared : (P,) int32, int32, int32
        Pairs with ``i < j`` sharing at least one fingerprint (the others share 0).
    """
    block = (matrix[start:stop] @ matrix.T).tocoo()
    i = block.row.astype(np.int32) + start
    keep = block.col > i
    return i[keep], block.col[keep].astype(np.int32), block.data[keep].astype(np.int32)


def scores(shared: np.ndarray, size_i: np.ndarray, size_j: np.ndarray,
           min_prints: int = MIN_PRINTS) -> np.ndarray:
    """``shared / max(min(size_i, size_j), min_prints)``, each (P,) -> (P,) float64."""
    denominator = np.maximum(np.minimum(size_i, size_j), min_prints)
    return np.minimum(shared / denominator, 1.0)


@dataclass(frozen=True)
class UnitMatch:
    """Where two students' versions of one unit match.

    ``lines_a`` / ``lines_b`` map a line of each unit's text to the number of
    the matching region it belongs to (the same number on both sides).
    """

    key: str
    shared: int
    lines_a: dict[int, int]
    lines_b: dict[int, int]


def _lines_of(unit: Unit, starts: np.ndarray, regions: list[int], k: int) -> dict[int, int]:
    out: dict[int, int] = {}
    for start, region in zip(starts.tolist(), regions, strict=True):
        for t in range(start, min(start + k, len(unit.lines))):
            out.setdefault(unit.lines[t], region)
    return out


def unit_match(a: Unit, b: Unit, stub: np.ndarray | None, common: np.ndarray,
               settings: Settings = DEFAULT_SETTINGS) -> UnitMatch:
    """The matching regions of two versions of one unit (what the scores counted)."""
    code = unit_code(a.key)
    sides = []
    for unit in (a, b):
        hashes, starts = unit_prints(unit, settings.k, settings.window)
        keep = ~np.isin(np.bitwise_xor(hashes, code), common)
        if stub is not None and stub.size:
            keep &= ~np.isin(hashes, stub)
        sides.append((hashes[keep], starts[keep]))
    shared = np.intersect1d(sides[0][0], sides[1][0])
    (ha, sa), (hb, sb) = sides
    in_a, in_b = np.isin(ha, shared), np.isin(hb, shared)
    order = np.argsort(sa[in_a], kind="stable")
    starts_a, hashes_a = sa[in_a][order], ha[in_a][order]
    # A run of fingerprints closer than k tokens apart is one region.
    regions_a = np.cumsum(np.concatenate([[1], np.diff(starts_a) > settings.k])).tolist() \
        if starts_a.size else []
    region_of = {}
    for h, r in zip(hashes_a.tolist(), regions_a, strict=True):
        region_of.setdefault(h, r)
    regions_b = [region_of[h] for h in hb[in_b].tolist()]
    return UnitMatch(a.key, int(shared.size),
                     _lines_of(a, starts_a, regions_a, settings.k),
                     _lines_of(b, sb[in_b], regions_b, settings.k))
