"""Grade one submission end to end: private copy, sandboxed runs, trusted verdict.

``grade_submission(course_root, assignment, student)`` returns plain JSON data
(a ``GradeResult``) and never raises for anything a student did; bad input
(no notebook, a notebook that is not UTF-8 or not JSON) becomes
``status: "error"`` with a message meant for the student's report. It writes
only inside its own grading folder, which it removes: recording results is
the coordinator's job.

The steps, each a module of its own:

1. ``prepare``: copy ``submitted/<student>/<assignment>/`` (regular files
   only, caps before reading, no link followed) and rebuild the notebook from
   plain JSON: locked and test cells come back from the source as released
   (no hidden test), nbgrader metadata from the source, outputs cleared;
2. ``reference``: draw the probes' inputs from the seed and compute the
   reference outputs and answers with the reference ``cs231n_lib``;
3. ``phases``: run ``autograder.inside.runner`` in two sandboxes, one after
   the other: the notebook (which also exports the values the answer probes
   name), then the probes (the notebook's processes are all dead before the
   probes start, and nothing they wrote reaches the probes' sandbox). Each
   sandbox holds only what it computes on; as root it is forked from a
   pre-imported helper (``autograder.sandbox.warm``);
4. ``verify``: read what came back as hostile data and judge it against
   the reference; every score is decided here, outside the sandbox;
5. ``feedback``: the executed notebook, sanitised for the student.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType

from autograder.course import NAME_RE, grade_cells, hidden_lines
from autograder.grading import evidence, verify
from autograder.grading.explain import cell_explainer
from autograder.grading.feedback import feedback_notebook
from autograder.grading.phases import (
    PhaseOutcome,
    hidden_paths,
    how_it_ended,
    notebook_phase,
    probe_phase,
    run_phase,
)
from autograder.grading.prepare import (  # noqa: F401 - the step's names, for callers
    PreparedSubmission,
    SubmissionError,
    copy_submission,
    parse_notebook,
    prepare_submission,
    rebuild_notebook,
)
from autograder.grading.probes import probe_folder
from autograder.grading.reference import Reference, reference_for, reference_library
from autograder.grading.result import GradeResult, error_result
from autograder.grading.workdirs import grading_folder
from autograder.sandbox import Limits, MiB

DEFAULT_LIMITS = Limits()
MAX_EXECUTED_BYTES = 64 * MiB
MAX_OUTPUTS_BYTES = 128 * MiB
MAX_ANSWERS_BYTES = 16 * MiB


@dataclass
class GradingJob:
    """What one grading of one submission works with (trusted data only)."""

    course: Path
    assignment: str
    student: str
    limits: Limits
    source_nb: dict
    reference: Reference
    lib: ModuleType
    seed: int = 0
    unprobed: str = "notebook"
    hide: tuple = ()
    warm: bool = True
    started: float = field(default_factory=time.monotonic)
    timings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in grade_cells(self.source_nb) if c.autograded)

    @property
    def manual_max_score(self) -> float:
        return sum(c.max_points for c in grade_cells(self.source_nb) if not c.autograded)

    def lap(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.timings[name] = round(now - since, 3)
        return now

    def error(self, message: str) -> dict:
        self.timings["total"] = round(time.monotonic() - self.started, 3)
        return error_result(self.student, self.assignment, message, max_score=self.max_score,
                            manual_max_score=self.manual_max_score, timings=self.timings,
                            limits={"requested": self.limits.to_json(), "in_force": {}},
                            notes=self.notes).to_json()


def grade_submission(course_root: str | os.PathLike, assignment: str, student: str, *,
                     limits: Limits | dict = DEFAULT_LIMITS, seed: int | None = None,
                     work_root: str | os.PathLike | None = None,
                     reference_lib: ModuleType | str | os.PathLike | None = None,
                     unprobed: str = "notebook", hide=(), warm: bool = True) -> dict:
    """Grade ``submitted/<student>/<assignment>/`` of the course at ``course_root``.

    Parameters
    ----------
    course_root : path
        The nbgrader course (``source/``, ``submitted/``, ``probes/``).
    assignment, student : str
        Folder names.
    limits : Limits or dict
        Sandbox limits (a dict of ``Limits`` fields also works).
    seed : int, optional
        Seed of the probes' inputs. Give one per grading run: every
        submission of the run then gets the same inputs and the reference
        outputs are computed once. Default: fresh random inputs.
    work_root : path, optional
        Where the private grading folder goes (default:
        ``autograder.grading.workdirs.WORK_ROOT``).
    reference_lib : module or path, optional
        The reference library (default: the installed ``cs231n_lib``).
    unprobed : {"notebook", "zero"}
        Points of a test cell that no probe decides (see ``autograder.grading.verify``).
    hide : sequence of path
        More paths to hide from the student's code (the course folder, the
        reference library and the trusted autograder are always hidden).
    warm : bool
        Fork the sandboxes from this thread's pre-imported helper where the
        full sandbox is available; False starts new interpreters (cold).

    Returns
    -------
    dict
        ``GradeResult.to_json()``.
    """
    t0 = time.monotonic()
    limits = Limits(**limits) if isinstance(limits, dict) else limits
    if not NAME_RE.match(student or "") or not NAME_RE.match(assignment or ""):
        return error_result(student, assignment, f"invalid student or assignment name "
                            f"{student!r}/{assignment!r}",
                            limits={"requested": limits.to_json(), "in_force": {}}).to_json()
    course = Path(course_root).resolve()
    source_path = course / "source" / assignment / f"{assignment}.ipynb"
    source_nb = json.loads(source_path.read_text(encoding="utf-8"))
    lib = reference_library(reference_lib)
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little")
    ref = reference_for(probe_folder(course, assignment), seed, assignment, lib)
    job = GradingJob(course, assignment, student, limits, source_nb, ref, lib, seed, unprobed,
                     tuple(hide), warm, started=t0)
    job.lap("reference", t0)
    with grading_folder(work_root) as base:
        return _grade_in(job, base)


def _grade_in(job: GradingJob, base: Path) -> dict:
    """The steps after the reference: prepare, run twice, verify, report."""
    t = time.monotonic()
    submitted = job.course / "submitted" / job.student / job.assignment
    try:
        prepared = prepare_submission(submitted, base / "copy", job.source_nb, job.assignment)
    except SubmissionError as exc:
        return job.error(str(exc))
    job.notes += prepared.notes
    limits = job.limits
    # Two sandboxed runs share the submission's wall limit: the notebook,
    # then the probes (at least their reserve, more if the notebook was quick).
    total = max(6.0, float(limits.submission_seconds))
    probe_reserve = min(0.5 * total, 20.0 + 2.0 * len(job.reference.probes))
    nb_phase = notebook_phase(base, prepared, job.reference, limits, total - probe_reserve)
    pr_phase = probe_phase(base, prepared, job.reference, limits)
    hide = hidden_paths(job.course, job.lib, job.hide)
    t = job.lap("prepare", t)
    nb_run = run_phase(nb_phase, limits, total - probe_reserve, hide, warm=job.warm,
                       notes=job.notes)
    job.timings["sandbox_notebook"] = round(nb_run.result.wall_seconds, 3)
    probe_run = run_phase(pr_phase, limits, max(probe_reserve, total - nb_run.result.wall_seconds),
                          hide, warm=job.warm, notes=job.notes)
    job.timings["sandbox_probes"] = round(probe_run.result.wall_seconds, 3)
    return _verdict(job, nb_run, probe_run, prepared).to_json()


def _probe_verdicts(job: GradingJob, probe_run: PhaseOutcome, prepared: PreparedSubmission
                    ) -> list:
    arrays, bad, errors = {}, {}, {}
    missing_note = verify.NO_OUTPUT
    back = probe_run.back
    try:
        arrays, bad = verify.load_npz(verify.read_capped(back, "outputs.npz", MAX_OUTPUTS_BYTES))
    except verify.UntrustedFileError as exc:
        missing_note = verify.no_usable_outputs(exc, probe_run.result.ended)
    try:
        errors = verify.load_errors(verify.read_capped(back, "errors.json", 4 * MiB))
    except verify.UntrustedFileError:
        pass
    if not prepared.has_library:
        missing_note = verify.NO_LIBRARY
    return verify.judge_probes(job.reference.probes, job.reference.outputs, arrays, bad,
                               errors, missing_note,
                               explain=cell_explainer(job.reference, job.seed, job.assignment,
                                                      job.lib, job.notes))


def _answer_verdicts(job: GradingJob, nb_run: PhaseOutcome) -> list:
    answers: dict = {}
    note = f"no answers came back from the notebook run ({nb_run.result.ended})"
    if job.reference.answer_probes:
        try:
            answers = verify.load_answers(verify.read_capped(nb_run.back, "answers.json",
                                                             MAX_ANSWERS_BYTES))
        except verify.UntrustedFileError as exc:
            note = f"no usable answers ({exc}); the notebook run {nb_run.result.ended}"
    return verify.judge_answers(job.reference.answer_probes, job.reference.answers, answers,
                                note)


def _notebook_report(job: GradingJob, nb_run: PhaseOutcome) -> tuple[dict | None, str]:
    """The executed notebook and, if the run stopped early, why."""
    executed = None
    try:
        executed = json.loads(verify.read_capped(nb_run.back, "executed.ipynb",
                                                 MAX_EXECUTED_BYTES))
    except (verify.UntrustedFileError, ValueError, RecursionError) as exc:
        job.notes.append(f"no executed notebook came back: {exc}")
    try:
        report = json.loads(verify.read_capped(nb_run.back, "notebook.json", 4 * MiB))
        cells = report.get("cells", []) if isinstance(report, dict) else []
        stops = [str(c.get("note", ""))[:300] for c in cells
                 if isinstance(c, dict) and c.get("status") == "not-run"]
        timeouts = [str(c.get("grade_id") or i) for i, c in enumerate(cells)
                    if isinstance(c, dict) and c.get("status") == "timeout"]
        if timeouts:
            job.notes.append(f"cell(s) {', '.join(timeouts)} hit the "
                             f"{job.limits.cell_seconds:g} s cell time limit")
        return executed, stops[0] if stops else ""
    except (verify.UntrustedFileError, ValueError, RecursionError, AttributeError):
        return executed, f"the notebook run left no report ({nb_run.result.ended})"


def _verdict(job: GradingJob, nb_run: PhaseOutcome, probe_run: PhaseOutcome,
             prepared: PreparedSubmission) -> GradeResult:
    t = time.monotonic()
    runs = (("notebook", nb_run.result), ("probes", probe_run.result))
    flags = [f for f in (how_it_ended(name, res, job.limits) for name, res in runs) if f]
    verdicts = _probe_verdicts(job, probe_run, prepared) + _answer_verdicts(job, nb_run)
    executed, incomplete = _notebook_report(job, nb_run)
    cells = grade_cells(job.source_nb)
    nb_scores = verify.notebook_scores(executed, cells)
    # What the verdict rests on, kept so that a regrade can judge it again.
    kept = evidence.collect(job, nb_run, probe_run, prepared, nb_scores, incomplete, flags)
    rows = verify.grade_cells(job.assignment, cells, verdicts, nb_scores,
                              unprobed=job.unprobed, notebook_incomplete=incomplete)
    for row in rows:
        flags += [f"{row.grade_id}: {f}" for f in row.flags
                  if f.startswith(("integrity", "unverified"))]
    job.lap("verify", t)
    job.timings["total"] = round(time.monotonic() - job.started, 3)
    return GradeResult(
        job.student, job.assignment, cells=[asdict(r) for r in rows],
        score=float(sum(r.points for r in rows if r.kind == "test" and r.points is not None)),
        max_score=float(job.max_score), manual_max_score=float(job.manual_max_score),
        flags=flags,
        notes=job.notes + [f"{name} run: {res.note}" for name, res in runs if res.note],
        limits={"requested": job.limits.to_json(), "in_force": nb_run.result.limits_in_force,
                "ended": {name: res.ended for name, res in runs}},
        timings=job.timings,
        started="warm" if nb_run.result.warm and probe_run.result.warm else "cold",
        notebook=feedback_notebook(executed, hidden_lines(job.source_nb)), evidence=kept)
