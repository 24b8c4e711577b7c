"""Numerical gradient checking: centred differences and relative errors.

The analytic gradient of a backward pass is checked against the centred
difference ``(f(x + h) - f(x - h)) / (2 h)``, whose error is O(h^2). Two
rules make the comparison meaningful:

* Work in float64. With h = 1e-5 a float32 input (about 7 significant
  digits) cannot even represent ``x + h`` accurately, and the rounding error
  of the difference, about ``eps * |f| / h``, swamps the O(h^2) term, so a
  correct backward pass looks wrong (relative errors of 1e-2 and more).
* Keep inputs away from kinks (ReLU at 0, max ties, SVM margins at 0): a
  centred difference straddling a kink averages two slopes.

Every perturbation writes the original value back exactly (not ``x + h - h``,
which may differ in the last bit), also when ``f`` raises, so the caller's
arrays are unchanged afterwards.

Relative errors: below about 1e-7 is right; 1e-4 or more on a smooth
function is a bug.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cs231n_lib import known_mistakes, relations
from cs231n_lib.checks import ShapeError, require_same_shape

__all__ = [
    "eval_numerical_gradient",
    "eval_numerical_gradient_array",
    "grad_check_sparse",
    "rel_error",
    "check_gradients",
    "GradientReport",
    "GradientCheckRow",
    "PrecisionWarning",
]

#: Default pass threshold of :func:`check_gradients` (lecture 4: < 1e-7 is right).
DEFAULT_THRESHOLD = 1e-7

# Seed of the default upstream gradient. Not 0: inputs drawn with seed 0 would
# then equal dout, and a dout that is a function of x can cancel gradients
# (batchnorm's dx is ~0 when dout == x) and hide the errors being looked for.
_DOUT_SEED = 0x231D

_WHY_FLOAT64 = (
    "Numerical gradients need float64: with h = 1e-5 the rounding error of "
    "(f(x + h) - f(x - h)) / (2h) in float32 is about 1e-7 / 1e-5 = 1e-2 relative, "
    "so even a correct backward pass fails the check."
)


class PrecisionWarning(UserWarning):
    """A gradient check was asked to run on data that is not float64."""


def _require_float64(name: str, x) -> np.ndarray:
    """The array perturbed in place must be a float64 ndarray (see ``_WHY_FLOAT64``)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array that f reads (it is perturbed in place); got "
            f"{type(x).__name__}. Build it with np.asarray(..., dtype=np.float64).")
    if x.dtype != np.float64:
        raise TypeError(
            f"{name} has dtype {x.dtype}; expected float64. {_WHY_FLOAT64} Fix: convert "
            f"with {name}.astype(np.float64) and make f compute in float64 too.")
    return x


