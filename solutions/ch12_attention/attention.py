"""Scaled dot-product attention with a boolean mask, its backward pass, the causal mask,
and splitting a model's features into heads and merging them back.

The mask convention of the whole chapter: **True means "may attend"**. ``mask[i, j]``
True lets query i read key j; False hides key j from query i (its weight is exactly 0).
A query whose keys are all hidden (a fully masked row) gets all-zero weights and an
all-zero output, never NaN.
"""

import numpy as np


def causal_mask(T):
    """The mask of a decoder that must not look ahead.

    T:       int, the sequence length
    returns: (T, T) bool array, True on and below the diagonal: query t may attend to
             keys 0, 1, ..., t and not to the keys after it
    """
    ### BEGIN SOLUTION
    return np.tril(np.ones((T, T), dtype=bool))
    ### END SOLUTION


def attention_forward(q, k, v, mask=None):
    """Scaled dot-product attention.

    q:    (..., Tq, dk) queries; k: (..., Tk, dk) keys; v: (..., Tk, dv) values; the
          leading axes (a batch, and heads) are the same for all three
    mask: None (every query sees every key), or a bool array that broadcasts to
          (..., Tq, Tk); True = may attend

    scores  = q @ k^T / sqrt(dk)                      (..., Tq, Tk)
    weights = softmax of the scores over the keys (last axis), computed on the allowed
              keys only: subtract the largest *allowed* score of the row, exponentiate,
              set the hidden keys to exactly 0, divide by the row's sum. A row with no
              allowed key keeps all-zero weights (no division by zero, no NaN).
    output  = weights @ v                             (..., Tq, dv)

    returns: (output, weights)
    """
    ### BEGIN SOLUTION
    dk = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(dk)
    if mask is None:
        allowed = np.ones(scores.shape, dtype=bool)
    else:
        allowed = np.broadcast_to(np.asarray(mask, dtype=bool), scores.shape)
    masked = np.where(allowed, scores, -np.inf)
    row_max = np.max(masked, axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)
    e = np.where(allowed, np.exp(np.where(allowed, scores, 0.0) - row_max), 0.0)
    total = np.sum(e, axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
    return weights @ v, weights
    ### END SOLUTION


def attention_backward(doutput, q, k, v, weights):
    """The gradients of scaled dot-product attention.

    doutput: (..., Tq, dv), the gradient arriving at the output
    q, k, v: the inputs of ``attention_forward``; weights: the weights it returned
    (the mask is already in the weights: a hidden key has weight 0 and gets no gradient)

    dv       = weights^T @ doutput
    dweights = doutput @ v^T
    dscores  = weights * (dweights - sum over keys of weights * dweights)   (softmax)
    dq       = dscores @ k / sqrt(dk);   dk = dscores^T @ q / sqrt(dk)

    returns: (dq, dk, dv), the shapes of q, k and v
    """
    ### BEGIN SOLUTION
    scale = 1.0 / np.sqrt(q.shape[-1])
    dv = np.swapaxes(weights, -1, -2) @ doutput
    dweights = doutput @ np.swapaxes(v, -1, -2)
    dscores = weights * (dweights - np.sum(weights * dweights, axis=-1, keepdims=True))
    dq = dscores @ k * scale
    dk = np.swapaxes(dscores, -1, -2) @ q * scale
    return dq, dk, dv
    ### END SOLUTION


def split_heads(x, n_heads):
    """(N, T, d_model) -> (N, n_heads, T, d_model // n_heads).

    Head h gets the features ``x[:, :, h * dk:(h + 1) * dk]`` (dk = d_model // n_heads) of
    every position: reshape to (N, T, n_heads, dk), then move the head axis in front of
    the positions. (A reshape alone to (N, n_heads, T, dk) would mix positions.)
    """
    ### BEGIN SOLUTION
    N, T, d = x.shape
    return x.reshape(N, T, n_heads, d // n_heads).transpose(0, 2, 1, 3)
    ### END SOLUTION


def merge_heads(x):
    """(N, n_heads, T, dk) -> (N, T, n_heads * dk): the inverse of ``split_heads``."""
    ### BEGIN SOLUTION
    N, h, T, dk = x.shape
    return x.transpose(0, 2, 1, 3).reshape(N, T, h * dk)
    ### END SOLUTION
