"""Reference for chapter 03: losses, their gradients with respect to the predictions,
the fused softmax + cross-entropy, and accuracy.

Conventions: N samples, C classes, K outputs per sample. ``y`` for a classification
loss is either (N,) integer labels or (N, C) one-hot rows; both are turned into
one-hot rows first. Forward functions return per-sample losses, shape (N,), except
``softmax_ce_forward``, which returns the mean. Backward functions return the
gradient of the *mean* loss, so they include the factor 1/N.
"""

import numpy as np

EPS = 1e-7


def to_one_hot(y, num_classes):
    """(N, num_classes) float64: y as one-hot rows; y is (N,) labels or already one-hot."""
    y = np.asarray(y)
    if y.ndim == 2:
        return y.astype(np.float64)
    out = np.zeros((y.shape[0], num_classes), dtype=np.float64)
    out[np.arange(y.shape[0]), y.astype(np.int64)] = 1.0
    return out


def _clip(p):
    return np.clip(np.asarray(p, dtype=np.float64), EPS, 1.0 - EPS)


def _softmax(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cce_forward(p, y):
    """(N,): -sum_c onehot[n, c] * log(clip(p[n, c])) for p (N, C)."""
    p = _clip(p)
    t = to_one_hot(y, p.shape[1])
    return -(t * np.log(p)).sum(axis=1)


def cce_backward(p, y):
    """(N, C): d mean(cce_forward) / dp = -onehot / clip(p) / N."""
    p = _clip(p)
    t = to_one_hot(y, p.shape[1])
    return -t / p / p.shape[0]


def bce_forward(p, y):
    """(N,): mean over K of -(y log p + (1 - y) log(1 - p)), p (N, K) clipped."""
    p = _clip(p)
    y = np.asarray(y, dtype=np.float64)
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)).mean(axis=1)


def bce_backward(p, y):
    """(N, K): -(y / p - (1 - y) / (1 - p)) / K / N with p clipped."""
    p = _clip(p)
    y = np.asarray(y, dtype=np.float64)
    n, k = p.shape
    return (-(y / p) + (1.0 - y) / (1.0 - p)) / (n * k)


def mse_forward(p, y):
    """(N,): mean over K of (y - p)^2 for p, y (N, K)."""
    d = np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return (d * d).mean(axis=1)


def mse_backward(p, y):
    """(N, K): 2 (p - y) / K / N."""
    p = np.asarray(p, dtype=np.float64)
    n, k = p.shape
    return 2.0 * (p - np.asarray(y, dtype=np.float64)) / (n * k)


def mae_forward(p, y):
    """(N,): mean over K of |y - p| for p, y (N, K)."""
    return np.abs(np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)).mean(axis=1)


def mae_backward(p, y):
    """(N, K): sign(p - y) / K / N (0 where p == y)."""
    p = np.asarray(p, dtype=np.float64)
    n, k = p.shape
    return np.sign(p - np.asarray(y, dtype=np.float64)) / (n * k)


def softmax_ce_forward(logits, y):
    """(mean loss as float, probabilities (N, C)) for logits (N, C).

    The loss is the mean of cce_forward(softmax(logits), y), clipping included.
    """
    probs = _softmax(logits)
    return float(cce_forward(probs, y).mean()), probs


def softmax_ce_backward(probs, y):
    """(N, C): (probs - onehot) / N, the gradient of the mean loss w.r.t. the logits."""
    probs = np.asarray(probs, dtype=np.float64)
    return (probs - to_one_hot(y, probs.shape[1])) / probs.shape[0]


def accuracy(scores, y):
    """float: fraction of rows of scores (N, C) whose argmax is the true class."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = to_one_hot(y, scores.shape[1]).argmax(axis=1)
    return float((scores.argmax(axis=1) == labels).mean())


def binary_accuracy(p, y):
    """float: fraction of entries of p (N, K) where (p > 0.5) matches y (0/1)."""
    predicted = (np.asarray(p, dtype=np.float64) > 0.5).astype(np.float64)
    return float((predicted == np.asarray(y, dtype=np.float64)).mean())
