"""The probe host: a fresh interpreter that imports the submitted ``cs231n_lib``
from its pristine read-only copy, loads ``inputs.npz`` and runs the probes'
calls in turn, each under its own try/except, saying on a pipe which probe it
has begun and ended."""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
import types

from autograder.inside.protocol import SEP


def _load_module(name: str, path: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _plain_outputs(result) -> dict:
    import numpy as np

    if not isinstance(result, dict):
        raise TypeError(f"probe returned {type(result).__name__}, not a dict")
    out = {}
    for key, value in result.items():
        arr = np.asarray(value)
        if arr.dtype == object or arr.dtype.kind not in "biufc":
            raise TypeError(f"output {key!r} is not numeric (dtype {arr.dtype})")
        out[str(key)] = arr
    return out


def probe_host(cfg: dict, start: int, report_fd: int) -> int:
    """Run probes ``start, start+1, ...``; say ``BEGIN i`` / ``END i`` on
    ``report_fd`` (stdout goes nowhere, so nothing printed can pose as these)."""
    import numpy as np

    report = os.fdopen(report_fd, "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    # The student's copy (read-only) comes first, also for calls that import
    # cs231n_lib themselves.
    sys.path.insert(0, cfg["library_dir"])
    calls = _load_module("course_calls", cfg["calls_file"])
    with np.load(cfg["inputs"], allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    import cs231n_lib

    out_dir = cfg["probe_dir"]
    probes = cfg["probes"]
    for i in range(start, len(probes)):
        name, call = probes[i]
        report.write(f"BEGIN {i}\n")
        prefix = name + SEP
        inputs = {k[len(prefix):]: v.copy() for k, v in arrays.items() if k.startswith(prefix)}
        try:
            outputs = _plain_outputs(getattr(calls, call)(cs231n_lib, inputs))
            np.savez(os.path.join(out_dir, f"{i}.npz"), **outputs)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code included
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            with open(os.path.join(out_dir, f"{i}.error"), "w") as fh:
                fh.write("".join(tb)[-4000:])
        report.write(f"END {i}\n")
    return 0
