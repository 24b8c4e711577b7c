"""The program that runs inside the sandbox, next to the student's code.

It is copied into the sandbox's read-only folder and started there by
``autograder.grade_one``; it needs nothing from the course or from the
reference library, only the standard library, numpy, nbformat and nbclient.
Nothing it writes is trusted: the grading process treats every file it
leaves as hostile input.

Two phases, each in a sandbox of its own (so nothing the notebook's code
did, not even killing this program, reaches the probes), driven by a JSON
config:

1. ``runner.py notebook CONFIG``: execute the prepared notebook with
   nbclient, cell by cell (per-cell timeout, errors allowed, each cell's
   saved output capped), then save the executed notebook and a per-cell
   report. A cell that outlives its timeout is interrupted; a kernel that
   ignores the interrupt is killed and the remaining cells are marked as
   not run.
2. ``runner.py probes CONFIG``: in a *fresh* interpreter
   (``runner.py probe-host CONFIG START FD``, a separate process), import the
   submitted ``cs231n_lib`` from its pristine read-only copy, load
   ``inputs.npz`` and run every probe's ``run(lib, inputs)``, each under its
   own try/except and time limit: a probe that hangs or kills its
   interpreter is recorded and the host restarts at the next probe. Results
   go to ``outputs.npz`` (plain arrays) and ``errors.json``.
"""

from __future__ import annotations

import asyncio
import ctypes
import importlib.util
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import types

SEP = "::"  # between a probe's name and an output's key in outputs.npz
TRUNCATION_NOTE = "\n[output truncated by the grader: {dropped} more bytes were dropped]\n"


def _no_ptrace() -> None:
    """Make this process undumpable so the student's processes (same uid) cannot
    attach to it and rewrite what it reports."""
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------------------
# Phase 1: the notebook.

def _output_size(msg: dict) -> int:
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    data = content.get("data", {})
    size = 0
    for value in data.values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value))
    if "traceback" in content:
        size += sum(len(line) for line in content["traceback"])
    return size + 64


def _make_client_class():
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """nbclient's client with each cell's saved output capped at ``output_cap``."""

        output_cap = 1 << 20

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.used: dict[int, int] = {}
            self.dropped: dict[int, int] = {}

        def output(self, outs, msg, display_id, cell_index):
            size = _output_size(msg)
            used = self.used.get(cell_index, 0)
            if used + size <= self.output_cap:
                self.used[cell_index] = used + size
                return super().output(outs, msg, display_id, cell_index)
            room = self.output_cap - used
            content = msg.get("content", {})
            if room > 0 and msg.get("msg_type") == "stream":
                kept = dict(msg, content=dict(content, text=content["text"][:room]))
                self.used[cell_index] = self.output_cap
                super().output(outs, kept, display_id, cell_index)
                size -= room
            self.used[cell_index] = self.output_cap
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
            return None

    return CappedClient


