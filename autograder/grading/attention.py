"""The flags of a graded submission worth an instructor's look, in words they can read."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from autograder.grading.plain_text import one_line
from autograder.grading.record import needs_attention


def flag_text(flag) -> str:
    """A flag (a string, or a record with a message or kind) as one line of text."""
    if isinstance(flag, Mapping):
        return one_line(flag.get("message") or flag.get("kind") or json.dumps(flag))
    return one_line(flag)


def _all_flags(record: Mapping) -> list:
    flags = list(record.get("flags") or [])
    for row in record.get("cells") or []:
        flags += [f"{row.get('grade_id')}: {flag_text(f)}" for f in row.get("flags") or []]
    return list(dict.fromkeys(flags))


# jupyter_client refuses a message whose HMAC does not match ("Invalid Signature:
# b'<hex>'"). Processes forked by a notebook share the kernel's sockets, and their
# interleaved writes garble the messages: the raw error says nothing to a reader.
_BAD_SIGNATURE = re.compile(r"(\w+Error: )?Invalid Signature: b?'[^']*'?")
_BAD_SIGNATURE_TEXT = (
    "the kernel's messages arrived garbled (jupyter_client rejected their signature): "
    "processes forked by the notebook's code wrote on the kernel's connection at once, "
    "as a fork bomb does, so the run was stopped there")


def explain_flag(text: str) -> str:
    """A flag's text with the raw errors an instructor cannot read put in words."""
    return _BAD_SIGNATURE.sub(_BAD_SIGNATURE_TEXT, one_line(text))


def attention_flags(record: Mapping) -> list[str]:
    """The flags of a graded submission worth an instructor's look, explained.

    The one definition of "flagged" (record-level and per-cell flags, less the
    routine ones, see :func:`autograder.grading.record.needs_attention`): the
    CSV's flags column, ``grade``'s report and the demo's summary count these.
    """
    return list(dict.fromkeys(explain_flag(flag_text(f)) for f in _all_flags(record)
                              if needs_attention(f)))
