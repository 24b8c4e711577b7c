"""Simple relations between a wrong array and the right one.

Each test takes the student's array ``s`` and the right array ``r`` of one
output and says whether ``s`` is a simple function of ``r``: a constant
multiple, its negative (on every entry or some), its transpose, ``r`` not yet
summed over some axes, zeros, right except where the input is exactly 0, or
right inside and wrong at the border. ``matching_mistakes`` says which known
wrong outputs (a mutant's, or the stored ones of ``known_mistakes``) a
student's reproduce. They need no reference code (only arrays), so this
module ships with the students' library as it is. ``explain`` words what a
relation says about a wrong gradient; the notebook's gradient checks
(``gradient_check.check_gradients``) and the grader's diagnosis
(``autograder.diagnosis``) both use it, so a student reads
the same sentence in the notebook, in ``python -m autograder check`` and in
the graded feedback. Pure numpy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

#: Two arrays "agree" when their CS231n relative error is at most this.
AGREE = 1e-6
#: A wrong output closer than this to the right one is a matter of precision (an
#: eps in another place, a float32 step), not of structure: no relation is named.
NEAR_MISS = 1e-3


def rel_error(a, b) -> float:
    """CS231n's ``max |a - b| / max(1e-8, |a| + |b|)`` (inf when the shapes differ)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    with np.errstate(all="ignore"):
        err = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.nanmax(err)) if np.all(np.isfinite(err)) else float("inf")


def agree(a, b, tol: float = AGREE) -> bool:
    """Same shape and relative error at most ``tol``."""
    return rel_error(a, b) <= tol


@dataclass(frozen=True)
class Relation:
    """A relation found between a student's array and the right one.

    Parameters
    ----------
    kind : str
        ``"ratio"``, ``"sign"``, ``"transpose"``, ``"unsummed"``, ``"zeros"``,
        ``"at-zero"``, ``"border"``, ``"upstream-of-ones"`` (equal to the right
        gradient for an upstream gradient of all ones).
    evidence : dict
        The numbers behind it (the ratio, the axes not summed, ...).
    """

    kind: str
    evidence: dict = field(default_factory=dict)


def _informative(r) -> bool:
    """An array with something to compare: not empty and not all (near) zero."""
    r = np.asarray(r, dtype=np.float64)
    return r.size > 0 and bool(np.any(np.abs(r) > 1e-12))


def constant_ratio(s, r, tol: float = AGREE) -> float | None:
    """The constant c with ``s == c * r`` (c != 1), or None.

    Parameters
    ----------
    s, r : ndarray, same shape
        The student's array and the right one.
    """
    s, r = np.asarray(s, dtype=np.float64), np.asarray(r, dtype=np.float64)
    if s.shape != r.shape or not _informative(r) or r.size < 2:
        return None
    c = float(np.vdot(r, s) / np.vdot(r, r))
    # |c| this small is rounding noise next to r (a sum that cancels), not a factor
    if abs(c) < 1e-8 or not np.isfinite(c) or abs(c - 1.0) < 1e-9:
        return None
    return c if agree(s, c * r, tol) else None


def sign_flip(s, r, tol: float = AGREE) -> Relation | None:
    """``s == -r``."""
    if _informative(r) and agree(s, -np.asarray(r), tol):
        return Relation("sign", {"ratio": -1.0})
    return None


def partial_sign(s, r, tol: float = AGREE) -> Relation | None:
    """Some entries of ``s`` are right and every other one is the right one negated
    (one gradient of several with the wrong sign)."""
    wrong = wrong_where(s, r, tol)
    if wrong is None or not wrong.any() or wrong.all():
        return None
    s, r = np.asarray(s, dtype=np.float64), np.asarray(r, dtype=np.float64)
    if agree(s[wrong], -r[wrong], tol):
        return Relation("sign", {"ratio": -1.0, "entries": int(wrong.sum()),
                                 "of": int(wrong.size)})
    return None


def wrong_only_at_zero(s, r, x, tol: float = AGREE) -> Relation | None:
    """``s`` is right except at entries where the input ``x`` (same shape) is exactly
    0: the kink of an activation, where the convention picks a branch."""
    x = np.asarray(x)
    wrong = wrong_where(s, r, tol)
    if wrong is None or x.shape != wrong.shape or not wrong.any():
        return None
    if np.all(x[wrong] == 0):
        return Relation("at-zero", {"entries": int(wrong.sum())})
    return None


def transpose(s, r, tol: float = AGREE) -> Relation | None:
    """``s`` is ``r`` with its axes reversed (a 2-D transpose) or reordered."""
    s, r = np.asarray(s), np.asarray(r)
    if r.ndim < 2 or not _informative(r):
        return None
    for order in itertools.permutations(range(r.ndim)):
        if order != tuple(range(r.ndim)) and agree(s, r.transpose(order), tol):
            return Relation("transpose", {"axes": list(order)})
    # (M, D) reshaped to (D, M) where a transpose belongs: right numbers, scrambled
    if r.ndim == 2 and s.shape == r.shape and r.shape[0] != r.shape[1] \
            and agree(s, r.T.reshape(r.shape), tol):
        return Relation("transpose", {"axes": [1, 0], "reshaped": True})
    return None


