"""Hidden checks of library gaps whose verdict is decided outside the sandbox.

An assignment's probes live in ``<course>/probes/<assignment>/``, in two files
on the two sides of the sandbox's wall:

* ``calls.py``: functions ``f(lib, inputs) -> dict of arrays`` that call into
  *some* copy of ``cs231n_lib``. The grader runs each twice: inside the
  sandbox on the student's copy, and in the trusted process on the reference
  copy. It is the only probe file that enters the sandbox: it imports only
  the standard library and numpy and holds nothing that decides a score.
* ``judge.py``: the ``PROBES`` and ``ANSWER_PROBES`` records (which cell, how
  to draw inputs, tolerances, expected answers). It never enters the sandbox.

Only plain arrays cross back (``.npz``, no pickles), and the trusted process
compares them. Inputs are drawn in the trusted process from a per-run seed.

An *answer probe* checks what a student typed into the notebook rather than
library code: the notebook run exports the named variables (and, for a
function the student defines in the notebook, its values on inputs drawn here)
as plain JSON, and the trusted process compares them with answers computed
from the reference library or stated as constants.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Probe:
    """One hidden check.

    Parameters
    ----------
    grade_id : str
        The nbgrader ``grade_id`` of the test cell whose points this probe
        decides (all probes of a cell must pass for its points).
    name : str
        Unique within the assignment; used as a prefix in the ``.npz`` files.
    make_inputs : callable
        ``make_inputs(rng) -> dict[str, ndarray]``; runs on the trusted side.
    run : callable
        ``run(lib, inputs) -> dict[str, ndarray | float]`` where ``lib`` is the
        imported ``cs231n_lib`` package. Must use only ``lib`` and numpy.
    rtol : float
        Largest relative error (``cs231n_lib.gradient_check.rel_error``)
        accepted for each output.
    checks : str
        The property the probe checks, in a few words a student may read
        before the due date ("stride 2 with padding 1", "ties in the max"):
        what kind of case failed, never its inputs.
    """

    grade_id: str
    name: str
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    run: Callable[[ModuleType, Arrays], dict[str, np.ndarray]]
    rtol: float = 1e-6
    checks: str = ""

    @property
    def call(self) -> str:
        """The name of ``run`` in the assignment's ``calls.py``: all the sandbox is told."""
        return self.run.__name__


def _no_inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {}


@dataclass(frozen=True)
class AnswerProbe:
    """One hidden check of an answer written in the notebook.

    The notebook run reads ``variables`` from the kernel's namespace just
    before the test cell ``grade_id`` runs (the values that cell checks; a
    later cell may reuse a name). When ``function`` is set, it also calls
    that notebook function once on each array of ``make_inputs(rng)``. All of
    it comes back as JSON numbers, strings, lists and dicts; the verdict is
    decided in the trusted process.

    Parameters
    ----------
    grade_id : str
        The test cell whose points this probe decides (with any other probes
        of that cell).
    name : str
        Unique within the assignment, also among the library probes.
    variables : tuple of str
        Names the student assigns in the notebook.
    expected : callable
        ``expected(lib, inputs) -> dict``, run on the trusted side with the
        *reference* ``cs231n_lib`` and the drawn inputs. Keys: every name of
        ``variables`` and, when ``function`` is set, every key of the inputs
        (the function's value on that input). Values: numbers, strings,
        ``None``, and lists or dicts of them (numpy arrays become lists).
    function : str
        A function defined in the notebook, called as ``function(x)`` for
        each drawn input ``x`` (float64 arrays). Empty: no call.
    make_inputs : callable
        ``make_inputs(rng) -> dict[str, ndarray]``, the arguments of
        ``function``; runs on the trusted side.
    rtol, atol : float
        A number passes when ``|got - expected| <= atol`` or its relative
        error (CS231n's) is at most ``rtol``. Strings, ``None`` and the
        structure of lists and dicts must match exactly.
    checks : str
        The property checked, in a few words a student may read before the
        due date (as :attr:`Probe.checks`): never the expected answer.
    """

    grade_id: str
    name: str
    variables: tuple[str, ...]
    expected: Callable[[ModuleType, Arrays], dict[str, Any]]
    function: str = ""
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]] = _no_inputs
    rtol: float = 1e-6
    atol: float = 0.0
    checks: str = ""


