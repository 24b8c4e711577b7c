"""Answers: values the student typed into the notebook, exported as JSON text by
:mod:`autograder.inside.kernel_export` running in the kernel."""

from __future__ import annotations

import ast
import time

from autograder.inside.kernel_client import kernel_responds
from autograder.inside.kernel_export import MAX_ANSWER_TEXT

KERNEL_EXPORT = "autograder.inside.kernel_export"


def export_expression(request: dict) -> str:
    """The user expression that exports ``request``'s answers from the kernel.

    ``request``: ``variables`` (names), ``function`` (a name or ``""``) and
    ``inputs`` (``[key, nested list of floats]`` pairs, the function's
    arguments). The expression evaluates to the answers' JSON text: one
    object per key, ``{"value": ...}`` or ``{"missing": "why"}``.
    """
    plain_request = {"variables": [str(v) for v in request["variables"]],
                     "function": str(request.get("function") or ""),
                     "inputs": [[str(k), v] for k, v in request.get("inputs", [])]}
    # The notebook's own namespace is only read.
    return (f"__import__({KERNEL_EXPORT!r}, fromlist=['export'])"
            f".export(globals(), {plain_request!r})")


def parse_export_reply(content: dict) -> dict:
    """``{"text": json}`` or ``{"error": why}`` from an execute reply's content."""
    if not isinstance(content, dict) or content.get("status") != "ok":
        why = content.get("ename", "") if isinstance(content, dict) else ""
        return {"error": f"the export did not run in the kernel ({why or 'error'})"}
    found = (content.get("user_expressions") or {}).get("answers")
    if not isinstance(found, dict) or found.get("status") != "ok":
        why = found.get("ename", "") if isinstance(found, dict) else ""
        return {"error": f"the answers could not be read from the kernel ({why or 'error'})"}
    shown = (found.get("data") or {}).get("text/plain")
    if not isinstance(shown, str) or len(shown) > 2 * MAX_ANSWER_TEXT:
        return {"error": "the answers came back in an unexpected form or too large"}
    try:
        text = ast.literal_eval(shown)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {"error": "the answers came back in an unexpected form"}
    if not isinstance(text, str) or len(text) > MAX_ANSWER_TEXT:
        return {"error": "the answers came back in an unexpected form or too large"}
    return {"text": text}


async def export_answers(client, request: dict, seconds: float) -> tuple[dict, str]:
    """Run one export in the kernel. Returns the answers entry and, when the
    kernel had to be stopped, the reason the rest of the notebook is not run."""
    kc = client.kc
    msg_id = kc.execute("", silent=True, store_history=False,
                        user_expressions={"answers": export_expression(request)})
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = await kc.shell_channel.get_msg(
                timeout=max(0.05, min(1.0, deadline - time.monotonic())))
        except Exception:  # noqa: BLE001 - queue.Empty and friends: check the kernel, wait on
            if not await client.km.is_alive():
                return ({"error": "the kernel died while the answers were exported"},
                        "the kernel died while the answers were exported")
            continue
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return parse_export_reply(msg.get("content", {})), ""
    await client.km.interrupt_kernel()
    entry = {"error": f"exporting the answers took longer than {seconds:.0f} s"}
    if not await kernel_responds(client, 5.0):
        await client.km.shutdown_kernel(now=True)
        return entry, "the kernel ignored the interrupt while the answers were exported"
    return entry, ""
