"""The program that runs inside the sandbox, next to the student's code.

It is copied into the sandbox's read-only folder and started there by
``autograder.grading.grade``; it needs nothing from the course or from the
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
   not run. Just before a test cell that answer probes decide, the values
   those probes name are exported from the kernel as JSON text
   (``answers.json``; see ``EXPORT_SOURCE``).
2. ``runner.py probes CONFIG``: in a *fresh* interpreter
   (``runner.py probe-host CONFIG START FD``, a separate process), import the
   submitted ``cs231n_lib`` from its pristine read-only copy, load
   ``inputs.npz`` and run every probe's ``run(lib, inputs)``, each under its
   own try/except and time limit: a probe that hangs or kills its
   interpreter is recorded and the host restarts at the next probe. Results
   go to ``outputs.npz`` (plain arrays) and ``errors.json``.
"""

from __future__ import annotations

import ast
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

from autograder.inside.protocol import SEP

# Set by autograder.sandbox.warm when this module runs in a pre-imported helper's
# fork: the kernel and the probe host are then forked from this process
# (whose imports are done) instead of started as new interpreters.
WARM = False
PR_SET_PDEATHSIG = 1
KERNEL_EXPORT = "autograder.inside.kernel_export"
TRUNCATION_NOTE = "\n[output truncated by the grader: {dropped} more bytes were dropped]\n"


def _no_ptrace() -> None:
    """Make this process undumpable so the student's processes (same uid) cannot
    attach to it and rewrite what it reports."""
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------------------
# Forked children (warm starts only).

class ForkedProcess:
    """A child forked from this process, with the part of ``subprocess.Popen``'s
    interface that jupyter_client and the probe phase use."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = -signal.SIGKILL
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() >= end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _like_a_new_process() -> None:
    """After a fork from this (undumpable) runner: what an exec would reset.
    Dumpable again, as a kernel started the usual way is (its /proc files are
    its own), and fresh entropy for numpy's global generator."""
    try:
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    _fresh_entropy()


def _close_fds_except(*keep: int) -> None:
    """Close every descriptor above 2 but ``keep``, as ``close_fds`` would."""
    low = 3
    for fd in sorted(k for k in keep if k >= 3) + [65536]:
        os.closerange(low, fd)
        low = fd + 1


def _fresh_entropy() -> None:
    """After a fork: numpy's global generator was seeded once, in the helper, and
    every fork would share its sequence; a new interpreter gets fresh entropy.
    (Python's ``random`` reseeds itself at fork.)"""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _die_with_parent() -> None:
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class KernelTemplate(ForkedProcess):
    """A child forked before the notebook runs that becomes the kernel when
    told how (the command and environment jupyter_client would have used):
    ipykernel, IPython, numpy and matplotlib are already imported in it."""

    def __init__(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(write_end)
            self._become_kernel(read_end)
        os.close(read_end)
        super().__init__(pid)
        self.go: int | None = write_end

    @staticmethod
    def usable_for(cmd: list[str]) -> bool:
        # python -m ipykernel_launcher -f FILE [--Option=value ...]
        return (len(cmd) >= 5 and cmd[1:3] == ["-m", "ipykernel_launcher"]
                and cmd[3] == "-f" and all(a.startswith("--") for a in cmd[5:])
                and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable))

    def launch(self, cmd: list[str], env: dict, cwd: str | None) -> None:
        data = json.dumps({"argv": list(cmd), "env": dict(env), "cwd": cwd}).encode()
        go, self.go = self.go, None
        try:
            while data:
                data = data[os.write(go, data):]
        finally:
            os.close(go)

    def discard(self) -> None:
        """Not needed after all: let it go and reap it."""
        if self.go is not None:
            os.close(self.go)
            self.go = None
        try:
            self.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()

    @staticmethod
    def _become_kernel(read_end: int) -> None:
        code = 0
        try:
            # A session of its own, as jupyter_client gives a kernel: interrupts
            # go to its process group.
            os.setsid()
            _die_with_parent()
            _like_a_new_process()
            _close_fds_except(read_end)
            chunks = []
            while True:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
            os.close(read_end)
            if not chunks:
                os._exit(0)
            request = json.loads(b"".join(chunks))
            os.environ.clear()
            os.environ.update(request["env"])
            if request.get("cwd"):
                os.chdir(request["cwd"])
            # The notebook's folder (where the student's library lives) goes on
            # the path where IPython puts it in a kernel started the usual way:
            # '' just before site-packages. This interpreter runs with -I, so
            # IPython would leave it out.
            index = next((i for i, p in enumerate(sys.path) if os.path.basename(p) in (
                "site-packages", "dist-packages")), 0)
            if "" not in sys.path:
                sys.path.insert(index, "")
            argv = request["argv"]
            sys.argv = [os.path.join(os.path.dirname(sys.executable), "ipykernel_launcher")]
            sys.argv += argv[3:]
            from ipykernel.kernelapp import IPKernelApp

            IPKernelApp.launch_instance(argv=argv[3:])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - as an interpreter would report it
            traceback.print_exc()
            code = 1
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # noqa: BLE001
                    pass
            os._exit(int(code or 0) & 0xFF)


