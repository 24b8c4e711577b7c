"""Finding and stubbing the library's solution regions (autograder.release.gaps)."""

from __future__ import annotations

import ast
import importlib.util
import textwrap

import pytest

from autograder.release.gaps import (
    GapMarkerError,
    find_gaps,
    read_gap_table,
    render,
    strip_markers,
    stub_source,
)

MODULE = textwrap.dedent('''\
    """A small module with two gaps."""

    import numpy as np


    def scale_forward(x, k):
        """Multiply every entry of x by k.

        x: (N, D)
        """
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError("x must be (N, D)")
        ### BEGIN SOLUTION
        out = x * k
        cache = (x, k)
        ### END SOLUTION
        return out, cache


    class Node:
        """A value with a gradient."""

        def backward(self, dout):
            """Route the upstream gradient to both inputs."""
            def _route():
                ### BEGIN SOLUTION
                # Hint: an add gate distributes dout unchanged.
                self.grad_a = dout
                self.grad_b = dout
                ### END SOLUTION
            _route()
            return self
    ''')

PATH = "cs231n_lib/toy.py"


def _import(tmp_path, text, name="toy_module"):
    file = tmp_path / f"{name}.py"
    file.write_text(text)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_find_gaps_names_functions_lines_and_hints():
    gaps = find_gaps(MODULE, PATH)
    assert [g.function for g in gaps] == ["scale_forward", "Node.backward._route"]
    first, second = gaps
    lines = MODULE.splitlines()
    assert lines[first.begin - 1].strip() == "### BEGIN SOLUTION"
    assert lines[first.end - 1].strip() == "### END SOLUTION"
    assert first.body == ("    out = x * k", "    cache = (x, k)")
    assert first.hint == "Multiply every entry of x by k."
    assert second.hint == "an add gate distributes dout unchanged."
    assert second.indent == " " * 12
    assert first.where == "scale_forward in cs231n_lib/toy.py"


def test_stub_keeps_signature_docstring_and_validation(tmp_path):
    stubbed = stub_source(MODULE, PATH, "backprop")
    ast.parse(stubbed)
    assert "BEGIN SOLUTION" not in stubbed and "END SOLUTION" not in stubbed
    assert "out = x * k" not in stubbed and "self.grad_a = dout" not in stubbed
    assert "def scale_forward(x, k):" in stubbed
    assert "Multiply every entry of x by k." in stubbed
    assert 'raise ValueError("x must be (N, D)")' in stubbed
    assert ("    # YOUR CODE HERE (scale_forward in cs231n_lib/toy.py, assignment backprop)"
            in stubbed.splitlines())
    module = _import(tmp_path, stubbed)
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        module.scale_forward([1.0, 2.0], 2.0)  # validation outside the gap survives
    with pytest.raises(NotImplementedError,
                       match=r"Implement scale_forward in cs231n_lib/toy.py: Multiply every"):
        module.scale_forward([[1.0, 2.0]], 2.0)
    with pytest.raises(NotImplementedError, match="add gate distributes"):
        module.Node().backward(1.0)
    assert module.scale_forward.__doc__.startswith("Multiply every entry")


def test_stub_is_written_at_the_region_indentation():
    stubbed = stub_source(MODULE, PATH, "backprop").splitlines()
    raises = [ln for ln in stubbed if "raise NotImplementedError" in ln]
    assert [len(ln) - len(ln.lstrip()) for ln in raises] == [4, 12]


def test_strip_markers_gives_the_working_reference(tmp_path):
    reference = strip_markers(MODULE, PATH)
    assert "SOLUTION" not in reference
    assert len(reference.splitlines()) == len(MODULE.splitlines()) - 4
    module = _import(tmp_path, reference, "toy_reference")
    out, _ = module.scale_forward([[1.0, 2.0]], 3.0)
    assert out.tolist() == [[3.0, 6.0]]
    node = module.Node().backward(5.0)
    assert (node.grad_a, node.grad_b) == (5.0, 5.0)


