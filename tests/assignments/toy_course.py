"""A small course built in a temporary folder: two assignments over a gapped library.

Layout (mirrors the repository, so the real ``nbgrader_config.py`` works in it)::

    <root>/assignments/nbgrader_config.py   (the course's own config, copied)
    <root>/assignments/gaps.toml             (first: toygraph, second: toylayer)
    <root>/assignments/source/<a>/<a>.ipynb
    <root>/cs231n_lib/{__init__,toygraph,toylayer,toyshapes}.py

Points: ``first`` has test_add_backward (2, with a hidden test) and a written
answer (1, manual). ``second`` has test_double (1, a notebook answer),
test_scale_forward (2), test_scale_backward (3, visible and hidden checks), and
a written answer (1, manual).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[2]

TOYGRAPH = '''\
"""Scalar gates for the fixture course."""


def add_backward(dout):
    """Gradient of a + b: the add gate hands dout to both inputs.

    Returns (da, db).
    """
    ### BEGIN SOLUTION
    da = dout
    db = dout
    ### END SOLUTION
    return da, db
'''

TOYLAYER = '''\
"""A scaling layer for the fixture course."""

import numpy as np

from cs231n_lib.toyshapes import require_matrix


def scale_forward(x, w):
    """Scale column d of x by w[d].

    x: (N, D), w: (D,) -> out: (N, D), cache
    """
    x = require_matrix(x)
    ### BEGIN SOLUTION
    out = x * w[None, :]
    ### END SOLUTION
    return out, (x, w)


def scale_backward(dout, cache):
    """Backward pass of scale_forward: dout (N, D) -> dx (N, D), dw (D,)."""
    x, w = cache
    ### BEGIN SOLUTION
    # Hint: each w[d] touches a whole column, so its gradient sums over rows.
    dx = dout * w[None, :]
    dw = (dout * x).sum(axis=0)
    ### END SOLUTION
    return dx, dw
'''

TOYSHAPES = '''\
"""Validation shared by every layer (never a gap)."""

import numpy as np


def require_matrix(x):
    """Return x as a float64 (N, D) array or raise a ValueError saying what arrived."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must be (N, D); got shape {x.shape}")
    return x
'''

GAPS_TOML = '''\
[[assignment]]
name = "first"
lecture = 4
modules = ["toygraph"]

