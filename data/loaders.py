"""Loaders for the datasets in this folder. numpy only; no downloads.

Each returns float64 features and int64 labels:
    load_iris()           -> X (150, 4),  y (150,)  classes 0-2
    load_breast_cancer()  -> X (569, 30), y (569,)  0 malignant, 1 benign
    load_mnist_idx()      -> images (10000, 28, 28) uint8, labels (10000,) uint8 (raw IDX)
"""

from __future__ import annotations

import gzip
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


def read_idx(path):
    """Read an IDX file (optionally gzipped) of unsigned bytes into an array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path.name}: not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(data) != header + int(np.prod(shape)):
        raise DataError(f"{path.name}: size does not match the header {shape}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def load_mnist_idx():
    images = read_idx(HERE / "mnist-t10k-images-idx3-ubyte.gz")
    labels = read_idx(HERE / "mnist-t10k-labels-idx1-ubyte.gz")
    return images, labels
