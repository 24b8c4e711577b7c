"""Datasets: CIFAR-10 when it has been downloaded, scikit-learn's digits otherwise.

``load_default()`` returns CS231n's dictionary (``X_train``, ``y_train``,
``X_val``, ``y_val``, ``X_test``, ``y_test``) with images as float64
``(N, C, H, W)`` arrays and a ``'source'`` key that says which data it is:

- ``'cifar10'``: 32x32 colour images, 10 classes, ``(N, 3, 32, 32)``, pixel
  values 0-255. Used when ``cifar-10-batches-py/`` is in the data home (run
  ``datasets/get_datasets.sh`` once on a machine with internet).
- ``'digits'``: the 1,797 handwritten digits that ship inside scikit-learn,
  8x8 grey images, 10 classes, ``(N, 1, 8, 8)``, values 0-16. Always
  available, offline, and small enough for a laptop to train on in seconds.

The data home is ``$CS231N_DATA`` if set, otherwise the repository's
``datasets/`` folder (found next to the package, or, for a copy of the
package shipped with an assignment, by walking up from the current directory).
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np

__all__ = [
    "CIFAR10_CLASSES", "CIFAR10_DIRNAME", "data_home", "cifar10_dir", "load_cifar10_batch",
    "load_cifar10", "load_digits", "load_default",
]

CIFAR10_DIRNAME = "cifar-10-batches-py"
CIFAR10_CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                   "truck")
_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
_TEST_BATCH = "test_batch"
_GET_SCRIPT = "get_datasets.sh"


def _is_data_home(folder: Path) -> bool:
    # a bare folder called "datasets" elsewhere on disk is not ours
    return (folder / _GET_SCRIPT).is_file() or (folder / CIFAR10_DIRNAME).is_dir()


def data_home() -> Path:
    """The folder that holds (or will hold) downloaded datasets.

    ``$CS231N_DATA`` if set; else the ``datasets/`` folder next to the
    package, or the first ``datasets/`` folder (with ``get_datasets.sh`` or
    CIFAR-10 in it) found walking up from the current directory; else the
    folder next to the package, which may not exist.
    """
    env = os.environ.get("CS231N_DATA")
    if env:
        return Path(env).expanduser()
    beside_package = Path(__file__).resolve().parent.parent / "datasets"
    if _is_data_home(beside_package):
        return beside_package
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if _is_data_home(folder / "datasets"):
            return folder / "datasets"
    return beside_package


def cifar10_dir(root=None) -> Path:
    """Where the CIFAR-10 batches are expected: ``<root or data home>/cifar-10-batches-py``."""
    return Path(root if root is not None else data_home()) / CIFAR10_DIRNAME


def _cifar10_present(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (*_TRAIN_BATCHES, _TEST_BATCH))


def load_cifar10_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 python batch file.

    Parameters
    ----------
    path : str or Path
        A file such as ``data_batch_1``: a pickled dict whose ``b'data'`` is a
        uint8 array ``(N, 3072)`` (the red, green and blue 32x32 planes of each
        image in turn) and whose ``b'labels'`` is a list of N ints in 0..9.

    Returns
    -------
    X : ndarray, shape (N, 3, 32, 32), float64
    y : ndarray, shape (N,), int64
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR-10 batch {path} does not exist. Download the dataset "
                                f"with datasets/{_GET_SCRIPT}, or set CS231N_DATA to the folder "
                                f"that contains {CIFAR10_DIRNAME}/.")
    with path.open("rb") as f:
        # The one pickle this package reads: the CIFAR-10 batches are trusted local data
        # fetched by get_datasets.sh (md5-checked), and they exist only in this format.
        # bytes encoding because the files were pickled by Python 2.
        batch = pickle.load(f, encoding="bytes")
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        found = sorted(batch) if isinstance(batch, dict) else type(batch).__name__
        raise ValueError(f"{path} is not a CIFAR-10 batch: expected a dict with keys b'data' "
                         f"and b'labels'; found {found}.")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (data.shape[0],):
        raise ValueError(f"{path}: expected b'data' of shape (N, 3072) and N labels; got "
                         f"data {data.shape} and {labels.shape[0]} labels.")
    X = data.reshape(-1, 3, 32, 32).astype(np.float64)
    return X, labels


def load_cifar10(root) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load all of CIFAR-10 from its python batches.

    Parameters
    ----------
    root : str or Path
        The ``cifar-10-batches-py`` folder (with ``data_batch_1`` .. ``_5`` and
        ``test_batch``), or a folder that contains it.

    Returns
    -------
    X_train : ndarray, shape (50000, 3, 32, 32), float64
    y_train : ndarray, shape (50000,), int64
    X_test : ndarray, shape (10000, 3, 32, 32), float64
    y_test : ndarray, shape (10000,), int64
    """
    root = Path(root)
    if not (root / _TEST_BATCH).exists() and (root / CIFAR10_DIRNAME).is_dir():
        root = root / CIFAR10_DIRNAME
    parts = [load_cifar10_batch(root / name) for name in _TRAIN_BATCHES]
    X_train = np.concatenate([X for X, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    X_test, y_test = load_cifar10_batch(root / _TEST_BATCH)
    return X_train, y_train, X_test, y_test


def _digits_file() -> Path | None:
    """scikit-learn's ``digits.csv.gz``, found without importing scikit-learn
    (its import costs seconds; reading the file takes milliseconds)."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            return path
    return None


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled handwritten digits as images.

    Returns
    -------
    X : ndarray, shape (1797, 1, 8, 8), float64
        Grey levels 0-16.
    y : ndarray, shape (1797,), int64
        Digits 0-9.
    """
    path = _digits_file()
    if path is None:
        from sklearn.datasets import load_digits as sklearn_digits  # raises a clear ImportError

        digits = sklearn_digits()
        return digits.images.astype(np.float64)[:, None, :, :], digits.target.astype(np.int64)
    with gzip.open(path, "rt") as fh:
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    if table.ndim != 2 or table.shape[1] != 65:
        raise ValueError(f"{path} is not the digits table (64 pixels and a label per row); "
                         f"its shape is {table.shape}. Reinstall scikit-learn.")
    X = table[:, :64].reshape(-1, 1, 8, 8)
    return np.ascontiguousarray(X), table[:, 64].astype(np.int64)


def _count(name: str, value, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an int >= 0; got {value!r}.")
    return int(value)


def load_default(num_training=None, num_validation=None, num_test=None, seed=0,
                 subtract_mean=True, source="auto", root=None) -> dict:
    """Train/validation/test splits in CS231n's form, from CIFAR-10 or the digits.

    Parameters
    ----------
    num_training, num_validation, num_test : int, optional
        Split sizes. Defaults: 49000 / 1000 / 1000 for CIFAR-10 (CS231n's),
        1297 / 200 / 300 for the digits (all 1,797 images).
    seed : int
        Seeds the shuffle before splitting, so the same seed gives the same
        split. (CIFAR-10's test images are the first ``num_test`` of its
        official test batch.)
    subtract_mean : bool
        Subtract the mean training image from every split (statistics from
        the training split only).
    source : {'auto', 'cifar10', 'digits'}
        ``'auto'`` uses CIFAR-10 when it is in the data home, else the digits.
    root : str or Path, optional
        Data home to look in instead of ``data_home()``.

    Returns
    -------
    dict
        ``X_train, X_val, X_test``: ``(N, C, H, W)`` float64; ``y_train,
        y_val, y_test``: ``(N,)`` int64; ``source``: ``'cifar10'`` or
        ``'digits'``; ``class_names``: tuple of 10 names; ``mean_image``:
        ``(C, H, W)``, the mean that was subtracted (zeros if none was).
    """
    if source not in ("auto", "cifar10", "digits"):
        raise ValueError(f"source must be 'auto', 'cifar10' or 'digits'; got {source!r}.")
    folder = cifar10_dir(root)
    if source == "auto":
        source = "cifar10" if _cifar10_present(folder) else "digits"
    rng = np.random.default_rng(seed)

    if source == "cifar10":
        num_training = _count("num_training", num_training, 49000)
        num_validation = _count("num_validation", num_validation, 1000)
        num_test = _count("num_test", num_test, 1000)
        X_pool, y_pool, X_test_all, y_test_all = load_cifar10(folder)
        if num_test > len(X_test_all):
            raise ValueError(f"num_test is {num_test} but CIFAR-10's test batch holds "
                             f"{len(X_test_all)} images.")
        X_test, y_test = X_test_all[:num_test], y_test_all[:num_test]
        class_names = CIFAR10_CLASSES
    else:
        num_test = _count("num_test", num_test, 300)
        num_validation = _count("num_validation", num_validation, 200)
        X_all, y_all = load_digits()
        num_training = _count("num_training", num_training,
                              len(X_all) - num_test - num_validation)
        if num_test > len(X_all):
            raise ValueError(f"num_test is {num_test} but the digits hold {len(X_all)} images.")
        order = rng.permutation(len(X_all))
        X_test, y_test = X_all[order[:num_test]], y_all[order[:num_test]]
        X_pool, y_pool = X_all[order[num_test:]], y_all[order[num_test:]]
        class_names = tuple(str(d) for d in range(10))

    if num_training + num_validation > len(X_pool):
        raise ValueError(f"num_training + num_validation is {num_training} + {num_validation} "
                         f"= {num_training + num_validation}, but the {source} training pool "
                         f"holds {len(X_pool)} images; ask for fewer.")
    if num_training < 1:
        raise ValueError("num_training must be at least 1.")
    order = rng.permutation(len(X_pool))[:num_training + num_validation]
    train, val = order[:num_training], order[num_training:]
    data = {
        "X_train": X_pool[train], "y_train": y_pool[train],
        "X_val": X_pool[val], "y_val": y_pool[val],
        "X_test": X_test.copy(), "y_test": y_test.copy(),
    }
    # Plain numpy rather than cs231n_lib.preprocess: that module is an assignment gap,
    # and loading data must work in every release.
    mean_image = data["X_train"].mean(axis=0) if subtract_mean else \
        np.zeros(data["X_train"].shape[1:])
    if subtract_mean:
        for key in ("X_train", "X_val", "X_test"):
            data[key] = data[key] - mean_image
    data.update(source=source, class_names=class_names, mean_image=mean_image)
    return data
