"""Input checks shared by every module: clear errors instead of numpy tracebacks.

Each check names the argument, what was expected, what arrived and, where
there is one, the usual fix. Messages are meant for a student reading a
notebook traceback, so they use the shapes from the docstrings
(``x: (N, C, H, W)``) rather than numpy's broadcasting vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np


class ShapeError(ValueError):
    """An array arrived with a shape the function cannot use."""


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape} and dtype {x.dtype}"
    return f"a {type(x).__name__}"


def require_array(name: str, x, *, ndim: int | Sequence[int] | None = None,
                  layout: str | None = None) -> np.ndarray:
    """Return ``x`` as an ndarray, checking its number of dimensions.

    Parameters
    ----------
    name : str
        The argument's name as the caller knows it (``"x"``, ``"w"``).
    x : array_like
        The value that arrived.
    ndim : int or sequence of int, optional
        The allowed numbers of dimensions.
    layout : str, optional
        The expected layout for the message, e.g. ``"(N, C, H, W)"``.
    """
    if x is None:
        raise TypeError(f"{name} is None; expected an array{_layout(layout)}.")
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as exc:  # ragged lists and the like
            raise TypeError(f"{name} must be a numpy array{_layout(layout)}; "
                            f"got {_describe(x)} that numpy cannot convert ({exc}).") from None
    if x.dtype == object:
        raise TypeError(f"{name} must hold numbers{_layout(layout)}; got an object array "
                        "(a ragged list?). Build it with np.array on equal-length rows.")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(str(d) for d in allowed)
            raise ShapeError(f"{name} must have {want} dimensions{_layout(layout)}; "
                             f"got {_describe(x)}.")
    return x


def require_dim(name: str, actual: int, expected: int, *, what: str, fix: str = "") -> None:
    """Raise a ShapeError when one named dimension disagrees with another."""
    if actual != expected:
        msg = f"{name}: {what} is {actual} but must be {expected}."
        if fix:
            msg += f" {fix}"
        raise ShapeError(msg)


def require_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise a ShapeError unless ``a`` and ``b`` have the same shape (e.g. dout and x)."""
    if np.shape(a) != np.shape(b):
        raise ShapeError(f"{name_a} has shape {np.shape(a)} but {name_b} has shape "
                         f"{np.shape(b)}; they must match.")


def require_labels(y, num_samples: int, num_classes: int) -> np.ndarray:
    """Check integer class labels ``y: (N,)`` with values in ``[0, num_classes)``."""
    y = require_array("y", y, ndim=1, layout="(N,)")
    if y.shape[0] != num_samples:
        raise ShapeError(f"y has {y.shape[0]} labels but the scores have {num_samples} rows; "
                         "give one label per sample.")
    if not np.issubdtype(y.dtype, np.integer):
        if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
            raise TypeError(f"y must hold integer class indices; got dtype {y.dtype}.")
        y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}) for {num_classes} classes; "
                         f"got values from {y.min()} to {y.max()}.")
    return y


def require_keys(name: str, params: Mapping, keys: Sequence[str], *, example: str = "") -> None:
    """Check that a parameter dict (``bn_param``, ``conv_param``) has every key."""
    if not isinstance(params, Mapping):
        raise TypeError(f"{name} must be a dict; got {type(params).__name__}.")
    missing = [k for k in keys if k not in params]
    if missing:
        msg = f"{name} is missing {', '.join(repr(k) for k in missing)}."
        if example:
            msg += f" For example: {name} = {example}"
        raise KeyError(msg)


class AnswerMissingError(NameError):
    """A test cell reads an answer that its answer cell has not defined yet."""


def require_answers(namespace: Mapping, *names: str) -> None:
    """Check that the notebook has defined every name in ``names``.

    Test cells of answers typed into a notebook call this first, so that an
    answer cell not filled in yet (or not run) gives this hint instead of a
    bare ``NameError`` from the middle of the test.

    Parameters
    ----------
    namespace : mapping
        Where the answers live: the notebook's ``globals()``.
    *names : str
        The names the answer cell above the test defines.
    """
    missing = [name for name in names if name not in namespace]
    for name in missing:
        broken = _why_the_defining_cell_fails(namespace, name)
        if broken:
            raise AnswerMissingError(
                f"the cell that defines {name} does not run: {broken}. Fix it, run it, then "
                "run this test again.")
    if missing:
        listed = ", ".join(missing)
        verb = "is" if len(missing) == 1 else "are"
        raise AnswerMissingError(
            f"{listed} {verb} not defined yet. Write your answer in the answer cell above "
            "this test (in place of its `raise NotImplementedError()`), run that cell, then "
            "run this test again.")


def _why_the_defining_cell_fails(namespace: Mapping, name: str) -> str:
    """If the newest cell that assigns ``name`` (IPython's ``In`` history) does not
    even compile, why: an answer cell with an ``IndentationError`` never defines its
    answer, and "not defined yet" would send the student looking in the wrong place."""
    defines = re.compile(rf"^\s*(def\s+{re.escape(name)}\b|{re.escape(name)}\s*[=,:])", re.M)
    history = namespace.get("In", [])
    for source in reversed(list(history) if isinstance(history, list) else []):
        if isinstance(source, str) and defines.search(source):
            try:
                compile(source, "<answer cell>", "exec")
            except SyntaxError as exc:
                return f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
            return ""
    return ""


def require_choice(name: str, value, choices: Sequence) -> None:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}; "
                         f"got {value!r}.")


def _layout(layout: str | None) -> str:
    return f" {layout}" if layout else ""
