"""Known mistakes' outputs on public inputs, for the notebook's gradient checks (trusted side).

The grader names a mistake by comparing a student's outputs with the
catalogue's mutants on hidden probe inputs. The notebook cannot run the
mutants (they contain the solution), so this builder runs them here, on
*public* inputs drawn with a fixed seed, and keeps, for every mutant of a
checked forward/backward pair, only the outputs it gets wrong. The student's
library (``cs231n_lib.known_mistakes``) later runs the student's own
functions on the same inputs and asks ``relations.matching_mistake`` which of
those wrong outputs they reproduce: the catalogue's words, without its code.

``python -m autograder.diagnosis.known_outputs`` writes
``cs231n_lib/known_mistakes.json`` (per backward function: its forward, the
inputs' names, the non-array arguments, and per mistake its class, sentence
and which arrays hold its wrong outputs) and ``cs231n_lib/known_mistakes.npz``
(arrays only). Both are the same bytes on every run.

The inputs are made to show mistakes: exact zeros at the activations' kinks,
ties in pooling windows and in the max gate, stride 2 with padding and pad 0
for the convolution, non-square shapes, batches of several samples, features
of small variance (where batchnorm's eps matters). They are not the probes'
inputs, which stay hidden.

``notebook_outcome(case)`` measures the result: it plants an implementation
written apart from the catalogue (``autograder.diagnosis.measure.Case``, e.g.
``tests/autograder/diagnosis_cases``) as the student's, runs
``check_gradients`` on other inputs of the same kinds, and reads which known
mistake the report names (``named``, ``misnamed``, ``unnamed``, ``clean``, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import io
import json
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from autograder.course import LIBRARY_DIR
from autograder.diagnosis.catalogue import Mutant, all_mutants
from autograder.diagnosis.mutant_lib import fresh_copy, library_dir, library_with, mutant_library
from cs231n_lib import known_mistakes, relations
from cs231n_lib.gradient_check import check_gradients

JSON_NAME, NPZ_NAME, FORMAT = (known_mistakes.JSON_NAME, known_mistakes.NPZ_NAME,
                               known_mistakes.FORMAT)
#: Seed of every public input (one stream per backward function, see ``_rng``).
SEED = 231
#: An output differs from the reference's when their relative error is above this
#: (the grader's ``diagnose.MATCH_TOL``).
MATCH_TOL = relations.AGREE
#: ... and a kept wrong output must differ by at least this much, so that no
#: correct implementation, whatever its rounding, can be taken for the mistake.
CLEAR_GAP = 1e-3
ABOUT = ("Known mistakes of the library's backward passes on public inputs: for each "
         "backward function, the outputs that a typical mistake gets wrong. Read by "
         "cs231n_lib/known_mistakes.py. Rebuild with "
         "`python -m autograder.diagnosis.known_outputs`; do not edit.")


@dataclass(frozen=True)
class Case:
    """One public call: ``forward(*args)`` then ``backward(dout, cache)``.

    Parameters
    ----------
    args : tuple
        forward's positional arguments: arrays, floats, parameter dicts.
    dout : ndarray
        Upstream gradient, the shape of forward's output.
    """

    args: tuple
    dout: np.ndarray


@dataclass(frozen=True)
class Checked:
    """A forward/backward pair the notebooks check with ``check_gradients``.

    Parameters
    ----------
    module : str
        The library module that defines both, e.g. ``"conv"``.
    forward, backward : str
        The functions' names (the notebook finds the entry by ``backward.__name__``).
    inputs : tuple of str
        Names of forward's positional arguments.
    grads : tuple of str
        The inputs whose gradients backward returns, in its order.
    make_args : callable
        ``make_args(rng) -> list of argument tuples``, one per case.
    """

    module: str
    forward: str
    backward: str
    inputs: tuple
    grads: tuple
    make_args: Callable[[np.random.Generator], list]


# ------------------------------------------------------------------ public inputs

def _normal(rng: np.random.Generator, *shape: int, scale: float = 1.0, decimals: int = 2):
    """Rounded normal draws: short numbers, and exact ties and zeros do occur."""
    return np.round(scale * rng.standard_normal(shape), decimals)


def _with_zeros(rng: np.random.Generator, x: np.ndarray, count: int = 3) -> np.ndarray:
    """``x`` with ``count`` entries set to exactly 0 (the activations' kink)."""
    x = x.copy()
    x.flat[rng.choice(x.size, size=count, replace=False)] = 0.0
    return x


def _max_gate_args(rng):
    x, y = _normal(rng, 3, 4), _normal(rng, 3, 4)
    ties = rng.choice(x.size, size=4, replace=False)
    y.flat[ties] = x.flat[ties]
    return [(x, y)]


def _conv_args(rng):
    # Stride 2 with padding and overlapping windows; then pad 0, where a crop
    # slice that ends at -pad is empty. Rectangular images and filters.
    strided = (_normal(rng, 2, 3, 7, 5), _normal(rng, 4, 3, 3, 3), _normal(rng, 4),
               {"stride": 2, "pad": 1})
    unpadded = (_normal(rng, 2, 2, 4, 5), _normal(rng, 3, 2, 2, 3), _normal(rng, 3),
                {"stride": 1, "pad": 0})
    return [strided, unpadded]


def _pool_args(rng):
    # Small integers: many ties. A 2x3 window with stride 2 overlaps its
    # neighbour by one column, and its sides differ (a swapped unravel shows).
    x = rng.integers(0, 4, size=(2, 2, 6, 7)).astype(np.float64)
    return [(x, {"pool_height": 2, "pool_width": 3, "stride": 2})]


def _bn_rows(rng, n: int, d: int):
    # Features of very different spreads: where the variance is about eps
    # (1e-5 by default), where eps sits shows.
    spread = np.array([0.003, 0.05, 1.0, 3.0, 0.5, 0.01])[:d]
    x = np.round(_normal(rng, n, d, decimals=4) * spread + _normal(rng, d), 5)
    return x, _normal(rng, d), _normal(rng, d)


def _spatial_args(rng):
    x = np.round(_normal(rng, 2, 3, 3, 4, decimals=4) * np.array([0.004, 1.0, 2.0])[:, None, None]
                 + 1.0, 5)
    return [(x, _normal(rng, 3), _normal(rng, 3), {"mode": "train"})]


CHECKED: tuple[Checked, ...] = (
    Checked("graph", "add_gate_forward", "add_gate_backward", ("x", "y"), ("x", "y"),
            lambda rng: [(_normal(rng, 3, 4), _normal(rng, 3, 4))]),
    Checked("graph", "mul_gate_forward", "mul_gate_backward", ("x", "y"), ("x", "y"),
            lambda rng: [(_normal(rng, 3, 4), _normal(rng, 3, 4))]),
    Checked("graph", "max_gate_forward", "max_gate_backward", ("x", "y"), ("x", "y"),
            _max_gate_args),
    Checked("affine", "affine_forward", "affine_backward", ("x", "w", "b"), ("x", "w", "b"),
            lambda rng: [(_normal(rng, 4, 2, 3), _normal(rng, 6, 5), _normal(rng, 5))]),
    Checked("activations", "relu_forward", "relu_backward", ("x",), ("x",),
            lambda rng: [(_with_zeros(rng, _normal(rng, 3, 5)),)]),
    Checked("activations", "leaky_relu_forward", "leaky_relu_backward", ("x", "alpha"),
            ("x",), lambda rng: [(_with_zeros(rng, _normal(rng, 3, 5)), 0.1)]),
    Checked("activations", "prelu_forward", "prelu_backward", ("x", "alpha"), ("x", "alpha"),
            lambda rng: [(_with_zeros(rng, _normal(rng, 2, 3, 3, 4), 5),
                          np.array([0.1, -0.3, 0.25]))]),
    Checked("activations", "elu_forward", "elu_backward", ("x", "alpha"), ("x",),
            lambda rng: [(_with_zeros(rng, _normal(rng, 3, 5)), 1.5)]),
    Checked("activations", "sigmoid_forward", "sigmoid_backward", ("x",), ("x",),
            lambda rng: [(_normal(rng, 3, 5, scale=2.0),)]),
    Checked("activations", "tanh_forward", "tanh_backward", ("x",), ("x",),
            lambda rng: [(_normal(rng, 3, 5, scale=1.5),)]),
    Checked("activations", "maxout_forward", "maxout_backward", ("x", "w", "b"),
            ("x", "w", "b"),
            lambda rng: [(_normal(rng, 5, 4), _normal(rng, 4, 3, 2), _normal(rng, 3, 2))]),
    Checked("conv", "conv_forward_naive", "conv_backward_naive",
            ("x", "w", "b", "conv_param"), ("x", "w", "b"), _conv_args),
    Checked("conv", "max_pool_forward_naive", "max_pool_backward_naive",
            ("x", "pool_param"), ("x",), _pool_args),
    Checked("batchnorm", "batchnorm_forward", "batchnorm_backward",
            ("x", "gamma", "beta", "bn_param"), ("x", "gamma", "beta"),
            lambda rng: [(*_bn_rows(rng, 6, 5), {"mode": "train"})]),
    Checked("batchnorm", "batchnorm_forward", "batchnorm_backward_alt",
            ("x", "gamma", "beta", "bn_param"), ("x", "gamma", "beta"),
            lambda rng: [(*_bn_rows(rng, 5, 6), {"mode": "train"})]),
    Checked("batchnorm", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
            ("x", "gamma", "beta", "bn_param"), ("x", "gamma", "beta"), _spatial_args),
)


def _rng(checked: Checked) -> np.random.Generator:
    """One stream per backward function: adding a function changes no other's inputs."""
    return np.random.default_rng([SEED, zlib.crc32(checked.backward.encode())])


def public_cases(checked: Checked, reference: ModuleType) -> list[Case]:
    """The public calls of ``checked``; each dout is drawn for the reference's output shape."""
    rng = _rng(checked)
    cases = []
    for args in checked.make_args(rng):
        forward = getattr(getattr(reference, checked.module), checked.forward)
        out, _ = forward(*copy.deepcopy(args))
        cases.append(Case(tuple(args), _normal(rng, *np.shape(out))))
    return cases


# ------------------------------------------------------------------ running

def run_pair(lib: ModuleType, checked: Checked, case: Case) -> dict | Exception:
    """``{"out": ..., "d<input>": ...}`` of ``lib``'s pair on ``case`` (or the error raised)."""
    module = getattr(lib, checked.module)
    forward, backward = getattr(module, checked.forward), getattr(module, checked.backward)
    try:
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            out, cache = forward(*copy.deepcopy(case.args))
            grads = backward(case.dout.copy(), cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        outputs = {"out": np.asarray(out, dtype=np.float64)}
        for name, grad in zip(checked.grads, grads, strict=True):
            outputs[f"d{name}"] = np.asarray(grad, dtype=np.float64)
        return outputs
    except Exception as exc:  # noqa: BLE001 - a mutant that raises cannot be recognised
        return exc


def wrong_outputs(reference: dict, outputs: dict, where: str) -> dict[str, np.ndarray]:
    """The outputs that differ from the reference's, clearly (see ``CLEAR_GAP``).

    Raises
    ------
    ValueError
        If one differs, but only slightly: on such inputs a correct
        implementation could be taken for the mistake; choose other inputs.
    """
    wrong = {}
    for name, right in reference.items():
        err = relations.rel_error(outputs[name], right)
        if err <= MATCH_TOL:
            continue
        if err < CLEAR_GAP:
            raise ValueError(f"{where}: output {name} differs from the reference's by only "
                             f"{err:.1e} (relative); change the public inputs in "
                             "known_outputs.CHECKED so that the mistake shows clearly.")
        wrong[name] = outputs[name]
    return wrong


def _own_outputs(mutant: Mutant, wrong: dict) -> dict:
    """Only the outputs of the side the mutant changes: ``out`` for a forward pass,
    the gradients for a backward pass. A wrong forward pass also changes the
    gradients, but through its cache, whose layout is the implementation's own:
    a student's forward pass with the same mistake and another cache gets other
    gradients, and the same ``out``."""
    forward_side = "backward" not in mutant.function
    return {name: value for name, value in wrong.items() if (name == "out") == forward_side}


def _mutants_of(checked: Checked, catalogue: Sequence[Mutant]) -> list[Mutant]:
    """The mutants that can change this pair: module-level functions of its module
    (the pair itself, and what it calls, such as batchnorm_forward in the spatial one)."""
    return [m for m in catalogue if m.module == checked.module and "." not in m.function]


# ------------------------------------------------------------------ building

@dataclass
class KnownOutputs:
    """What the builder found: the JSON table, the arrays it names, and the mutants
    of a checked pair that the public inputs cannot show (for the summary).

    Parameters
    ----------
    table : dict
        The content of ``known_mistakes.json``.
    arrays : dict of str to ndarray
        The content of ``known_mistakes.npz``.
    unseen : list of str
        Keys of mutants of a checked pair's own functions whose outputs equal
        the reference's on every case (batchnorm's test-mode mistakes, say).
    raised : list of str
        Keys of mutants that raised on some case (the student's would too).
    """

    table: dict
    arrays: dict
    unseen: list
    raised: list


def _case_json(checked: Checked, index: int, case: Case, arrays: dict) -> dict:
    """A case as JSON: arrays go to ``arrays`` and are named, other arguments inline."""
    prefix = f"{checked.backward}.case{index}"
    args = []
    for name, value in zip(checked.inputs, case.args, strict=True):
        if isinstance(value, np.ndarray):
            arrays[f"{prefix}.{name}"] = value
            args.append({"array": f"{prefix}.{name}"})
        else:
            args.append({"value": value})
    arrays[f"{prefix}.dout"] = case.dout
    return {"args": args, "dout": f"{prefix}.dout"}


def _mistake_json(checked: Checked, mutant: Mutant, number: int, wrong: list[dict],
                  arrays: dict) -> dict:
    """A mistake as JSON, its wrong outputs (``wrong[case] = {name: array}``) into ``arrays``."""
    outputs = []
    for index, by_name in enumerate(wrong):
        for name, value in by_name.items():
            key = f"{checked.backward}.mistake{number}.case{index}.{name}"
            arrays[key] = value
            outputs.append({"case": index, "output": name, "array": key})
    return {"key": mutant.key, "class": mutant.cls, "sentence": mutant.sentence,
            "outputs": outputs}


def build_entry(checked: Checked, reference: ModuleType, catalogue: Sequence[Mutant],
                base, found: KnownOutputs) -> None:
    """Add ``checked``'s entry to ``found`` (nothing when no mutant shows on its cases)."""
    cases = public_cases(checked, reference)
    right = [run_pair(reference, checked, case) for case in cases]
    for index, outputs in enumerate(right):
        if isinstance(outputs, Exception):
            raise ValueError(f"the reference {checked.backward} raised on public case {index}: "
                             f"{outputs!r}; fix the case in known_outputs.CHECKED.")
    arrays: dict[str, np.ndarray] = {}
    mistakes = []
    for mutant in _mutants_of(checked, catalogue):
        runs = [run_pair(mutant_library(mutant, base), checked, case) for case in cases]
        if any(isinstance(r, Exception) for r in runs):
            found.raised.append(mutant.key)
            continue
        wrong = [_own_outputs(mutant, wrong_outputs(ref, got, f"{mutant.key}, case {i}"))
                 for i, (ref, got) in enumerate(zip(right, runs, strict=True))]
        if not any(wrong):
            if mutant.function in (checked.forward, checked.backward):
                found.unseen.append(mutant.key)
            continue
        mistakes.append(_mistake_json(checked, mutant, len(mistakes), wrong, arrays))
    if not mistakes:
        return
    found.table["functions"][checked.backward] = {
        "module": checked.module, "forward": checked.forward,
        "inputs": list(checked.inputs), "grads": list(checked.grads),
        "cases": [_case_json(checked, i, case, arrays) for i, case in enumerate(cases)],
        "mistakes": mistakes}
    found.arrays.update(arrays)


def build(base=None, checked: Sequence[Checked] = CHECKED) -> KnownOutputs:
    """Run the reference and every relevant mutant on the public cases of ``checked``.

    Parameters
    ----------
    base : module, folder or None
        The reference library (None: the course's ``cs231n_lib``).
    checked : sequence of Checked
        The pairs to cover (default: every pair the notebooks check).
    """
    folder = library_dir(base)
    digest = zlib.crc32(str(folder).encode())
    reference = fresh_copy(folder, f"_cs231n_known_reference_{digest:08x}")
    catalogue = [m for mutants in all_mutants().values() for m in mutants]
    found = KnownOutputs({"format": FORMAT, "about": ABOUT, "functions": {}}, {}, [], [])
    for pair in checked:
        build_entry(pair, reference, catalogue, folder, found)
    return found


# ------------------------------------------------------------------ writing

def json_text(table: dict) -> str:
    """The JSON file's text: sorted keys, one space of indent, a final newline."""
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


def npz_bytes(arrays: dict) -> bytes:
    """An ``.npz`` archive (``np.load``-able) of ``arrays`` that depends on nothing but
    them: sorted names, fixed timestamps, no compression, no pickles."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue())
    return buffer.getvalue()


def write(folder: Path = LIBRARY_DIR, base=None) -> KnownOutputs:
    """Build and write ``known_mistakes.json`` and ``.npz`` into ``folder``."""
    found = build(base)
    folder = Path(folder)
    (folder / JSON_NAME).write_text(json_text(found.table), encoding="utf-8")
    (folder / NPZ_NAME).write_bytes(npz_bytes(found.arrays))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.diagnosis.known_outputs",
        description="Write cs231n_lib/known_mistakes.json and .npz: the catalogue's "
                    "mistakes as outputs on public inputs, for the notebook's checks.")
    parser.add_argument("--out", type=Path, default=LIBRARY_DIR,
                        help="folder to write the two files into (default: %(default)s)")
    args = parser.parse_args(argv)
    found = write(args.out)
    for name, entry in found.table["functions"].items():
        classes = ", ".join(m["class"] for m in entry["mistakes"])
        print(f"{name}: {len(entry['mistakes'])} known mistakes ({classes})")
    if found.unseen:
        print("not visible on the public inputs (right outputs):",
              ", ".join(dict.fromkeys(found.unseen)))
    if found.raised:
        print("raise on the public inputs:", ", ".join(dict.fromkeys(found.raised)))
    print(f"wrote {args.out / JSON_NAME} and {args.out / NPZ_NAME} "
          f"({len(found.arrays)} arrays)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# ------------------------------------------------------------------ measuring

def as_student(function: Callable, name: str) -> Callable:
    """``function`` under the name a student's has (the notebook's lookup key)."""
    @functools.wraps(function)
    def student(*args):
        return function(*args)

    student.__name__ = name
    return student


def distinct_values(value, position: int, rng: np.random.Generator):
    """A float array of ``value``'s shape with distinct values, none near 0 and none
    equal to another argument's (``position`` shifts the grid): far from every kink
    and tie, so a right backward pass passes a numerical check on it. Other
    arguments are returned as they are."""
    if not isinstance(value, np.ndarray):
        return value
    offset = (0.1, 0.3, 0.7, 0.9)[position % 4]  # never 0.5: the grid would hold 0
    return ((rng.permutation(value.size) + offset) / value.size * 4.0 - 2.0
            ).reshape(value.shape)


def check_as_student(lib: ModuleType, checked: Checked) -> list:
    """``check_gradients`` of ``lib``'s pair, named as a student's, on inputs other than
    the stored ones (same kinds, another seed, distinct values): one report per case."""
    module = getattr(lib, checked.module)
    forward = as_student(getattr(module, checked.forward), checked.forward)
    backward = as_student(getattr(module, checked.backward), checked.backward)
    rng = np.random.default_rng(2024)
    return [check_gradients(forward, backward,
                            [distinct_values(a, i, rng) for i, a in enumerate(args)])
            for args in checked.make_args(np.random.default_rng(7))]


@dataclass(frozen=True)
class NotebookOutcome:
    """What the notebook's check said about one implementation (``measure.Case``).

    ``verdict``: ``named`` (the expected class), ``misnamed`` (another class),
    ``unnamed`` (failed, no known mistake named), ``undetected`` (a buggy one
    that passed), ``raised`` (a buggy one whose code raised: its traceback is
    what the student reads), ``clean`` (a correct one that passed), ``accused``
    (a correct one given a known mistake), ``failed`` (a correct one that failed
    unnamed or raised).
    """

    case: str
    expected: str | None
    verdict: str
    named: tuple = ()


def notebook_outcome(case) -> NotebookOutcome:
    """Plant ``case`` (an ``autograder.diagnosis.measure.Case`` of a checked pair's
    function) as the student's and read the classes its check's report names (a
    known mistake's or a relation's: ``GradientCheckRow.mistake_class``)."""
    checked = pair_of(case.module, case.function)
    lib = library_with(case.module, case.function, case.implementation, f"notebook:{case.name}")
    try:
        reports = check_as_student(lib, checked)
    except Exception:  # noqa: BLE001 - the student reads their own traceback
        return NotebookOutcome(case.name, case.expected,
                               "failed" if case.expected is None else "raised")
    named = tuple(sorted({row.mistake_class for report in reports for row in report.rows
                          if not row.passed and row.mistake_class}))
    failed = not all(report.passed for report in reports)
    if case.expected is None:
        verdict = "accused" if named else ("failed" if failed else "clean")
    elif not failed:
        verdict = "undetected"
    else:
        verdict = ("named" if named == (case.expected,) else
                   "misnamed" if named else "unnamed")
    return NotebookOutcome(case.name, case.expected, verdict, named)


def pair_of(module: str, function: str) -> Checked | None:
    """The checked pair ``module.function`` belongs to (the first one), or None."""
    return next((c for c in CHECKED if c.module == module
                 and function in (c.forward, c.backward)), None)


def checked_cases(cases: Sequence) -> list:
    """The cases whose function belongs to a pair the notebooks check."""
    return [case for case in cases if pair_of(case.module, case.function) is not None]
