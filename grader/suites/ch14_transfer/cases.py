"""Chapter 14 suite helpers: the shipped pretrained files, the digits the tests train on,
the grader's own LeNet feature maps (to measure a stylized image without the reference),
and small checks the test files share."""

from functools import lru_cache
from pathlib import Path

from numpy.lib.stride_tricks import sliding_window_view

from data.loaders import load_mnist_idx
from grader.api import Rng, StudentError, check_array, fail, np, reference, write_scratch_file
from grader.suites.common import returned_model

ref = reference("ch14_transfer")

PRETRAINED = Path(__file__).resolve().parents[3] / "data" / "pretrained"
MODEL_FILE, CHECK_FILE = "lenet-digits04.npz", "lenet-digits04-check.npz"
SPLIT_SEED = 9  # chapter 09's split: default_rng(9).permutation(10000), 8,000 / 1,000 / 1,000
# build_lenet's layers with parameters, and the keys of their arrays in the model file
LENET_KEYS = [f"layer{i}.{n}" for i in (0, 3, 7, 9, 11) for n in ("weights", "biases")]
BODY_KEYS = LENET_KEYS[:4]
HEAD_KEYS = LENET_KEYS[4:]


@lru_cache(maxsize=None)
def file_bytes(name):
    return (PRETRAINED / name).read_bytes()


