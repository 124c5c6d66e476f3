"""Telling attention where each token is: the sinusoidal encoding (fixed) and learned
position embeddings. Attention itself treats its inputs as a set: without positions,
permuting the tokens of a sequence permutes the outputs the same way."""

import numpy as np

from ..ch11_recurrent import Layer


def sinusoidal_encoding(T, d_model):
    """The fixed positional encoding, (T, d_model), **sin and cos interleaved**:

        angle(t, i)        = t / 10000 ** (2 i / d_model)      for i = 0, 1, ..., d_model // 2 - 1
        PE[t, 2 i]         = sin(angle(t, i))                  (even columns)
        PE[t, 2 i + 1]     = cos(angle(t, i))                  (odd columns)

    So row 0 is [0, 1, 0, 1, ...]. With an odd d_model the last (even) column is a sine.
    T, d_model: ints. returns: float64 (T, d_model)
    """
    ### BEGIN SOLUTION
    t = np.arange(T)[:, None]
    i = np.arange((d_model + 1) // 2)[None, :]
    angle = t / 10000.0 ** (2 * i / d_model)
    pe = np.zeros((T, d_model))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return pe
    ### END SOLUTION


class PositionalEncoding(Layer):
    """Adds ``sinusoidal_encoding(T, d_model)`` to every sequence: (N, T, d_model) in and
    out (any T). No parameters; the gradient passes through unchanged."""

    def __init__(self, d_model):
        self.d_model = int(d_model)

    def forward(self, inputs, training=False):
        """inputs: (N, T, d_model). returns: inputs + sinusoidal_encoding(T, d_model), the
        same encoding added to every sequence of the batch."""
        ### BEGIN SOLUTION
        self.output = inputs + sinusoidal_encoding(inputs.shape[1], self.d_model)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, T, d_model). Sets and returns ``self.dinputs``: dvalues unchanged
        (the encoding is a constant)."""
        ### BEGIN SOLUTION
        self.dinputs = dvalues
        return self.dinputs
        ### END SOLUTION


class PositionEmbedding(Layer):
    """Learned positions: a table ``weights`` (max_len, d_model), drawn as
    ``0.1 * rng.standard_normal((max_len, d_model))``; row t is added to the features at
    position t of every sequence. Sequences up to ``max_len`` long.

    Parameters ``{"weights": ...}``; ``dweights`` has row t = the sum over the batch of the
    gradient at position t (rows past the sequence's length get 0)."""

    def __init__(self, max_len, d_model, rng):
        self.max_len, self.d_model = int(max_len), int(d_model)
        self.weights = 0.1 * rng.standard_normal((max_len, d_model))
        self.dweights = np.zeros_like(self.weights)
        self.trainable = True

    def parameters(self):
        return {"weights": self.weights}

    def gradients(self):
        return {"weights": self.dweights}

    def forward(self, inputs, training=False):
        """inputs: (N, T, d_model), T <= max_len. returns: (N, T, d_model)."""
        ### BEGIN SOLUTION
        self.T = inputs.shape[1]
        self.output = inputs + self.weights[: self.T]
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, T, d_model). Sets ``dweights`` and returns ``self.dinputs``."""
        ### BEGIN SOLUTION
        self.dweights = np.zeros_like(self.weights)
        self.dweights[: self.T] = dvalues.sum(axis=0)
        self.dinputs = dvalues
        return self.dinputs
        ### END SOLUTION