def test_render_stubs_only_the_chosen_gaps(tmp_path):
    text = render(MODULE, PATH, "backprop", lambda gap: gap.function != "scale_forward")
    module = _import(tmp_path, text, "toy_partial")
    assert module.scale_forward([[2.0]], 2.0)[0].tolist() == [[4.0]]
    with pytest.raises(NotImplementedError):
        module.Node().backward(1.0)


def test_a_module_without_gaps_is_unchanged():
    plain = "def f(x):\n    return x\n"
    assert find_gaps(plain, PATH) == []
    assert stub_source(plain, PATH, "a") == plain


def test_crlf_line_endings_survive():
    crlf = MODULE.replace("\n", "\r\n")
    stubbed = stub_source(crlf, PATH, "backprop")
    assert "\r\n" in stubbed and "\n" not in stubbed.replace("\r\n", "")
    ast.parse(stubbed)


BAD = {
    "unclosed": ("def f():\n    ### BEGIN SOLUTION\n    return 1\n", r":2: .*never closed"),
    "unopened": ("def f():\n    return 1\n    ### END SOLUTION\n", r":3: .*without a matching"),
    "nested": ("def f():\n    ### BEGIN SOLUTION\n    x = 1\n    ### BEGIN SOLUTION\n"
               "    return x\n    ### END SOLUTION\n    ### END SOLUTION\n", r":4: .*cannot nest"),
    "near_miss": ("def f():\n    ## BEGIN SOLUTION\n    return 1\n", r":2: .*not exactly"),
    "trailing_text": ("def f():\n    ### BEGIN SOLUTION here\n    return 1\n"
                      "    ### END SOLUTION\n", r":2: .*not exactly"),
    "indent_mismatch": ("def f():\n    if True:\n        ### BEGIN SOLUTION\n"
                        "        return 1\n    ### END SOLUTION\n", r":5: .*indented differently"),
    "empty": ("def f():\n    ### BEGIN SOLUTION\n    # nothing\n    ### END SOLUTION\n"
              "    return 1\n", r":2: .*holds no code"),
    "module_level": ("### BEGIN SOLUTION\nX = 1\n### END SOLUTION\n",
                     r":1: .*not inside a function"),
    "escapes_block": ("def f(x):\n    if x:\n        ### BEGIN SOLUTION\n        y = 1\n"
                      "    z = 2\n        ### END SOLUTION\n    return 0\n",
                      r":5: .*indented less"),
    "syntax": ("def f(:\n    pass\n", r"does not parse"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_markers_are_rejected_with_file_and_line(case):
    source, pattern = BAD[case]
    with pytest.raises(GapMarkerError) as info:
        find_gaps(source, "cs231n_lib/bad.py")
    assert "cs231n_lib/bad.py:" in str(info.value)
    assert info.match(pattern)


def test_read_gap_table(tmp_path):
    table = tmp_path / "gaps.toml"
    table.write_text('[[assignment]]\nname = "a"\nlecture = 4\nmodules = ["m1", "m2"]\n'
                     '[[assignment]]\nname = "b"\nlecture = 5\nmodules = ["m3"]\n')
    rows = read_gap_table(table)
    assert [(r.name, r.lecture, r.modules) for r in rows] == [("a", 4, ("m1", "m2")),
                                                              ("b", 5, ("m3",))]
    table.write_text('[[assignment]]\nname = "a"\nmodules = ["m1"]\n'
                     '[[assignment]]\nname = "b"\nmodules = ["m1"]\n')
    with pytest.raises(ValueError, match="both 'a' and 'b'"):
        read_gap_table(table)


def test_the_real_gap_table_reads():
    from pathlib import Path

    rows = read_gap_table(Path(__file__).resolve().parents[2] / "assignments" / "gaps.toml")
    assert [r.name for r in rows][:2] == ["backprop", "conv"]
