"""Reference for chapter 04: dense backward, numerical gradients, a two-layer net by hand."""

import numpy as np

from ..ch01_neurons import dense_forward
from ..ch03_losses import softmax_ce_backward, softmax_ce_forward


def dense_backward(X, W, dout):
    """Gradients of a dense layer out = X @ W + b.

    X: (N, n_inputs), W: (n_inputs, n_neurons), dout: (N, n_neurons) upstream gradient.
    returns (dX (N, n_inputs), dW (n_inputs, n_neurons), db (1, n_neurons)).
    """
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    dout = np.asarray(dout, dtype=np.float64)
    dX = dout @ W.T  # dX[n, i] = sum_j dout[n, j] W[i, j]
    dW = X.T @ dout  # dW[i, j] = sum_n X[n, i] dout[n, j]
    db = dout.sum(axis=0, keepdims=True)  # db[0, j] = sum_n dout[n, j]
    return dX, dW, db


def _central_difference(f, xp, index, h):
    """(f(xp + h e_index) - f(xp - h e_index)) / 2h; xp is a float64 array, restored."""
    saved = xp[index]
    xp[index] = saved + h
    up = float(f(xp))
    xp[index] = saved - h
    down = float(f(xp))
    xp[index] = saved
    return (up - down) / (2.0 * h)


def numerical_gradient(f, x, h=1e-5):
    """(same shape as x) float64 central-difference gradient of the scalar function f at x."""
    xp = np.array(x, dtype=np.float64, copy=True)
    flat = np.empty(xp.size)
    for k in range(xp.size):
        flat[k] = _central_difference(f, xp, np.unravel_index(k, xp.shape), h)
    return flat.reshape(xp.shape)


def rel_error(a, b):
    """float: max over entries of |a - b| / max(1e-8, |a| + |b|)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denominator = np.maximum(np.abs(a) + np.abs(b), 1e-8)
    return float((np.abs(a - b) / denominator).max())


def relative_errors_at(f, x, analytic, indices, h=1e-5):
    """(len(indices),) float64: the relative error |num - ana| / max(1e-8, |num| + |ana|)
    at each coordinate (a row of indices, shape (k, x.ndim)), num by central differences."""
    xp = np.array(x, dtype=np.float64, copy=True)
    analytic = np.asarray(analytic, dtype=np.float64)
    errors = []
    for row in np.asarray(indices, dtype=np.int64).reshape(-1, xp.ndim):
        index = tuple(int(i) for i in row)
        num = _central_difference(f, xp, index, h)
        ana = float(analytic[index])
        errors.append(abs(num - ana) / max(abs(num) + abs(ana), 1e-8))
    return np.array(errors, dtype=np.float64)


def two_layer_loss_and_grads(X, y, W1, b1, W2, b2):
    """(loss float, grads dict) of Dense(W1, b1) -> ReLU -> Dense(W2, b2) -> softmax -> mean CE.

    X (N, D), y (N,) int labels, W1 (D, H), b1 (1, H), W2 (H, C), b2 (1, C).
    Probabilities clipped to [1e-7, 1 - 1e-7] in the loss; grads has keys W1, b1, W2, b2
    with the parameters' shapes, the loss gradient through (softmax - onehot) / N.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64)
    a1 = dense_forward(X, W1, b1)
    h1 = np.where(a1 > 0, a1, 0.0)
    loss, probs = softmax_ce_forward(dense_forward(h1, W2, b2), y)

    dscores = softmax_ce_backward(probs, y)
    dh1, dW2, db2 = dense_backward(h1, W2, dscores)
    da1 = np.where(a1 > 0, dh1, 0.0)
    _, dW1, db1 = dense_backward(X, W1, da1)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
