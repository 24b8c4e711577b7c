"""Step 3 of grading: the two sandboxed runs, and what each one is given.

Each run gets a folder of its own, holding only what it must compute on:

* the **notebook run**: the submitted files and the rebuilt notebook (test
  cells as released, no hidden test), and the answer probes' requests
  (variable names, and the inputs of a notebook function);
* the **probe run**: a pristine copy of the submitted ``cs231n_lib``, the
  assignment's ``calls.py`` (what to call, never what to expect) and the
  drawn inputs.

Neither gets a probe's expected values, tolerances, answer key or hidden
test: every comparison happens outside, in ``autograder.grading.verify``.
The program that runs inside is ``autograder.inside.runner``, imported from
its own read-only folder (``autograder/inside`` and the package's tiny
``__init__``), not copied; the rest of the autograder, the course and the
reference library are hidden.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from autograder.course import AUTOGRADER_DIR, PACKAGE
from autograder.grading.prepare import PreparedSubmission
from autograder.grading.probes import NAME_SEP
from autograder.grading.reference import Reference
from autograder.sandbox import Limits, SandboxResult, WarmStartError
from autograder.sandbox import run as sandbox_run
from autograder.sandbox import warm as warm_start

RUNNER = "autograder.inside.runner"
INSIDE_DIR = AUTOGRADER_DIR / "inside"


class SandboxBroken(RuntimeError):
    """The sandbox itself could not be built: a grader problem, never the student's."""


@dataclass
class Phase:
    """One sandboxed run: its folder, its time, and the runner's config."""

    name: str                      # "notebook" | "probes"
    work: Path                     # ro/ (read-only for the student) and rw/
    cwd: Path
    config: dict = field(default_factory=dict)

    @property
    def ro(self) -> Path:
        return self.work / "ro"

    @property
    def rw(self) -> Path:
        return self.work / "rw"

    @property
    def out(self) -> Path:
        return self.rw / "out"


@dataclass
class PhaseOutcome:
    """How a run ended and where its (untrusted) files came back."""

    result: SandboxResult
    back: Path


def _new_phase(base: Path, name: str) -> Phase:
    work = base / name
    phase = Phase(name, work, work / "rw" / "tmp")
    for d in (phase.ro, phase.out, phase.rw / "home", phase.rw / "tmp"):
        d.mkdir(parents=True)
    return phase


def notebook_phase(base: Path, prepared: PreparedSubmission, ref: Reference,
                   limits: Limits, seconds: float) -> Phase:
    """The notebook run's folder: the private copy, no probe file, no inputs."""
    phase = _new_phase(base, "notebook")
    nb_dir = phase.rw / "nb"
    shutil.move(str(prepared.folder), nb_dir)
    prepared.folder = nb_dir
    phase.cwd = nb_dir
    phase.config = {
        "notebook": str(nb_dir / prepared.notebook_name),
        "executed": str(phase.out / "executed.ipynb"),
        "notebook_report": str(phase.out / "notebook.json"),
        "cell_seconds": limits.cell_seconds, "output_bytes": limits.output_bytes,
        # The runner's own start-up and the saving of the notebook come out
        # of the run's wall limit too.
        "notebook_seconds": max(1.0, seconds * 0.85 - 3.0),
        "answers": ref.answer_requests(), "answers_file": str(phase.out / "answers.json"),
    }
    return phase


def probe_phase(base: Path, prepared: PreparedSubmission, ref: Reference,
                limits: Limits) -> Phase:
    """The probe run's folder: the pristine library, ``calls.py`` and the inputs."""
    phase = _new_phase(base, "probes")
    (phase.ro / "lib").mkdir()
    if prepared.has_library:
        shutil.copytree(prepared.folder / PACKAGE, phase.ro / "lib" / PACKAGE)
    if ref.probe_set.calls_file is not None:
        shutil.copyfile(ref.probe_set.calls_file, phase.ro / "calls.py")
    np.savez(phase.ro / "inputs.npz", **{f"{p}{NAME_SEP}{k}": v
                                         for p, arrays in ref.inputs.items()
                                         for k, v in arrays.items()})
    phase.config = {
        "probes": [[p.name, p.call] for p in ref.probes],
        "calls_file": str(phase.ro / "calls.py"), "library_dir": str(phase.ro / "lib"),
        "inputs": str(phase.ro / "inputs.npz"), "probe_dir": str(phase.out / "probes"),
        "outputs": str(phase.out / "outputs.npz"), "errors": str(phase.out / "errors.json"),
        "probe_report": str(phase.out / "probes.json"),
        "probe_seconds": limits.cell_seconds,
    }
    return phase