def _scalar_valued(f: Callable) -> Callable:
    """Wrap f so that a non-scalar result is a clear error instead of a numpy traceback."""

    def scalar_f(x):
        value = f(x)
        if np.ndim(value) != 0:
            raise TypeError(
                f"eval_numerical_gradient needs f to return a scalar (e.g. a loss); f returned "
                f"an array of shape {np.shape(value)}. For a function with an array output "
                "use eval_numerical_gradient_array(f, x, df) with the upstream gradient df.")
        try:
            return float(value)
        except TypeError:
            raise TypeError(f"f must return a real number; got {type(value).__name__}.") from None

    return scalar_f


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Centred-difference gradient of a scalar function at x.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``. It may ignore its argument and read x through a
        closure: x is perturbed in place.
    x : ndarray of float64, any shape
        The point; restored exactly afterwards.
    verbose : bool
        Print each index and its numerical gradient.
    h : float
        Step of the centred difference.

    Returns
    -------
    grad : ndarray, same shape as x
    """
    x = _require_float64("x", x)
    f = _scalar_valued(f)
    grad = np.zeros_like(x)
    ### BEGIN SOLUTION
    # Hint: f at x[ix] + h and x[ix] - h per index; restore x[ix] exactly (try/finally)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            f_plus = f(x)
            x[ix] = old - h
            f_minus = f(x)
        finally:
            x[ix] = old
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
    ### END SOLUTION
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Centred-difference gradient of ``sum(f(x) * df)`` for an array-valued f.

    This is the numerical counterpart of a backward pass: with ``df`` the
    upstream gradient, it returns what ``backward(df, cache)`` should return
    for x.

    Parameters
    ----------
    f : callable
        ``f(x) -> ndarray`` of the same shape as ``df``; may read x through a
        closure (x is perturbed in place).
    x : ndarray of float64, any shape
        The point; restored exactly afterwards.
    df : ndarray, shape of f(x)
        Upstream gradient.
    h : float
        Step of the centred difference.

    Returns
    -------
    grad : ndarray, same shape as x
    """
    x = _require_float64("x", x)
    df = np.asarray(df)
    require_same_shape("df", df, "f(x)", np.asarray(f(x)))
    grad = np.zeros_like(x)
    ### BEGIN SOLUTION
    # Hint: as eval_numerical_gradient, with sum((f(x+h) - f(x-h)) * df)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        try:
            x[ix] = old + h
            out_plus = np.array(f(x), dtype=np.float64)  # a copy: f may reuse its buffer
            x[ix] = old - h
            out_minus = np.array(f(x), dtype=np.float64)
        finally:
            x[ix] = old
        grad[ix] = np.sum((out_plus - out_minus) * df) / (2 * h)
    ### END SOLUTION
    return grad


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
    """Compare an analytic gradient with centred differences at a few random entries.

    For arrays too large to check every entry. Prints one line per check.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; may read x through a closure.
    x : ndarray of float64, any shape
        The point; restored exactly afterwards.
    analytic_grad : ndarray, same shape as x
    num_checks : int
        How many random entries to check.
    h : float
    rng : numpy.random.Generator or int, optional
        Chooses the entries (a seed or a generator, for reproducibility).

    Returns
    -------
    errors : list of float
        The relative error of each check, in the order printed.
    """
    x = _require_float64("x", x)
    analytic_grad = np.asarray(analytic_grad)
    require_same_shape("analytic_grad", analytic_grad, "x", x)
    if x.size == 0:
        raise ValueError("x is empty; there is no entry to check.")
    f = _scalar_valued(f)
    rng = np.random.default_rng(rng)
    errors = []
    ### BEGIN SOLUTION
    # Hint: per check: a random index, a centred difference there, print rel_error
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        try:
            x[ix] = old + h
            f_plus = f(x)
            x[ix] = old - h
            f_minus = f(x)
        finally:
            x[ix] = old
        numerical = (f_plus - f_minus) / (2 * h)
        analytic = float(analytic_grad[ix])
        error = rel_error(numerical, analytic)
        print(f"numerical: {numerical:f} analytic: {analytic:f}, relative error: {error:e}")
        errors.append(error)
    ### END SOLUTION
    return errors


