"""Grade many submissions in parallel on Dask distributed.

The coordinating process (this one) finds the submissions, sends one task per
submission to the workers, and records each result the moment its future
completes, so an interrupted run (Ctrl-C, a crash, a dead worker) keeps every
finished result and a re-run picks up where it stopped. Workers never touch
the gradebook; they only grade (in the sandbox) and return plain JSON text.

By default a ``LocalCluster`` of ``jobs`` single-threaded worker *processes*
runs on this machine; ``scheduler="tcp://host:port"`` uses an existing
cluster instead (the course folder must then be on a file system every worker
can read, at the same path).

A worker that dies mid-task is restarted by its nanny and the scheduler gives
its task to another worker; a submission whose task has killed
``allowed_failures + 1`` workers is given up as an error row (Dask's
``KilledWorker``), so a poisonous submission cannot hang the run.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grading.grade import grade_submission
from autograder.grading.record import (
    MACHINERY,
    Recorder,
    is_done,
    load_record,
    sigint_deferred,
    submission_digest,
)
from autograder.grading.result import error_result
from autograder.grading.workdirs import sweep

DEFAULT_GRADER = grade_submission
# Error source for a submission whose task killed its workers repeatedly: it is
# settled (a re-run does not try again unless --force), unlike MACHINERY.
WORKER_DIED = "worker-died"


@dataclass(frozen=True)
class Job:
    """One submission to grade."""

    assignment: str
    student: str
    folder: Path
    digest: str


@dataclass
class GradeSummary:
    """What a grading run did; ``results`` are the saved records, in completion order."""

    results: list[dict] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    workers: int = 0
    swept: list[str] = field(default_factory=list)  # debris of crashed runs, removed

    @property
    def graded(self) -> list[dict]:
        return [r for r in self.results if r.get("status") == "graded"]

    @property
    def errors(self) -> list[dict]:
        return [r for r in self.results if r.get("status") != "graded"]

    def per_minute(self) -> float:
        return 60.0 * len(self.results) / self.seconds if self.seconds > 0 else 0.0


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def find_submissions(course: str | os.PathLike, assignment: str | None = None,
                     students: Iterable[str] | None = None) -> list[Job]:
    """Every ``submitted/<student>/<assignment>/`` folder, optionally filtered.

    Raises ``ValueError`` naming the students asked for that have no submission.
    """
    root = Path(course) / "submitted"
    wanted = set(students) if students else None
    jobs = []
    if root.is_dir():
        for student_dir in sorted(root.iterdir()):
            if student_dir.name.startswith(".") or not student_dir.is_dir():
                continue
            if wanted is not None and student_dir.name not in wanted:
                continue
            for sub in sorted(student_dir.iterdir()):
                if sub.is_dir() and not sub.is_symlink() and (
                        assignment is None or sub.name == assignment):
                    jobs.append(Job(sub.name, student_dir.name, sub, ""))
    if wanted:
        missing = wanted - {j.student for j in jobs}
        if missing:
            what = f"assignment {assignment!r}" if assignment else "any assignment"
            raise ValueError(f"no submission of {what} for student(s) {sorted(missing)} under "
                             f"{root}; collect them first (python -m autograder collect).")
    return jobs


def plan(course: str | os.PathLike, jobs: list[Job], force: bool = False
         ) -> tuple[list[Job], list[tuple[str, str]]]:
    """Split ``jobs`` into those to grade and those already graded (skipped)."""
    todo, skipped = [], []
    for job in jobs:
        digest = submission_digest(job.folder)
        job = Job(job.assignment, job.student, job.folder, digest)
        if not force and is_done(load_record(course, job.assignment, job.student), digest):
            skipped.append((job.student, job.assignment))
        else:
            todo.append(job)
    return todo, skipped


def resolve(spec: str | Callable) -> Callable:
    """``"package.module:function"`` -> the function (callables pass through)."""
    if callable(spec):
        return spec
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"grader {spec!r} must look like 'package.module:function'")
    return getattr(importlib.import_module(module), name)


def grade_task(grader: str | Callable, course: str, assignment: str, student: str,
               kwargs: Mapping[str, Any]) -> str:
    """The work of one Dask task: grade one submission, return the result as JSON text.

    Runs on a worker. The result travels back as text rather than as a Python
    object so the coordinator only ever parses data.
    """
    started = time.monotonic()
    result = dict(resolve(grader)(course, assignment, student, **dict(kwargs)))
    result.setdefault("timings", {})
    if isinstance(result["timings"], dict):
        result["timings"]["worker_seconds"] = round(time.monotonic() - started, 3)
    result["student"], result["assignment"] = student, assignment
    return json.dumps(result, default=_jsonable)


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def _error_result(job: Job, message: str, source: str) -> dict:
    result = error_result(job.student, job.assignment, message).to_json()
    result["error_source"] = source
    result["max_score"] = None  # unknown here: the grader never ran
    return result


@contextmanager
def _sigint_ignored():
    """Start worker processes that ignore SIGINT (they inherit it).

    Ctrl-C in a terminal reaches every process of the foreground group; the
    coordinator alone should handle it (save, cancel, shut the cluster down)
    instead of every worker printing its own traceback.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class DaskCluster:
    """A Dask client on a fresh LocalCluster or on an existing scheduler."""

    def __init__(self, jobs: int, scheduler: str | None, allowed_failures: int,
                 client=None):
        import dask
        from distributed import Client, LocalCluster

        self.cluster = None
        self.own_client = client is None
        if client is not None:
            self.client = client
            self.workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
            return
        # worker-saturation 1.0: a single-threaded worker holds exactly the task it
        # runs. With Dask's default (1.1, rounded up to 2 tasks) an innocent
        # submission queued behind a worker-killing one is counted as a suspect
        # each time that worker dies, and ends as an error row it did not earn.
        with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures,
                              "distributed.scheduler.worker-saturation": 1.0}):
            if scheduler:
                self.client = Client(scheduler, timeout="30s")
            else:
                with _sigint_ignored():
                    self.cluster = LocalCluster(n_workers=jobs, threads_per_worker=1,
                                                processes=True, dashboard_address=None,
                                                silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
        self.workers = len(self.client.scheduler_info(n_workers=-1).get("workers", {})) \
            if scheduler else jobs

    def close(self) -> None:
        if not self.own_client:
            return
        # Workers still sending heartbeats while the scheduler goes print
        # CommClosedError tracebacks of no interest to anyone: quiet during close.
        quiet = [logging.getLogger(name) for name in ("distributed", "tornado")]
        levels = [log.level for log in quiet]
        for log in quiet:
            log.setLevel(logging.CRITICAL)
        try:
            self.client.close()
        finally:
            try:
                if self.cluster is not None:
                    self.cluster.close()
            finally:
                for log, level in zip(quiet, levels, strict=True):
                    log.setLevel(level)


def grade_class(course: str | os.PathLike, assignment: str | None = None, *,
                students: Iterable[str] | None = None, jobs: int | None = None,
                scheduler: str | None = None, force: bool = False, db: str | None = None,
                grader: str | Callable = DEFAULT_GRADER,
                grader_kwargs: Mapping[str, Any] | None = None,
                retries: int = 1, allowed_failures: int = 2, progress: bool = True,
                on_result: Callable[[dict], None] | None = None, client=None) -> GradeSummary:
    """Grade every (or the chosen) submission of a course on Dask.

    Parameters
    ----------
    course : path
        The course root (``submitted/`` in, ``autograded/``, ``grading/`` and
        the gradebook out).
    assignment : str, optional
        Grade only this assignment (default: every submitted assignment).
    students : iterable of str, optional
        Grade only these students.
    jobs : int, optional
        Worker processes of the local cluster (default: the number of cores).
        Ignored with ``scheduler``.
    scheduler : str, optional
        Address of an existing Dask scheduler, ``tcp://host:port``.
    force : bool
        Grade again what is already graded.
    db : str, optional
        nbgrader database URL (default SQLite in the course root).
    grader : callable or str
        The grading function (or ``"module:function"``), run on the workers as
        ``function(course, assignment, student, **grader_kwargs) -> dict``.
    retries : int
        Extra attempts when the grading function raises (a dead worker is
        handled separately, see ``allowed_failures``).
    allowed_failures : int
        Worker deaths one task may cause before it is given up (applies to the
        local cluster; an existing scheduler keeps its own setting).
    on_result : callable, optional
        Called with each saved record, in the coordinating process.
    client : distributed.Client, optional
        An already connected client to use (and leave open) instead of
        ``jobs``/``scheduler``.
    """
    course = Path(course).resolve()
    started = time.monotonic()
    todo, skipped = plan(course, find_submissions(course, assignment, students), force)
    kwargs = dict(grader_kwargs or {})
    # Debris of a grader that crashed earlier (folders holding probe inputs,
    # empty cgroups) goes before anything else starts.
    summary = GradeSummary(skipped=skipped, swept=sweep(kwargs.get("work_root")))
    if not todo:
        return summary
    # One seed per run: every submission gets the same hidden inputs, so the
    # reference outputs are computed once per worker.
    kwargs.setdefault("seed", int.from_bytes(os.urandom(4), "little"))
    cluster = DaskCluster(jobs or default_jobs(), scheduler, allowed_failures, client)
    summary.workers = cluster.workers
    _grade_on(cluster, course, todo, summary, grader=grader, kwargs=kwargs,
              retries=retries, db=db, progress=progress, on_result=on_result)
    summary.seconds = time.monotonic() - started
    return summary


def _grade_on(cluster: DaskCluster, course: Path, todo: list, summary: GradeSummary, *,
              grader: str | Callable, kwargs: Mapping[str, Any], retries: int,
              db: str | None, progress: bool,
              on_result: Callable[[dict], None] | None) -> None:
    """Submit every job of ``todo`` to ``cluster`` and record each result as it
    arrives; Ctrl-C marks ``summary`` interrupted. Whatever happens, what is left
    is cancelled, the cluster closed and the grading folders swept."""
    futures: dict = {}
    recorder = None
    try:
        for job in todo:
            futures[cluster.client.submit(
                grade_task, grader, str(course), job.assignment, job.student, kwargs,
                key=f"grade-{job.assignment}-{job.student}-{uuid.uuid4().hex[:8]}",
                pure=False, retries=retries)] = job
        # The workers are busy by now; opening the gradebook (nbgrader is slow
        # to import) overlaps with the first submissions.
        recorder = Recorder(course, db)
        _record_as_completed(futures, recorder, summary, progress, on_result)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        for future in list(futures):
            future.cancel()
        if recorder is not None:
            recorder.close()
        cluster.close()
        # A worker killed mid-run left its grading folder: remove it now.
        summary.swept += sweep(kwargs.get("work_root"))


def _record_as_completed(futures: dict, recorder: Recorder, summary: GradeSummary,
                         progress: bool, on_result: Callable[[dict], None] | None) -> None:
    """Record each result as it arrives (removing its future from ``futures``)."""
    from distributed import as_completed

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(futures), unit="submission", desc="grading", dynamic_ncols=True)
    try:
        for future in as_completed(list(futures)):
            job = futures.pop(future)
            result = _collect(future, job)
            result["submission_digest"] = job.digest
            with sigint_deferred():
                record = recorder.record(result)
            summary.results.append(record)
            if bar is not None:
                bar.set_postfix_str(f"{job.student}: {record.get('status')}", refresh=False)
                bar.update(1)
            if on_result is not None:
                on_result(record)
    finally:
        if bar is not None:
            bar.close()


def _collect(future, job: Job) -> dict:
    """The result of a finished future, or an error row saying what went wrong."""
    from distributed import KilledWorker

    try:
        return json.loads(future.result())
    except KilledWorker:
        return _error_result(job, "grading killed its worker process repeatedly and was "
                                  "given up; the submission may exhaust memory or kill its "
                                  "parent. Grade it alone with --student to investigate.",
                             WORKER_DIED)
    except Exception as exc:  # the grading function itself failed: retry next run
        return _error_result(job, f"the grader failed: {type(exc).__name__}: {exc}",
                             MACHINERY)
