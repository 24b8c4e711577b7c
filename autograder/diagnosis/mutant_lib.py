"""Copies of the reference library with one function swapped (trusted side only).

A mutant (or a test case's implementation) replaces one function of one
module. The copy is the reference package imported afresh under an alias of
its own (``load_package``), so the installed ``cs231n_lib`` and every other
copy keep their functions. Within the copy the function is replaced in its
module and wherever another module of the copy re-exports the same object,
so that ``spatial_batchnorm_forward`` calls the swapped ``batchnorm_forward``
exactly as a student's would call their own.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from autograder.course import LIBRARY_DIR
from autograder.grading.reference import REFERENCE_LOCK, load_package

# The modules whose functions have gaps (assignments/gaps.toml) and the facades
# that re-export them; every one is imported into a copy before the swap.
GAP_MODULES = ("graph", "gradient_check", "affine", "conv", "activations", "init",
               "preprocess", "batchnorm")

# Guarded by REFERENCE_LOCK, the lock every import of a library copy takes:
# one lock for both, so no two threads can wait on each other.
_CACHE: dict[tuple[str, str], ModuleType] = {}


def library_dir(base: ModuleType | str | os.PathLike | None) -> Path:
    """The package folder of ``base`` (a module, a folder, or None: the course's)."""
    if base is None:
        return LIBRARY_DIR
    if isinstance(base, ModuleType):
        return Path(base.__file__).resolve().parent
    return Path(base).resolve()


def _resolve(module: ModuleType, dotted: str) -> tuple[object, str]:
    """The object that holds the last name of ``dotted`` (a module or a class) and that name."""
    owner: object = module
    *path, last = dotted.split(".")
    for part in path:
        owner = getattr(owner, part)
    if not hasattr(owner, last):
        raise AttributeError(f"{module.__name__} has no {dotted}; the catalogue names a "
                             "function the library does not define")
    return owner, last


def swap(lib: ModuleType, module: str, function: str, replacement: Callable) -> None:
    """Replace ``module.function`` in the library copy ``lib`` (and its re-exports).

    Parameters
    ----------
    lib : module
        A copy made by :func:`fresh_copy`; never the installed package.
    module : str
        A submodule name, e.g. ``"affine"``.
    function : str
        A function name, or ``"Class.method"`` for a method.
    replacement : callable
        Same signature as the function it replaces.
    """
    target = importlib.import_module(f"{lib.__name__}.{module}")
    owner, name = _resolve(target, function)
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    if "." in function:
        return  # a method: every re-export shares the class object
    for sub in GAP_MODULES + ("layers",):
        other = importlib.import_module(f"{lib.__name__}.{sub}")
        for attr, value in list(vars(other).items()):
            if value is original:
                setattr(other, attr, replacement)


def fresh_copy(base: ModuleType | str | os.PathLike | None, alias: str) -> ModuleType:
    """The reference package under ``alias`` with every gap module imported."""
    with REFERENCE_LOCK:
        lib = load_package(library_dir(base), alias)
        for sub in GAP_MODULES:
            importlib.import_module(f"{alias}.{sub}")
        return lib


def _alias(folder: Path, key: str) -> str:
    digest = hashlib.sha256(f"{folder}|{key}".encode()).hexdigest()[:12]
    return f"_cs231n_mutant_{digest}"


def library_with(module: str, function: str, replacement: Callable, key: str,
                 base: ModuleType | str | os.PathLike | None = None) -> ModuleType:
    """A cached copy of the library with ``module.function`` replaced.

    Parameters
    ----------
    module, function, replacement
        As for :func:`swap`.
    key : str
        Names the replacement uniquely (a mutant's ``key``); the copy is
        cached per base folder and key.
    base : module, folder or None
        The reference library to copy (None: the course's ``cs231n_lib``).

    Returns
    -------
    module
        The copy, importable by its ``__name__`` like the reference.
    """
    folder = library_dir(base)
    with REFERENCE_LOCK:
        cached = _CACHE.get((str(folder), key))
        if cached is not None:
            return cached
        lib = fresh_copy(folder, _alias(folder, key))
        swap(lib, module, function, replacement)
        _CACHE[(str(folder), key)] = lib
        return lib


def mutant_library(mutant, base: ModuleType | str | os.PathLike | None = None) -> ModuleType:
    """The library copy in which ``mutant`` (a ``catalogue.Mutant``) replaces its function."""
    return library_with(mutant.module, mutant.function, mutant.replacement, mutant.key, base)


def reference_copy(base: ModuleType | str | os.PathLike | None = None) -> ModuleType:
    """A cached copy of the reference library itself, unchanged (the diagnosis runs
    it on changed inputs, apart from the reference the grades are judged by)."""
    folder = library_dir(base)
    with REFERENCE_LOCK:
        cached = _CACHE.get((str(folder), "(reference)"))
        if cached is None:
            cached = _CACHE[(str(folder), "(reference)")] = fresh_copy(
                folder, _alias(folder, "(reference)"))
        return cached
