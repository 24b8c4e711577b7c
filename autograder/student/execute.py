"""Execute one notebook top to bottom, in a process of its own (the self-check's worker).

    python -m autograder.student.execute SRC DEST CELL_SECONDS TOTAL_SECONDS FOLDER

Writes the executed notebook to DEST; a run that goes past TOTAL_SECONDS is
stopped and DEST says so in ``metadata.self_check_stopped``. ``check`` runs
this as a child so that a runaway notebook can be stopped without touching
the caller.
"""

from __future__ import annotations

import signal
import sys


def main(argv: list[str]) -> int:
    import nbformat
    from nbclient import NotebookClient

    src, dest, folder = argv[0], argv[1], argv[4]
    cell_seconds, total_seconds = float(argv[2]), float(argv[3])
    nb = nbformat.read(src, as_version=4)

    def stop(signum, frame):
        raise TimeoutError(f"the notebook ran for more than {total_seconds:g} s")

    signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, total_seconds)
    client = NotebookClient(nb, timeout=cell_seconds, allow_errors=True,
                            interrupt_on_timeout=True,
                            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
                            resources={"metadata": {"path": folder}})
    try:
        client.execute()
    except TimeoutError as exc:
        nb.metadata["self_check_stopped"] = str(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        nbformat.write(nb, dest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
