"""Datasets: the CIFAR-10 loader on files in the real format, the digits default."""

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cs231n_lib import data
from cs231n_lib.data import (
    cifar10_dir,
    data_home,
    load_cifar10,
    load_cifar10_batch,
    load_default,
    load_digits,
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "datasets" / "get_datasets.sh"


def _write_batch(path, n, seed):
    """A batch in CIFAR-10's exact format: a protocol-2 pickle of a dict with bytes keys."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    batch = {b"batch_label": b"testing batch", b"labels": labels, b"data": pixels,
             b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)
    return pixels, np.array(labels)


@pytest.fixture
def cifar_home(tmp_path):
    """A data home holding a miniature CIFAR-10: 5 training batches of 20, a test batch of 30."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    written = {}
    for i in range(1, 6):
        written[f"data_batch_{i}"] = _write_batch(folder / f"data_batch_{i}", 20, seed=i)
    written["test_batch"] = _write_batch(folder / "test_batch", 30, seed=99)
    return tmp_path, written


def test_one_batch_is_read_in_channel_first_order(cifar_home):
    home, written = cifar_home
    X, y = load_cifar10_batch(home / "cifar-10-batches-py" / "data_batch_1")
    pixels, labels = written["data_batch_1"]
    assert X.shape == (20, 3, 32, 32) and X.dtype == np.float64
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, labels)
    # row layout: 1024 red values, then 1024 green, then 1024 blue, each row-major
    np.testing.assert_array_equal(X[4, 0, 0, :], pixels[4, :32])
    np.testing.assert_array_equal(X[4, 1, 2, 5], pixels[4, 1024 + 2 * 32 + 5])
    np.testing.assert_array_equal(X[4, 2, 31, 31], pixels[4, 3071])


def test_load_cifar10_concatenates_the_five_batches(cifar_home):
    home, written = cifar_home
    for root in (home / "cifar-10-batches-py", home):   # the folder or its parent
        X_train, y_train, X_test, y_test = load_cifar10(root)
        assert X_train.shape == (100, 3, 32, 32)
        assert X_test.shape == (30, 3, 32, 32)
        np.testing.assert_array_equal(y_train[20:40], written["data_batch_2"][1])
        np.testing.assert_array_equal(X_train[20].ravel(), written["data_batch_2"][0][0])
        np.testing.assert_array_equal(y_test, written["test_batch"][1])


def test_missing_file_is_a_clear_error(cifar_home):
    home, _ = cifar_home
    (home / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match=r"data_batch_3 does not exist.*get_datasets.sh"):
        load_cifar10(home / "cifar-10-batches-py")


def test_a_file_in_another_format_is_a_clear_error(tmp_path):
    path = tmp_path / "data_batch_1"
    with open(path, "wb") as f:
        pickle.dump({b"images": np.zeros((2, 3072), np.uint8)}, f, protocol=2)
    with pytest.raises(ValueError, match="b'data'"):
        load_cifar10_batch(path)
    with open(path, "wb") as f:
        pickle.dump({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}, f, protocol=2)
    with pytest.raises(ValueError, match=r"\(N, 3072\)"):
        load_cifar10_batch(path)


def test_load_default_uses_cifar10_when_present(cifar_home, monkeypatch):
    home, written = cifar_home
    monkeypatch.setenv("CS231N_DATA", str(home))
    assert data_home() == home
    out = load_default(num_training=70, num_validation=10, num_test=25, subtract_mean=False)
    assert out["source"] == "cifar10"
    assert out["X_train"].shape == (70, 3, 32, 32)
    assert out["X_val"].shape == (10, 3, 32, 32)
    assert out["y_val"].shape == (10,)
    np.testing.assert_array_equal(out["y_test"], written["test_batch"][1][:25])
    assert out["class_names"][0] == "plane"


def test_load_default_subtracts_the_training_mean_only(cifar_home):
    home, _ = cifar_home
    raw = load_default(60, 20, 30, subtract_mean=False, root=home)
    centred = load_default(60, 20, 30, subtract_mean=True, root=home)
    mean = raw["X_train"].mean(axis=0)
    np.testing.assert_allclose(centred["mean_image"], mean)
    np.testing.assert_allclose(centred["X_val"], raw["X_val"] - mean)
    np.testing.assert_allclose(centred["X_test"], raw["X_test"] - mean)
    np.testing.assert_allclose(centred["X_train"].mean(axis=0), 0, atol=1e-9)