@lru_cache(maxsize=None)
def file_arrays(name):
    with np.load(PRETRAINED / name, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def pretrained_arrays():
    """{"layer0.weights": ..., ...}: the shipped network's parameters (no architecture)."""
    return {k: v for k, v in file_arrays(MODEL_FILE).items() if k != "architecture"}


def check_data():
    arrays = file_arrays(CHECK_FILE)
    return arrays["inputs"], arrays["outputs"]


def scratch_files(student):
    """The two shipped files, copied into the worker's scratch folder: their paths there."""
    return (
        write_scratch_file(student, MODEL_FILE, file_bytes(MODEL_FILE)),
        write_scratch_file(student, CHECK_FILE, file_bytes(CHECK_FILE)),
    )


def pretrained_model(student):
    """The shipped network loaded by chapter 08's ``Model.load`` in the worker (so a bug in
    this chapter's loader is charged to the loading tests only)."""
    model_path, _ = scratch_files(student)
    return student.Model.load(model_path)


@lru_cache(maxsize=1)
def digits():
    """(X (10000, 1, 28, 28) in [-1, 1], y (10000,), parts): chapter 09's preprocessing and
    split; parts: 'pool' (training part, digits 5-9), 'target_test' (test part, 5-9),
    'source_test' (test part, 0-4)."""
    images, labels = load_mnist_idx()
    X = images.reshape(-1, 1, 28, 28).astype(np.float64) / 127.5 - 1.0
    y = labels.astype(np.int64)
    perm = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    train, test = perm[:8000], perm[9000:10000]
    parts = {
        "pool": train[y[train] >= 5],
        "target_test": test[y[test] >= 5],
        "source_test": test[y[test] < 5],
    }
    return X, y, parts


def labelled_subset(rng, per_class):
    """per_class images of each digit 5-9 from the pool (one rng.choice per class)."""
    _, y, parts = digits()
    pool = parts["pool"]
    return np.concatenate(
        [rng.choice(pool[y[pool] == c], per_class, replace=False) for c in range(5, 10)]
    )


# --------------------------------------------------------------- sequences of two Markov chains

ENCODER_FILE, ENCODER_CHECK_FILE = "encoder-mlm.npz", "encoder-mlm-check.npz"
CHAIN_SEED, N_SYMBOLS, SEQ_T = 140, 24, 16


@lru_cache(maxsize=1)
def markov_chains():
    """The chapter's two chains (the rule of ``markov_chains``: the grader's own copy)."""
    rng = np.random.default_rng(CHAIN_SEED)
    chains = np.zeros((2, N_SYMBOLS, N_SYMBOLS))
    for c in range(2):
        for s in range(N_SYMBOLS):
            nxt = rng.choice(N_SYMBOLS, 3, replace=False)
            chains[c, s, nxt] = rng.dirichlet(np.ones(3))
    return chains


def chain_sequences(labels, rng):
    chains = markov_chains()
    labels = np.asarray(labels)
    X = np.zeros((len(labels), SEQ_T), dtype=np.int64)
    X[:, 0] = rng.integers(0, N_SYMBOLS, size=len(labels))
    for t in range(1, SEQ_T):
        u = rng.random(len(labels))
        cdf = np.cumsum(chains[labels, X[:, t - 1]], axis=1)
        X[:, t] = np.minimum(np.sum(cdf <= u[:, None], axis=1), N_SYMBOLS - 1)
    return X


def labelled_sequences(rng, per_class):
    """(X (2 per_class, T), y): per_class sequences of each chain, shuffled."""
    y = rng.permutation(np.repeat([0, 1], per_class))
    return chain_sequences(y, rng), y


def pretrained_encoder(student):
    """The shipped encoder loaded by chapter 08's ``Model.load`` in the worker."""
    path = write_scratch_file(student, ENCODER_FILE, file_bytes(ENCODER_FILE))
    return student.Model.load(path)


# --------------------------------------------------------------- the grader's own LeNet maps


def _conv(x, W, b, padding=0):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    win = sliding_window_view(x, W.shape[2:], axis=(2, 3))  # (N, C, OH, OW, K, K)
    return np.einsum("nchwpq,fcpq->nfhw", win, W) + b[None, :, None, None]


def _pool(x):
    N, C, H, W = x.shape
    return x[:, :, : H // 2 * 2, : W // 2 * 2].reshape(N, C, H // 2, 2, W // 2, 2).max(axis=(3, 5))


def lenet_maps(x):
    """The shipped network's outputs of layers 1 and 4 (the ReLUs after each convolution)."""
    p = pretrained_arrays()
    a1 = np.maximum(_conv(x, p["layer0.weights"], p["layer0.biases"], 2), 0)
    a4 = np.maximum(_conv(_pool(a1), p["layer3.weights"], p["layer3.biases"]), 0)
    return a1, a4


def gram_of(f):
    N, C, H, W = f.shape
    F = f.reshape(N, C, H * W)
    return F @ F.transpose(0, 2, 1) / (C * H * W)


def measured_style_loss(image, style):
    """The style loss of an image against a style image, by the chapter's definitions."""
    (i1, i4), (s1, s4) = lenet_maps(image), lenet_maps(style)
    return float(
        sum(np.sum((gram_of(a) - gram_of(b)) ** 2) for a, b in ((i1, s1), (i4, s4))) / len(image)
    )


# --------------------------------------------------------------- checks


def expect_value_error(call, fn, hint, must_mention=None):
    """fn() must raise ValueError (whose message names ``must_mention``, if given)."""
    try:
        fn()
    except StudentError as exc:
        if exc.kind == "not_implemented":
            raise
        if not exc.summary.startswith("ValueError"):
            fail(f"{call} raised {exc.summary}, expected a ValueError", hint)
        if must_mention and must_mention.lower() not in exc.summary.lower():
            fail(
                f"{call} raised a ValueError that does not say {must_mention!r}: {exc.summary}",
                hint,
            )
        return exc.summary
    fail(f"{call} did not raise a ValueError", hint)


def params_of(model, keys, call):
    """{key: array} of a model handle's parameters (chapter 08's get_parameters)."""
    got = model.get_parameters()
    if not isinstance(got, dict):
        fail(f"{call}: get_parameters() did not return a dict", f"got {type(got).__name__}")
    missing = [k for k in keys if k not in got]
    if missing:
        fail(
            f"{call}: the returned model has no parameter {missing[0]!r}",
            f"Expected build_lenet's layers (a Model whose layers are the body then the head); got keys {sorted(got)[:12]}",
        )
    return {k: np.asarray(got[k], dtype=np.float64) for k in keys}


__all__ = [
    "Rng",
    "check_array",
    "ref",
    "pretrained_arrays",
    "check_data",
    "scratch_files",
    "pretrained_model",
    "pretrained_encoder",
    "chain_sequences",
    "labelled_sequences",
    "digits",
    "labelled_subset",
    "lenet_maps",
    "gram_of",
    "measured_style_loss",
    "expect_value_error",
    "params_of",
    "returned_model",
    "LENET_KEYS",
    "BODY_KEYS",
    "HEAD_KEYS",
]
