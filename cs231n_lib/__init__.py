"""Numpy reference library for CS231n lectures 4 to 6.

One module per lecture topic; ``cs231n_lib.layers`` gathers the layer
functions under CS231n's names. Arrays are float64 by default.
"""

__version__ = "0.1.0"


def _warn_if_outside_the_workspace() -> None:
    """In a kernel of ``make lab``, warn when this copy of the library is not the
    learner's: a notebook opened outside ``workspace/<assignment>/`` has no
    ``cs231n_lib/`` beside it and would get the installed reference library,
    whose gaps are all filled in, so every check would pass."""
    import os
    import warnings
    from pathlib import Path

    workspace = os.environ.get("CS231N_WORKSPACE")
    if not workspace:
        return
    here = Path(__file__).resolve().parent
    try:
        here.relative_to(Path(workspace).resolve())
        return  # the learner's own copy
    except ValueError:
        pass
    warnings.warn(
        f"cs231n_lib was imported from {here}, the complete reference library, not from "
        f"your copy: this notebook's folder has no cs231n_lib/ of its own. Open or move the "
        f"notebook into its assignment's folder under {workspace} (where your copy of the "
        "library is), then restart the kernel.", UserWarning, stacklevel=2)


_warn_if_outside_the_workspace()