# --------------------------------------------------------------------------- loading

CALLS_FILE = "calls.py"    # the sandbox side: what to call in the student's library
JUDGE_FILE = "judge.py"    # the trusted side: inputs, tolerances, expected answers
from autograder.inside.protocol import SEP as NAME_SEP  # noqa: E402


@dataclass(frozen=True)
class ProbeSet:
    """The probes of one assignment, as ``<course>/probes/<assignment>/`` defines them.

    ``calls_file`` is the only file of the folder that enters the sandbox;
    every ``Probe.run`` is a function of it, named by ``Probe.call``.
    """

    probes: tuple
    answer_probes: tuple
    calls_file: Path | None

    @property
    def grade_ids(self) -> set[str]:
        return {p.grade_id for p in self.probes + self.answer_probes}


NO_PROBES = ProbeSet((), (), None)


def probe_folder(course: str | os.PathLike, assignment: str) -> Path:
    return Path(course) / "probes" / assignment


def load_probe_set(folder: str | os.PathLike) -> ProbeSet:
    """Import ``folder``'s ``judge.py`` (trusted instructor code) and check it.

    Raises ``ProbeFileError`` for a folder that breaks the contract: a
    ``run`` that is not a function of ``calls.py``, a repeated name, an
    answer probe whose names are not Python names.
    """
    folder = Path(folder).resolve()
    if not (folder / JUDGE_FILE).is_file():
        if folder.with_suffix(".py").is_file():
            raise ProbeFileError(
                f"{folder.with_suffix('.py')}: probes now live in a folder "
                f"{folder}/ with {CALLS_FILE} (what the sandbox runs) and {JUDGE_FILE} "
                "(inputs, tolerances and expected answers); split the file")
        return NO_PROBES
    judge = judge_module(folder)
    calls = sys.modules.get(judge.__name__.rsplit(".", 1)[0] + ".calls")
    probes = tuple(getattr(judge, "PROBES", ()))
    answer_probes = tuple(getattr(judge, "ANSWER_PROBES", ()))
    _check_probe_set(folder, probes, answer_probes, calls)
    return ProbeSet(probes, answer_probes, folder / CALLS_FILE if probes else None)


def judge_module(folder: str | os.PathLike) -> ModuleType:
    """The imported ``judge.py`` of a probe folder (for its constants)."""
    return importlib.import_module(f"{_import_folder(Path(folder).resolve())}.judge")


class ProbeFileError(ValueError):
    """A course's probe folder breaks the contract (an instructor's mistake)."""


_IMPORT_LOCK = threading.RLock()


def _import_folder(folder: Path) -> str:
    """Import ``folder`` as a package under a private name; return the name.
    Re-imported when any of its files changed (an instructor fixing a probe)."""
    stamp = ",".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(folder.glob("*.py")))
    digest = hashlib.sha256(f"{folder}|{stamp}".encode()).hexdigest()[:12]
    name = f"_course_probes_{digest}"
    with _IMPORT_LOCK:
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(
                name, folder / "__init__.py", submodule_search_locations=[str(folder)])
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            if (folder / "__init__.py").is_file():
                spec.loader.exec_module(module)
            importlib.import_module(f"{name}.judge")
    return name


def _check_probe_set(folder: Path, probes, answer_probes, calls) -> None:
    names = [p.name for p in probes + answer_probes]
    if len(set(names)) != len(names) or any(NAME_SEP in n or "/" in n for n in names):
        raise ProbeFileError(f"{folder}: probe names must be unique and free of "
                             f"'{NAME_SEP}' and '/'")
    for probe in probes:
        run = probe.run
        if calls is None or getattr(calls, getattr(run, "__name__", ""), None) is not run:
            raise ProbeFileError(
                f"{folder}: probe {probe.name}: its run must be a function defined in "
                f"{CALLS_FILE} (only that file enters the sandbox)")
    for probe in answer_probes:
        wanted = list(probe.variables) + ([probe.function] if probe.function else [])
        if not all(isinstance(n, str) and n.isidentifier() for n in wanted):
            raise ProbeFileError(f"{folder}: answer probe {probe.name}: variables and "
                                 "function must be Python names")
