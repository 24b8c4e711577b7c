"""Private uids: one per running sandbox, allocated across processes."""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import signal
import time
from collections.abc import Iterator

# Private uids for sandboxes: far above any uid a distribution hands out and
# above the usual subordinate-uid ranges of container tools.
UID_BASE = 1_700_000_000
UID_SLOTS = 4096
UID_LOCK_DIR = "/run/cs231n-sandbox/uids"



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


