"""Name a wrong backward pass's mistake with the words the grader uses.

The grader recognises typical mistakes by running a catalogue of wrong
implementations on hidden inputs. That catalogue cannot ship (a wrong
implementation is one edit away from the right one), so the course ships its
*outputs* instead: ``known_mistakes.json`` and ``known_mistakes.npz``, next
to this module, hold public inputs for every checked backward function and,
for each typical mistake, only the outputs it gets wrong, with its class and
its sentence. :func:`find_known_mistake` runs *your* forward and backward
pass on those inputs and asks :func:`cs231n_lib.relations.matching_mistake`
(the grader's own test) which known mistake your outputs reproduce.

It never raises: a function it has no data for, missing or unreadable data
files, or code that raises on the stored inputs all give ``None``, and the
gradient check falls back to the relations between your gradient and the
numerical one. Numpy and the standard library only.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import json
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cs231n_lib import relations

DATA_DIR = Path(__file__).resolve().parent
JSON_NAME = "known_mistakes.json"
NPZ_NAME = "known_mistakes.npz"
#: The data files' layout; files of another layout are ignored.
FORMAT = 1
#: Your outputs "are" a mistake's when each agrees with it this closely: both were
#: computed by the same kind of code on the same inputs, so only rounding differs.
MATCH_TOL = relations.AGREE


@dataclass(frozen=True)
class KnownMistake:
    """A known mistake that your forward/backward pair reproduces.

    Parameters
    ----------
    cls : str
        Class of mistake (the grader's class id, e.g. ``"stride-ignored"``).
    sentence : str
        What is wrong and where to look; ``{output}`` stands for the output.
    outputs : tuple of str
        The outputs the mistake gets wrong, named with your input names
        (``"dw"`` for an input called ``w``; ``"out"`` for the forward pass).
    error : float
        Largest relative error between your outputs and the mistake's.
    key : str
        The mistake's key in the grader's catalogue (``module.function:class``).
    """

    cls: str
    sentence: str
    outputs: tuple
    error: float
    key: str = ""

    def sentence_for(self, output: str | None = None) -> str:
        """The sentence with ``{output}`` replaced (default: its first wrong output)."""
        return self.sentence.replace("{output}", output or self.outputs[0])


@functools.lru_cache(maxsize=4)
def load_table(folder: str | None = None) -> dict:
    """The stored functions, ``backward name -> entry``, with every array in place
    (``{}`` when the data files are missing or unreadable)."""
    folder = Path(folder) if folder is not None else DATA_DIR
    try:
        table = json.loads((folder / JSON_NAME).read_text(encoding="utf-8"))
        if table.get("format") != FORMAT:
            return {}
        with np.load(folder / NPZ_NAME, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        return {name: _resolve(entry, arrays) for name, entry in table["functions"].items()}
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return {}


def _resolve(entry: dict, arrays: dict) -> dict:
    """An entry of the JSON file with the array names replaced by the arrays."""
    cases = [{"args": [arrays[a["array"]] if "array" in a else a["value"]
                       for a in case["args"]],
              "dout": arrays[case["dout"]]} for case in entry["cases"]]
    mistakes = [{"key": m["key"], "class": m["class"], "sentence": m["sentence"],
                 "outputs": {(o["case"], o["output"]): arrays[o["array"]]
                             for o in m["outputs"]}} for m in entry["mistakes"]]
    return dict(entry, cases=cases, mistakes=mistakes)


def _your_outputs(forward: Callable, backward: Callable, entry: dict) -> dict:
    """``(case, output name) -> array`` of your pair on every stored case.

    Each call gets fresh copies (a forward pass may write into its arguments,
    as batchnorm's does into ``bn_param``); what it prints is not shown.
    """
    outputs = {}
    for index, case in enumerate(entry["cases"]):
        args = [copy.deepcopy(value) for value in case["args"]]
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings(), \
                np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out, cache = forward(*args)
            grads = backward(case["dout"].copy(), cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        outputs[(index, "out")] = np.asarray(out, dtype=np.float64)
        # Fewer gradients than stored: the missing ones match no mistake.
        for name, grad in zip(entry["grads"], grads, strict=False):
            outputs[(index, f"d{name}")] = np.asarray(grad, dtype=np.float64)
    return outputs


def _renamed(output: str, stored: Sequence[str], names: Sequence[str] | None) -> str:
    """A stored output name (``"dw"``) with the caller's name for that input."""
    if names is None or output[1:] not in stored:
        return output
    position = list(stored).index(output[1:])
    return f"d{names[position]}" if position < len(names) else output


def find_known_mistake(forward: Callable, backward: Callable,
                       names: Sequence[str] | None = None, *,
                       failed: Iterable[str] | None = None,
                       folder: str | None = None) -> KnownMistake | None:
    """The known mistake your forward/backward pair reproduces on the stored inputs.

    Parameters
    ----------
    forward, backward : callable
        Your ``forward(*inputs) -> (out, cache)`` and ``backward(dout, cache)``;
        the stored entry is found by ``backward.__name__`` (and must be
        stored for a forward of the same name).
    names : sequence of str, optional
        Your names of forward's inputs, in order (``check_gradients`` passes
        its own), used to name the wrong outputs; default: the stored names.
    failed : iterable of str, optional
        The gradients your check found wrong (``"dw"``); a known mistake then
        has to match on those of its wrong outputs only (and on ``out``).
        Default: on every output it gets wrong.
    folder : str, optional
        Where the data files are (default: next to this module).

    Returns
    -------
    KnownMistake or None
        None when nothing is stored for the pair, when your code raises on
        the stored inputs, or when no known mistake matches, or mistakes of
        two classes match equally well.
    """
    entry = load_table(folder).get(getattr(backward, "__name__", None))
    if entry is None or getattr(forward, "__name__", None) != entry["forward"]:
        return None
    try:
        yours = _your_outputs(forward, backward, entry)
    except Exception:  # noqa: BLE001 - a diagnosis must never break the check it serves
        return None
    known = {i: _restricted(m["outputs"], entry["inputs"], names, failed)
             for i, m in enumerate(entry["mistakes"])}
    tied = relations.matching_mistakes(yours, known, MATCH_TOL)
    # As the grader: mistakes of two classes that explain you equally well are a guess.
    if not tied or len({entry["mistakes"][i]["class"] for i, _ in tied}) > 1:
        return None
    index, error = tied[0]
    wrong = dict.fromkeys(_renamed(output, entry["inputs"], names)
                          for _case, output in known[index])
    mistake = entry["mistakes"][index]
    return KnownMistake(mistake["class"], mistake["sentence"], tuple(wrong), float(error),
                        mistake["key"])


def _restricted(outputs: dict, stored: Sequence[str], names: Sequence[str] | None,
                failed: Iterable[str] | None) -> dict:
    """A mistake's wrong outputs, only those among the gradients ``failed`` (all when
    None) and its forward output: a pass that ignores the stride in dw alone is still
    recognised by a mistake that ignores it in dx and dw."""
    if failed is None:
        return outputs
    failed = set(failed)
    return {key: value for key, value in outputs.items()
            if key[1] == "out" or _renamed(key[1], stored, names) in failed}


def known_mistake(forward: Callable, backward: Callable,
                  names: Sequence[str] | None = None) -> tuple[str, str] | None:
    """``(class, sentence)`` of the known mistake your pair reproduces, or None.

    The sentence names the first output the mistake gets wrong; see
    :func:`find_known_mistake` for the parameters.
    """
    found = find_known_mistake(forward, backward, names)
    return None if found is None else (found.cls, found.sentence_for())
