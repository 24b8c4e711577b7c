"""Limits of a sandboxed run and the record of how it ended."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MiB = 1024 * 1024


# Status file the trusted init writes into the result folder.
STATUS_NAME = ".sandbox-status.json"



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


@dataclass(frozen=True)
class SandboxRequest:
    """One sandboxed run, as ``run_sandboxed`` resolved its arguments (see there)."""

    argv: tuple[str, ...]
    workdir: str
    limits: Limits
    writable: tuple[str, ...]
    collect: tuple[str, ...]
    cwd: str
    hide: tuple[str, ...]
    expose: tuple[str, ...]
    env: dict
    result_dir: str
    entry: tuple | None = None   # (name, args) of a warm starter's entry point


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
    warm: bool = False  # forked from a pre-imported helper (autograder.sandbox.warm)

    def to_json(self) -> dict:
        return asdict(self)


