"""Hidden checks of library gaps whose verdict is decided outside the sandbox.

A probe is trusted code that calls into *some* copy of ``cs231n_lib``. The
grader runs every probe twice: inside the sandbox against the student's copy,
and in the trusted process against the reference copy. Only plain arrays
cross back (``.npz``, no pickles), and the trusted process compares them.
Inputs are drawn in the trusted process from a per-run seed, so a student
who reads a probe file learns the recipe but not the numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

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
