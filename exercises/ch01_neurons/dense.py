# Generated from solutions/ch01_neurons/dense.py by `nox -s stubs`: fill in the TODOs below.
"""A fully connected (dense) layer, forward pass only (backward comes in chapter 04)."""

import numpy as np


class Dense:
    """A layer of ``n_neurons`` neurons, each connected to all ``n_inputs`` inputs.

    Attributes after ``__init__``:
        weights: (n_inputs, n_neurons) float array, ``weight_scale`` times standard
                 normal samples drawn from ``rng``
        biases:  (1, n_neurons) float array of zeros
    """

    def __init__(self, n_inputs, n_neurons, rng, weight_scale=0.01):
        """n_inputs, n_neurons: ints; rng: np.random.Generator (the only source of
        randomness; never numpy's global state); weight_scale: float."""
        # TODO(ch01): implement Dense.__init__ (the docstring gives the shapes).
        raise NotImplementedError("ch01: implement Dense.__init__")

    def forward(self, inputs):
        """inputs: (N, n_inputs) batch of N samples.

        Stores ``self.inputs`` (backward needs them) and ``self.output``, and returns
        the output, shape (N, n_neurons): ``inputs @ weights + biases``.
        """
        # TODO(ch01): implement Dense.forward (the docstring gives the shapes).
        raise NotImplementedError("ch01: implement Dense.forward")
