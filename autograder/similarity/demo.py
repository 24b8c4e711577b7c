"""The similarity check in ``python -m autograder demo``.

The demo's class is made of copies of one reference solution, which would
make every honest pair look copied. Before grading, this deals each honest
student an independent solution of the backprop gaps
(``autograder.similarity.synthetic``; all correct, so the grades do not
change), plants two disguised copies, runs the check on the local cluster and
prints the top pairs. Hostile submissions get independent solutions too
(only regular files are rewritten; their attacks are elsewhere).
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
    """Diversify the backprop submissions and plant two copies: a complete
    student copies another complete one (renamed, reordered; or, with one
    complete student in the class, the partial one's gradient checker), and the
    wrong one copies the partial one's gradient checker (reformatted, dead code).
    Only modules the copier already had filled are replaced, so grades stay."""
    rng = random.Random(seed)
    honest = [s for s, k in kinds.items() if k in ("complete", "partial", "wrong")]
    for student in kinds:  # hostile ones too: they start from the one reference
        folder = course / "submitted" / student / ASSIGNMENT / PACKAGE
        if folder.is_dir() and not any(p.is_symlink() for p in (folder, folder.parent)):
            diversify(folder, rng)
    by_kind: dict[str, list[str]] = {}
    for student in honest:
        by_kind.setdefault(kinds[student], []).append(student)
    planted = []
    complete = by_kind.get("complete", [])
    partial, wrong = by_kind.get("partial", [])[:1], by_kind.get("wrong", [])[:1]
    if len(complete) >= 2:
        planted.append((complete[0], complete[1], ("rename", "reorder"), MODULES[1:]))
    elif complete and partial:
        planted.append((partial[0], complete[0], ("rename", "reorder"), ("gradient_check",)))
    if partial and wrong:
        planted.append((partial[0], wrong[0], ("reformat", "dead_code"), ("gradient_check",)))
    for original, copier, transforms, modules in planted:
        _copy_modules(course, original, copier, modules, transforms, rng)
    return [(o, c, t) for o, c, t, _ in planted]
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
