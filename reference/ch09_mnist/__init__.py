"""Reference for chapter 09: IDX files, the fixed split, preprocessing, the confusion
matrix, precision and recall, PNG digits, and the chapter's MNIST training run.

Plain float64 functions, no classes, no state. The training run uses chapter 06's
reference network functions (a list of (W, b) pairs, ReLU in between, fused softmax
cross-entropy, Adam as an optimizer dict).
"""

import gzip
import struct

import numpy as np

from ..ch06_training import network_forward, train_run

# ------------------------------------------------------------------------------- IDX


def parse_idx(raw):
    """uint8 array from the bytes of an IDX file: magic 2049 -> (count,), 2051 ->
    (count, rows, cols); the header's integers are big-endian uint32 ('>I').
    ValueError for another magic number, a short header, or a size mismatch."""
    raw = (
        bytes(raw)
        if isinstance(raw, (bytes, bytearray))
        else np.asarray(raw, dtype=np.uint8).tobytes()
    )
    if len(raw) < 4:
        raise ValueError("shorter than the magic number")
    (magic,) = struct.unpack(">I", raw[:4])
    ndim = {2049: 1, 2051: 3}.get(magic)
    if ndim is None:
        raise ValueError(f"bad magic number {magic}")
    if len(raw) < 4 + 4 * ndim:
        raise ValueError("truncated header")
    shape = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    body = np.frombuffer(raw[4 + 4 * ndim :], dtype=np.uint8)
    if body.size != int(np.prod(shape)):
        raise ValueError("size mismatch")
    return body.reshape(shape).copy()


def read_idx(path):
    """parse_idx of a file, gunzipped when its name ends in .gz."""
    path = str(path)
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as fh:
        return parse_idx(fh.read())


def idx_bytes(array, magic=None, little_endian=False):
    """The bytes of an IDX file holding a uint8 array of 1 or 3 dimensions (test input
    builder; ``magic`` and ``little_endian`` make broken files)."""
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = {1: 2049, 3: 2051}[array.ndim]
    order = "<" if little_endian else ">"
    header = struct.pack(order + "I" * (1 + array.ndim), magic, *array.shape)
    return header + array.tobytes()


# ----------------------------------------------------------------- split, preprocessing


def split_indices(n, rng, sizes=(8000, 1000, 1000)):
    """(train, val, test): consecutive slices of one rng.permutation(n), in that order."""
    a, b, c = (int(s) for s in sizes)
    if a + b + c > n:
        raise ValueError("the parts do not fit")
    perm = rng.permutation(n)
    bounds = np.cumsum([0, a, b, c])
    return tuple(perm[bounds[i] : bounds[i + 1]] for i in range(3))


def preprocess(images):
    """(N, 784) float64: pixel values 0-255 mapped linearly onto [-1, 1]."""
    flat = np.asarray(images, dtype=np.float64).reshape(np.shape(images)[0], -1)
    return flat / 127.5 - 1.0


# ------------------------------------------------------------------------ evaluation


def confusion_matrix(y_true, y_pred, num_classes=10):
    """(C, C) int64: entry [t, p] counts samples of true class t predicted as p."""
    t = np.asarray(y_true, dtype=np.int64).ravel()
    p = np.asarray(y_pred, dtype=np.int64).ravel()
    if t.size and (min(t.min(), p.min()) < 0 or max(t.max(), p.max()) >= num_classes):
        raise ValueError("label out of range")
    return (
        np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
        .reshape(num_classes, num_classes)
        .astype(np.int64)
    )


def precision_recall(cm):
    """(precision, recall), (C,) float64 each: diagonal over column sums, diagonal over
    row sums; 0 where the sum is 0."""
    cm = np.asarray(cm, dtype=np.float64)
    C = cm.shape[0]
    precision, recall = np.zeros(C), np.zeros(C)
    for k in range(C):
        col, row = cm[:, k].sum(), cm[k, :].sum()
        precision[k] = cm[k, k] / col if col else 0.0
        recall[k] = cm[k, k] / row if row else 0.0
    return precision, recall


def png_digit(pixels):
    """(1, 784) float64 from an image as matplotlib's imread returns a PNG (floats in
    [0, 1]; (H, W), (H, W, 3) or (H, W, 4)): alpha over white, mean of R, G, B, inverted
    when its mean is above 0.5, then 2 * gray - 1. ValueError unless 28x28."""
    img = np.asarray(pixels, dtype=np.float64)
    if img.ndim == 3 and img.shape[2] == 4:
        img = img[..., :3] * img[..., 3:] + (1.0 - img[..., 3:])
    gray = img.mean(axis=2) if img.ndim == 3 else img
    if gray.shape != (28, 28):
        raise ValueError("not 28x28")
    if gray.mean() > 0.5:
        gray = 1.0 - gray
    return (2.0 * gray - 1.0).reshape(1, 784)


# -------------------------------------------------------------------- the training run

MNIST_LAYERS = (784, 128, 64, 10)
MNIST_OPT = {"name": "adam", "learning_rate": 1e-3}
MNIST_EPOCHS = 10
MNIST_BATCH = 64


def he_params(layer_sizes, rng):
    """[(W, b), ...]: W = sqrt(2 / n_in) * standard_normal((n_in, n_out)), drawn layer by
    layer from the input side; b zeros (1, n_out)."""
    return [
        (np.sqrt(2.0 / a) * rng.standard_normal((a, b)), np.zeros((1, b)))
        for a, b in zip(layer_sizes[:-1], layer_sizes[1:])
    ]


def mnist_fit_predict(
    X_train,
    y_train,
    X_val,
    y_val,
    X_test,
    seed,
    epochs=MNIST_EPOCHS,
    batch_size=MNIST_BATCH,
    opt=MNIST_OPT,
    layer_sizes=MNIST_LAYERS,
):
    """(test logits (N_test, 10), history) of the chapter's network trained from
    default_rng(seed): the weights first (he_params), then one permutation per epoch."""
    rng = np.random.default_rng(seed)
    params = he_params(layer_sizes, rng)
    params, history = train_run(
        params,
        X_train,
        y_train,
        "multiclass",
        dict(opt),
        epochs,
        batch_size,
        rng,
        validation=(X_val, y_val),
    )
    return network_forward(params, X_test, "multiclass")[0], history
