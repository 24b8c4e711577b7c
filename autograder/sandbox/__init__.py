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

This package imports only the standard library: its ``init`` module is also the
program that runs inside the namespaces (``python -I -B -m autograder.sandbox.init
--entry``). Modules: ``limits`` (what a run may use, how it ended), ``syscalls``,
``uids``, ``cgroups``, ``files`` (copying results out), ``init`` (pid 1 inside),
``run`` (starting a run: cold, warm or fallback), ``warm`` (the pre-imported helper).
"""

from autograder.sandbox.init import SYSTEM_PATHS
from autograder.sandbox.limits import Limits, MiB, SandboxResult, WarmStartError
from autograder.sandbox.run import (
    BACKSTOP_SECONDS,
    interpreter_paths,
    namespaces_available,
    run_sandboxed,
)
from autograder.sandbox.uids import UID_BASE, _processes_of_uid

__all__ = ["BACKSTOP_SECONDS", "Limits", "MiB", "SYSTEM_PATHS", "SandboxResult", "UID_BASE",
           "WarmStartError", "_processes_of_uid", "interpreter_paths", "namespaces_available",
           "run_sandboxed"]
