"""Reference for chapter 02: activation functions, forward and backward.

Every function takes float64-convertible arrays of shape (N, D) and returns a new
float64 array of shape (N, D). The backward functions take the forward *input* ``x``
and the upstream gradient ``dout`` (the gradient of the loss with respect to the
forward output) and return the gradient with respect to ``x``.
"""

import numpy as np


def _f64(a):
    return np.asarray(a, dtype=np.float64)


# ReLU -------------------------------------------------------------------------


def relu_forward(x):
    """(N, D): x where x > 0, else 0."""
    x = _f64(x)
    return np.where(x > 0, x, 0.0)


def relu_backward(x, dout):
    """(N, D): dout where x > 0, else 0 (the derivative at x == 0 is 0)."""
    x, dout = _f64(x), _f64(dout)
    slope = (x > 0).astype(np.float64)
    return dout * slope


# Leaky ReLU -------------------------------------------------------------------


def leaky_relu_forward(x, alpha=0.01):
    """(N, D): x where x > 0, else alpha * x."""
    x = _f64(x)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_backward(x, dout, alpha=0.01):
    """(N, D): dout where x > 0, else alpha * dout (alpha at x == 0)."""
    x, dout = _f64(x), _f64(dout)
    slope = np.where(x > 0, 1.0, alpha)
    return dout * slope


# Sigmoid ----------------------------------------------------------------------


def sigmoid_forward(x):
    """(N, D): 1 / (1 + exp(-x)), evaluated so that exp never overflows.

    For x >= 0 the textbook form is safe; for x < 0 the equivalent form
    exp(x) / (1 + exp(x)) is used instead.
    """
    x = _f64(x)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1.0 + ex)
    return out


def sigmoid_backward(x, dout):
    """(N, D): dout * s * (1 - s) with s = sigmoid(x)."""
    s = sigmoid_forward(x)
    return _f64(dout) * s * (1.0 - s)


# Tanh -------------------------------------------------------------------------


def tanh_forward(x):
    """(N, D): tanh(x)."""
    return np.tanh(_f64(x))


def tanh_backward(x, dout):
    """(N, D): dout * (1 - tanh(x)**2)."""
    t = np.tanh(_f64(x))
    return _f64(dout) * (1.0 - t * t)


# Softmax ----------------------------------------------------------------------


def softmax_forward(x):
    """(N, D): each row exp(x_i - max x) / sum_j exp(x_j - max x); rows sum to 1."""
    x = _f64(x)
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_jacobian(x):
    """(N, D, D): J[n, i, j] = d softmax(x)[n, i] / d x[n, j] = s_i (delta_ij - s_j)."""
    s = softmax_forward(x)
    n, d = s.shape
    eye = np.eye(d)
    return np.einsum("ni,ij->nij", s, eye) - np.einsum("ni,nj->nij", s, s)


def softmax_backward(x, dout):
    """(N, D): per sample, dx_j = sum_i dout_i * J[i, j] with the explicit Jacobian."""
    J = softmax_jacobian(x)
    return np.einsum("ni,nij->nj", _f64(dout), J)


# Linear (identity) ------------------------------------------------------------


def linear_forward(x):
    """(N, D): a float64 copy of x."""
    return np.array(x, dtype=np.float64, copy=True)


def linear_backward(x, dout):
    """(N, D): a float64 copy of dout."""
    return np.array(dout, dtype=np.float64, copy=True)
