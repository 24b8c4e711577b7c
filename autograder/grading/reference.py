"""Step 2 of grading: the probes' inputs and the reference results (trusted side only).

Inputs are drawn from the grading run's seed; the reference library computes
what every probe and answer probe should give. Nothing here is sent into the
sandbox except the inputs (``inputs.npz``) and the answer probes' plain
requests; the expected values stay in this process.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import importlib.util
import io
import os
import sys
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from autograder.course import PACKAGE
from autograder.grading import verify
from autograder.grading.probes import NO_PROBES, ProbeSet, load_probe_set

# Loading the reference library and computing reference outputs happen once
# per process for many grading threads: one at a time, or a second thread
# finds a half-imported package in sys.modules (and its failures get cached).
REFERENCE_LOCK = threading.RLock()


def load_package(path: str | os.PathLike, alias: str | None = None) -> ModuleType:
    """Import the package folder ``path`` under ``alias`` (for a reference library
    kept somewhere other than the installed ``cs231n_lib``)."""
    path = Path(path)
    alias = alias or f"_reference_{path.name}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    with REFERENCE_LOCK:
        if alias in sys.modules:
            return sys.modules[alias]
        spec = importlib.util.spec_from_file_location(alias, path / "__init__.py",
                                                      submodule_search_locations=[str(path)])
        module = importlib.util.module_from_spec(spec)
        # In sys.modules before it runs (its relative imports need that), so
        # only under the lock: another thread must never see it half-built.
        sys.modules[alias] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(alias, None)
            raise
        return module


def reference_library(reference_lib: ModuleType | str | os.PathLike | None) -> ModuleType:
    """The reference library: the installed one, a module, or a package folder."""
    with REFERENCE_LOCK:
        if reference_lib is None:
            return importlib.import_module(PACKAGE)
        if isinstance(reference_lib, ModuleType):
            return reference_lib
        return load_package(reference_lib)


def draw_inputs(probes: Sequence, seed: int, stream: str) -> dict[str, dict]:
    """Each probe's inputs, drawn from ``seed`` on a stream of its own."""
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(zlib.crc32(stream.encode()),)))
    return {probe.name: verify.plain_outputs(probe.make_inputs(rng)) for probe in probes}


@dataclass(frozen=True)
class Reference:
    """What the trusted side prepares once per probe folder, seed and library."""

    probe_set: ProbeSet
    inputs: dict            # probe name -> input arrays
    outputs: dict           # probe name -> reference outputs, or the exception
    answer_inputs: dict     # answer probe name -> the function's input arrays
    answers: dict           # answer probe name -> reference answers, or the exception

    @property
    def probes(self) -> tuple:
        return self.probe_set.probes

    @property
    def answer_probes(self) -> tuple:
        return self.probe_set.answer_probes

    def answer_requests(self) -> list[dict]:
        """The notebook run's export requests, one per answer probe (plain JSON):
        names and the function's inputs, never an expected value."""
        return [{"grade_id": p.grade_id, "name": p.name, "variables": list(p.variables),
                 "function": p.function,
                 "inputs": [[k, np.asarray(v, dtype=np.float64).tolist()]
                            for k, v in self.answer_inputs[p.name].items()]
                 if p.function else []}
                for p in self.answer_probes]


NO_REFERENCE = Reference(NO_PROBES, {}, {}, {}, {})


def _reference_answers(probe, lib: ModuleType, inputs: dict) -> dict:
    # The inputs travel as Python literals of floats: nan and inf have none.
    if not all(np.all(np.isfinite(v)) for v in inputs.values()):
        raise ValueError("the inputs of an answer probe must be finite")
    given = {k: v.copy() for k, v in inputs.items()}
    with contextlib.redirect_stdout(io.StringIO()):
        raw = probe.expected(lib, given)
    answers = {str(k): verify.reference_answer(v) for k, v in dict(raw).items()}
    wanted = set(probe.variables) | (set(inputs) if probe.function else set())
    if set(answers) != wanted:
        raise ValueError(f"expected() gives {sorted(answers)}, the probe exports "
                         f"{sorted(wanted)}")
    return answers


def _run_each(items, compute) -> dict:
    """``compute(item)`` per item; an instructor's bug becomes that item's exception."""
    out: dict = {}
    for item in items:
        try:
            # Checkers print their progress; the grader's own output stays clean.
            with contextlib.redirect_stdout(io.StringIO()):
                out[item.name] = compute(item)
        except Exception as exc:  # noqa: BLE001 - reported per probe
            out[item.name] = exc
    return out


@functools.lru_cache(maxsize=32)
def _reference_cached(folder: str, stamp: str, seed: int, assignment: str,
                      lib_name: str) -> Reference:
    probe_set = load_probe_set(folder)
    lib = sys.modules[lib_name]
    inputs = draw_inputs(probe_set.probes, seed, assignment)
    outputs = _run_each(probe_set.probes, lambda p: verify.plain_outputs(
        p.run(lib, {k: v.copy() for k, v in inputs[p.name].items()})))
    # Their own stream of the seed: adding answer probes changes no library input.
    answer_inputs = draw_inputs(probe_set.answer_probes, seed, assignment + "/answers")
    answers = _run_each(probe_set.answer_probes,
                        lambda p: _reference_answers(p, lib, answer_inputs[p.name]))
    return Reference(probe_set, inputs, outputs, answer_inputs, answers)


def _stamp(folder: Path) -> str:
    """Changes when any file of the probe folder changes (a probe fixed mid-term)."""
    if not folder.is_dir():
        return ""
    return ",".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(folder.glob("*.py")))


def reference_for(folder: str | os.PathLike, seed: int, assignment: str,
                  lib: ModuleType) -> Reference:
    """The probes of ``folder`` with their inputs and reference results (cached
    per folder, its files' times, the seed and the library; thread-safe)."""
    folder = Path(folder)
    stamp = _stamp(folder)
    if not stamp:
        load_probe_set(folder)  # a probe file in the old single-file form is refused
        return NO_REFERENCE
    with REFERENCE_LOCK:
        sys.modules.setdefault(lib.__name__, lib)
        return _reference_cached(str(folder.resolve()), stamp, seed, assignment, lib.__name__)
