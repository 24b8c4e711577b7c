"""Phase 2: the probes, in probe hosts (:mod:`autograder.inside.probe_host`), each
probe under its own time limit: a probe that hangs or kills its interpreter
is recorded and a new host starts at the next probe. Results go to
``outputs.npz`` (plain arrays) and ``errors.json``."""

from __future__ import annotations

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

from autograder.inside.forks import (
    ForkedProcess,
    close_fds_except,
    die_with_parent,
    like_a_new_process,
)
from autograder.inside.probe_host import probe_host
from autograder.inside.protocol import SEP

# A cold host is a new interpreter running the runner's ``probe-host`` phase.
RUNNER = "autograder.inside.runner"


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


def _fork_probe_host(cfg: dict, start: int, read_end: int, write_end: int):
    """The probe host as a fork of this process (numpy already imported).
    Returns the process and its stderr stream."""
    err_read, err_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setsid()
            die_with_parent()
            like_a_new_process()
            os.close(read_end)
            os.close(err_read)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(err_write, 2)
            close_fds_except(write_end)
            os.chdir(cfg["probe_dir"])
            code = probe_host(cfg, start, write_end)
        except BaseException:  # noqa: BLE001 - as an interpreter would report it
            traceback.print_exc()
        finally:
            try:
                sys.stderr.flush()
            except Exception:  # noqa: BLE001
                pass
            os._exit(code)
    os.close(err_write)
    return ForkedProcess(pid), os.fdopen(err_read, "rb")


def _start_host(cfg: dict, start: int, warm: bool):
    """A probe host for probes ``start, ...``: (process, its stderr, its report pipe)."""
    read_end, write_end = os.pipe()
    if warm and threading.active_count() == 1:
        proc, stderr = _fork_probe_host(cfg, start, read_end, write_end)
    else:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-m", RUNNER,
             "probe-host", cfg["config"], str(start), str(write_end)],
            cwd=cfg["probe_dir"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL, start_new_session=True, pass_fds=(write_end,))
        stderr = proc.stderr
    os.close(write_end)
    return proc, stderr, read_end


def _watch_host(cfg: dict, lines: queue.Queue, start: int, count: int, deadline: float,
                ended: set[int]) -> tuple[str, int | None]:
    """Follow a host's BEGIN/END reports until it is done, dies or overruns.
    Returns ("done" | "eof" | "timeout", the probe it was in, if any)."""
    current, timer = None, deadline
    while True:
        try:
            line = lines.get(timeout=max(0.0, min(timer, deadline) - time.monotonic()))
        except queue.Empty:
            return "timeout", current
        if line is None:
            return "eof", current
        event = _parse(line, start, count)
        if event is None:
            continue
        if event[0] == "BEGIN":
            current, timer = event[1], time.monotonic() + float(cfg["probe_seconds"])
        else:
            ended.add(event[1])
            current, timer = None, deadline
            if event[1] == count - 1:
                return "done", None


def _run_hosts(cfg: dict, names: list[str], deadline: float, warm: bool) -> dict[str, str]:
    """Run the probe hosts, restarting after a probe that hangs or kills its host.
    Returns the errors of the probes that never finished."""
    errors: dict[str, str] = {}
    ended: set[int] = set()
    start = 0
    while start < len(names):
        proc, stderr_stream, read_end = _start_host(cfg, start, warm)
        lines: queue.Queue = queue.Queue()
        err_tail: list[bytes] = []
        readers = [threading.Thread(target=_pump_lines, args=(os.fdopen(read_end, "rb"), lines),
                                    daemon=True),
                   threading.Thread(target=_read_tail, args=(stderr_stream, err_tail),
                                    daemon=True)]
        for reader in readers:
            reader.start()
        outcome, current = _watch_host(cfg, lines, start, len(names), deadline, ended)
        # The host and anything it started in its group go, whatever happened.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        proc.wait()
        for reader in readers:
            reader.join(timeout=2)
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
    return errors


def run_probe_phase(cfg: dict, deadline: float, warm: bool = False) -> dict:
    """Run every probe; write ``outputs.npz`` (plain arrays) and ``errors.json``.
    ``warm``: the probe hosts are forked from this process (a warm start)."""
    import numpy as np

    names = [name for name, _ in cfg["probes"]]
    # Nothing the notebook left behind may pose as a probe's result.
    shutil.rmtree(cfg["probe_dir"], ignore_errors=True)
    os.makedirs(cfg["probe_dir"])
    errors = _run_hosts(cfg, names, deadline, warm)
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
