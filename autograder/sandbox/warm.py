"""Warm starts for sandboxes: a pre-imported interpreter that forks each one.

Every sandboxed run used to start three fresh interpreters (the sandbox's
init, the runner, the kernel), and each paid for its imports again: nbclient
and nbformat in the runner, ipykernel, numpy and matplotlib in the kernel,
numpy in the probe host. Per submission that is about a second of CPU, more
than the rest of our overhead over ``nbgrader autograde`` put together.

A *warm starter* is one long-lived helper process per grading thread. It
imports those modules once, from the interpreter's own site-packages, and
then serves requests: for each sandbox it forks a child that builds the
namespaces (``unshare``), becomes the sandbox's init and runs the same init
code as a cold start (``autograder.sandbox``), except that the last step
calls the runner in-process instead of executing a new interpreter. The
runner, in turn, forks the kernel and the probe host from itself.

Why this keeps the trust boundary where it was:

* the helper runs only trusted code: it imports packages from the
  interpreter's site-packages and this package's ``sandbox`` and
  ``runner`` modules, never a course file, a reference output or a
  submission, and it never runs anything a request names other than the
  entry points registered here;
* each sandbox is a fresh fork of that clean state, so nothing one student's
  code does (patching numpy, leaving threads, filling memory) can reach the
  helper or another student's fork: copy-on-write memory is private;
* everything after the fork is the cold start's code: the same namespaces,
  private root, uid, capabilities dropped, rlimits, cgroups and wall limit.

The protocol is a Unix socket pair: the grader sends a JSON request with
the write ends of the command's stdout and stderr pipes (``SCM_RIGHTS``),
the helper answers ``{"pid": ...}`` once the sandbox's outer process exists
and ``{"status": ...}`` (a ``waitpid`` status) when it has ended.

    python -I -B -m autograder.sandbox.warm FD   # the helper; FD: its end of the socket pair
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import traceback

from autograder.sandbox.limits import WarmStartError

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
CLONE_NEWPID = 0x20000000
PR_SET_PDEATHSIG = 1

# What the kernel, the runner and the probe host import on every run. Only
# modules whose import has no side effect a later kernel could notice: not
# matplotlib_inline's backend (it hooks into the IPython shell that exists at
# import time) and not pyplot (it settles the backend).
PRELOAD = (
    "numpy", "numpy.linalg", "numpy.random", "numpy.lib.format",
    "matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg",
    "matplotlib.font_manager", "matplotlib.colors", "matplotlib.image",
    "IPython", "IPython.core.interactiveshell", "IPython.core.pylabtools",
    "ipykernel", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
    "ipykernel.iostream", "comm",
    "jupyter_client", "jupyter_client.asynchronous", "jupyter_client.manager",
    "nbformat", "nbformat.v4", "nbclient", "nbclient.client", "nbclient.exceptions",
    "zmq", "zmq.asyncio", "tornado", "asyncio", "sqlite3",
)

MAX_MESSAGE = 1 << 22
_LEN = struct.Struct("!I")


def _send(sock: socket.socket, payload: dict, fds: tuple[int, ...] = ()) -> None:
    data = json.dumps(payload).encode()
    header = _LEN.pack(len(data))
    if fds:
        socket.send_fds(sock, [header + data], list(fds))
    else:
        sock.sendall(header + data)


def _recv_exact(sock: socket.socket, n: int, fds: list[int]) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk, got, _flags, _addr = socket.recv_fds(sock, n - len(buf), 4)
        fds.extend(got)
        if not chunk:
            raise EOFError("the other side closed the connection")
        buf += chunk
    return buf


def _recv(sock: socket.socket) -> tuple[dict, list[int]]:
    fds: list[int] = []
    (size,) = _LEN.unpack(_recv_exact(sock, _LEN.size, fds))
    if size > MAX_MESSAGE:
        raise ValueError(f"message of {size} bytes")
    return json.loads(_recv_exact(sock, size, fds)), fds


# ---------------------------------------------------------------------------
# The helper (a separate, single-threaded process).

def _preload() -> list[str]:
    """Import PRELOAD; return what could not be imported (it is skipped)."""
    import importlib

    # Set as the kernel will set them, before numpy and matplotlib read them.
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    failed = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing optional module only costs speed
            failed.append(name)
    return failed


def _entries() -> dict:
    """The in-process entry points a request may name."""
    from autograder.inside import runner

    runner.WARM = True
    return {"runner": runner.main}


def _sandbox_init():
    from autograder.sandbox import init

    return init


def _die_with(parent: int, libc) -> None:
    """SIGKILL when ``parent`` dies, also if it died before this was set."""
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _serve_one(sock: socket.socket, request: dict, fds: list[int], sandbox, entries) -> None:
    helper = os.getpid()
    pid = os.fork()
    if pid == 0:
        code = 127
        try:
            sock.close()
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
            for fd in fds:
                os.close(fd)
            os.setsid()
            libc = ctypes.CDLL(None, use_errno=True)
            _die_with(helper, libc)
            outer = os.getpid()
            flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID
            if not request["cfg"]["network"]:
                flags |= CLONE_NEWNET
            if libc.unshare(flags) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"unshare: {os.strerror(err)}")
            init = os.fork()  # pid 1 of the new pid namespace
            if init == 0:
                code = 127
                try:
                    # Our parent lives outside the new pid namespace: getppid() is 0.
                    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    if os.getppid() != 0 and os.getppid() != outer:
                        os._exit(1)
                    code = sandbox._init_run(request["cfg"], entries)
                except BaseException:  # noqa: BLE001 - report, never return into the loop
                    traceback.print_exc()
                finally:
                    with contextlib.suppress(Exception):
                        sys.stderr.flush()
                    os._exit(code)
            _, status = os.waitpid(init, 0)
            code = os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + (
                os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0)
        except BaseException:  # noqa: BLE001 - report, never return into the loop
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os._exit(code & 0xFF)
    for fd in fds:
        os.close(fd)
    _send(sock, {"pid": pid})
    _send(sock, {"status": _wait_or_abandon(sock, pid)})


def _wait_or_abandon(sock: socket.socket, pid: int) -> int:
    """Wait for the sandbox ``pid``; if the grader goes away meanwhile (its end of
    the socket closes: a Dask worker killed mid-run), kill the sandbox's session
    at once rather than let it run to completion, then leave."""
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        # The grader sends nothing while a sandbox runs: anything readable is EOF.
        if poller.poll(50):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise ConnectionError("the grader went away; its sandbox was killed")


def serve(fd: int) -> int:
    """The helper's main loop: one request at a time until the socket closes."""
    sock = socket.socket(fileno=fd)
    os.chdir("/")  # hold no folder of the grader's open
    failed = _preload()
    sandbox = _sandbox_init()
    entries = _entries()
    _send(sock, {"ready": True, "pid": os.getpid(), "not_preloaded": failed})
    while True:
        try:
            request, fds = _recv(sock)
        except (EOFError, ConnectionError):
            return 0
        if len(fds) != 2 or not isinstance(request.get("cfg"), dict):
            for fd in fds:
                os.close(fd)
            _send(sock, {"error": "a request needs a cfg and two file descriptors"})
            continue
        try:
            _serve_one(sock, request, fds, sandbox, entries)
        except (BrokenPipeError, ConnectionError):
            return 0  # the grader went away; the sandbox has ended by now


