"""Measure the diagnosis on the test cases; write ``docs/diagnosis.md``.

Usage::

    python tools/diagnosis_rates.py                 # docs/diagnosis.md
    python tools/diagnosis_rates.py --seeds 5 --adequacy-seeds 200 --out /tmp/d.md

Every case of ``tests/autograder/diagnosis_cases`` (buggy implementations with
the class of their mistake, and correct ones in unusual forms) is graded on
the probes of its test cell under each seed, and every failed probe is
diagnosed as grading would do it. Every number in the page comes from this
run; nothing in it is typed by hand.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "autograder"))

from diagnosis_cases import HELD_OUT_CASES, TUNED_CASES  # noqa: E402

from autograder.diagnosis.adequacy import survivors  # noqa: E402
from autograder.diagnosis.catalogue import ASSIGNMENTS, CLASSES, all_mutants  # noqa: E402
from autograder.diagnosis.measure import rates, run_cases  # noqa: E402


def _pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def _summary(title: str, outcomes) -> list[str]:
    r = rates(outcomes)
    return [f"| {title} | {r.buggy_runs} | {r.named} ({_pct(r.named, r.buggy_runs)}) | "
            f"{r.misnamed} | {_pct(r.misnamed + r.accused, r.named + r.misnamed + r.accused)} | "
            f"{r.correct_runs} | {r.accused} | {r.correct_failed} |"]


def _per_class(outcomes) -> list[str]:
    by_class: dict[str, list] = defaultdict(list)
    for o in outcomes:
        if o.case.expected is not None:
            by_class[o.case.expected].append(o)
    lines = ["| class | what | cases | runs | named right | named wrong |",
             "|---|---|---:|---:|---:|---:|"]
    for cls in sorted(by_class):
        runs = by_class[cls]
        named = sum(o.verdict == "named" for o in runs)
        wrong = sum(o.verdict == "misnamed" for o in runs)
        cases = len({o.case.name for o in runs})
        lines.append(f"| `{cls}` | {CLASSES[cls]} | {cases} | {len(runs)} | "
                     f"{named} ({_pct(named, len(runs))}) | {wrong} |")
    return lines


def _misses(outcomes) -> list[str]:
    seen, lines = set(), []
    for o in outcomes:
        if o.verdict in ("named", "clean") or o.case.name in seen:
            continue
        seen.add(o.case.name)
        runs = [p for p in outcomes if p.case.name == o.case.name]
        verdicts = ", ".join(sorted({p.verdict + (f" as `{p.named}`" if p.named else "")
                                     for p in runs}))
        lines.append(f"| `{o.case.name}` | `{o.case.expected}` | {verdicts} |")
    return lines or ["| (none) | | |"]


def _adequacy(seeds: int) -> list[str]:
    lines = ["| assignment | mutants | seeds | mutants that survive some seed |",
             "|---|---:|---:|---|"]
    catalogue = all_mutants()
    always: set[str] = set()
    for assignment in ASSIGNMENTS:
        missed = survivors(assignment, range(seeds))
        text = ", ".join(f"`{k}` ({len(v)} seeds)" for k, v in missed.items()) or "none"
        lines.append(f"| {assignment} | {len(catalogue[assignment])} | {seeds} | {text} |")
        always |= {k for k, v in missed.items() if len(v) == seeds}
    if always:
        lines += ["", "A mutant that survives every seed is missed by the probe calls "
                  "themselves, not by unlucky draws: in the graphs of the calls its gate only "
                  "ever receives an upstream gradient of 1, or is the first to reach a value "
                  "used twice. Only a new call can expose it (see `KNOWN_GAPS` in "
                  "`tests/autograder/test_diagnosis_adequacy.py`)."]
    return lines


def build_page(seeds: int, adequacy_seeds: int) -> str:
    """The whole of ``docs/diagnosis.md``."""
    tuned = run_cases(TUNED_CASES, range(seeds))
    held = run_cases(HELD_OUT_CASES, range(seeds))
    n_buggy = sum(c.expected is not None for c in TUNED_CASES + HELD_OUT_CASES)
    n_correct = len(TUNED_CASES + HELD_OUT_CASES) - n_buggy
    head = ["| cases | buggy runs | named right | named wrong | false diagnoses | "
            "correct runs | correct accused | correct failing a probe |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    text = [
        "# The diagnosis, measured",
        "",
        "Regenerate with `python tools/diagnosis_rates.py` (this page is its output).",
        "",
        f"{n_buggy} buggy and {n_correct} correct implementations of library functions "
        "(`tests/autograder/diagnosis_cases/`), written apart from the mutant catalogue "
        "(`autograder/diagnosis/mutants/`), are each graded on the probes of their test "
        f"cell under {seeds} grading seeds; every failed probe is diagnosed as grading "
        "does it, and the cell's diagnosis is the class most of its failed probes name. "
        "*Named right*: the diagnosis names the class of the case's mistake. *False "
        "diagnoses*: the share of all diagnoses given that name a wrong class or accuse "
        "a correct implementation. Target: at least 80% named right, no correct "
        "implementation accused.",
        "",
        "The tuned cases were run once before the catalogue got the typical variants "
        "their first run missed (a backward difference, a scalar checker that does not "
        "restore x, every `Value` gate without `out.grad` or with `=`, a tie sent to y, "
        "a crop ending at `-pad`, ...), so their rate is in-sample. The held-out cases "
        "were written after that, with the catalogue frozen: their rate is the one to "
        "expect on new mistakes.",
        "",
        "## Rates",
        "",
        *head,
        *_summary("tuned", tuned),
        *_summary("held out", held),
        *_summary("all", tuned + held),
        "",
        "## Per class (all cases)",
        "",
        *_per_class(tuned + held),
        "",
        "## Cases not named right",
        "",
        "A case left unnamed gets the plain numbers (the output that differs, where, by "
        "how much) instead of a guess.",
        "",
        "| case | its class | outcome over the seeds |",
        "|---|---|---|",
        *_misses(tuned + held),
        "",
        "## The probes against the catalogue",
        "",
        f"Each mutant must make a probe of its test cell fail under every grading seed "
        f"(here seeds 0 to {adequacy_seeds - 1}).",
        "",
        *_adequacy(adequacy_seeds),
        "",
    ]
    return "\n".join(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="grading seeds per case")
    parser.add_argument("--adequacy-seeds", type=int, default=200,
                        help="seeds for the mutants-against-probes table")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "diagnosis.md")
    args = parser.parse_args(argv)
    page = build_page(args.seeds, args.adequacy_seeds)
    args.out.write_text(page)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