def unsummed(s, r, tol: float = AGREE) -> Relation | None:
    """``s`` has more axes than ``r`` and summing some of them gives ``r``
    (a gradient broadcast where a sum belongs, e.g. db left as (N, M))."""
    s, r = np.asarray(s, dtype=np.float64), np.asarray(r, dtype=np.float64)
    extra = s.ndim - r.ndim
    if extra < 1 or not _informative(r):
        return None
    for axes in itertools.combinations(range(s.ndim), extra):
        if agree(s.sum(axis=axes), r, tol):
            return Relation("unsummed", {"axes": list(axes), "shape": list(s.shape)})
    return None


def zeros(s, r) -> Relation | None:
    """``s`` is all zeros while ``r`` is not."""
    s = np.asarray(s, dtype=np.float64)
    if _informative(r) and s.shape == np.shape(r) and not np.any(s):
        return Relation("zeros", {})
    return None


def border_only(s, r, tol: float = AGREE) -> Relation | None:
    """``s`` agrees with ``r`` away from the border of an image's last two axes
    (``(N, C, H, W)``, H and W at least 3) but not on it."""
    s, r = np.asarray(s, dtype=np.float64), np.asarray(r, dtype=np.float64)
    if s.shape != r.shape or r.ndim != 4 or min(r.shape[-2:]) < 3:
        return None
    inner = (..., slice(1, -1), slice(1, -1))
    if agree(s[inner], r[inner], tol) and not agree(s, r, tol):
        return Relation("border", {"width": 1})
    return None


def wrong_where(s, r, tol: float = AGREE) -> np.ndarray | None:
    """Boolean mask of the entries where ``s`` and ``r`` disagree (None: shapes differ)."""
    s, r = np.asarray(s, dtype=np.float64), np.asarray(r, dtype=np.float64)
    if s.shape != r.shape:
        return None
    with np.errstate(all="ignore"):
        err = np.abs(s - r) / np.maximum(1e-8, np.abs(s) + np.abs(r))
    return ~(err <= tol)


def find_relation(s, r, tol: float = AGREE, x=None) -> Relation | None:
    """The first relation that holds, most specific first (None: none does).

    ``x``, the input of an elementwise function (same shape as ``s``), lets
    a gradient wrong only where ``x == 0`` be recognised.
    """
    for test in (zeros, sign_flip, transpose, unsummed):
        found = test(s, r) if test is zeros else test(s, r, tol)
        if found is not None:
            return found
    c = constant_ratio(s, r, tol)
    if c is not None:
        return Relation("ratio", {"ratio": c})
    if x is not None:
        found = wrong_only_at_zero(s, r, x, tol)
        if found is not None:
            return found
    return partial_sign(s, r, tol) or border_only(s, r, tol)


def _explains_entries(s, m, r, tol: float) -> float | None:
    """Largest error of ``m`` against ``s`` on the entries where ``s`` is wrong, when
    ``m`` is wrong on each of them too and agrees with ``s`` there (else None)."""
    s, m, r = (np.asarray(a, dtype=np.float64) for a in (s, m, r))
    if not s.shape == m.shape == r.shape:
        return None
    wrong = wrong_where(s, r, tol)
    if not wrong.any() or np.any(wrong & ~wrong_where(m, r, tol)):
        return None
    err = rel_error(s[wrong], m[wrong])
    return err if err <= tol else None


def matching_mistakes(student, known, tol: float = AGREE, reference=None) -> list:
    """Every known mistake that explains as many of the student's outputs as the
    best one does, closest first.

    Output by output: a known mistake is kept as only the outputs it gets
    wrong, and it explains each of them whose student value agrees with it.
    So a student whose ``dw`` ignores the stride while ``dx`` is right is
    still explained by a mistake that ignores the stride in both. The grader
    (against the mutant catalogue, on a probe's inputs) and the notebook's
    checks (against stored outputs on public inputs) both ask this question.

    Parameters
    ----------
    student : mapping of str to ndarray
        The student's outputs.
    known : mapping of key to (mapping of str to ndarray)
        For each known mistake, the outputs it gets wrong.
    tol : float
        Relative error within which two outputs count as the same.
    reference : mapping of str to ndarray, optional
        The right outputs. With them, when no mistake explains a whole output,
        one may explain it entry by entry: the student is wrong only where
        the mistake is, and equal to it there (a gate whose one input's
        gradient has the mistake, inside a vector of many gradients).

    Returns
    -------
    list of (key, error)
        The mistakes tied for explaining the most outputs (and, among those,
        for getting wrong the fewest outputs the student has right), with
        their largest relative error on them, closest first; empty when none
        explains any.
    """
    def explained_by(outputs, whole: bool) -> list[float]:
        if whole:
            errors = (rel_error(student[n], v) for n, v in outputs.items() if n in student)
            return [err for err in errors if err <= tol]
        errors = (_explains_entries(student[n], v, reference[n], tol)
                  for n, v in outputs.items() if n in student and n in reference)
        return [err for err in errors if err is not None]

    def contradicted(outputs) -> int:
        """Outputs the mistake gets wrong but the student gets right: evidence against."""
        if reference is None:
            return 0
        return sum(1 for n in outputs if n in student and n in reference
                   and agree(student[n], reference[n], tol))

    for whole in (True, False) if reference is not None else (True,):
        found = [(-len(e), contradicted(known[key]), max(e), key) for key, e in
                 ((key, explained_by(outputs, whole)) for key, outputs in known.items()) if e]
        if found:
            best = min(rank[:2] for rank in found)
            tied = sorted((err, i, key) for i, (*rank, err, key) in enumerate(found)
                          if tuple(rank) == best)
            return [(key, err) for err, _, key in tied]
    return []


