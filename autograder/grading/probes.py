"""Hidden checks of library gaps whose verdict is decided outside the sandbox.

A probe is trusted code that calls into *some* copy of ``cs231n_lib``. The
grader runs every probe twice: inside the sandbox against the student's copy,
and in the trusted process against the reference copy. Only plain arrays
cross back (``.npz``, no pickles), and the trusted process compares them.
Inputs are drawn in the trusted process from a per-run seed, so a student
who reads a probe file learns the recipe but not the numbers.

An *answer probe* checks what a student typed into the notebook rather than
library code: the notebook run exports the named variables (and, for a
function the student defines in the notebook, its values on inputs drawn here)
as plain JSON, and the trusted process compares them with answers computed
from the reference library or stated as constants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    """

    grade_id: str
    name: str
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]]
    run: Callable[[ModuleType, Arrays], dict[str, np.ndarray]]
    rtol: float = 1e-6


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
    """

    grade_id: str
    name: str
    variables: tuple[str, ...]
    expected: Callable[[ModuleType, Arrays], dict[str, Any]]
    function: str = ""
    make_inputs: Callable[[np.random.Generator], dict[str, np.ndarray]] = _no_inputs
    rtol: float = 1e-6
    atol: float = 0.0