def test_load_default_falls_back_to_digits(tmp_path, monkeypatch):
    monkeypatch.setenv("CS231N_DATA", str(tmp_path))   # an empty data home
    out = load_default()
    assert out["source"] == "digits"
    assert out["X_train"].shape == (1297, 1, 8, 8)
    assert out["X_val"].shape == (200, 1, 8, 8)
    assert out["X_test"].shape == (300, 1, 8, 8)
    assert out["X_train"].dtype == np.float64 and out["y_train"].dtype == np.int64
    assert set(np.unique(out["y_train"])) == set(range(10))
    for key in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        assert key in out


def test_digits_splits_are_disjoint_and_reproducible(tmp_path):
    a = load_default(500, 100, 100, seed=3, subtract_mean=False, root=tmp_path)
    b = load_default(500, 100, 100, seed=3, subtract_mean=False, root=tmp_path)
    c = load_default(500, 100, 100, seed=4, subtract_mean=False, root=tmp_path)
    np.testing.assert_array_equal(a["X_train"], b["X_train"])
    assert not np.array_equal(a["X_train"], c["X_train"])
    rows = {tuple(x.ravel()) for key in ("X_train", "X_val", "X_test") for x in a[key]}
    assert len(rows) >= 690   # the digits hold a few exact duplicates, no more


def test_digits_images():
    X, y = load_digits()
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float64
    assert X.min() == 0 and X.max() == 16
    assert y.shape == (1797,) and y.dtype == np.int64


def test_digits_read_from_the_file_equal_scikit_learns_loader():
    from sklearn.datasets import load_digits as sklearn_digits

    X, y = load_digits()
    reference = sklearn_digits()
    np.testing.assert_array_equal(X[:, 0], reference.images)
    np.testing.assert_array_equal(y, reference.target)


def test_bad_requests_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="training pool holds"):
        load_default(num_training=2000, root=tmp_path)
    with pytest.raises(ValueError, match="source must be"):
        load_default(source="mnist", root=tmp_path)
    with pytest.raises(ValueError, match="num_validation must be an int"):
        load_default(num_validation=-1, root=tmp_path)
    with pytest.raises(FileNotFoundError, match="get_datasets.sh"):
        load_default(source="cifar10", root=tmp_path)


def test_data_home_is_found_from_a_released_copy(tmp_path, monkeypatch):
    monkeypatch.delenv("CS231N_DATA", raising=False)
    # the package's own datasets/ folder wins when it is there
    assert data_home() == REPO / "datasets"
    # a copy of the package elsewhere walks up from the current directory
    course = tmp_path / "course"
    (course / "datasets").mkdir(parents=True)
    (course / "datasets" / "get_datasets.sh").write_text("#!/bin/sh\n")
    released = course / "release" / "backprop"
    shutil.copytree(Path(data.__file__).parent, released / "cs231n_lib",
                    ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(released)
    code = "from cs231n_lib.data import data_home; print(data_home())"
    env = {k: v for k, v in os.environ.items() if k not in ("CS231N_DATA", "PYTHONPATH")}
    result = subprocess.run([sys.executable, "-c", code], cwd=released, env=env,
                            capture_output=True, text=True, check=True)
    assert Path(result.stdout.strip()) == course / "datasets"
    assert cifar10_dir(course / "datasets") == course / "datasets" / "cifar-10-batches-py"


# ------------------------------------------------------------- the download script

def _run_script(home, path_dir):
    env = dict(os.environ, CS231N_DATA=str(home), PATH=f"{path_dir}:{os.environ['PATH']}")
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)


def _fake_downloader(tmp_path, body):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("curl", "wget"):
        fake = bin_dir / tool
        fake.write_text("#!/usr/bin/env bash\n" + body)
        fake.chmod(0o755)
    return bin_dir


def test_script_does_nothing_when_the_data_is_there(tmp_path):
    home = tmp_path / "home"
    folder = home / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                 "data_batch_5", "test_batch", "batches.meta"):
        (folder / name).write_bytes(b"x")
    bin_dir = _fake_downloader(tmp_path, 'echo "network used" >&2; exit 9\n')
    result = _run_script(home, bin_dir)
    assert result.returncode == 0, result.stderr
    assert "already" in result.stdout
    assert "network used" not in result.stderr


def test_script_rejects_a_download_with_the_wrong_md5(tmp_path):
    home = tmp_path / "home"
    body = ('while [ $# -gt 0 ]; do\n'
            '  case "$1" in -o|-O) echo "not the archive" > "$2"; shift;; esac; shift\n'
            'done\n')
    bin_dir = _fake_downloader(tmp_path, body)
    result = _run_script(home, bin_dir)
    assert result.returncode != 0
    assert "c58f30108f718f92721af3b95e74349a" in result.stderr
    assert not any(home.glob("cifar-10-python.tar.gz*"))  # nothing corrupt left behind
