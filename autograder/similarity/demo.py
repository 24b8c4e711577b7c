"""The similarity check in ``python -m autograder demo``.

The demo's class is made of copies of one reference solution, which would
make every honest pair look copied. Before grading, this deals each honest
student an independent solution of the backprop gaps
(``autograder.similarity.synthetic``; all correct, so the grades do not
change), plants two disguised copies, runs the check on the local cluster and
prints the top pairs. Hostile submissions are left as they are (their
reference code is shared by most of the class, so it is not counted).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from autograder.course import PACKAGE
from autograder.similarity.synthetic import ASSIGNMENT, MODULES, disguise, diversify


def _copy_modules(course: Path, original: str, copier: str, modules: Iterable[str],
                  transforms: tuple[str, ...], rng: random.Random) -> None:
    src = course / "submitted" / original / ASSIGNMENT / PACKAGE
    dst = course / "submitted" / copier / ASSIGNMENT / PACKAGE
    texts = {m: (src / f"{m}.py").read_text(encoding="utf-8") for m in modules}
    for module, text in disguise(texts, transforms, rng).items():
        (dst / f"{module}.py").write_text(text, encoding="utf-8")


def plant_demo_copies(course: Path, kinds: Mapping[str, str], seed: int = 231
                      ) -> list[tuple[str, str, tuple[str, ...]]]:
    """Diversify the honest backprop submissions and plant up to two copies:
    a complete student copies another complete one (renamed, reordered), and the
    wrong one copies the partial one's gradient checker (reformatted, dead code).
    Only modules the copier already had filled are replaced, so grades stay."""
    rng = random.Random(seed)
    honest = [s for s, k in kinds.items() if k in ("complete", "partial", "wrong")]
    for student in honest:
        folder = course / "submitted" / student / ASSIGNMENT / PACKAGE
        if folder.is_dir():
            diversify(folder, rng)
    by_kind: dict[str, list[str]] = {}
    for student in honest:
        by_kind.setdefault(kinds[student], []).append(student)
    planted = []
    complete = by_kind.get("complete", [])
    if len(complete) >= 2:
        planted.append((complete[0], complete[1], ("rename", "reorder")))
        _copy_modules(course, complete[0], complete[1], MODULES[1:], planted[-1][2], rng)
    if by_kind.get("partial") and by_kind.get("wrong"):
        planted.append((by_kind["partial"][0], by_kind["wrong"][0], ("reformat", "dead_code")))
        _copy_modules(course, planted[-1][0], planted[-1][1], ("gradient_check",),
                      planted[-1][2], rng)
    return planted


def run_demo_check(course: Path, assignments: Iterable[str], kinds: Mapping[str, str], *,
                   jobs: int | None = None, log: Callable[[str], None] = print):
    """Plant the copies, run the check, print the top pairs; the result, or None
    when backprop is not among the demo's assignments."""
    from autograder.similarity.report import format_top, write_csv, write_html
    from autograder.similarity.run import similarity_check

    if ASSIGNMENT not in assignments:
        log(f"similarity: the demo plants copies in {ASSIGNMENT} only; skipped")
        return None
    planted = plant_demo_copies(Path(course), kinds)
    log(f"similarity: dealt independent solutions to the honest students; planted "
        f"{len(planted)} copies: " + ", ".join(f"{c} copies {o} ({' + '.join(t)})"
                                                for o, c, t in planted))
    result = similarity_check(course, ASSIGNMENT, jobs=jobs, top=10)
    out = Path(course) / "similarity" / ASSIGNMENT
    write_csv(result, out / "similarity.csv")
    page = write_html(result, out / "similarity.html")
    log(format_top(result, count=5))
    log(f"similarity: {result.all_pairs} pairs in {result.seconds['total']:.1f} s; "
        f"side by side in {page}")
    return result
