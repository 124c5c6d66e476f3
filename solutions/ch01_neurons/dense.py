"""A fully connected (dense) layer, forward pass only (backward comes in chapter 04)."""

import numpy as np

from .layer import Layer


class Dense(Layer):
    """A layer of ``n_neurons`` neurons, each connected to all ``n_inputs`` inputs.

    Attributes after ``__init__``:
        weights: (n_inputs, n_neurons) float array, ``weight_scale`` times standard
                 normal samples drawn from ``rng``
        biases:  (1, n_neurons) float array of zeros
        n_inputs, n_neurons: the two sizes (given)

    Its parameters (the course's parameter interface, see ``layer.py``) are
    ``{"weights": weights, "biases": biases}``; their gradients ``dweights`` and
    ``dbiases`` come with ``backward`` in chapter 04.
    """

    def __init__(self, n_inputs, n_neurons, rng, weight_scale=0.01):
        """n_inputs, n_neurons: ints; rng: np.random.Generator (the only source of
        randomness; never numpy's global state); weight_scale: float."""
        self.n_inputs, self.n_neurons = n_inputs, n_neurons
        ### BEGIN SOLUTION
        self.weights = weight_scale * rng.standard_normal((n_inputs, n_neurons))
        self.biases = np.zeros((1, n_neurons))
        ### END SOLUTION

    def forward(self, inputs, training=False):
        """inputs: (N, n_inputs) batch of N samples; training: bool, unused (a dense layer
        computes the same thing while training and at inference).

        Stores ``self.inputs`` (backward needs them) and ``self.output``, and returns
        the output, shape (N, n_neurons): ``inputs @ weights + biases``.
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        self.output = inputs @ self.weights + self.biases
        return self.output
        ### END SOLUTION

    def parameters(self):
        """{"weights": (n_inputs, n_neurons), "biases": (1, n_neurons)}: the layer's own arrays."""
        return {"weights": self.weights, "biases": self.biases}

    def gradients(self):
        """{"weights": dweights, "biases": dbiases}, as the last ``backward`` (chapter 04) set them."""
        return {"weights": self.dweights, "biases": self.dbiases}
