"""Per-sandbox cgroups (v1): memory, tasks and a CPU share of its own."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

# Optional cgroups (v1): a bound on the whole submission's memory and tasks,
# and a CPU share of its own. Used when this process's own cgroup can hold
# children; never required (``limits_in_force`` says which were made).
#
# Why a CPU group: the kernel's autogroup scheduling gives each *session* an
# equal share, so a submission whose busy children each call setsid() took
# one share per child from every other submission graded beside it. In a
# cpu cgroup of its own, all of a sandbox's processes share one weight,
# whatever sessions they make.

CGROUP_ROOT = "/sys/fs/cgroup"
PREFIX = "cs231n-sandbox-"
CPU_SHARES = 1024  # the kernel's default weight: every sandbox counts as one task


def _own_cgroup(controller: str) -> str | None:
    """The folder of this process's own cgroup for a v1 ``controller``."""
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in parts[1].split(","):
            path = os.path.join(CGROUP_ROOT, controller) + parts[2].rstrip("/")
            return path if os.path.isdir(path) else None
    return None


def _cgroup_read(path: str, name: str) -> str:
    try:
        with open(os.path.join(path, name)) as fh:
            return fh.read()
    except OSError:
        return ""


@contextlib.contextmanager
def sandbox_cgroups(name: str, memory_bytes: int, tasks: int) -> Iterator[dict[str, str]]:
    """Child cgroups ``name`` of our own memory and pids cgroups, limited.

    Yields ``{controller: folder}`` for those that could be made (possibly
    none); removes them afterwards, once their processes are gone.
    """
    made: dict[str, str] = {}
    wanted = [("memory", {"memory.limit_in_bytes": memory_bytes}), ("pids", {"pids.max": tasks})]
    if CPU_SHARES is not None:  # None: no cpu group (the benchmark's baseline)
        wanted.append(("cpu", {"cpu.shares": CPU_SHARES}))
    for controller, settings in wanted:
        base = _own_cgroup(controller)
        if base is None or not os.access(base, os.W_OK):
            continue
        path = os.path.join(base, name)
        with contextlib.suppress(OSError):
            os.rmdir(path)  # left by a grader that died; empty once its uid is free
        try:
            os.mkdir(path)
            for key, value in settings.items():
                with open(os.path.join(path, key), "w") as fh:
                    fh.write(str(int(value)))
            made[controller] = path
        except OSError:
            with contextlib.suppress(OSError):
                os.rmdir(path)
    try:
        yield made
    finally:
        for path in made.values():
            deadline = time.monotonic() + 5.0
            while _cgroup_read(path, "cgroup.procs").strip() and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(OSError):
                os.rmdir(path)


def _oom_kills(memory_cgroup: str | None) -> int:
    for line in _cgroup_read(memory_cgroup, "memory.oom_control").splitlines() if (
            memory_cgroup) else []:
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0




def _uid_free(uid: int) -> bool:
    """No running sandbox holds ``uid`` (its lock file is not flocked)."""
    import fcntl

    from autograder.sandbox.uids import UID_LOCK_DIR

    try:
        fd = os.open(os.path.join(UID_LOCK_DIR, str(uid)), os.O_RDWR)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def sweep_cgroups() -> list[str]:
    """Remove the sandbox cgroups left by a grader that died (their uid is free
    and no process is in them). Returns the removed folders."""
    removed = []
    for controller in ("memory", "pids", "cpu"):
        base = _own_cgroup(controller)
        if base is None or not os.access(base, os.W_OK):
            continue
        for name in sorted(os.listdir(base)):
            suffix = name[len(PREFIX):]
            if not name.startswith(PREFIX) or not suffix.isdigit():
                continue
            path = os.path.join(base, name)
            if _cgroup_read(path, "cgroup.procs").strip() or not _uid_free(int(suffix)):
                continue
            with contextlib.suppress(OSError):
                os.rmdir(path)
                removed.append(path)
    return removed