def _warm_manager_class(template: KernelTemplate):
    """An AsyncKernelManager that starts its kernel from ``template``."""
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner

    class WarmProvisioner(LocalProvisioner):
        async def launch_kernel(self, cmd, **kwargs):
            if template.go is None or not KernelTemplate.usable_for(list(cmd)):
                return await super().launch_kernel(cmd, **kwargs)
            template.launch(list(cmd), kwargs.get("env") or dict(os.environ),
                            kwargs.get("cwd"))
            self.process = template
            self.pid = self.pgid = template.pid
            self.cwd = kwargs.get("cwd") or os.getcwd()
            return self.connection_info

    class WarmKernelManager(AsyncKernelManager):
        async def _async_pre_start_kernel(self, **kw):
            out = await super()._async_pre_start_kernel(**kw)
            if type(self.provisioner) is LocalProvisioner:
                self.provisioner.__class__ = WarmProvisioner
            return out

    return WarmKernelManager


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


# ---------------------------------------------------------------------------
# Answers: values the student typed into the notebook, exported as JSON text
# by ``autograder.inside.kernel_export`` running in the kernel.

from autograder.inside.kernel_export import MAX_ANSWER_TEXT  # noqa: E402


def export_expression(request: dict) -> str:
    """The user expression that exports ``request``'s answers from the kernel.

    ``request``: ``variables`` (names), ``function`` (a name or ``""``) and
    ``inputs`` (``[key, nested list of floats]`` pairs, the function's
    arguments). The expression evaluates to the answers' JSON text: one
    object per key, ``{"value": ...}`` or ``{"missing": "why"}``.
    """
    plain_request = {"variables": [str(v) for v in request["variables"]],
                     "function": str(request.get("function") or ""),
                     "inputs": [[str(k), v] for k, v in request.get("inputs", [])]}
    # The notebook's own namespace is only read.
    return (f"__import__({KERNEL_EXPORT!r}, fromlist=['export'])"
            f".export(globals(), {plain_request!r})")


def parse_export_reply(content: dict) -> dict:
    """``{"text": json}`` or ``{"error": why}`` from an execute reply's content."""
    if not isinstance(content, dict) or content.get("status") != "ok":
        why = content.get("ename", "") if isinstance(content, dict) else ""
        return {"error": f"the export did not run in the kernel ({why or 'error'})"}
    found = (content.get("user_expressions") or {}).get("answers")
    if not isinstance(found, dict) or found.get("status") != "ok":
        why = found.get("ename", "") if isinstance(found, dict) else ""
        return {"error": f"the answers could not be read from the kernel ({why or 'error'})"}
    shown = (found.get("data") or {}).get("text/plain")
    if not isinstance(shown, str) or len(shown) > 2 * MAX_ANSWER_TEXT:
        return {"error": "the answers came back in an unexpected form or too large"}
    try:
        text = ast.literal_eval(shown)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {"error": "the answers came back in an unexpected form"}
    if not isinstance(text, str) or len(text) > MAX_ANSWER_TEXT:
        return {"error": "the answers came back in an unexpected form or too large"}
    return {"text": text}


async def _export_answers(client, request: dict, seconds: float) -> tuple[dict, str]:
    """Run one export in the kernel. Returns the answers entry and, when the
    kernel had to be stopped, the reason the rest of the notebook is not run."""
    kc = client.kc
    msg_id = kc.execute("", silent=True, store_history=False,
                        user_expressions={"answers": export_expression(request)})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await kc.shell_channel.get_msg(
                timeout=max(0.05, min(1.0, deadline - time.monotonic())))
        except Exception:  # noqa: BLE001 - queue.Empty and friends: check the kernel, wait on
            if not await client.km.is_alive():
                return ({"error": "the kernel died while the answers were exported"},
                        "the kernel died while the answers were exported")
            continue
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return parse_export_reply(msg.get("content", {})), ""
    await client.km.interrupt_kernel()
    entry = {"error": f"exporting the answers took longer than {seconds:.0f} s"}
    if not await _kernel_responds(client, 5.0):
        await client.km.shutdown_kernel(now=True)
        return entry, "the kernel ignored the interrupt while the answers were exported"
    return entry, ""


def _notebook_client(nb, cfg: dict):
    """nbclient's client, output-capped, on a warm kernel template when there is one."""
    client_class = _make_client_class()
    client_class.output_cap = int(cfg["output_bytes"])
    extra = {}
    if cfg.get("_kernel_template") is not None:
        extra["kernel_manager_class"] = _warm_manager_class(cfg["_kernel_template"])
    return client_class(nb, timeout=int(max(1, cfg["cell_seconds"])), allow_errors=True,
                        kernel_name="python3", interrupt_on_timeout=False,
                        record_timing=False, iopub_timeout=5, startup_timeout=60,
                        shutdown_kernel="immediate",
                        resources={"metadata": {"path": os.path.dirname(cfg["notebook"])}},
                        **extra)