def matching_mistake(student, known, tol: float = AGREE, reference=None):
    """The closest of :func:`matching_mistakes` as ``(key, error)``, or None."""
    found = matching_mistakes(student, known, tol, reference)
    return found[0] if found else None


# ----------------------------------------------------------------- words

def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b))


def _ratio_words(key: str, c: float, sizes: dict[str, float]) -> tuple[str, str]:
    """Class and sentence for ``student == c * reference``."""
    sizes = dict(sizes)
    fan = sizes.pop("sqrt(fan_in / fan_out)", None)
    if fan is not None and not _close(fan, 1.0) and _close(c, fan):
        return "init-fan-out", (f"your {key} is the right {key} times sqrt(fan_in / fan_out) "
                                f"= {c:.4g}: it is scaled by fan_out where fan_in belongs.")
    if fan is not None and any(_close(c, v) for v in (2 ** -0.5, 2 ** 0.5, 0.5, 2.0)):
        return "init-no-2", (f"your {key} is the right {key} times {c:.4g}: the factor 2 of "
                             "He's variance is missing or misplaced (it multiplies the "
                             "variance, so the standard deviation by sqrt(2)).")
    for name, n in sizes.items():
        if _close(c, n) or _close(c, 1.0 / n):
            how = f"times {name}" if c > 1 else f"divided by {name}"
            return "scale-1/N", (f"your {key} is the right {key} {how} ({name} = {n:g}): a "
                                 "mean over the batch (1/N) is missing or taken twice.")
    return "scale", (f"your {key} is the right {key} times {c:.6g}: a constant factor is "
                     "wrong; look for a missing or extra factor (2, 1/2, N, a scale).")


def upstream_of_ones_sentence(key: str) -> str:
    """What a gradient equal to the right one for an upstream gradient of all ones
    says (the grader and the notebook's checks test this the same way)."""
    return (f"your {key} is what the right backward pass gives when dout is all ones: "
            "dout, the upstream gradient, is not multiplied in (look at each product with "
            "a local gradient).")


def explain(key: str, found: Relation, shape: tuple, sizes: dict[str, float]
            ) -> tuple[str, str]:
    """Class of mistake and one sentence for a relation ``found`` between a wrong
    ``key`` (of ``shape``) and the right one. ``sizes``: named sizes a wrong
    factor is often made of (``{"N": 5}``)."""
    shape = tuple(shape)
    if found.kind == "ratio":
        return _ratio_words(key, found.evidence["ratio"], sizes)
    if found.kind == "sign" and "entries" in found.evidence:
        return "sign", (f"{found.evidence['entries']} of the {found.evidence['of']} entries "
                        f"of your {key} are the right ones with their sign flipped, the rest "
                        "are right: look for one local gradient with the wrong sign.")
    if found.kind == "sign":
        return "sign", (f"your {key} is the right {key} with its sign flipped: look for a "
                        "local gradient with the wrong sign.")
    if found.kind == "at-zero":
        return "mask-boundary", (f"your {key} is right except where the input is exactly 0: "
                                 "at the kink the gradient follows one branch (check > "
                                 "against >= in the mask, and the docstring's convention).")
    if found.kind == "transpose" and found.evidence.get("reshaped"):
        return "transposed", (f"your {key} holds the right numbers in the wrong places: it "
                              f"is the transpose of the right {key}, reshaped to {shape} (a "
                              "reshape does not transpose): check the order of the factors "
                              "of its product.")
    if found.kind == "transpose":
        return "transposed", (f"your {key} is the right {key} with its axes in the wrong "
                              f"order (shape {shape}): check the order of the factors of its "
                              "product.")
    if found.kind == "unsummed":
        cls = "shared-param-not-summed" if key == "dalpha" else "bias-not-summed"
        return cls, (f"your {key} has shape {shape}; summed over axes "
                     f"{tuple(found.evidence['axes'])} it would be right: a parameter shared "
                     "across those axes collects the sum of their gradients.")
    if found.kind == "upstream-of-ones":
        return "missing-upstream", upstream_of_ones_sentence(key)
    if found.kind == "zeros":
        return "zeros", (f"your {key} is all zeros: the gradient never reaches it (a mask "
                         "that is never true, or an overwritten result?).")
    return "border", (f"your {key} is right inside but wrong on its border: look at the "
                      "padding, at the edges of the windows and at what is cropped.")
