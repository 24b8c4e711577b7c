"""The catalogue of typical mistakes, written as code (trusted side only).

A *mutant* is a library function with one typical mistake: the reference
with one thing wrong. When a student's output on a probe equals a mutant's
output on the same inputs, the student very likely made that mistake, and the
mutant's sentence tells them what is wrong and where to look (never the fix's
code). The mutants contain the solution, so they live only here, in the
trusted part of the autograder, which no sandbox can read and no release
ships.

One module per assignment (``autograder.diagnosis.mutants.<assignment>``)
defines ``MUTANTS``; :data:`CLASSES` gives each class of mistake a title.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

ASSIGNMENTS = ("backprop", "conv", "activations", "initialization", "batchnorm")

#: class id -> what the mistake is, in a few words (the instructor's table).
CLASSES = {
    "missing-upstream": "upstream gradient (dout / out.grad) not multiplied in",
    "transposed": "operands transposed or swapped",
    "bias-not-summed": "parameter gradient not summed over the batch (or N, H, W)",
    "scale-1/N": "a 1/N missing or taken twice",
    "sign": "sign flipped",
    "mask-boundary": "activation mask with >= instead of > (or the reverse)",
    "mask-inverted": "activation mask on the wrong side",
    "mask-of-output": "activation mask taken from the output instead of the input",
    "derivative-of-input": "derivative written in terms of the input instead of the output",
    "stride-ignored": "stride ignored in the backward pass",
    "pad-not-cropped": "padding's gradient not cropped (or cropped wrong)",
    "pool-ties": "max routes the gradient to every tie",
    "pool-wrong-cell": "max routes the gradient to the wrong cell",
    "max-routing": "max sends the gradient to every input instead of the winner",
    "fanout-overwrite": "gradient assigned (=) instead of accumulated (+=)",
    "shared-param-not-summed": "shared parameter's gradient not summed over the shared axes",
    "elu-negative": "ELU's negative branch",
    "filter-flipped": "filter flipped (true convolution instead of correlation)",
    "bn-mean-path": "batchnorm backward without the path through the mean",
    "bn-var-path": "batchnorm backward without the path through the variance",
    "bn-eps": "batchnorm eps in the wrong place",
    "bn-test-update": "running averages updated in test mode",
    "bn-test-batch-stats": "test mode normalises with the batch's statistics",
    "bn-momentum": "running-average momentum applied to the wrong term",
    "bn-unbiased-var": "unbiased (N - 1) variance",
    "init-fan-out": "Xavier / He scaled by fan_out",
    "init-no-2": "He without the factor 2",
    "numgrad-one-sided": "one-sided numerical gradient",
    "numgrad-not-restored": "numerical gradient does not restore x",
    "mean-on-test": "statistics fitted on the set being transformed (test set)",
    "layout": "channels reshaped without moving them last",
    "scale": "output off by a constant factor",
    "zeros": "output is all zeros",
    "border": "right inside, wrong at the border",
}


@dataclass(frozen=True)
class Mutant:
    """One typical mistake, as code.

    Parameters
    ----------
    cls : str
        The class of mistake, a key of :data:`CLASSES`.
    module : str
        The library module of the function, e.g. ``"affine"``.
    function : str
        The function's name, or ``"Class.method"``.
    replacement : callable
        The function with the mistake; the reference's signature.
    sentence : str
        What the student reads: what is wrong and where to look, never the
        fix's code. ``{output}`` is replaced by the output that differs.
    grade_id : str
        The test cell of the gap this function belongs to (the adequacy
        test requires a probe of that cell to fail).
    variant : str
        Tells two mutants of one class and function apart.
    """

    cls: str
    module: str
    function: str
    replacement: Callable
    sentence: str
    grade_id: str
    variant: str = ""

    @property
    def key(self) -> str:
        """Unique within the catalogue: ``module.function:cls[:variant]``."""
        tail = f":{self.variant}" if self.variant else ""
        return f"{self.module}.{self.function}:{self.cls}{tail}"

    def __post_init__(self) -> None:
        if self.cls not in CLASSES:
            raise ValueError(f"mutant {self.module}.{self.function}: unknown class "
                             f"{self.cls!r}; add it to CLASSES first")


def mutants_for(assignment: str) -> tuple[Mutant, ...]:
    """Every mutant of ``assignment`` (an empty tuple for an assignment without any)."""
    if assignment not in ASSIGNMENTS:
        return ()
    module = importlib.import_module(f"autograder.diagnosis.mutants.{assignment}")
    return tuple(module.MUTANTS)


def all_mutants() -> dict[str, tuple[Mutant, ...]]:
    """Assignment -> its mutants, for every assignment."""
    return {a: mutants_for(a) for a in ASSIGNMENTS}
