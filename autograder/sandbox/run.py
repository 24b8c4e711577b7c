"""Starting a sandbox (cold, warm or fallback) and reading how it ended."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence

from autograder.sandbox.cgroups import PREFIX, _oom_kills, sandbox_cgroups
from autograder.sandbox.files import copy_out
from autograder.sandbox.init import _ended
from autograder.sandbox.limits import (
    STATUS_NAME,
    Limits,
    MiB,
    SandboxRequest,
    SandboxResult,
    WarmStartError,
)
from autograder.sandbox.uids import private_uid

# Grace the outer process gives the init beyond the wall limit before it
# kills the namespace itself.
BACKSTOP_SECONDS = 15.0
DEFAULT_LIMITS = Limits()


# ---------------------------------------------------------------------------
# The outer side: what the grader calls.

class _Tail:
    """Keep the last ``cap`` bytes of a pipe, reading it until EOF in a thread."""

    def __init__(self, stream, cap: int) -> None:
        self.cap = cap
        self.chunks: deque[bytes] = deque()
        self.size = 0
        self.total = 0
        self.thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self.thread.start()

    def _pump(self, stream) -> None:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            self.chunks.append(chunk)
            self.size += len(chunk)
            self.total += len(chunk)
            while self.size - len(self.chunks[0]) >= self.cap:
                self.size -= len(self.chunks.popleft())
        stream.close()

    def text(self) -> str:
        self.thread.join(timeout=5)
        data = b"".join(self.chunks)[-self.cap:]
        prefix = f"[... {self.total - len(data)} earlier bytes dropped]\n" if self.total > len(
            data) else ""
        return prefix + data.decode("utf-8", errors="replace")


_NAMESPACES_OK: bool | None = None


def namespaces_available() -> bool:
    """True when this process can build the full sandbox (root + unshare)."""
    global _NAMESPACES_OK
    if _NAMESPACES_OK is None:
        ok = os.geteuid() == 0 and shutil.which("unshare") is not None
        if ok:
            try:
                ok = subprocess.run(
                    ["unshare", "--pid", "--fork", "--mount", "--net", "--ipc", "true"],
                    capture_output=True, timeout=10).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
        _NAMESPACES_OK = ok
    return _NAMESPACES_OK


def interpreter_paths() -> list[str]:
    """Folders the sandboxed Python interpreter needs to see."""
    paths = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             os.path.dirname(os.path.realpath(sys.executable))}
    return sorted(paths)


def _cgroup_memory(limits: Limits) -> int:
    """The whole submission's memory: one process's worth, its tmpfs, and room
    for the runner."""
    return int(limits.memory_bytes + limits.disk_bytes + 256 * MiB)


def _rlimits(limits: Limits, with_nproc: bool) -> dict[str, int]:
    cpu = int(limits.submission_seconds * 2) + 5
    out = {
        "RLIMIT_AS": int(limits.memory_bytes),
        "RLIMIT_FSIZE": int(limits.disk_bytes),
        "RLIMIT_CORE": 0,
        "RLIMIT_CPU": cpu,
    }
    if with_nproc:
        out["RLIMIT_NPROC"] = int(limits.max_processes)
    return out


def run_sandboxed(argv: Sequence[str], workdir: str, limits: Limits = DEFAULT_LIMITS, *,
                  writable: Sequence[str] = ("rw",), collect: Sequence[str] | None = None,
                  cwd: str | None = None,
                  hide: Sequence[str] = (), expose: Sequence[str] = (),
                  env: Mapping[str, str] | None = None,
                  result_dir: str | None = None,
                  entry: tuple[str, Sequence[str]] | None = None,
                  starter=None) -> SandboxResult:
    """Run ``argv`` as untrusted code on a private copy of ``workdir``.

    Parameters
    ----------
    argv : sequence of str
        The command; ``argv[0]`` is looked up on ``env["PATH"]``.
    workdir : str
        A folder the caller prepared. Inside the sandbox the same path holds
        a private copy of it on a tmpfs of ``limits.disk_bytes``; everything
        in it is owned by root and read-only except the subfolders named in
        ``writable``, which belong to the sandbox's uid.
    limits : Limits
        ``submission_seconds``, ``memory_bytes``, ``max_processes``,
        ``disk_bytes``, ``output_bytes`` (stdout/stderr tails) and
        ``network`` apply here; ``cell_seconds`` is for the command itself.
    writable : sequence of str
        Subfolders of ``workdir`` the command may write.
    collect : sequence of str, optional
        Folders (relative to ``workdir``, default ``writable``) copied to
        ``result_dir`` when the command ends: regular files only, links never
        followed, at most ``limits.disk_bytes`` in all.
    cwd : str, optional
        Working directory of the command (default ``workdir/writable[0]``).
    hide : sequence of str
        Paths to cover with an empty, unreadable tmpfs inside the sandbox.
    expose : sequence of str
        Extra paths to make reachable although an ancestor is closed to other
        users (the interpreter's folders are always exposed).
    env : mapping, optional
        The command's complete environment.
    result_dir : str, optional
        Where the writable folders come back (default: a fresh folder next
        to ``workdir``). Created by this call, readable by root only.
    entry : (name, args), optional
        With ``starter``: the in-process entry point of the warm starter
        that does what ``argv`` would do (``("runner", [phase, config])``).
    starter : autograder.sandbox.warm.WarmStarter, optional
        Fork the sandbox from this pre-imported helper instead of starting
        new interpreters (only with namespaces; see ``autograder.sandbox.warm``).

    Returns
    -------
    SandboxResult
    """
    request = _request(argv, workdir, limits, writable=writable, collect=collect, cwd=cwd,
                       hide=hide, expose=expose, env=env, result_dir=result_dir,
                       entry=entry if starter is not None else None)
    if namespaces_available():
        return _run_namespaced(request, starter)
    return _run_fallback(request)


def _request(argv: Sequence[str], workdir: str, limits: Limits, *, writable: Sequence[str],
             collect: Sequence[str] | None, cwd: str | None, hide: Sequence[str],
             expose: Sequence[str], env: Mapping[str, str] | None, result_dir: str | None,
             entry: tuple[str, Sequence[str]] | None) -> SandboxRequest:
    """The arguments of :func:`run_sandboxed` as one record: paths resolved, the
    result folder created, and the defaults filled in."""
    workdir = os.path.realpath(workdir)
    if result_dir is None:
        result_dir = tempfile.mkdtemp(prefix="result-", dir=os.path.dirname(workdir))
    result_dir = os.path.realpath(result_dir)
    os.makedirs(result_dir, mode=0o700, exist_ok=True)
    cwd = cwd or os.path.join(workdir, writable[0])
    env = dict(env) if env is not None else {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": cwd, "LANG": "C.UTF-8"}
    return SandboxRequest(
        argv=tuple(argv), workdir=workdir, limits=limits, writable=tuple(writable),
        collect=tuple(collect if collect is not None else writable), cwd=cwd,
        hide=tuple(os.path.realpath(p) for p in hide),
        expose=tuple(os.path.realpath(p) for p in expose), env=env, result_dir=result_dir,
        entry=(entry[0], tuple(entry[1])) if entry else None)


def _run_namespaced(request: SandboxRequest, starter=None) -> SandboxResult:
    newroot = tempfile.mkdtemp(prefix=".root-", dir=os.path.dirname(request.result_dir))
    try:
        return _run_namespaced_in(request, newroot, starter)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(newroot)


def _init_config(request: SandboxRequest, uid: int, cgroups: dict, newroot: str) -> dict:
    """What the trusted init is told (JSON: it may cross to a warm helper)."""
    limits = request.limits
    return {
        "cgroups": cgroups, "argv": list(request.argv), "env": dict(request.env),
        "cwd": request.cwd, "uid": uid, "workdir": request.workdir,
        "writable": list(request.writable), "collect": list(request.collect),
        "result_dir": request.result_dir, "hide": list(request.hide),
        "expose": interpreter_paths() + list(request.expose), "newroot": newroot,
        "network": limits.network, "disk_bytes": int(limits.disk_bytes),
        "wall_seconds": float(limits.submission_seconds),
        "rlimits": _rlimits(limits, with_nproc=True),
        "entry": [request.entry[0], list(request.entry[1])] if request.entry else None,
    }


def _run_namespaced_in(request: SandboxRequest, newroot: str, starter=None) -> SandboxResult:
    limits, result_dir = request.limits, request.result_dir
    with private_uid() as uid, sandbox_cgroups(
            f"{PREFIX}{uid}", _cgroup_memory(limits), limits.max_processes + 16
    ) as cgroups:
        cfg = _init_config(request, uid, cgroups, newroot)
        if starter is not None:
            wall, stdout, stderr, backstop, exit_code = _start_warm(starter, cfg, limits)
        else:
            wall, stdout, stderr, backstop, exit_code = _start_cold(cfg, limits)
        status = _read_status(result_dir)
        oom_kills = _oom_kills(cgroups.get("memory"))
    if starter is not None and not status:
        raise WarmStartError(f"the warm start left no status (exit {exit_code}): "
                             f"{stderr[-500:]}")
    setup = status.get("setup", {})
    setup["cgroups"] = sorted(cgroups)
    if backstop:
        status.update(ended="timeout", note="killed by the outer backstop")
    if oom_kills and status.get("ended") == "crashed":
        status["ended"] = "killed-by-limit"
    if oom_kills:
        status["note"] = "; ".join(filter(None, [
            status.get("note", ""), f"the submission's memory limit was reached: the kernel "
            f"killed {oom_kills} process(es)"]))
    result = SandboxResult(
        ended=status.get("ended", "crashed"), exit_code=status.get("exit_code"),
        signal=status.get("signal"), wall_seconds=wall, stdout_tail=stdout,
        stderr_tail=stderr, result_dir=result_dir, uid=cfg["uid"],
        limits_in_force=_describe_namespaced(limits, cfg["uid"], setup),
        note="; ".join(filter(None, [status.get("note", "")] + status.get("copy_notes", []))),
        warm=starter is not None)
    if not status:
        result.note = result.note or f"sandbox init left no status (exit {exit_code})"
    return result


def _die_with_parent() -> None:
    """In a child before exec: SIGKILL when the parent goes (prctl survives exec)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def _start_cold(cfg: dict, limits: Limits):
    """Start the init with ``unshare`` and a new interpreter; wait for it.

    Returns (wall seconds, stdout tail, stderr tail, backstop used, exit code)."""
    unshare = ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts"]
    if not limits.network:
        unshare.append("--net")
    cmd = unshare + [sys.executable, "-I", "-B", "-m", "autograder.sandbox.init", "--entry"]
    start = time.monotonic()
    # SIGKILL for unshare when this thread's process dies (a Dask worker killed
    # mid-run): unshare's --kill-child then takes the init, and the pid
    # namespace dies with its init.
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_die_with_parent)
    out, err = _Tail(proc.stdout, limits.output_bytes), _Tail(proc.stderr, limits.output_bytes)
    with contextlib.suppress(BrokenPipeError):
        proc.stdin.write(json.dumps(cfg).encode())
        proc.stdin.close()
    backstop = False
    try:
        proc.wait(timeout=limits.submission_seconds + BACKSTOP_SECONDS)
    except subprocess.TimeoutExpired:
        backstop = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    wall = time.monotonic() - start
    return wall, out.text(), err.text(), backstop, proc.returncode