async def _run_cell(client, cell, index: int, entry: dict, seconds: float) -> str:
    """Execute one cell within ``seconds``; fill its report ``entry``. Returns why the
    rest of the notebook cannot run ("" if it can)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output

    stop_reason = ""
    client.timeout = int(max(1, seconds))
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
    return stop_reason


async def _execute_notebook(nb, cfg: dict, report: list[dict], answers: dict) -> None:
    exports: dict[str, list[dict]] = {}
    for request in cfg.get("answers", []):
        exports.setdefault(request["grade_id"], []).append(request)
    client = _notebook_client(nb, cfg)
    deadline = time.monotonic() + float(cfg["notebook_seconds"])
    stop_reason = ""
    async with client.async_setup_kernel():
        for index, cell in enumerate(nb.cells):
            entry = report[index]
            if cell.cell_type != "code" or not cell.source.strip():
                entry["status"] = "skipped"
                continue
            if not stop_reason and deadline - time.monotonic() <= 1:
                stop_reason = "the notebook's time budget ran out"
            # Answers are read just before the test cell that checks them.
            for request in exports.get(entry["grade_id"], []):
                if stop_reason:
                    break
                left = deadline - time.monotonic()
                answers[request["name"]], stop_reason = await _export_answers(
                    client, request, max(1.0, min(cfg["cell_seconds"], left - 1)))
            if stop_reason:
                entry["status"] = "not-run"
                entry["note"] = stop_reason
                continue
            stop_reason = await _run_cell(
                client, cell, index, entry,
                min(cfg["cell_seconds"], deadline - time.monotonic()))


def run_notebook_phase(cfg: dict) -> dict:
    import nbformat

    nb = nbformat.read(cfg["notebook"], as_version=4)
    report = []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        report.append({"grade_id": grade_id, "status": "pending"})
    started = time.monotonic()
    error = ""
    answers: dict[str, dict] = {}
    # Forked now, while this process has no threads and no zmq context yet.
    template = KernelTemplate() if WARM else None
    try:
        asyncio.run(_execute_notebook(nb, dict(cfg, _kernel_template=template), report,
                                      answers))
    except Exception as exc:  # noqa: BLE001 - the kernel failing to start and the like
        error = f"{type(exc).__name__}: {exc}"
        for entry in report:
            if entry["status"] == "pending":
                entry["status"] = "not-run"
                entry["note"] = error
    finally:
        if template is not None and template.go is not None:
            template.discard()
    nbformat.write(nb, cfg["executed"])
    if cfg.get("answers_file"):
        stopped = next((e.get("note") for e in report if e["status"] == "not-run"), "")
        for request in cfg.get("answers", []):
            answers.setdefault(request["name"], {
                "error": "the notebook stopped before this answer's test cell"
                         + (f": {stopped}" if stopped else "")})
        with open(cfg["answers_file"], "w") as fh:
            json.dump(answers, fh)
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
            _die_with_parent()
            _like_a_new_process()
            os.close(read_end)
            os.close(err_read)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, 0)
            os.dup2(err_write, 2)
            _close_fds_except(write_end)
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


def _start_host(cfg: dict, start: int):
    """A probe host for probes ``start, ...``: (process, its stderr, its report pipe)."""
    read_end, write_end = os.pipe()
    if WARM and threading.active_count() == 1:
        proc, stderr = _fork_probe_host(cfg, start, read_end, write_end)
    else:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-B", "-m", __spec__.name if __spec__ else __name__,
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


def _run_hosts(cfg: dict, names: list[str], deadline: float) -> dict[str, str]:
    """Run the probe hosts, restarting after a probe that hangs or kills its host.
    Returns the errors of the probes that never finished."""
    errors: dict[str, str] = {}
    ended: set[int] = set()
    start = 0
    while start < len(names):
        proc, stderr_stream, read_end = _start_host(cfg, start)
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


def run_probe_phase(cfg: dict, deadline: float) -> dict:
    """Run every probe; write ``outputs.npz`` (plain arrays) and ``errors.json``."""
    import numpy as np

    names = [name for name, _ in cfg["probes"]]
    # Nothing the notebook left behind may pose as a probe's result.
    shutil.rmtree(cfg["probe_dir"], ignore_errors=True)
    os.makedirs(cfg["probe_dir"])
    errors = _run_hosts(cfg, names, deadline)
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


def main(argv: list[str]) -> int:
    """``notebook CONFIG`` | ``probes CONFIG`` | ``probe-host CONFIG START FD``."""
    _no_ptrace()
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
