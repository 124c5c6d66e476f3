# Generated from solutions/ch12_attention/multihead.py by `nox -s stubs`: fill in the TODOs below.
"""Multi-head attention: project the inputs to queries, keys and values, attend in
several heads at once, merge the heads and project back."""

import numpy as np

from ..ch11_recurrent import Layer
from .attention import attention_backward, attention_forward, causal_mask, merge_heads, split_heads


class MultiHeadAttention(Layer):
    """Multi-head attention over sequences of ``d_model`` features.

    Parameters (the parameter protocol), in this order:
        ``Wq``, ``Wk``, ``Wv``, ``Wo``: (d_model, d_model), drawn in that order as
        ``rng.standard_normal((d_model, d_model)) / sqrt(d_model)``;
        ``bq``, ``bk``, ``bv``, ``bo``: (1, d_model), zeros.
    Gradients under the same names (``dWq``, ..., ``dbo``).

    With x the inputs (N, Tq, d_model) and c the context (N, Tk, d_model), c = x for
    self-attention:

        Q = x Wq + bq,  K = c Wk + bk,  V = c Wv + bv                 (N, T, d_model)
        heads: split_heads(Q, n_heads) ... (N, n_heads, T, dk), dk = d_model // n_heads
        A, weights = attention_forward(Qh, Kh, Vh, mask)               (every head alike)
        output = merge_heads(A) Wo + bo                                (N, Tq, d_model)

    ``causal=True`` makes every call use ``causal_mask(T)`` (combined with a given mask by
    a logical and). After ``forward``, ``self.attention`` holds the weights,
    (N, n_heads, Tq, Tk).
    """

    def __init__(self, d_model, n_heads, rng, causal=False):
        if d_model % n_heads:
            raise ValueError(f"d_model = {d_model} is not a multiple of n_heads = {n_heads}")
        self.d_model, self.n_heads, self.causal = int(d_model), int(n_heads), bool(causal)
        scale = 1.0 / np.sqrt(d_model)
        self.Wq = rng.standard_normal((d_model, d_model)) * scale
        self.Wk = rng.standard_normal((d_model, d_model)) * scale
        self.Wv = rng.standard_normal((d_model, d_model)) * scale
        self.Wo = rng.standard_normal((d_model, d_model)) * scale
        self.bq, self.bk, self.bv, self.bo = (np.zeros((1, d_model)) for _ in range(4))
        self.dWq, self.dWk, self.dWv, self.dWo = (np.zeros((d_model, d_model)) for _ in range(4))
        self.dbq, self.dbk, self.dbv, self.dbo = (np.zeros((1, d_model)) for _ in range(4))
        self.trainable = True

    NAMES = ("Wq", "Wk", "Wv", "Wo", "bq", "bk", "bv", "bo")

    def parameters(self):
        return {name: getattr(self, name) for name in self.NAMES}

    def gradients(self):
        return {name: getattr(self, "d" + name) for name in self.NAMES}

    def forward(self, inputs, training=False, context=None, mask=None):
        """inputs:  (N, Tq, d_model), the sequence that asks (the queries)
        training: unused
        context: None for self-attention, or (N, Tk, d_model): the sequence the keys and
                 values come from (cross-attention)
        mask:    None, or bool (Tq, Tk) or (N, Tq, Tk); True = may attend (it applies to
                 every head)

        Stores what backward needs and ``self.attention`` (N, n_heads, Tq, Tk);
        returns (N, Tq, d_model)."""
        # TODO(ch12): implement MultiHeadAttention.forward (the docstring gives the shapes).
        raise NotImplementedError("ch12: implement MultiHeadAttention.forward")

    def backward(self, dvalues):
        """dvalues: (N, Tq, d_model).

        Sets the eight parameter gradients (summed over the batch and the positions),
        ``self.dcontext`` (N, Tk, d_model) when a context was given (else None), and
        ``self.dinputs`` (N, Tq, d_model); in self-attention ``dinputs`` sums the
        gradients through the queries, the keys and the values. Returns ``self.dinputs``.
        """
        # TODO(ch12): implement MultiHeadAttention.backward (the docstring gives the shapes).
        raise NotImplementedError("ch12: implement MultiHeadAttention.backward")
