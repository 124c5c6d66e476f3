# Generated from solutions/ch12_attention/encoder.py by `nox -s stubs`: fill in the TODOs below.
"""The pre-LN transformer encoder block: attention and a position-wise feed-forward
network, each read through a layer norm and added back to the stream (a residual)."""

import numpy as np

from ..ch11_recurrent import Layer, ReLU, TimeDense
from .layernorm import LayerNorm
from .multihead import MultiHeadAttention


class EncoderBlock(Layer):
    """One pre-LN block on (N, T, d_model) sequences:

        h   = x + attn(ln1(x))                       attention sub-layer
        out = h + ff2(relu(ff1(ln2(h))))             feed-forward sub-layer

    The sub-layers, created from ``rng`` in this order: ``ln1 = LayerNorm(d_model)``,
    ``attn = MultiHeadAttention(d_model, n_heads, rng, causal=causal)``,
    ``ln2 = LayerNorm(d_model)``, ``ff1 = TimeDense(d_model, d_ff, rng)``,
    ``relu = ReLU()``, ``ff2 = TimeDense(d_ff, d_model, rng)``.

    Parameters: every sub-layer's, named ``"{sub-layer}.{name}"`` (``"ln1.gamma"``,
    ``"attn.Wq"``, ``"ff1.weights"``, ...); gradients under the same names.
    """

    PARTS = ("ln1", "attn", "ln2", "ff1", "ff2")

    def __init__(self, d_model, n_heads, d_ff, rng, causal=False):
        self.d_model, self.n_heads, self.d_ff, self.causal = int(d_model), int(n_heads), int(d_ff), bool(causal)
        self.ln1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, rng, causal=causal)
        self.ln2 = LayerNorm(d_model)
        self.ff1 = TimeDense(d_model, d_ff, rng)
        self.relu = ReLU()
        self.ff2 = TimeDense(d_ff, d_model, rng)
        self.trainable = True

    def parameters(self):
        return {f"{part}.{name}": p for part in self.PARTS for name, p in getattr(self, part).parameters().items()}

    def gradients(self):
        return {f"{part}.{name}": g for part in self.PARTS for name, g in getattr(self, part).gradients().items()}

    def forward(self, inputs, training=False, mask=None):
        """inputs: (N, T, d_model); mask: None or a bool mask for the attention (True = may
        attend). returns: (N, T, d_model)."""
        # TODO(ch12): implement EncoderBlock.forward (the docstring gives the shapes).
        raise NotImplementedError("ch12: implement EncoderBlock.forward")

    def backward(self, dvalues):
        """dvalues: (N, T, d_model). Runs every sub-layer's backward; a residual's gradient
        is the sum of the path through the sub-layer and the path around it.
        Sets and returns ``self.dinputs``."""
        # TODO(ch12): implement EncoderBlock.backward (the docstring gives the shapes).
        raise NotImplementedError("ch12: implement EncoderBlock.backward")