async def _kernel_responds(client, seconds: float) -> bool:
    """After an interrupt: does the kernel answer a trivial request in time?"""
    kc = client.kc
    msg_id = kc.execute("pass", store_history=False)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await kc.shell_channel.get_msg(timeout=max(0.05, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - queue.Empty and friends: keep waiting
            continue
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


async def _execute_notebook(nb, cfg: dict, report: list[dict]) -> None:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output

    client_class = _make_client_class()
    client_class.output_cap = int(cfg["output_bytes"])
    nb_dir = os.path.dirname(cfg["notebook"])
    client = client_class(nb, timeout=int(max(1, cfg["cell_seconds"])), allow_errors=True,
                          kernel_name="python3", interrupt_on_timeout=False,
                          record_timing=False, iopub_timeout=5, startup_timeout=60,
                          shutdown_kernel="immediate",
                          resources={"metadata": {"path": nb_dir}})
    deadline = time.monotonic() + float(cfg["notebook_seconds"])
    stop_reason = ""
    async with client.async_setup_kernel():
        for index, cell in enumerate(nb.cells):
            entry = report[index]
            if cell.cell_type != "code" or not cell.source.strip():
                entry["status"] = "skipped"
                continue
            if stop_reason:
                entry["status"] = "not-run"
                entry["note"] = stop_reason
                continue
            left = deadline - time.monotonic()
            if left <= 1:
                stop_reason = "the notebook's time budget ran out"
                entry["status"] = "not-run"
                entry["note"] = stop_reason
                continue
            client.timeout = int(max(1, min(cfg["cell_seconds"], left)))
            started = time.monotonic()
            try:
                await client.async_execute_cell(cell, index,
                                                execution_count=client.code_cells_executed + 1)
                failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
                entry["status"] = "error" if failed else "ok"
            except CellTimeoutError:
                entry["status"] = "timeout"
                entry["note"] = f"stopped after {client.timeout} s"
                cell.setdefault("outputs", []).append(new_output(
                    "stream", name="stderr",
                    text=f"\n[stopped by the grader: the cell time limit is {client.timeout} s]\n"))
                await client.km.interrupt_kernel()
                if not await _kernel_responds(client, 5.0):
                    stop_reason = f"the kernel ignored the interrupt after cell {index}"
                    await client.km.shutdown_kernel(now=True)
            except DeadKernelError:
                entry["status"] = "kernel-died"
                stop_reason = f"the kernel died in cell {index}"
            except Exception as exc:  # noqa: BLE001 - any client failure ends the notebook
                entry["status"] = "runner-error"
                stop_reason = f"cell {index}: {type(exc).__name__}: {exc}"
            entry["seconds"] = round(time.monotonic() - started, 3)
            if index in client.dropped:
                entry["dropped_output_bytes"] = client.dropped[index]
                cell.setdefault("outputs", []).append(new_output(
                    "stream", name="stderr",
                    text=TRUNCATION_NOTE.format(dropped=client.dropped[index])))


def run_notebook_phase(cfg: dict) -> dict:
    import nbformat

    nb = nbformat.read(cfg["notebook"], as_version=4)
    report = []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        report.append({"grade_id": grade_id, "status": "pending"})
    started = time.monotonic()
    error = ""
    try:
        asyncio.run(_execute_notebook(nb, cfg, report))
    except Exception as exc:  # noqa: BLE001 - the kernel failing to start and the like
        error = f"{type(exc).__name__}: {exc}"
        for entry in report:
            if entry["status"] == "pending":
                entry["status"] = "not-run"
                entry["note"] = error
    nbformat.write(nb, cfg["executed"])
    return {"cells": report, "error": error, "seconds": round(time.monotonic() - started, 3)}


# ---------------------------------------------------------------------------
# Phase 2: probes, in a fresh interpreter.

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
    # The probe contract module, under the name probe files import it by.
    pkg = types.ModuleType("autograder")
    pkg.__path__ = []
    sys.modules["autograder"] = pkg
    pkg.probes = _load_module("autograder.probes", cfg["contract_file"])
    # The student's copy (read-only) comes first, also for a probe file
    # that imports cs231n_lib itself.
    sys.path.insert(0, cfg["library_dir"])
    probes = _load_module("assignment_probes", cfg["probes_file"]).PROBES
    with np.load(cfg["inputs"], allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    import cs231n_lib

    out_dir = cfg["probe_dir"]
    for i in range(start, len(probes)):
        probe = probes[i]
        report.write(f"BEGIN {i}\n")
        prefix = probe.name + SEP
        inputs = {k[len(prefix):]: v.copy() for k, v in arrays.items() if k.startswith(prefix)}
        try:
            outputs = _plain_outputs(probe.run(cs231n_lib, inputs))
            np.savez(os.path.join(out_dir, f"{i}.npz"), **outputs)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from student code included
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            with open(os.path.join(out_dir, f"{i}.error"), "w") as fh:
                fh.write("".join(tb)[-4000:])
        report.write(f"END {i}\n")
    return 0


def _pump_lines(stream, q: queue.Queue) -> None:
    while True:
        raw = stream.readline(256)
        if not raw:
            break
        q.put(raw.decode("ascii", "replace").strip())
    q.put(None)


def _read_tail(stream, sink: list) -> None:
    tail = b""
    for chunk in iter(lambda: stream.read(65536), b""):
        tail = (tail + chunk)[-4000:]
    sink.append(tail)


def _parse(line: str, start: int, count: int) -> tuple[str, int] | None:
    parts = line.split()
    if len(parts) != 2 or parts[0] not in ("BEGIN", "END") or not parts[1].isdigit():
        return None
    index = int(parts[1])
    return (parts[0], index) if start <= index < count else None


def run_probe_phase(cfg: dict, deadline: float) -> dict:
    """Run the probe host, restarting it after a probe that hangs or kills it."""
    import numpy as np

    names = cfg["probe_names"]
    # Nothing the notebook left behind may pose as a probe's result.
    shutil.rmtree(cfg["probe_dir"], ignore_errors=True)
    os.makedirs(cfg["probe_dir"])
    errors: dict[str, str] = {}
    ended: set[int] = set()
    start = 0
    while start < len(names):
        read_end, write_end = os.pipe()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-B", os.path.abspath(__file__), "probe-host", cfg["config"],
             str(start), str(write_end)],
            cwd=cfg["probe_dir"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=(write_end,))
        os.close(write_end)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_pump_lines, args=(os.fdopen(read_end, "rb"), lines),
                         daemon=True).start()
        err_tail: list[bytes] = []
        threading.Thread(target=_read_tail, args=(proc.stderr, err_tail), daemon=True).start()
        current, timer, outcome = None, deadline, "eof"
        while True:
            try:
                line = lines.get(timeout=max(0.0, min(timer, deadline) - time.monotonic()))
            except queue.Empty:
                outcome = "timeout"
                break
            if line is None:
                break
            event = _parse(line, start, len(names))
            if event is None:
                continue
            if event[0] == "BEGIN":
                current, timer = event[1], time.monotonic() + float(cfg["probe_seconds"])
            else:
                ended.add(event[1])
                current, timer = None, deadline
                if event[1] == len(names) - 1:
                    outcome = "done"
                    break
        # The host and anything it started in its group go, whatever happened.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        time.sleep(0.05)
        stderr = b"".join(err_tail).decode("utf-8", "replace")[-2000:]
        if outcome == "done":
            break
        if outcome == "timeout" and time.monotonic() >= deadline:
            for i, name in enumerate(names):
                if i >= start and i not in ended:
                    errors.setdefault(name, "not run: the submission's time limit ran out")
            break
        if current is not None:
            errors[names[current]] = (
                f"timed out after {cfg['probe_seconds']} s" if outcome == "timeout" else
                f"the probe process ended (exit status {proc.returncode}) while running it. "
                f"{stderr}".strip())
            start = current + 1
            continue
        done_here = [i for i in ended if i >= start]
        if not done_here:
            message = f"could not load the submitted library or the probes: {stderr}".strip()
            for name in names[start:]:
                errors[name] = message
            break
        start = max(done_here) + 1
    outputs = {}
    for i, name in enumerate(names):
        err_file = os.path.join(cfg["probe_dir"], f"{i}.error")
        npz_file = os.path.join(cfg["probe_dir"], f"{i}.npz")
        if name in errors:
            continue
        if os.path.exists(err_file):
            with open(err_file, errors="replace") as fh:
                errors[name] = fh.read()
        elif os.path.exists(npz_file):
            with np.load(npz_file, allow_pickle=False) as data:
                for key in data.files:
                    outputs[name + SEP + key] = data[key]
        else:
            errors[name] = "the probe produced no output"
    np.savez(cfg["outputs"], **outputs)
    with open(cfg["errors"], "w") as fh:
        json.dump(errors, fh)
    return {"errors": len(errors)}


def _skip_slow_format_checks() -> None:
    """nbformat imports jsonschema, which, when ``rfc3987_syntax`` is installed,
    compiles dozens of lark grammars at import (seconds of CPU per process) for
    an IRI format check that notebook validation never uses."""
    sys.modules.setdefault("rfc3987_syntax", None)


def main(argv: list[str]) -> int:
    """``notebook CONFIG`` | ``probes CONFIG`` | ``probe-host CONFIG START FD``."""
    _no_ptrace()
    _skip_slow_format_checks()
    phase, config_path = argv[0], argv[1]
    with open(config_path) as fh:
        cfg = json.load(fh)
    cfg["config"] = config_path
    if phase == "probe-host":
        return probe_host(cfg, int(argv[2]), int(argv[3]))
    started = time.monotonic()
    if phase == "notebook":
        report = run_notebook_phase(cfg)
        path = cfg["notebook_report"]
    elif phase == "probes":
        report = run_probe_phase(cfg, started + float(cfg["probe_total_seconds"]))
        path = cfg["probe_report"]
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    report["total_seconds"] = round(time.monotonic() - started, 3)
    with open(path, "w") as fh:
        json.dump(report, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
