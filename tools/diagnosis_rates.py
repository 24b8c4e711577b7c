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

from diagnosis_cases import ALL_CASES, ROUNDS  # noqa: E402

from autograder.diagnosis.adequacy import survivors  # noqa: E402
from autograder.diagnosis.catalogue import ASSIGNMENTS, CLASSES, all_mutants  # noqa: E402
from autograder.diagnosis.known_outputs import checked_cases, notebook_outcome  # noqa: E402
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


#: Each round's rate when it was first run, blind, with the catalogue frozen: the rate
#: to expect on new mistakes. Produced by this command at the commit named (a round
#: is in-sample once the catalogue has learnt from it, so these cannot be re-run here).
HELD_OUT_HISTORY = [
    "| round | run blind at | buggy runs | named right | named wrong | correct accused |",
    "|---|---|---:|---:|---:|---:|",
    "| second | commit f176c97 | 45 | 30 (66.7%) | 0 | 0 |",
    "| third | commit e41e1ec | 219 | 192 (87.7%) | 12 | 0 |",
    "| fourth | commit 44ac7be | 249 | 217 (87.1%) | 0 | 0 |",
]


def _intro(seeds: int) -> list[str]:
    n_buggy = sum(c.expected is not None for c in ALL_CASES)
    return [
        "# The diagnosis, measured",
        "",
        "Regenerate with `python tools/diagnosis_rates.py` (this page is its output).",
        "",
        f"{n_buggy} buggy and {len(ALL_CASES) - n_buggy} correct implementations of library "
        "functions (`tests/autograder/diagnosis_cases/`), written apart from the mutant "
        "catalogue (`autograder/diagnosis/mutants/`), are each graded on the probes of "
        f"their test cell under {seeds} grading seeds; the failed probes are diagnosed as "
        "grading does it (`diagnose_cell`: one class for the cell, named only when it is "
        "among the best explanations of more than half of the failed probes and no other "
        "class does as well). *Named right*: the diagnosis names the class of the case's "
        "mistake. *False diagnoses*: the share of all diagnoses given that name a wrong "
        "class or accuse a correct implementation. Target: at least 80% named right, no "
        "correct implementation accused.",
        "",
        "## Held out, then learnt from",
        "",
        "The cases came in rounds. Each round was written blind to the diagnosis (from "
        "the library and the list of classes only) and run once with the catalogue "
        "frozen: that first run is the rate to expect on mistakes nobody has seen. Then "
        "the diagnosis learnt from what the round showed, which makes the round "
        "in-sample. After the second round it got output-by-output and entry-by-entry "
        "matching, a reference run with dout all ones for a missing upstream gradient, "
        "and new mutants and relations. The third round's first run named 12 runs "
        "wrongly (a `Value.relu` with an inverted mask called a `>=` mistake, because "
        "both are wrong at exactly 0; a lost minus sign in the staged batchnorm called "
        "a plain constant factor); after it, a cell is named only by a class that "
        "explains most of its failed probes, mutants are ruled out by the probes a "
        "student passes, and two classes that explain a probe equally well give no "
        "diagnosis. The fourth round was written blind to all of that and has not been "
        "learnt from: its row below is still a held-out rate, and the cases it leaves "
        "unnamed are listed as they are. Write the next round before the catalogue "
        "learns from this one.",
        "",
        *HELD_OUT_HISTORY,
        "",
    ]


NOTEBOOK_VERDICTS = ("named", "misnamed", "unnamed", "undetected", "raised", "clean",
                     "accused", "failed")


def _notebook() -> list[str]:
    """What the notebook's own gradient checks say about the same cases."""
    outcomes = [notebook_outcome(case) for case in checked_cases(ALL_CASES)]
    counts = {v: sum(o.verdict == v for o in outcomes) for v in NOTEBOOK_VERDICTS}
    buggy = sum(o.expected is not None for o in outcomes)
    return [
        "## In the notebook's own checks",
        "",
        "`check_gradients`, which the notebooks' test cells and `python -m autograder "
        "check` print, names mistakes in the grader's words: the catalogue's mutants, "
        "run on fixed public inputs by `python -m autograder.diagnosis.known_outputs`, "
        "leave their wrong outputs and sentences in `cs231n_lib/known_mistakes.json` "
        "and `.npz` (arrays and text, no code), and the student's pair is matched "
        "against them by the grader's matcher (`relations.matching_mistakes`); failing "
        "that, the relations speak. Here every case whose function the notebooks check "
        "is planted as the student's and checked on inputs other than the stored ones.",
        "",
        f"{len(outcomes)} cases ({buggy} buggy): "
        + ", ".join(f"{v} {counts[v]}" for v in NOTEBOOK_VERDICTS) + ".",
        "",
        "*Undetected*: a numerical check of the gradients cannot see the mistake (a tie, "
        "a kink at exactly 0, test mode, the running averages, a scalar PReLU slope where "
        "the checked call has one per channel); the visible test cells check those cases "
        "separately, and the grader's probes catch them. *Raised*: the student's code "
        "raised, and its traceback is what the student reads.",
        "",
    ]


def build_page(seeds: int, adequacy_seeds: int) -> str:
    """The whole of ``docs/diagnosis.md``."""
    by_round = [(name, run_cases(cases, range(seeds))) for name, cases in ROUNDS]
    everything = [o for _, outcomes in by_round for o in outcomes]
    head = ["| cases | buggy runs | named right | named wrong | false diagnoses | "
            "correct runs | correct accused | correct failing a probe |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    text = [
        *_intro(seeds),
        "## Rates now (the fourth round still held out)",
        "",
        *head,
        *[line for name, outcomes in by_round
          for line in _summary(f"{name} round", outcomes)],
        *_summary("all", everything),
        "",
        "## Per class (all cases)",
        "",
        *_per_class(everything),
        "",
        "## Cases not named right",
        "",
        "A case left unnamed gets the plain numbers (the output that differs, where, by "
        "how much) instead of a guess.",
        "",
        "| case | its class | outcome over the seeds |",
        "|---|---|---|",
        *_misses(everything),
        "",
        *_notebook(),
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
