"""Run a command as hostile code.

``run_sandboxed(argv, workdir, limits)`` runs ``argv`` on a private copy of
``workdir`` and copies the writable parts of that copy back to a result
folder when it ends. When the caller is root and the kernel allows it, the
command runs

* in new pid, mount, network and IPC namespaces (``unshare``). A small
  trusted init (this file, run as a script) is pid 1: it enforces the wall
  limit and, when the command ends or the limit strikes, SIGKILLs every
  process left in the namespace (a double fork cannot escape: the namespace
  dies with its init);
* as a private unprivileged uid (one per concurrently running sandbox, so
  ``RLIMIT_NPROC``, which counts per uid, isolates fork bombs), with no
  capabilities and ``no_new_privs``;
* with rlimits: address space, processes, file size, core dumps, CPU time;
* in a private root file system (a tmpfs, entered with ``chroot``) that
  holds only the system folders (``/usr``, ``/etc``, ...), the Python
  interpreter's folders and the private copy: the course, the gradebook,
  other students and the reference library are simply not there (the paths
  in ``hide`` are also covered by empty tmpfs mounts, in case they lie
  inside a visible folder). All of it is read-only except the private copy,
  a size-limited tmpfs;
* without network (a fresh network namespace with only loopback up).

When not root, or when namespaces are unavailable, it falls back to what an
ordinary user can do: its own process group killed at the wall limit, and
rlimits. ``SandboxResult.limits_in_force`` always says which limits applied.

This module imports only the standard library: it is also the init program
that runs inside the namespaces (``python -I sandbox.py --entry``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import random
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field

MiB = 1024 * 1024

# Private uids for sandboxes: far above any uid a distribution hands out and
# above the usual subordinate-uid ranges of container tools.
UID_BASE = 1_700_000_000
UID_SLOTS = 4096
UID_LOCK_DIR = "/run/cs231n-sandbox/uids"

# Status file the trusted init writes into the result folder.
STATUS_NAME = ".sandbox-status.json"

# Grace the outer process gives the init beyond the wall limit before it
# kills the namespace itself.
BACKSTOP_SECONDS = 15.0


class WarmStartError(RuntimeError):
    """A warm start failed before the sandbox's init ran: start it cold."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed submission.

    Parameters
    ----------
    cell_seconds : float
        Wall-clock limit for one notebook cell and for one probe (applied by
        the runner inside the sandbox).
    submission_seconds : float
        Wall-clock limit for the whole sandboxed run; at this limit every
        process of the submission is SIGKILLed.
    memory_bytes : int
        Address-space limit (``RLIMIT_AS``) of each process.
    max_processes : int
        Processes *and threads* of the sandbox's private uid
        (``RLIMIT_NPROC``). A Jupyter kernel alone uses about a dozen threads.
    output_bytes : int
        Cap on each notebook cell's saved output and on the stdout/stderr
        tails kept from the sandbox.
    disk_bytes : int
        Size of the tmpfs holding the private copy (and ``RLIMIT_FSIZE``).
    network : bool
        Allow network access (off by default).
    """

    cell_seconds: float = 60.0
    submission_seconds: float = 600.0
    memory_bytes: int = 2048 * MiB
    max_processes: int = 64
    output_bytes: int = 1 * MiB
    disk_bytes: int = 256 * MiB
    network: bool = False

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class SandboxResult:
    """How a sandboxed command ended.

    ``ended`` is ``"ok"`` (exit status 0), ``"timeout"`` (killed at the wall
    limit), ``"killed-by-limit"`` (killed by the kernel for exceeding a
    resource limit: SIGKILL it did not get from us, SIGXCPU, SIGXFSZ) or
    ``"crashed"`` (any other non-zero exit or signal, or a sandbox failure).
    """

    ended: str
    exit_code: int | None
    signal: int | None
    wall_seconds: float
    stdout_tail: str
    stderr_tail: str
    result_dir: str
    uid: int | None
    limits_in_force: dict = field(default_factory=dict)
    note: str = ""
    warm: bool = False  # forked from a pre-imported helper (autograder.warm)

    def to_json(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------------------
# Linux primitives (ctypes), used by the trusted init as root.

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
AT_FDCWD = -100
AT_RECURSIVE = 0x8000
MOUNT_ATTR_RDONLY = 0x1
SYS_MOUNT_SETATTR = 442  # same number on every architecture (unified table)
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
O_PATH = getattr(os, "O_PATH", 0o10000000)

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(ret: int, what: str) -> int:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(s: str | None) -> bytes | None:
        return s.encode() if s is not None else None

    _check(_c().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags),
                      enc(data)), f"mount {target}")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _mount_setattr(path: str, *, set_: int = 0, clear: int = 0, recursive: bool) -> None:
    attr = _MountAttr(set_, clear, 0, 0)
    ret = _c().syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD),
                       path.encode(), ctypes.c_uint(AT_RECURSIVE if recursive else 0),
                       ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
    _check(ret, f"mount_setattr {path}")


def _prctl(option: int, arg: int) -> None:
    _check(_c().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def _loopback_up() -> None:
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, siocgifflags, req)[:18])[1]
        fcntl.ioctl(s, siocsifflags, struct.pack("16sH", b"lo", flags | iff_up))


# ---------------------------------------------------------------------------
# Private uids: one per running sandbox, allocated across processes.

def _processes_of_uid(uid: int) -> list[int]:
    """Pids whose real uid is ``uid`` (scans /proc)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            found.append(int(name))
                        break
        except (OSError, ValueError, IndexError):
            continue
    return found


