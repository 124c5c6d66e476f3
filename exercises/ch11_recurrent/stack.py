# Generated from solutions/ch11_recurrent/stack.py by `nox -s stubs`: fill in the TODOs below.
"""Stacked recurrent layers, and two small layers that connect a recurrent layer's
(N, T, H) output to the rest of a network."""

import numpy as np

from ..ch09_mnist import Layer


class Stack(Layer):
    """Recurrent layers one on top of the other: layer k + 1 reads layer k's hidden
    sequence as its input sequence (so its n_inputs is layer k's n_hidden). Every layer
    starts from zero states.

    Parameters: every layer's, named ``"{k}.{name}"`` with k the layer's index (for
    example ``"0.weights_x"``, ``"1.biases"``); gradients under the same names.
    """

    def __init__(self, layers):
        self.layers = list(layers)
        self.trainable = True

    def parameters(self):
        return {f"{k}.{name}": p for k, layer in enumerate(self.layers) for name, p in layer.parameters().items()}

    def gradients(self):
        return {f"{k}.{name}": g for k, layer in enumerate(self.layers) for name, g in layer.gradients().items()}

    def forward(self, inputs, training=False):
        """inputs: (N, T, D). returns: (N, T, H_last), the last layer's hidden states."""
        # TODO(ch11): implement Stack.forward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement Stack.forward")

    def backward(self, dvalues):
        """dvalues: (N, T, H_last). Runs the layers' ``backward`` from the last to the
        first, each on the ``dinputs`` of the one above it.

        Sets and returns ``self.dinputs`` (N, T, D)."""
        # TODO(ch11): implement Stack.backward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement Stack.backward")


class LastStep(Layer):
    """(N, T, H) -> (N, H): the hidden state after the last step (for a task that needs
    one answer per sequence). No parameters."""

    def forward(self, inputs, training=False):
        self.input_shape = inputs.shape
        return inputs[:, -1]

    def backward(self, dvalues):
        self.dinputs = np.zeros(self.input_shape)
        self.dinputs[:, -1] = dvalues
        return self.dinputs


class TimeDense(Layer):
    """The same dense layer at every step: (N, T, H) @ W (H, K) + b (1, K) -> (N, T, K).

    Parameters ``weights`` (``weight_scale * rng.standard_normal``, by default
    ``weight_scale = 1 / sqrt(H)``) and ``biases`` (zeros); their gradients are summed over
    the batch and the steps.
    """

    def __init__(self, n_inputs, n_outputs, rng, weight_scale=None):
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        scale = 1.0 / np.sqrt(n_inputs) if weight_scale is None else weight_scale
        self.weights = scale * rng.standard_normal((n_inputs, n_outputs))
        self.biases = np.zeros((1, n_outputs))
        self.dweights = np.zeros_like(self.weights)
        self.dbiases = np.zeros_like(self.biases)
        self.trainable = True

    def parameters(self):
        return {"weights": self.weights, "biases": self.biases}

    def gradients(self):
        return {"weights": self.dweights, "biases": self.dbiases}

    def forward(self, inputs, training=False):
        self.inputs = inputs
        return inputs @ self.weights + self.biases

    def backward(self, dvalues):
        flat_in = self.inputs.reshape(-1, self.inputs.shape[-1])
        flat_d = dvalues.reshape(-1, dvalues.shape[-1])
        self.dweights = flat_in.T @ flat_d
        self.dbiases = np.sum(flat_d, axis=0, keepdims=True)
        self.dinputs = dvalues @ self.weights.T
        return self.dinputs


class MergeSteps(Layer):
    """(N, T, K) -> (N * T, K): every step of every sequence as one row (row n * T + t is
    step t of sequence n), so that a loss for (rows, classes) scores every step. No
    parameters."""

    def parameters(self):
        return {}

    def gradients(self):
        return {}

    def forward(self, inputs, training=False):
        self.input_shape = inputs.shape
        return inputs.reshape(-1, inputs.shape[-1])

    def backward(self, dvalues):
        # Each row goes back to its (sequence, step) place.
        self.dinputs = np.reshape(dvalues, self.input_shape)
        return self.dinputs
