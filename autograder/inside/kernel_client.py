"""nbclient's notebook client as the notebook phase uses it: each cell's saved
output capped, on a warm kernel template when there is one, and the check that
a kernel still answers after an interrupt."""

from __future__ import annotations

import json
import os
import time

from autograder.inside.kernel_template import warm_manager_class


def _output_size(msg: dict) -> int:
    content = msg.get("content", {})
    if "text" in content:
        return len(content["text"])
    data = content.get("data", {})
    size = 0
    for value in data.values():
        size += len(value) if isinstance(value, str) else len(json.dumps(value))
    if "traceback" in content:
        size += sum(len(line) for line in content["traceback"])
    return size + 64


def _make_client_class():
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """nbclient's client with each cell's saved output capped at ``output_cap``."""

        output_cap = 1 << 20

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.used: dict[int, int] = {}
            self.dropped: dict[int, int] = {}

        def output(self, outs, msg, display_id, cell_index):
            size = _output_size(msg)
            used = self.used.get(cell_index, 0)
            if used + size <= self.output_cap:
                self.used[cell_index] = used + size
                return super().output(outs, msg, display_id, cell_index)
            room = self.output_cap - used
            content = msg.get("content", {})
            if room > 0 and msg.get("msg_type") == "stream":
                kept = dict(msg, content=dict(content, text=content["text"][:room]))
                self.used[cell_index] = self.output_cap
                super().output(outs, kept, display_id, cell_index)
                size -= room
            self.used[cell_index] = self.output_cap
            self.dropped[cell_index] = self.dropped.get(cell_index, 0) + size
            return None

    return CappedClient


async def kernel_responds(client, seconds: float) -> bool:
    """After an interrupt: does the kernel answer a trivial request in time?"""
    kc = client.kc
    msg_id = kc.execute("pass", store_history=False)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await kc.shell_channel.get_msg(timeout=max(0.05, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - queue.Empty and friends: keep waiting
            continue
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return True
    return False


def notebook_client(nb, cfg: dict):
    """nbclient's client, output-capped, on a warm kernel template when there is one."""
    client_class = _make_client_class()
    client_class.output_cap = int(cfg["output_bytes"])
    extra = {}
    if cfg.get("_kernel_template") is not None:
        extra["kernel_manager_class"] = warm_manager_class(cfg["_kernel_template"])
    return client_class(nb, timeout=int(max(1, cfg["cell_seconds"])), allow_errors=True,
                        kernel_name="python3", interrupt_on_timeout=False,
                        record_timing=False, iopub_timeout=5, startup_timeout=60,
                        shutdown_kernel="immediate",
                        resources={"metadata": {"path": os.path.dirname(cfg["notebook"])}},
                        **extra)