# ---------------------------------------------------------------------------
# The grader's side.

class WarmStarterError(WarmStartError):
    """The helper could not be started or stopped answering."""


class WarmStarter:
    """A helper process and its socket; one request at a time.

    ``start(cfg, stdout_fd, stderr_fd)`` returns the pid of the sandbox's
    outer process (a session leader: ``os.killpg`` on it stops the sandbox);
    ``wait(timeout)`` returns its ``waitpid`` status, or None on timeout.
    """

    def __init__(self, python: str | None = None, startup_timeout: float = 120.0) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # Nothing of the grader's own environment: a process keeps its first
        # environment block in memory (/proc/self/environ) whatever it sets
        # later, and every sandbox is a fork of this one.
        self.config_dir = tempfile.mkdtemp(prefix="warm-starter-")
        env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
               "LANG": "C.UTF-8", "HOME": self.config_dir, "MPLCONFIGDIR": self.config_dir,
               "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MALLOC_ARENA_MAX": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self.proc = subprocess.Popen(
            [python or sys.executable, "-I", "-B", "-m", "autograder.sandbox.warm",
             str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        theirs.close()
        self.sock = ours
        self.sock.settimeout(startup_timeout)
        try:
            hello, _ = _recv(self.sock)
        except (OSError, EOFError, ValueError) as exc:
            self.close()
            raise WarmStarterError(f"the warm starter did not start: {exc}") from None
        finally:
            self.sock.settimeout(None)
        self.not_preloaded = hello.get("not_preloaded", [])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def start(self, cfg: dict, stdout_fd: int, stderr_fd: int) -> int:
        try:
            _send(self.sock, {"cfg": cfg}, (stdout_fd, stderr_fd))
            self.sock.settimeout(60.0)
            reply, _ = _recv(self.sock)
        except (OSError, EOFError, ValueError) as exc:
            raise WarmStarterError(f"the warm starter stopped answering: {exc}") from None
        finally:
            self.sock.settimeout(None)
        if "pid" not in reply:
            raise WarmStarterError(f"the warm starter refused: {reply.get('error')}")
        return int(reply["pid"])

    def wait(self, timeout: float | None) -> int | None:
        self.sock.settimeout(timeout)
        try:
            reply, _ = _recv(self.sock)
        except TimeoutError:
            return None
        except (OSError, EOFError, ValueError) as exc:
            raise WarmStarterError(f"the warm starter stopped answering: {exc}") from None
        finally:
            self.sock.settimeout(None)
        return int(reply["status"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.config_dir, ignore_errors=True)


_lock = threading.Lock()
_idle: list[WarmStarter] = []
_all: list[WarmStarter] = []


@contextlib.contextmanager
def borrow():
    """An idle helper of this process (started if none is idle), for one run.

    As many helpers exist as runs were ever in flight at once (one per
    grading thread); one that failed is stopped instead of returned.
    """
    with _lock:
        starter = _idle.pop() if _idle else None
    if starter is not None and not starter.alive():
        starter.close()
        starter = None
    if starter is None:
        starter = WarmStarter()
        with _lock:
            _all.append(starter)
    healthy = False
    try:
        yield starter
        healthy = True
    finally:
        if healthy and starter.alive():
            with _lock:
                _idle.append(starter)
        else:
            starter.close()
            with _lock:
                if starter in _all:
                    _all.remove(starter)


def close_all() -> None:
    """Stop every helper this process started (also run at exit)."""
    with _lock:
        starters = list(_all)
        _all.clear()
        _idle.clear()
    for starter in starters:
        starter.close()


import atexit  # noqa: E402 - registered once the function exists

atexit.register(close_all)


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
