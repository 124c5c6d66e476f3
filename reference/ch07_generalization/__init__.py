"""Reference for chapter 07: regularized dense gradients, dropout, initialisation,
batch normalization. Plain float64 functions, no state."""

import numpy as np

from ..ch04_backprop import dense_backward


def _f64(a):
    return np.asarray(a, dtype=np.float64)


# ------------------------------------------------------------------ regularization


def regularization_loss(W, b, l1_w=0.0, l2_w=0.0, l1_b=0.0, l2_b=0.0):
    """float: l1_w * sum|W| + l2_w * sum W^2 + l1_b * sum|b| + l2_b * sum b^2."""
    W, b = _f64(W), _f64(b)
    total = 0.0
    for strength, values, power in ((l1_w, W, 1), (l2_w, W, 2), (l1_b, b, 1), (l2_b, b, 2)):
        total += float(strength) * float(np.sum(np.abs(values) ** power))
    return total


def penalty_gradient(P, l1=0.0, l2=0.0):
    """(same shape as P): the derivative of l1 * sum|P| + l2 * sum P^2, entry by entry:
    l1 * sign(P) + 2 * l2 * P (sign(0) = 0)."""
    P = _f64(P)
    sign = np.where(P > 0, 1.0, np.where(P < 0, -1.0, 0.0))
    return l1 * sign + 2.0 * l2 * P


def dense_backward_regularized(X, W, b, dout, l1_w=0.0, l2_w=0.0, l1_b=0.0, l2_b=0.0):
    """Gradients of (loss through out = X @ W + b) + the penalties on W and b.

    X (N, n_in), W (n_in, n_out), b (1, n_out), dout (N, n_out).
    returns (dX (N, n_in), dW (n_in, n_out), db (1, n_out)).
    """
    dX, dW, db = dense_backward(X, W, dout)
    return dX, dW + penalty_gradient(W, l1_w, l2_w), db + penalty_gradient(b, l1_b, l2_b)


# ------------------------------------------------------------------------- dropout


def dropout_mask(shape, rate, rng):
    """(shape) float64: the inverted-dropout mask, one draw of
    rng.binomial(1, 1 - rate, size=shape), divided by 1 - rate."""
    keep = 1.0 - rate
    return rng.binomial(1, keep, size=shape).astype(np.float64) / keep


def dropout_forward(x, rate, rng=None, mask=None, training=True):
    """(out, mask): out = x * mask in training, out = x (mask None) at inference.

    The mask is either given or drawn from rng with dropout_mask."""
    x = _f64(x)
    if not training:
        return x.copy(), None
    if mask is None:
        mask = dropout_mask(x.shape, rate, rng)
    return x * mask, mask


def dropout_backward(dout, mask):
    """(same shape as dout): dout * mask, or dout itself when mask is None (inference)."""
    dout = _f64(dout)
    return dout.copy() if mask is None else dout * mask


# ---------------------------------------------------------------- initialisation


def init_std(kind, n_inputs, n_neurons):
    """float: the standard deviation of an initialisation kind (0 for zeros)."""
    variances = {
        "zeros": 0.0,
        "random": 0.01**2,
        "xavier": 2.0 / (n_inputs + n_neurons),
        "he": 2.0 / n_inputs,
    }
    if kind not in variances:
        raise ValueError(f"unknown kind {kind!r}")
    return float(np.sqrt(variances[kind]))


def init_weights(kind, n_inputs, n_neurons, rng):
    """(n_inputs, n_neurons): zeros, or init_std * one standard normal draw of that shape."""
    std = init_std(kind, n_inputs, n_neurons)
    if kind == "zeros":
        return np.zeros((n_inputs, n_neurons))
    return std * rng.standard_normal((n_inputs, n_neurons))


# ------------------------------------------------------------ batch normalization


def batchnorm_forward_train(x, gamma, beta, running_mean, running_var, momentum=0.9, eps=1e-5):
    """Training-mode batch norm of x (N, D) with gamma, beta (1, D).

    returns (out (N, D), new_running_mean (1, D), new_running_var (1, D), cache), where
    the running statistics move towards the batch mean and the biased batch variance:
    new = momentum * old + (1 - momentum) * batch. cache holds the graph's nodes.
    """
    x = _f64(x)
    n = x.shape[0]
    mu = x.sum(axis=0, keepdims=True) / n  # (1, D)
    xmu = x - mu  # (N, D)
    sq = xmu * xmu  # (N, D)
    var = sq.sum(axis=0, keepdims=True) / n  # (1, D)
    sqrtvar = np.sqrt(var + eps)  # (1, D)
    ivar = 1.0 / sqrtvar  # (1, D)
    xhat = xmu * ivar  # (N, D)
    out = _f64(gamma) * xhat + _f64(beta)  # (N, D)
    new_mean = momentum * _f64(running_mean) + (1.0 - momentum) * mu
    new_var = momentum * _f64(running_var) + (1.0 - momentum) * var
    cache = {
        "xmu": xmu,
        "var": var,
        "sqrtvar": sqrtvar,
        "ivar": ivar,
        "xhat": xhat,
        "gamma": _f64(gamma),
        "eps": eps,
    }
    return out, new_mean, new_var, cache


def batchnorm_forward_eval(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Inference-mode batch norm: (N, D), normalised with the running statistics."""
    x = _f64(x)
    return _f64(gamma) * (x - _f64(running_mean)) / np.sqrt(_f64(running_var) + eps) + _f64(beta)


def batchnorm_backward(dout, cache):
    """Backward through the training-mode graph of batchnorm_forward_train, one node
    at a time, from the output back to x.

    dout (N, D); returns (dx (N, D), dgamma (1, D), dbeta (1, D)).
    """
    dout = _f64(dout)
    n = dout.shape[0]
    xmu, sqrtvar, ivar = cache["xmu"], cache["sqrtvar"], cache["ivar"]
    xhat, gamma = cache["xhat"], cache["gamma"]
    # out = gamma * xhat + beta
    dbeta = dout.sum(axis=0, keepdims=True)
    dgamma = (dout * xhat).sum(axis=0, keepdims=True)
    dxhat = dout * gamma
    # xhat = xmu * ivar: both branches
    divar = (dxhat * xmu).sum(axis=0, keepdims=True)
    dxmu = dxhat * ivar
    # ivar = 1 / sqrtvar
    dsqrtvar = -divar / (sqrtvar * sqrtvar)
    # sqrtvar = sqrt(var + eps)
    dvar = dsqrtvar * 0.5 / sqrtvar
    # var = sum(sq) / n: every sq entry gets dvar / n
    dsq = np.ones_like(xmu) * dvar / n
    # sq = xmu^2: the second path into xmu
    dxmu = dxmu + 2.0 * xmu * dsq
    # xmu = x - mu: x directly, and mu for every row
    dx = dxmu.copy()
    dmu = -dxmu.sum(axis=0, keepdims=True)
    # mu = sum(x) / n
    dx = dx + np.ones_like(xmu) * dmu / n
    return dx, dgamma, dbeta


def batchnorm_backward_eval(dout, gamma, running_var, eps=1e-5):
    """Inference-mode backward: the statistics are constants, so dx = dout * gamma /
    sqrt(running_var + eps) (N, D)."""
    return _f64(dout) * _f64(gamma) / np.sqrt(_f64(running_var) + eps)
