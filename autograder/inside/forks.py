"""Children forked from a warm runner (:data:`autograder.inside.runner.WARM`): the
kernel and the probe host start from this process, whose imports are done,
and are made to look like new interpreters.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1


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


def like_a_new_process() -> None:
    """After a fork from this (undumpable) runner: what an exec would reset.
    Dumpable again, as a kernel started the usual way is (its /proc files are
    its own), and fresh entropy for numpy's global generator."""
    try:
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass
    _fresh_entropy()


def close_fds_except(*keep: int) -> None:
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


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (``PR_SET_PDEATHSIG``)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
