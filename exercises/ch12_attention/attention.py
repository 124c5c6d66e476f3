# Generated from solutions/ch12_attention/attention.py by `nox -s stubs`: fill in the TODOs below.
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
    # TODO(ch12): implement causal_mask (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement causal_mask")


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
    # TODO(ch12): implement attention_forward (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement attention_forward")


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
    # TODO(ch12): implement attention_backward (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement attention_backward")


def split_heads(x, n_heads):
    """(N, T, d_model) -> (N, n_heads, T, d_model // n_heads).

    Head h gets the features ``x[:, :, h * dk:(h + 1) * dk]`` (dk = d_model // n_heads) of
    every position: reshape to (N, T, n_heads, dk), then move the head axis in front of
    the positions. (A reshape alone to (N, n_heads, T, dk) would mix positions.)
    """
    # TODO(ch12): implement split_heads (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement split_heads")


def merge_heads(x):
    """(N, n_heads, T, dk) -> (N, T, n_heads * dk): the inverse of ``split_heads``."""
    # TODO(ch12): implement merge_heads (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement merge_heads")