def _kill_uid(uid: int, wait: float) -> bool:
    """SIGKILL every process of ``uid``; True once none is left."""
    deadline = time.monotonic() + wait
    while True:
        pids = _processes_of_uid(uid)
        if not pids:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


@contextlib.contextmanager
def private_uid(lock_dir: str = UID_LOCK_DIR) -> Iterator[int]:
    """Hold a sandbox uid that no other running sandbox holds.

    Each uid has a lock file under a root-only folder, held with ``flock``:
    the kernel releases it if this process dies, so a crash never leaks a uid.
    A uid that still owns processes (left over from a killed run) is skipped.
    """
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    os.chmod(lock_dir, 0o700)
    start = random.randrange(UID_SLOTS)
    for k in range(UID_SLOTS):
        slot = (start + k) % UID_SLOTS
        uid = UID_BASE + slot
        fd = os.open(os.path.join(lock_dir, str(uid)), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if not _kill_uid(uid, wait=1.0):
            os.close(fd)
            continue
        try:
            yield uid
        finally:
            # The namespace is dead by now; make sure before handing the uid on.
            _kill_uid(uid, wait=5.0)
            os.close(fd)
        return
    raise RuntimeError(f"no free sandbox uid in {UID_BASE}..{UID_BASE + UID_SLOTS - 1}")


# ---------------------------------------------------------------------------
# Optional cgroups (v1): a bound on the whole submission's memory and tasks.
# Used when this process's own cgroup can hold children; never required.

CGROUP_ROOT = "/sys/fs/cgroup"


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
    for controller, settings in (("memory", {"memory.limit_in_bytes": memory_bytes}),
                                 ("pids", {"pids.max": tasks})):
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


# ---------------------------------------------------------------------------
# Copying results out: regular files only, never following links, capped.

def copy_out(src_root: str, names: Sequence[str], dest_root: str, max_bytes: int,
             max_files: int = 10_000) -> list[str]:
    """Copy the trees ``src_root/<name>`` to ``dest_root/<name>``.

    Only directories and regular files with a single link are copied;
    symlinks, devices, fifos and sockets are skipped, and no path is
    followed through a link (``O_NOFOLLOW`` on every component, via
    directory file descriptors). Copying stops at ``max_bytes`` in total.
    Returns notes about what was skipped.
    """
    notes: list[str] = []
    budget = [max_bytes, max_files]

    def copy_dir(src_dir_fd: int, dest_dir: str, rel: str) -> None:
        os.makedirs(dest_dir, mode=0o700, exist_ok=True)
        with os.scandir(src_dir_fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            here = f"{rel}/{entry.name}"
            try:
                st = os.stat(entry.name, dir_fd=src_dir_fd, follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                try:
                    fd = os.open(entry.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                 dir_fd=src_dir_fd)
                except OSError:
                    continue
                try:
                    copy_dir(fd, os.path.join(dest_dir, entry.name), here)
                finally:
                    os.close(fd)
            elif stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                copy_file(src_dir_fd, entry.name, os.path.join(dest_dir, entry.name), here)
            else:
                notes.append(f"skipped {here}: not a regular file")

    def copy_file(src_dir_fd: int, name: str, dest: str, rel: str) -> None:
        if budget[1] <= 0:
            notes.append(f"skipped {rel}: too many files")
            return
        budget[1] -= 1
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=src_dir_fd)
        except OSError:
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return
            if st.st_size > budget[0]:
                notes.append(f"skipped {rel}: {st.st_size} bytes is over the copy budget")
                return
            with open(dest, "wb") as out:
                remaining = budget[0]
                while True:
                    chunk = os.read(fd, min(MiB, remaining + 1))
                    if not chunk:
                        break
                    if len(chunk) > remaining:
                        notes.append(f"truncated {rel}: over the copy budget")
                        out.write(chunk[:remaining])
                        remaining = 0
                        break
                    out.write(chunk)
                    remaining -= len(chunk)
                budget[0] = remaining
        finally:
            os.close(fd)

    root_fd = os.open(src_root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in names:
            try:
                fd = _open_dir_nofollow(root_fd, name)
            except OSError:
                notes.append(f"no folder {name} to copy back")
                continue
            try:
                copy_dir(fd, os.path.join(dest_root, name), name)
            finally:
                os.close(fd)
    finally:
        os.close(root_fd)
    return notes


def _open_dir_nofollow(root_fd: int, rel: str) -> int:
    """Open ``rel`` under ``root_fd`` refusing a symlink at every component."""
    fd = os.dup(root_fd)
    try:
        for part in [p for p in rel.split("/") if p not in ("", ".")]:
            if part == "..":
                raise OSError(errno.EINVAL, f"'..' in {rel!r}")
            nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except OSError:
        os.close(fd)
        raise
    return fd


# ---------------------------------------------------------------------------
# The trusted init (runs as root, pid 1 of the new namespaces).

# What a sandbox sees of the host, read-only: the system folders, and (added
# per run) the interpreter's folders. Everything else is simply not there.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")


def _within(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _build_root(newroot: str, visible: Sequence[str]) -> list[str]:
    """A fresh root file system on a tmpfs at ``newroot``.

    It holds bind mounts of the system folders and of ``visible`` at their
    usual paths, a minimal ``/dev``, a ``/proc`` of the new pid namespace and
    empty folders for the rest. Ancestors of a bound path are plain folders
    of the tmpfs, so a closed folder such as ``/root`` shows only what was
    bound inside it.
    """
    _mount("tmpfs", newroot, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    bound: list[str] = []
    for path in list(SYSTEM_PATHS) + sorted(set(visible), key=len):
        if not os.path.lexists(path) or _within(path, bound):
            continue
        target = newroot + path
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if os.path.islink(path) and path in SYSTEM_PATHS:
            os.symlink(os.readlink(path), target)  # merged /usr: /bin -> usr/bin
            continue
        path = os.path.realpath(path)
        if _within(path, bound):
            continue
        target = newroot + path
        os.makedirs(target, mode=0o755, exist_ok=True)
        _mount(path, target, None, MS_BIND | MS_REC)
        bound.append(path)
    dev = newroot + "/dev"
    os.makedirs(dev, mode=0o755, exist_ok=True)
    for name in DEVICES:
        if os.path.exists(f"/dev/{name}"):
            open(f"{dev}/{name}", "w").close()
            _mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{dev}/{name}")
    os.makedirs(newroot + "/proc", mode=0o555, exist_ok=True)
    _mount("proc", newroot + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(newroot + "/tmp", mode=0o755, exist_ok=True)
    return bound


def _enter_root(newroot: str) -> None:
    """Make ``newroot`` this process's ``/`` (switch_root style: move, chroot)."""
    os.chdir(newroot)
    _mount(newroot, "/", None, MS_MOVE)
    os.chroot(".")
    os.chdir("/")


def _hide(paths: Sequence[str]) -> list[str]:
    hidden = []
    for p in paths:
        if os.path.isdir(p) and not os.path.islink(p):
            _mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000")
        elif os.path.isfile(p):
            _mount("/dev/null", p, None, MS_BIND)
        else:
            continue
        hidden.append(p)
    return hidden


def _populate(src_fd: int, workdir: str, writable: Sequence[str], uid: int) -> None:
    """Copy the prepared host folder into the tmpfs; hand ``writable`` to uid."""
    src = f"/proc/self/fd/{src_fd}"
    for name in os.listdir(src):
        s, d = os.path.join(src, name), os.path.join(workdir, name)
        if os.path.isdir(s) and not os.path.islink(s):
            shutil.copytree(s, d, symlinks=True)
        else:
            shutil.copy2(s, d, follow_symlinks=False)
    for root, dirs, files in os.walk(workdir):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            p = os.path.join(root, n)
            if not os.path.islink(p):
                os.chmod(p, 0o644)
    os.chmod(workdir, 0o755)
    for name in writable:
        top = os.path.join(workdir, name)
        os.makedirs(top, exist_ok=True)
        for root, dirs, files in os.walk(top):
            os.lchown(root, uid, uid)
            os.chmod(root, 0o700)
            for n in dirs + files:
                os.lchown(os.path.join(root, n), uid, uid)


def _set_oom_score_adj(value: int) -> None:
    with contextlib.suppress(OSError):
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write(str(value))


def _drop_and_exec(cfg: dict, entries: Mapping | None = None) -> None:
    """In the forked child: limits, identity, then exec. Never returns.

    With ``entries`` (a warm start, see ``autograder.warm``) and a
    ``cfg["entry"]`` naming one of them, the entry point is called in this
    process instead of executing ``argv``: same limits, same identity, no new
    interpreter."""
    try:
        os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.closerange(3, 65536)
        os.chdir(cfg["cwd"])
        _set_oom_score_adj(0)
        for name, value in cfg["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        uid = cfg["uid"]
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last_cap = int(fh.read())
        for cap in range(last_cap + 1):
            _prctl(PR_CAPBSET_DROP, cap)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        os.umask(0o077)
        entry = cfg.get("entry")
        if entries is not None and entry and entry[0] in entries:
            _run_entry(cfg, entries[entry[0]], list(entry[1]))
        os.execvpe(cfg["argv"][0], cfg["argv"], cfg["env"])
    except BaseException as exc:  # noqa: BLE001 - report and leave, whatever it was
        os.write(2, f"sandbox: could not start {cfg['argv'][0]!r}: {exc}\n".encode())
    os._exit(127)


def _run_entry(cfg: dict, main, args: list[str]) -> None:
    """A warm start's last step: the environment ``execvpe`` would have set,
    then ``main(args)`` in this process. Never returns."""
    import tempfile as _tempfile

    code = 1
    try:
        os.environ.clear()
        os.environ.update(cfg["env"])
        _tempfile.tempdir = None  # TMPDIR is the sandbox's now
        # The script a cold start would have run (argv: python, flags, script, *args).
        script = cfg["argv"][-len(args) - 1] if len(cfg["argv"]) > len(args) else "-"
        sys.argv = [script, *args]
        code = main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported on stderr like an interpreter would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    os._exit(int(code or 0) & 0xFF)


def _init_main() -> int:
    """Entry point of the trusted init inside the namespaces (a cold start)."""
    return _init_run(json.loads(sys.stdin.buffer.read()))


def _init_run(cfg: dict, entries: Mapping | None = None) -> int:
    """The trusted init's work, as pid 1 of fresh namespaces: build the
    private root, start the command, enforce the wall limit, copy back."""
    status: dict = {"ended": "crashed", "exit_code": None, "signal": None, "setup": {}}
    result_dir = cfg["result_dir"]
    try:
        for path in cfg.get("cgroups", {}).values():
            # Everything this init starts inherits the cgroup (pid as seen here).
            with open(os.path.join(path, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
        _set_oom_score_adj(-1000)  # the OOM killer takes the student's processes, not us
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        if not cfg["network"]:
            _loopback_up()
        workdir, newroot = cfg["workdir"], cfg["newroot"]
        src_fd = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
        status["setup"]["hidden"] = _hide(cfg["hide"])
        status["setup"]["visible"] = visible = _build_root(newroot, cfg["expose"])
        for path in (workdir, result_dir):
            if _within(path, visible):
                raise OSError(errno.EINVAL, f"{path} lies inside the visible {visible}")
            os.makedirs(newroot + path, mode=0o755, exist_ok=True)
        _mount(result_dir, newroot + result_dir, None, MS_BIND)
        _mount("tmpfs", newroot + workdir, "tmpfs", MS_NOSUID | MS_NODEV,
               f"size={cfg['disk_bytes']},mode=0755")
        _populate(src_fd, newroot + workdir, cfg["writable"], cfg["uid"])
        os.close(src_fd)
        _enter_root(newroot)
        try:
            _mount_setattr("/", set_=MOUNT_ATTR_RDONLY, recursive=True)
            _mount_setattr(workdir, clear=MOUNT_ATTR_RDONLY, recursive=False)
            _mount_setattr(result_dir, clear=MOUNT_ATTR_RDONLY, recursive=False)
            status["setup"]["read_only_root"] = True
        except OSError as exc:
            status["setup"]["read_only_root"] = False
            status["setup"]["read_only_error"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - a sandbox that cannot be built must not run
        status["note"] = f"sandbox setup failed: {exc}"
        _write_status(result_dir, status)
        return 0

    start = time.monotonic()
    deadline = start + cfg["wall_seconds"]
    child = os.fork()
    if child == 0:
        _drop_and_exec(cfg, entries)
    main_status = None
    timed_out = False
    while main_status is None:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == child:
            main_status = st
            break
        if pid == 0:
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(0.02)
    # Whatever is left in the namespace dies now (pid 1 is spared by kill(-1)).
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    while True:
        try:
            pid, st = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child and main_status is None:
            main_status = st
    status["wall_seconds"] = time.monotonic() - start
    if timed_out:
        status["ended"] = "timeout"
    if main_status is not None:
        if os.WIFEXITED(main_status):
            status["exit_code"] = os.WEXITSTATUS(main_status)
        elif os.WIFSIGNALED(main_status):
            status["signal"] = os.WTERMSIG(main_status)
        if not timed_out:
            status["ended"] = _ended(status["exit_code"], status["signal"])
    status["copy_notes"] = copy_out(cfg["workdir"], cfg["collect"], result_dir,
                                    cfg["disk_bytes"])
    _write_status(result_dir, status)
    return 0


def _ended(exit_code: int | None, sig: int | None) -> str:
    # A bare SIGKILL is not counted as a limit: without a memory cgroup the
    # kernel sends none for our limits, so it came from the command itself.
    if exit_code == 0:
        return "ok"
    if sig in (signal.SIGXCPU, signal.SIGXFSZ):
        return "killed-by-limit"
    return "crashed"


def _write_status(result_dir: str, status: dict) -> None:
    with open(os.path.join(result_dir, STATUS_NAME), "w") as fh:
        json.dump(status, fh)


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


def run_sandboxed(argv: Sequence[str], workdir: str, limits: Limits = Limits(), *,
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
    starter : autograder.warm.WarmStarter, optional
        Fork the sandbox from this pre-imported helper instead of starting
        new interpreters (only with namespaces; see ``autograder.warm``).

    Returns
    -------
    SandboxResult
    """
    workdir = os.path.realpath(workdir)
    if result_dir is None:
        result_dir = tempfile.mkdtemp(prefix="result-", dir=os.path.dirname(workdir))
    result_dir = os.path.realpath(result_dir)
    os.makedirs(result_dir, mode=0o700, exist_ok=True)
    cwd = cwd or os.path.join(workdir, writable[0])
    env = dict(env) if env is not None else {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": cwd, "LANG": "C.UTF-8"}
    collect = list(collect) if collect is not None else list(writable)
    if namespaces_available():
        return _run_namespaced(list(argv), workdir, limits, list(writable), collect, cwd,
                               list(hide), list(expose), env, result_dir,
                               entry if starter is not None else None, starter)
    return _run_fallback(list(argv), workdir, limits, list(writable), collect, cwd, env,
                         result_dir)


def _run_namespaced(argv, workdir, limits, writable, collect, cwd, hide, expose, env,
                    result_dir, entry=None, starter=None) -> SandboxResult:
    newroot = tempfile.mkdtemp(prefix=".root-", dir=os.path.dirname(result_dir))
    try:
        return _run_namespaced_in(argv, workdir, limits, writable, collect, cwd, hide, expose,
                                  env, result_dir, newroot, entry, starter)
    finally:
        with contextlib.suppress(OSError):
            os.rmdir(newroot)


def _run_namespaced_in(argv, workdir, limits, writable, collect, cwd, hide, expose, env,
                       result_dir, newroot, entry=None, starter=None) -> SandboxResult:
    with private_uid() as uid, sandbox_cgroups(
            f"cs231n-sandbox-{uid}", _cgroup_memory(limits), limits.max_processes + 16
    ) as cgroups:
        cfg = {
            "cgroups": cgroups,
            "argv": argv, "env": env, "cwd": cwd, "uid": uid, "workdir": workdir,
            "writable": writable, "collect": collect, "result_dir": result_dir,
            "hide": [os.path.realpath(p) for p in hide],
            "expose": interpreter_paths() + [os.path.realpath(p) for p in expose],
            "newroot": newroot,
            "network": limits.network, "disk_bytes": int(limits.disk_bytes),
            "wall_seconds": float(limits.submission_seconds),
            "rlimits": _rlimits(limits, with_nproc=True),
            "entry": [entry[0], list(entry[1])] if entry else None,
        }
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


def _start_cold(cfg: dict, limits: Limits):
    """Start the init with ``unshare`` and a new interpreter; wait for it.

    Returns (wall seconds, stdout tail, stderr tail, backstop used, exit code)."""
    unshare = ["unshare", "--pid", "--fork", "--kill-child", "--mount", "--ipc", "--uts"]
    if not limits.network:
        unshare.append("--net")
    cmd = unshare + [sys.executable, "-I", "-B", os.path.abspath(__file__), "--entry"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
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


def _run_fallback(argv, workdir, limits, writable, collect, cwd, env,
                  result_dir) -> SandboxResult:
    """Without root or namespaces: process group, rlimits, timeouts."""
    for name in writable:
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
    notes = copy_out(workdir, collect, result_dir, limits.disk_bytes)
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


if __name__ == "__main__" and sys.argv[1:] == ["--entry"]:
    try:
        sys.exit(_init_main())
    except OSError as exc:
        if exc.errno == errno.EPERM:
            sys.stderr.write(f"sandbox init: not permitted: {exc}\n")
        raise
