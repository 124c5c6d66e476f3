"""Loaders for the datasets in this folder. numpy only; no downloads.

Each returns float64 features and int64 labels:
    load_iris()           -> X (150, 4),  y (150,)  classes 0-2
    load_breast_cancer()  -> X (569, 30), y (569,)  0 malignant, 1 benign
    load_mnist()          -> images (10000, 28, 28) uint8, labels (10000,) uint8 (MNIST's test set)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


class DataError(ValueError):
    """A data file is missing or not in the expected format."""


def _csv_with_header(name):
    path = HERE / name
    if not path.is_file():
        raise DataError(f"{path} is missing")
    with open(path) as fh:
        header = fh.readline().strip().split(",")
        rows, cols = int(header[0]), int(header[1])
        table = np.loadtxt(fh, delimiter=",", dtype=np.float64, ndmin=2)
    if table.shape != (rows, cols + 1):
        raise DataError(f"{name}: expected {rows} rows of {cols + 1} values, got {table.shape}")
    return table[:, :cols], table[:, cols].astype(np.int64)


def load_iris():
    return _csv_with_header("iris.csv")


def load_breast_cancer():
    return _csv_with_header("breast_cancer.csv")


# MNIST's test set. Its IDX files are chapter 09's exercise (students write the reader), so
# no IDX reader ships here: the student release gets the same arrays as an .npz file, which
# the release build writes with the course's reference reader; the instructor's repository
# reads the IDX files with that reference directly.
MNIST_IMAGES = HERE / "mnist-t10k-images-idx3-ubyte.gz"
MNIST_LABELS = HERE / "mnist-t10k-labels-idx1-ubyte.gz"
MNIST_ARRAYS = HERE / "mnist-t10k.npz"


def load_mnist():
    """MNIST's 10,000 test images and labels: images (10000, 28, 28) uint8, labels (10000,)
    uint8, exactly as the IDX files hold them."""
    if MNIST_ARRAYS.is_file():
        with np.load(MNIST_ARRAYS, allow_pickle=False) as arrays:
            images, labels = arrays["images"], arrays["labels"]
    else:
        try:
            from reference.ch09_mnist import read_idx
        except ImportError:
            raise DataError(
                f"{MNIST_ARRAYS.name} is missing from {HERE.name}/ (it comes with the course)"
            ) from None
        images, labels = read_idx(MNIST_IMAGES), read_idx(MNIST_LABELS)
    if images.shape != (10000, 28, 28) or labels.shape != (10000,):
        raise DataError(f"MNIST: unexpected shapes {images.shape} and {labels.shape}")
    return images, labels


def write_mnist_arrays(target=MNIST_ARRAYS):
    """Write ``load_mnist()``'s arrays as an .npz file (the release build calls it)."""
    images, labels = load_mnist()
    np.savez_compressed(target, images=images, labels=labels)
    return target


load_mnist_idx = load_mnist  # the name the suites and notebooks use
