"""The trusted init: pid 1 of a sandbox's namespaces.

Run as ``python -I -B -m autograder.sandbox.init --entry`` (a cold start) or
called in a forked warm helper (``autograder.sandbox.warm``).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import shutil
import signal
import sys
import time
from collections.abc import Mapping, Sequence

from autograder.sandbox.files import copy_out
from autograder.sandbox.limits import STATUS_NAME
from autograder.sandbox.syscalls import (
    MOUNT_ATTR_RDONLY,
    MS_BIND,
    MS_MOVE,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_REC,
    PR_CAPBSET_DROP,
    PR_SET_NO_NEW_PRIVS,
    _loopback_up,
    _mount,
    _mount_setattr,
    _prctl,
)

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
        if os.path.isfile(path):  # a single file (the autograder package's __init__)
            os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
            open(target, "a").close()
            _mount(path, target, None, MS_BIND)
        else:
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

    With ``entries`` (a warm start, see ``autograder.sandbox.warm``) and a
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
    try:
        _build_sandbox(cfg, status["setup"])
    except Exception as exc:  # noqa: BLE001 - a sandbox that cannot be built must not run
        status["note"] = f"sandbox setup failed: {exc}"
        _write_status(cfg["result_dir"], status)
        return 0
    status.update(_supervise(cfg, entries))
    status["copy_notes"] = copy_out(cfg["workdir"], cfg["collect"], cfg["result_dir"],
                                    cfg["disk_bytes"])
    _write_status(cfg["result_dir"], status)
    return 0


def _build_sandbox(cfg: dict, setup: dict) -> None:
    """Cgroups, mounts, the private root with the private copy; enter it."""
    result_dir = cfg["result_dir"]
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
    setup["hidden"] = _hide(cfg["hide"])
    setup["visible"] = visible = _build_root(newroot, cfg["expose"])
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
        setup["read_only_root"] = True
    except OSError as exc:
        setup["read_only_root"] = False
        setup["read_only_error"] = str(exc)


def _supervise(cfg: dict, entries: Mapping | None) -> dict:
    """Start the command, wait for it or the wall limit, then kill what is left.
    Returns how it ended (``ended``, ``exit_code``, ``signal``, ``wall_seconds``)."""
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
    out = {"ended": "timeout" if timed_out else "crashed", "exit_code": None,
           "signal": None, "wall_seconds": time.monotonic() - start}
    if main_status is not None:
        if os.WIFEXITED(main_status):
            out["exit_code"] = os.WEXITSTATUS(main_status)
        elif os.WIFSIGNALED(main_status):
            out["signal"] = os.WTERMSIG(main_status)
        if not timed_out:
            out["ended"] = _ended(out["exit_code"], out["signal"])
    return out


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






if __name__ == "__main__" and sys.argv[1:] == ["--entry"]:
    try:
        sys.exit(_init_main())
    except OSError as exc:
        if exc.errno == errno.EPERM:
            sys.stderr.write(f"sandbox init: not permitted: {exc}\n")
        raise
