"""Phase 1: the notebook. Execute the prepared notebook with nbclient, cell by cell
(per-cell timeout, errors allowed, each cell's saved output capped), then save
the executed notebook and a per-cell report. A cell that outlives its timeout
is interrupted; a kernel that ignores the interrupt is killed and the
remaining cells are marked as not run. Just before a test cell that answer
probes decide, the values those probes name are exported from the kernel
(:mod:`autograder.inside.answer_export`)."""

from __future__ import annotations

import asyncio
import json
import time

from autograder.inside.answer_export import export_answers
from autograder.inside.kernel_client import kernel_responds, notebook_client
from autograder.inside.kernel_template import KernelTemplate

TRUNCATION_NOTE = "\n[output truncated by the grader: {dropped} more bytes were dropped]\n"


async def _run_cell(client, cell, index: int, entry: dict, seconds: float) -> str:
    """Execute one cell within ``seconds``; fill its report ``entry``. Returns why the
    rest of the notebook cannot run ("" if it can)."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat.v4 import new_output

    stop_reason = ""
    client.timeout = int(max(1, seconds))
    started = time.monotonic()
    try:
        await client.async_execute_cell(cell, index,
                                        execution_count=client.code_cells_executed + 1)
        failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        entry["status"] = "error" if failed else "ok"
    except CellTimeoutError:
        entry["status"] = "timeout"
        entry["note"] = f"stopped after {client.timeout} s"
        cell.setdefault("outputs", []).append(new_output(
            "stream", name="stderr",
            text=f"\n[stopped by the grader: the cell time limit is {client.timeout} s]\n"))
        await client.km.interrupt_kernel()
        if not await kernel_responds(client, 5.0):
            stop_reason = f"the kernel ignored the interrupt after cell {index}"
            await client.km.shutdown_kernel(now=True)
    except DeadKernelError:
        entry["status"] = "kernel-died"
        stop_reason = f"the kernel died in cell {index}"
    except Exception as exc:  # noqa: BLE001 - any client failure ends the notebook
        entry["status"] = "runner-error"
        stop_reason = f"cell {index}: {type(exc).__name__}: {exc}"
    entry["seconds"] = round(time.monotonic() - started, 3)
    if index in client.dropped:
        entry["dropped_output_bytes"] = client.dropped[index]
        cell.setdefault("outputs", []).append(new_output(
            "stream", name="stderr",
            text=TRUNCATION_NOTE.format(dropped=client.dropped[index])))
    return stop_reason


async def _execute_notebook(nb, cfg: dict, report: list[dict], answers: dict) -> None:
    exports: dict[str, list[dict]] = {}
    for request in cfg.get("answers", []):
        exports.setdefault(request["grade_id"], []).append(request)
    client = notebook_client(nb, cfg)
    deadline = time.monotonic() + float(cfg["notebook_seconds"])
    stop_reason = ""
    async with client.async_setup_kernel():
        for index, cell in enumerate(nb.cells):
            entry = report[index]
            if cell.cell_type != "code" or not cell.source.strip():
                entry["status"] = "skipped"
                continue
            if not stop_reason and deadline - time.monotonic() <= 1:
                stop_reason = "the notebook's time budget ran out"
            # Answers are read just before the test cell that checks them.
            for request in exports.get(entry["grade_id"], []):
                if stop_reason:
                    break
                left = deadline - time.monotonic()
                answers[request["name"]], stop_reason = await export_answers(
                    client, request, max(1.0, min(cfg["cell_seconds"], left - 1)))
            if stop_reason:
                entry["status"] = "not-run"
                entry["note"] = stop_reason
                continue
            stop_reason = await _run_cell(
                client, cell, index, entry,
                min(cfg["cell_seconds"], deadline - time.monotonic()))


def run_notebook_phase(cfg: dict, warm: bool = False) -> dict:
    """Run the notebook of ``cfg``; the per-cell report. ``warm``: the kernel is
    forked from this process (a warm start) instead of started as a new interpreter."""
    import nbformat

    nb = nbformat.read(cfg["notebook"], as_version=4)
    report = []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        report.append({"grade_id": grade_id, "status": "pending"})
    started = time.monotonic()
    error = ""
    answers: dict[str, dict] = {}
    # Forked now, while this process has no threads and no zmq context yet.
    template = KernelTemplate() if warm else None
    try:
        asyncio.run(_execute_notebook(nb, dict(cfg, _kernel_template=template), report,
                                      answers))
    except Exception as exc:  # noqa: BLE001 - the kernel failing to start and the like
        error = f"{type(exc).__name__}: {exc}"
        for entry in report:
            if entry["status"] == "pending":
                entry["status"] = "not-run"
                entry["note"] = error
    finally:
        if template is not None and template.go is not None:
            template.discard()
    nbformat.write(nb, cfg["executed"])
    if cfg.get("answers_file"):
        stopped = next((e.get("note") for e in report if e["status"] == "not-run"), "")
        for request in cfg.get("answers", []):
            answers.setdefault(request["name"], {
                "error": "the notebook stopped before this answer's test cell"
                         + (f": {stopped}" if stopped else "")})
        with open(cfg["answers_file"], "w") as fh:
            json.dump(answers, fh)
    return {"cells": report, "error": error, "seconds": round(time.monotonic() - started, 3)}
