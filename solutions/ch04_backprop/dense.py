"""The dense layer of chapter 01, now with its backward pass."""

import numpy as np

from ..ch01_neurons import Dense as _DenseForward


class Dense(_DenseForward):
    """A fully connected layer: chapter 01's ``Dense`` (same ``__init__`` and
    ``forward``) plus ``backward``.

    Attributes set by ``backward``:
        dweights: (n_inputs, n_neurons), gradient of the loss with respect to ``weights``
        dbiases:  (1, n_neurons), gradient of the loss with respect to ``biases``
        dinputs:  (N, n_inputs), gradient of the loss with respect to the layer's inputs;
                  None when ``input_gradient`` is False
    """

    def backward(self, dvalues):
        """dvalues: (N, n_neurons), the gradient of the loss with respect to this
        layer's output (what the next layer's backward returned).

        Uses ``self.inputs`` (N, n_inputs) stored by ``forward``. Sets
        ``self.dweights`` (n_inputs, n_neurons), ``self.dbiases`` (1, n_neurons) and
        ``self.dinputs`` (N, n_inputs), and returns ``self.dinputs``.

        When ``self.input_gradient`` is False (chapter 01's ``Layer``: nothing reads this
        layer's ``dinputs``, as in the first layer of a network), it sets ``dweights`` and
        ``dbiases`` as above but not the product for ``dinputs``: ``self.dinputs = None``,
        and it returns None.
        """
        ### BEGIN SOLUTION
        # Each weight W[i, j] multiplies input i on its way to neuron j, in every
        # sample: its gradient adds up inputs[n, i] * dvalues[n, j] over the batch.
        self.dweights = self.inputs.T @ dvalues  # (n_inputs, N) @ (N, n_neurons)
        # The bias of neuron j is added to every sample's output j: sum over the batch.
        self.dbiases = dvalues.sum(axis=0, keepdims=True)  # (1, n_neurons)
        if not self.input_gradient:
            # Only a layer below would read dinputs, and there is none: skip that product.
            self.dinputs = None
            return None
        # Input i feeds every neuron j through W[i, j]: sum over the neurons.
        self.dinputs = dvalues @ self.weights.T  # (N, n_neurons) @ (n_neurons, n_inputs)
        return self.dinputs
        ### END SOLUTION