def _start_warm(starter, cfg: dict, limits: Limits):
    """Have the warm starter fork the init; wait for it. Same returns as
    ``_start_cold``."""
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    start = time.monotonic()
    try:
        pid = starter.start(cfg, w_out, w_err)
    except BaseException:
        os.close(r_out)
        os.close(r_err)
        raise
    finally:
        os.close(w_out)
        os.close(w_err)
    out = _Tail(os.fdopen(r_out, "rb"), limits.output_bytes)
    err = _Tail(os.fdopen(r_err, "rb"), limits.output_bytes)
    backstop = False
    status = starter.wait(limits.submission_seconds + BACKSTOP_SECONDS)
    if status is None:
        backstop = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        status = starter.wait(None)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    return wall, out.text(), err.text(), backstop, code


def _read_status(result_dir: str) -> dict:
    try:
        with open(os.path.join(result_dir, STATUS_NAME)) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(os.path.join(result_dir, STATUS_NAME))


def _describe_namespaced(limits: Limits, uid: int, setup: dict) -> dict:
    gib = limits.memory_bytes / 1024**3
    hidden = setup.get("hidden", [])
    ro = setup.get("read_only_root", False)
    return {
        "wall_clock": {"enforced": True, "how": (
            f"{limits.submission_seconds:g} s per submission; SIGKILL of every process in "
            f"a private pid namespace; {limits.cell_seconds:g} s per cell and per probe")},
        "memory": {"enforced": True, "how": f"RLIMIT_AS {gib:.2f} GiB per process" + (
            f"; memory cgroup: {_cgroup_memory(limits) / 1024**3:.2f} GiB for the whole "
            "submission (its tmpfs included)" if "memory" in setup.get("cgroups", []) else
            "; no memory cgroup (the total over processes is not bounded)")},
        "processes": {"enforced": True, "how": (
            f"RLIMIT_NPROC {limits.max_processes} (threads included) for private uid {uid}"
            + ("; pids cgroup" if "pids" in setup.get("cgroups", []) else ""))},
        "cpu": {"enforced": "cpu" in setup.get("cgroups", []), "how": (
            "a cpu cgroup of its own: all of the submission's processes share one "
            "scheduler weight, whatever sessions they start" if "cpu" in setup.get("cgroups", [])
            else "no cpu cgroup: processes in new sessions each get a scheduler share")},
        "disk": {"enforced": True, "how": (
            f"private copy on a {limits.disk_bytes // MiB} MiB tmpfs; RLIMIT_FSIZE; no core "
            "dumps")},
        "output": {"enforced": True, "how": (
            f"{limits.output_bytes // 1024} KiB per cell output and per stdout/stderr tail")},
        "network": {"enforced": not limits.network, "how": (
            "private network namespace, loopback only" if not limits.network
            else "network allowed by the caller")},
        "filesystem": {"enforced": True, "how": (
            "a private root holding only the system folders, the interpreter and the "
            "private copy; " + ("read-only" if ro else
                                "NOT read-only (mount_setattr failed)")
            + f" except the private copy; {len(hidden)} more path(s) hidden"),
            "hidden": hidden, "visible": setup.get("visible", []), "read_only_root": ro},
        "user": {"enforced": True, "how": (
            f"uid {uid}, no capabilities, no_new_privs, private mount, pid, IPC namespaces")},
    }