def sandbox_env(phase: Phase) -> dict[str, str]:
    """The complete environment of a run: nothing of the grader's own."""
    rw = phase.rw
    return {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(rw / "home"), "TMPDIR": str(rw / "tmp"), "LANG": "C.UTF-8",
        "IPYTHONDIR": str(rw / "home" / ".ipython"),
        "JUPYTER_CONFIG_DIR": str(rw / "home" / ".jupyter"),
        "JUPYTER_DATA_DIR": str(rw / "home" / ".local" / "share" / "jupyter"),
        "JUPYTER_RUNTIME_DIR": str(rw / "tmp" / "jupyter-runtime"),
        "JUPYTER_PLATFORM_DIRS": "1", "MPLCONFIGDIR": str(rw / "tmp" / "matplotlib"),
        "PYTHONNOUSERSITE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        # glibc reserves 64 MiB of address space per thread arena; RLIMIT_AS counts it.
        "MALLOC_ARENA_MAX": "2",
    }


def inside_paths() -> list[str]:
    """What of the autograder a sandbox may see: the runner's folder and the
    package's ``__init__`` (so ``python -m autograder.inside.runner`` imports)."""
    return [str(AUTOGRADER_DIR / "__init__.py"), str(INSIDE_DIR)]


def hidden_paths(course: Path, lib, extra=()) -> list[str]:
    """The course, the reference library and every trusted part of the autograder."""
    hidden = [str(course)]
    hidden += [str(p) for p in sorted(AUTOGRADER_DIR.iterdir())
               if p.name not in ("__init__.py", "inside", "__pycache__")]
    lib_file = getattr(lib, "__file__", None)
    if lib_file:
        hidden.append(str(Path(lib_file).resolve().parent))
    return hidden + [str(Path(h).resolve()) for h in extra]


def run_phase(phase: Phase, limits: Limits, seconds: float, hide: list[str], *,
              warm: bool, notes: list[str]) -> PhaseOutcome:
    """Run ``autograder.inside.runner`` on ``phase`` in a sandbox of ``seconds``."""
    config = dict(phase.config, probe_total_seconds=max(1.0, seconds - 2.0))
    (phase.ro / "config.json").write_text(json.dumps(config))
    args = [phase.name, str(phase.ro / "config.json")]
    result_dir = phase.work.parent / f"result-{phase.name}"
    kwargs = dict(writable=["rw"], collect=["rw/out"], cwd=str(phase.cwd), hide=hide,
                  expose=inside_paths(), env=sandbox_env(phase), result_dir=str(result_dir),
                  entry=("runner", args))
    wall_limited = replace(limits, submission_seconds=seconds)
    argv = [sys.executable, "-I", "-B", "-m", RUNNER, *args]
    res = None
    if warm and sandbox_run.namespaces_available():
        try:
            with warm_start.borrow() as starter:
                res = sandbox_run.run_sandboxed(argv, str(phase.work), wall_limited,
                                                starter=starter, **kwargs)
        except WarmStartError as exc:
            # The helper failed (the next run gets a new one): start cold.
            notes.append(f"the {phase.name} run started cold: {exc}")
            shutil.rmtree(result_dir, ignore_errors=True)
    if res is None:
        res = sandbox_run.run_sandboxed(argv, str(phase.work), wall_limited, **kwargs)
    if "sandbox setup failed" in res.note:
        raise SandboxBroken(f"the sandbox could not be built: {res.note}")
    return PhaseOutcome(res, result_dir / "rw" / "out")


def how_it_ended(phase: str, res: SandboxResult, limits: Limits) -> str | None:
    """A flag for a run that did not end normally, in words an instructor reads."""
    if res.ended == "timeout":
        return (f"time limit: the {phase} run was stopped after {res.wall_seconds:.0f} s "
                f"(submission limit {limits.submission_seconds:g} s)")
    if res.ended == "killed-by-limit":
        return f"resource limit: the {phase} run was killed by the kernel"
    if res.ended == "crashed":
        said = [ln for ln in res.stderr_tail.splitlines()
                if ln.strip() and "Kernel is running over TCP" not in ln]
        return (f"the {phase} run crashed (exit {res.exit_code}, signal {res.signal})"
                + (f": {' / '.join(said[-3:])[-300:]}" if said else ""))
    return None
