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
        ### BEGIN SOLUTION
        self.inputs = inputs
        self.context = context
        source = inputs if context is None else context
        Tq, Tk = inputs.shape[1], source.shape[1]
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.ndim == 3:
                mask = mask[:, None]  # the same mask for every head
        if self.causal:
            mask = causal_mask(Tq)[:, :Tk] if mask is None else (mask & causal_mask(Tq)[:, :Tk])
        self.source = source
        self.Qh = split_heads(inputs @ self.Wq + self.bq, self.n_heads)
        self.Kh = split_heads(source @ self.Wk + self.bk, self.n_heads)
        self.Vh = split_heads(source @ self.Wv + self.bv, self.n_heads)
        A, self.attention = attention_forward(self.Qh, self.Kh, self.Vh, mask)
        self.merged = merge_heads(A)
        self.output = self.merged @ self.Wo + self.bo
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, Tq, d_model).

        Sets the eight parameter gradients (summed over the batch and the positions),
        ``self.dcontext`` (N, Tk, d_model) when a context was given (else None), and
        ``self.dinputs`` (N, Tq, d_model); in self-attention ``dinputs`` sums the
        gradients through the queries, the keys and the values. Returns ``self.dinputs``.
        """
        ### BEGIN SOLUTION
        flat = lambda a: a.reshape(-1, a.shape[-1])  # noqa: E731
        self.dWo = flat(self.merged).T @ flat(dvalues)
        self.dbo = flat(dvalues).sum(axis=0, keepdims=True)
        dA = split_heads(dvalues @ self.Wo.T, self.n_heads)
        dQh, dKh, dVh = attention_backward(dA, self.Qh, self.Kh, self.Vh, self.attention)
        dQ, dK, dV = merge_heads(dQh), merge_heads(dKh), merge_heads(dVh)
        self.dWq = flat(self.inputs).T @ flat(dQ)
        self.dWk = flat(self.source).T @ flat(dK)
        self.dWv = flat(self.source).T @ flat(dV)
        self.dbq = flat(dQ).sum(axis=0, keepdims=True)
        self.dbk = flat(dK).sum(axis=0, keepdims=True)
        self.dbv = flat(dV).sum(axis=0, keepdims=True)
        dsource = dK @ self.Wk.T + dV @ self.Wv.T
        self.dinputs = dQ @ self.Wq.T
        if self.context is None:
            self.dinputs = self.dinputs + dsource
            self.dcontext = None
        else:
            self.dcontext = dsource
        return self.dinputs
        ### END SOLUTION