def _run_fallback(request: SandboxRequest) -> SandboxResult:
    """Without root or namespaces: process group, rlimits, timeouts."""
    argv, workdir, limits = list(request.argv), request.workdir, request.limits
    cwd, env, result_dir = request.cwd, dict(request.env), request.result_dir
    for name in request.writable:
        os.makedirs(os.path.join(workdir, name), exist_ok=True)
    rl = _rlimits(limits, with_nproc=False)

    def preexec() -> None:
        for name, value in rl.items():
            soft, hard = resource.getrlimit(getattr(resource, name))
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(getattr(resource, name), (value, value))

    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, preexec_fn=preexec)
    except OSError as exc:
        return SandboxResult("crashed", None, None, 0.0, "", str(exc), result_dir, None,
                             _describe_fallback(limits), note=f"could not start: {exc}")
    out, err = _Tail(proc.stdout, limits.output_bytes), _Tail(proc.stderr, limits.output_bytes)
    timed_out = False
    try:
        proc.wait(timeout=limits.submission_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
    # Stragglers in the group die too (a new session is still escapable).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    wall = time.monotonic() - start
    code = proc.returncode
    exit_code, sig = (code, None) if code >= 0 else (None, -code)
    ended = "timeout" if timed_out else _ended(exit_code, sig)
    notes = copy_out(workdir, request.collect, result_dir, limits.disk_bytes)
    return SandboxResult(ended, exit_code, sig, wall, out.text(), err.text(), result_dir, None,
                         _describe_fallback(limits), note="; ".join(notes))


def _describe_fallback(limits: Limits) -> dict:
    why = "not root" if os.geteuid() != 0 else "namespaces unavailable (unshare failed)"
    gib = limits.memory_bytes / 1024**3
    return {
        "wall_clock": {"enforced": True, "how": (
            f"{limits.submission_seconds:g} s; SIGKILL of the process group "
            f"(a process that starts its own session escapes it: {why})")},
        "memory": {"enforced": True, "how": f"RLIMIT_AS {gib:.2f} GiB per process"},
        "processes": {"enforced": False, "how": (
            f"not enforced ({why}: RLIMIT_NPROC would count every process of this user)")},
        "disk": {"enforced": False, "how": (
            f"RLIMIT_FSIZE per file only; no tmpfs ({why})")},
        "output": {"enforced": True, "how": (
            f"{limits.output_bytes // 1024} KiB per cell output and per stdout/stderr tail")},
        "network": {"enforced": False, "how": f"not enforced ({why})"},
        "filesystem": {"enforced": False, "how": (
            f"not enforced ({why}): the command runs with the grader's permissions "
            "in the prepared folder"), "hidden": [], "read_only_root": False},
        "user": {"enforced": False, "how": f"runs as the grader's own user ({why})"},
    }