def rel_error(x, y):
    """Largest elementwise relative error ``|x - y| / (|x| + |y|)``.

    The denominator is floored at 1e-8, so two (near) zeros count as equal
    instead of dividing 0 by 0.

    Parameters
    ----------
    x, y : ndarray or float, same shape
        Shapes must match exactly: broadcasting would compare the wrong entries.

    Returns
    -------
    float
        0.0 for empty arrays; nan if either holds nan.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape:
        raise ShapeError(f"rel_error compares arrays of one shape; got {x.shape} and "
                         f"{y.shape}. Check that both are the same quantity "
                         "(e.g. dw and the numerical gradient of w).")
    if x.size == 0:
        return 0.0
    ### BEGIN SOLUTION
    # Hint: elementwise |x - y| over |x| + |y| floored at 1e-8, then the largest, as a float
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))
    ### END SOLUTION


# --------------------------------------------------------------- the report
@dataclass(frozen=True)
class GradientCheckRow:
    """One checked input of :func:`check_gradients`."""

    name: str
    shape: tuple
    error: float
    passed: bool
    note: str = ""
    #: the likely mistake: a known mistake of the grader's catalogue that the pair
    #: reproduces (``known_mistakes``), else a simple relation of the wrong
    #: gradient to the right one (a factor of N, a sign, ...): ``relations.explain``
    mistake: str = ""
    #: its class of mistake (the grader's class id, e.g. ``"scale-1/N"``), '' for none
    mistake_class: str = ""


@dataclass
class GradientReport:
    """Result of :func:`check_gradients`: one row per checked input.

    ``str(report)`` is a table (input, shape, max relative error, pass/fail).
    ``report.errors`` maps each checked input's name to its relative error,
    ``report.passed`` is True when every row passed, ``report.skipped`` names
    the inputs passed through unchecked (dicts, ints, hyperparameters).
    """

    title: str
    threshold: float
    rows: list[GradientCheckRow] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.rows) and all(row.passed for row in self.rows)

    @property
    def errors(self) -> dict[str, float]:
        return {row.name: row.error for row in self.rows}

    def __getitem__(self, name: str) -> GradientCheckRow:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no checked input named {name!r}; checked: "
                       f"{', '.join(r.name for r in self.rows)}.")

    def __bool__(self) -> bool:
        return self.passed

    def failure_message(self) -> str:
        """Why the check failed, naming each failed input ('' when it passed).

        Meant for ``assert report.passed, report.failure_message()``: the message
        says which gradient is wrong and by how much, not only that one is.
        """
        if not self.rows:
            return f"{self.title}: backward returned no gradient to check."
        failed = [row for row in self.rows if not row.passed]
        if not failed:
            return ""
        clauses = [(f"d{row.name}: {row.note}" if row.note else
                    f"d{row.name} {row.shape}: relative error {row.error:.2e}")
                   + (f"; {row.mistake.rstrip('.')}" if row.mistake else "") for row in failed]
        return (f"a relative error is above {self.threshold:.0e} in {self.title}: "
                f"{'; '.join(clauses)}. The backward pass computes each gradient named here "
                "wrongly; the table above has every input's error.")

    def __str__(self) -> str:
        header = ("input", "shape", "max rel. error", f"< {self.threshold:.0e}")
        body = [(row.name, str(row.shape), f"{row.error:.2e}",
                 ("pass" if row.passed else "FAIL") + (f"  ({row.note})" if row.note else ""))
                for row in self.rows]
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(3)]
        lines = [self.title]
        for cells in [header, *body]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells[:3], widths, strict=True))
                         + "  " + cells[3])
        if self.skipped:
            lines.append(f"not checked (passed through): {', '.join(self.skipped)}")
        lines += [f"likely mistake in d{row.name}: {row.mistake}"
                  for row in self.rows if not row.passed and row.mistake]
        return "\n".join(lines)

    def _repr_pretty_(self, p, cycle):  # IPython shows the table, not the dataclass
        p.text(str(self))


def _input_names(forward: Callable, count: int, names) -> list[str]:
    if names is not None:
        names = list(names)
        if len(names) != count:
            raise ValueError(f"param_names has {len(names)} names but inputs has {count} "
                             "values; give one name per input.")
        return names
    try:
        params = [p.name for p in inspect.signature(forward).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in range(count)]


def _is_differentiable(value) -> bool:
    if isinstance(value, np.ndarray):
        return np.issubdtype(value.dtype, np.floating)
    return isinstance(value, (float, np.floating)) and not isinstance(value, bool)


def check_gradients(forward, backward, inputs, *, param_names=None, wrt=None, dout=None,
                    rng=None, h=1e-5, threshold=DEFAULT_THRESHOLD, title=None):
    """Check a forward/backward pair with respect to every input and parameter at once.

    Calls ``out, cache = forward(*inputs)`` and ``grads = backward(dout, cache)``,
    then compares each gradient with :func:`eval_numerical_gradient_array` of
    the matching input. Inputs are copied to float64 first, so the caller's
    arrays are never perturbed; a float32 input draws a
    :class:`PrecisionWarning`.

    Which inputs get gradients: ``backward`` returns one gradient (or a tuple
    of them) in the order of the inputs; by default they belong to the first
    differentiable inputs (float arrays and float scalars such as PReLU's
    alpha). Everything else (``bn_param``/``conv_param`` dicts, integers,
    trailing float hyperparameters like leaky ReLU's alpha) is passed through
    untouched and listed as not checked. A forward pass that updates such a
    dict (batchnorm's running averages) does so once per evaluation.

    Parameters
    ----------
    forward : callable
        ``forward(*inputs) -> (out, cache)``.
    backward : callable
        ``backward(dout, cache) -> grad`` or ``(grad_1, grad_2, ...)``.
    inputs : sequence or mapping
        Positional arguments of ``forward``; a mapping gives them names too
        (its order is the argument order).
    param_names : sequence of str, optional
        Names of the inputs for the report; default: ``forward``'s parameter
        names (``x, w, b``), or the mapping's keys.
    wrt : sequence of str, optional
        Names of the inputs the gradients belong to, in backward's order
        (e.g. ``("x", "alpha")``); default: the first differentiable inputs.
    dout : ndarray, optional
        Upstream gradient, shape of ``out``; default: standard normal from ``rng``.
    rng : numpy.random.Generator or int, optional
        Draws ``dout``; default: a fixed seed (reproducible).
    h : float
        Step of the centred differences.
    threshold : float
        A row passes when its max relative error is below this.
    title : str, optional
        First line of the table; default: ``"<forward> / <backward>"``.

    Returns
    -------
    GradientReport
        ``str(report)`` is the table; ``report.passed``; ``report.errors[name]``.
        A failed row's ``mistake`` names the likely mistake: the grader's words
        when the pair reproduces a known mistake (``known_mistakes``), else a
        simple relation between the wrong gradient and the right one.

    Examples
    --------
    >>> from cs231n_lib.affine import affine_backward, affine_forward
    >>> rng = np.random.default_rng(0)
    >>> x, w, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    >>> print(check_gradients(affine_forward, affine_backward, [x, w, b]))  # doctest: +SKIP
    affine_forward / affine_backward
    input  shape   max rel. error  < 1e-07
    x      (4, 5)  9.68e-11        pass
    w      (5, 3)  5.27e-11        pass
    b      (3,)    8.17e-12        pass
    """
    names, work = _named_float64_inputs(forward, inputs, param_names)
    out, cache = forward(*work)
    out = np.asarray(out)
    if dout is None:
        generator = np.random.default_rng(_DOUT_SEED if rng is None else rng)
        dout = generator.standard_normal(out.shape)
    else:
        dout = np.asarray(dout, dtype=np.float64)
        require_same_shape("dout", dout, "forward's output", out)
    grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)
    wrt = _gradient_owners(names, work, grads, wrt)

    if title is None:
        title = (f"{getattr(forward, '__name__', 'forward')} / "
                 f"{getattr(backward, '__name__', 'backward')}")
    report = GradientReport(title=title,
                            threshold=threshold,
                            skipped=[n for n in names if n not in wrt])
    sizes = _sizes(work)
    for name, grad in zip(wrt, grads, strict=True):
        report.rows.append(_check_one(forward, work, names.index(name), name, grad, dout,
                                      sizes, h, threshold))
    if not report.passed:
        _name_known_mistake(report, forward, backward, names)
    return report


def _named_float64_inputs(forward, inputs, param_names) -> tuple[list[str], list]:
    """The inputs' names and values, float arrays as float64 copies: the caller's
    arrays are never perturbed, and a float32 input is checked at the precision
    the check needs (with a :class:`PrecisionWarning`)."""
    if isinstance(inputs, Mapping):
        names = list(inputs.keys()) if param_names is None else list(param_names)
        values = list(inputs.values())
        if len(names) != len(values):
            raise ValueError(f"param_names has {len(names)} names but inputs has "
                             f"{len(values)} values; give one name per input.")
    elif isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
        values = list(inputs)
        names = _input_names(forward, len(values), param_names)
    else:
        raise TypeError("inputs must be a list of forward's positional arguments (e.g. "
                        f"[x, w, b]) or a dict name -> value; got {type(inputs).__name__}.")
    if len(set(names)) != len(names):
        raise ValueError(f"input names must be unique; got {names}.")
    work = []
    for name, value in zip(names, values, strict=True):
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
            if value.dtype != np.float64:
                warnings.warn(f"input {name!r} has dtype {value.dtype}; checking a float64 copy. "
                              f"{_WHY_FLOAT64}", PrecisionWarning, stacklevel=3)
            value = value.astype(np.float64, copy=True)
        work.append(value)
    return names, work


def _gradient_owners(names: list[str], work: list, grads: tuple, wrt) -> list[str]:
    """The input each gradient belongs to: ``wrt`` checked, or the first
    differentiable inputs in order."""
    if wrt is None:
        candidates = [n for n, v in zip(names, work, strict=True) if _is_differentiable(v)]
        if len(grads) > len(candidates):
            raise ValueError(
                f"backward returned {len(grads)} gradients but forward has only "
                f"{len(candidates)} float inputs ({', '.join(candidates) or 'none'}); "
                "pass wrt=(...) to say which input each gradient belongs to.")
        return candidates[:len(grads)]
    wrt = list(wrt)
    unknown = [n for n in wrt if n not in names]
    if unknown:
        raise ValueError(f"wrt names {unknown} are not inputs; inputs are {names}.")
    if len(wrt) != len(grads):
        raise ValueError(f"wrt names {len(wrt)} inputs but backward returned "
                         f"{len(grads)} gradients; give one name per gradient.")
    return wrt


def _check_one(forward, work: list, i: int, name: str, grad, dout, sizes, h: float,
               threshold: float) -> GradientCheckRow:
    """One row: ``grad`` against the centred differences of ``forward`` in input ``i``."""
    scalar = not isinstance(work[i], np.ndarray)
    point = np.array(work[i], dtype=np.float64)  # 0-d for a scalar parameter

    def f_out(p):
        args = list(work)
        args[i] = float(p) if scalar else p
        return forward(*args)[0]

    shape = point.shape
    numerical = eval_numerical_gradient_array(f_out, point, dout, h=h)
    if np.shape(grad) != shape:
        note = f"backward returned shape {np.shape(grad)}, expected {shape}"
        cls, mistake = _likely_mistake(name, grad, numerical, sizes, threshold)
        return GradientCheckRow(name, shape, float("inf"), False, note=note,
                                mistake=mistake, mistake_class=cls)
    grad = np.asarray(grad, dtype=np.float64)
    error = rel_error(grad, numerical)
    passed = bool(error < threshold)
    cls, mistake = "", ""
    if not passed:
        ones = functools.partial(eval_numerical_gradient_array, f_out, point,
                                 np.ones_like(dout), h=h)
        cls, mistake = _likely_mistake(name, grad, numerical, sizes, threshold, ones)
    return GradientCheckRow(name, shape, error, passed, mistake=mistake, mistake_class=cls)


def _name_known_mistake(report: GradientReport, forward, backward, names) -> None:
    """Give the failed rows a known mistake's sentence when the pair reproduces one
    (``known_mistakes``: the grader's catalogue, as outputs on public inputs).

    It takes precedence over a relation's sentence, as in grading. It goes to
    the failed rows whose gradient the mistake gets wrong, or to every failed
    row when it gets none of them wrong (a mistake in the forward pass).
    """
    failed = [i for i, row in enumerate(report.rows) if not row.passed]
    found = known_mistakes.find_known_mistake(
        forward, backward, names, failed=[f"d{report.rows[i].name}" for i in failed])
    if found is None:
        return
    concerned = [i for i in failed if f"d{report.rows[i].name}" in found.outputs] or failed
    for i in concerned:
        row = report.rows[i]
        report.rows[i] = dataclasses.replace(row, mistake=found.sentence_for(f"d{row.name}"),
                                             mistake_class=found.cls)


def _sizes(inputs) -> dict[str, float]:
    """The batch size N, read from the first input with a batch axis: a factor
    of N (or 1/N) is the most common wrong constant in a backward pass."""
    for value in inputs:
        if isinstance(value, np.ndarray) and value.ndim >= 2 and value.shape[0] > 1:
            return {"N": float(value.shape[0])}
    return {}


def _likely_mistake(name: str, grad, numerical, sizes, threshold: float,
                    upstream_of_ones: Callable | None = None) -> tuple[str, str]:
    """Class and sentence of the likely mistake, when the wrong gradient (of any
    shape) is a simple function of the right one (``relations``), else ``("", "")``.

    ``upstream_of_ones()`` gives the numerical gradient for an upstream gradient
    of all ones: a backward pass that never multiplies by dout returns exactly
    that (the grader runs the reference the same way).
    """
    # A numerical gradient is only close to the true one: compare with slack.
    tol = max(10.0 * threshold, 1e-5)
    grad, shape = np.asarray(grad, dtype=np.float64), np.shape(grad)
    if shape == numerical.shape:
        if rel_error(grad, numerical) < relations.NEAR_MISS:
            return "", ""  # a matter of precision, not of structure
        found = relations.find_relation(grad, numerical, tol)
        if found is None and upstream_of_ones is not None:
            ones = upstream_of_ones()
            if relations.rel_error(ones, numerical) > tol and relations.agree(grad, ones, tol):
                found = relations.Relation("upstream-of-ones")
    elif grad.ndim == 2 and shape[::-1] == numerical.shape:
        found = (relations.Relation("transpose")
                 if relations.agree(grad.T, numerical, tol) else None)
    else:  # e.g. db of shape (N, M): a sum over the batch left out
        found = relations.unsummed(grad, numerical, tol)
    if found is None:
        return "", ""
    return relations.explain(f"d{name}", found, shape, sizes)
