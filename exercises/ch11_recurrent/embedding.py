# Generated from solutions/ch11_recurrent/embedding.py by `nox -s stubs`: fill in the TODOs below.
"""Token ids to vectors: a lookup table that learns."""

import numpy as np

from ..ch09_mnist import Layer


class Embedding(Layer):
    """A table of ``n_tokens`` vectors of ``n_dims`` numbers; token id k reads row k.

    Parameters (the parameter protocol): ``{"weights": self.weights}`` of shape
    (n_tokens, n_dims), drawn from a standard normal distribution by ``rng``; the gradient
    ``self.dweights`` has the same shape.
    """

    def __init__(self, n_tokens, n_dims, rng):
        self.n_tokens, self.n_dims = n_tokens, n_dims
        self.weights = rng.standard_normal((n_tokens, n_dims))
        self.dweights = np.zeros_like(self.weights)
        self.trainable = True

    def parameters(self):
        return {"weights": self.weights}

    def gradients(self):
        return {"weights": self.dweights}

    def forward(self, inputs, training=False):
        """inputs:  integer array of token ids, any shape S (usually (N, T)), each in
                 [0, n_tokens)
        returns: (*S, n_dims), the row of ``self.weights`` of every id. Stores the ids."""
        # TODO(ch11): implement Embedding.forward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement Embedding.forward")

    def backward(self, dvalues):
        """dvalues: (*S, n_dims), the gradient arriving at each looked-up vector.

        Sets ``self.dweights`` (n_tokens, n_dims): row k is the sum of the ``dvalues`` of
        every position whose id is k (an id used twice gets both gradients; a row no id
        used gets 0). Token ids are not differentiable: ``self.dinputs`` is None, so an
        Embedding is the first layer of a network.

        returns: None (``self.dinputs``)
        """
        # TODO(ch11): implement Embedding.backward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement Embedding.backward")