[[assignment]]
name = "second"
lecture = 5
modules = ["toylayer"]
'''


def _meta(grade_id, *, grade, solution, points=0, locked=None, task=False):
    meta = {"grade": grade, "solution": solution, "grade_id": grade_id,
            "locked": (not solution) if locked is None else locked,
            "schema_version": 3, "task": task}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def _code(source, **nbgrader):
    cell = new_code_cell(textwrap.dedent(source).strip("\n"))
    if nbgrader:
        cell.metadata.update(_meta(**nbgrader))
    return cell


def _markdown(source, **nbgrader):
    cell = new_markdown_cell(textwrap.dedent(source).strip("\n"))
    if nbgrader:
        cell.metadata.update(_meta(**nbgrader))
    return cell


def first_notebook():
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        _markdown("# The add gate\nThe add gate distributes the upstream gradient."),
        _code("from cs231n_lib.toygraph import add_backward"),
        _code("""
            da, db = add_backward(3.0)
            print("da, db =", da, db)
            assert (da, db) == (3.0, 3.0)
            ### BEGIN HIDDEN TESTS
            assert add_backward(-0.5) == (-0.5, -0.5)
            ### END HIDDEN TESTS
            """, grade_id="test_add_backward", grade=True, solution=False, points=2),
        _markdown("""
            Why is the add gate called a distributor?

            ### BEGIN SOLUTION
            Its local gradient is 1 for every input.
            ### END SOLUTION
            """, grade_id="written_distributor", grade=True, solution=True, points=1),
    ]
    return nb


def second_notebook():
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [
        _markdown("# A scaling layer"),
        _code("""
            import numpy as np
            from cs231n_lib.toylayer import scale_backward, scale_forward
            from cs231n_lib.toygraph import add_backward
            """),
        _code("""
            def double(x):
                ### BEGIN SOLUTION
                return 2 * x
                ### END SOLUTION
            """, grade_id="double", grade=False, solution=True),
        _code("assert double(3) == 6", grade_id="test_double", grade=True, solution=False,
              points=1),
        _code("""
            out, _ = scale_forward(np.ones((2, 3)), np.array([1.0, 2.0, 3.0]))
            assert np.allclose(out, [[1, 2, 3], [1, 2, 3]])
            ### BEGIN HIDDEN TESTS
            out, _ = scale_forward(np.arange(6.0).reshape(3, 2), np.array([-1.0, 0.5]))
            assert np.allclose(out, [[0, 0.5], [-2, 1.5], [-4, 2.5]])
            ### END HIDDEN TESTS
            """, grade_id="test_scale_forward", grade=True, solution=False, points=2),
        _code("""
            def numeric_grad(f, x, dout, h=1e-6):
                grad = np.zeros_like(x)
                for i in np.ndindex(*x.shape):
                    old = x[i]
                    x[i] = old + h
                    plus = np.sum(f(x) * dout)
                    x[i] = old - h
                    minus = np.sum(f(x) * dout)
                    x[i] = old
                    grad[i] = (plus - minus) / (2 * h)
                return grad

            def rel_error(a, b):
                return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))

            def check(x, w, dout):
                _, cache = scale_forward(x, w)
                dx, dw = scale_backward(dout, cache)
                dx_num = numeric_grad(lambda v: scale_forward(v, w)[0], x.copy(), dout)
                dw_num = numeric_grad(lambda v: scale_forward(x, v)[0], w.copy(), dout)
                return rel_error(dx, dx_num), rel_error(dw, dw_num)
            """),
        _code("""
            rng = np.random.default_rng(0)
            errors = check(rng.normal(size=(1, 3)), rng.normal(size=3), rng.normal(size=(1, 3)))
            print("relative errors dx, dw:", errors)
            assert max(errors) < 1e-7
            ### BEGIN HIDDEN TESTS
            rng = np.random.default_rng(1)
            errors = check(rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(4, 3)))
            assert max(errors) < 1e-7
            ### END HIDDEN TESTS
            """, grade_id="test_scale_backward", grade=True, solution=False, points=3),
        _markdown("""
            Why does dw sum over the rows?

            ### BEGIN SOLUTION
            Each weight scales a whole column, so its gradient adds up over rows.
            ### END SOLUTION
            """, grade_id="written_sum", grade=True, solution=True, points=1),
    ]
    return nb


POINTS = {
    "first": {"test_add_backward": 2},
    "second": {"test_double": 1, "test_scale_forward": 2, "test_scale_backward": 3},
}
MANUAL_POINTS = {"first": 1, "second": 1}


def build_toy_repo(root: Path) -> Path:
    """Write the fixture repository under ``root``; return its course folder."""
    course = root / "assignments"
    lib = root / "cs231n_lib"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text('"""Fixture library."""\n')
    (lib / "toygraph.py").write_text(TOYGRAPH)
    (lib / "toylayer.py").write_text(TOYLAYER)
    (lib / "toyshapes.py").write_text(TOYSHAPES)
    # Things a release must never carry.
    (lib / "__pycache__").mkdir()
    (lib / "__pycache__" / "toylayer.cpython-311.pyc").write_bytes(b"\0compiled")
    (lib / "tests").mkdir()
    (lib / "tests" / "test_toy.py").write_text("def test_nothing():\n    pass\n")
    course.mkdir()
    shutil.copyfile(REPO / "assignments" / "nbgrader_config.py", course / "nbgrader_config.py")
    (course / "gaps.toml").write_text(GAPS_TOML)
    for name, make in (("first", first_notebook), ("second", second_notebook)):
        (course / "source" / name).mkdir(parents=True)
        nbformat.write(make(), course / "source" / name / f"{name}.ipynb")
    return course
