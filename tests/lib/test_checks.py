"""The shared checks' messages: what was expected, what arrived, how to fix it."""

from __future__ import annotations

import pytest

from cs231n_lib.checks import AnswerMissingError, require_answers


def test_defined_answers_pass():
    require_answers({"dfdx": -4.0, "dfdy": -4.0}, "dfdx", "dfdy")


def test_missing_answers_are_named_with_the_fix():
    with pytest.raises(AnswerMissingError) as info:
        require_answers({"dfdx": -4.0}, "dfdx", "dfdy", "dfdz")
    message = str(info.value)
    assert message.startswith("dfdy, dfdz are not defined yet.")
    assert "answer cell above" in message and "run this test again" in message
    # Still a NameError, for code that catches those.
    assert isinstance(info.value, NameError)


def test_one_missing_answer_reads_in_the_singular():
    with pytest.raises(AnswerMissingError, match=r"^good_init is not defined yet\."):
        require_answers({}, "good_init")


def test_an_answer_cell_that_does_not_compile_is_named_not_called_missing():
    from cs231n_lib.checks import AnswerMissingError, require_answers

    namespace = {"In": ["", "import numpy as np",
                        "def dead_fraction(h):\nreturn float((h == 0).mean())\n"]}
    with pytest.raises(AnswerMissingError, match="does not run: IndentationError") as info:
        require_answers(namespace, "dead_fraction")
    assert "dead_fraction" in str(info.value) and "line 2" in str(info.value)
    # A cell that compiles but was not run is still "not defined yet".
    namespace["In"].append("def dead_fraction(h):\n    return 0.0\n")
    with pytest.raises(AnswerMissingError, match="not defined yet"):
        require_answers(namespace, "dead_fraction")
