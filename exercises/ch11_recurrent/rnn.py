# Generated from solutions/ch11_recurrent/rnn.py by `nox -s stubs`: fill in the TODOs below.
"""The vanilla recurrent network: one cell, and the layer that runs it over a sequence
with backpropagation through time (BPTT).

Shapes: N sequences, T steps, D input features, H hidden units.
"""

import numpy as np

from ..ch09_mnist import Layer


def uniform_init(rng, n_hidden, *shape):
    """Weights drawn uniformly from [-1/sqrt(H), 1/sqrt(H)] (PyTorch's default for its
    recurrent layers), with ``shape`` the array's shape and H = ``n_hidden``."""
    bound = 1.0 / np.sqrt(n_hidden)
    return rng.uniform(-bound, bound, size=shape)


class RNNCell(Layer):
    """One step of a vanilla RNN: ``h_next = tanh(inputs @ Wx + h_prev @ Wh + b)``.

    Parameters: ``weights_x`` (D, H), ``weights_h`` (H, H), drawn by ``uniform_init`` in
    that order; ``biases`` (1, H), zeros. ``parameters()`` maps these names to the arrays,
    ``gradients()`` the same names to ``dweights_x``, ``dweights_h``, ``dbiases``.
    """

    def __init__(self, n_inputs, n_hidden, rng):
        self.n_inputs, self.n_hidden = n_inputs, n_hidden
        self.weights_x = uniform_init(rng, n_hidden, n_inputs, n_hidden)
        self.weights_h = uniform_init(rng, n_hidden, n_hidden, n_hidden)
        self.biases = np.zeros((1, n_hidden))
        self.dweights_x = np.zeros_like(self.weights_x)
        self.dweights_h = np.zeros_like(self.weights_h)
        self.dbiases = np.zeros_like(self.biases)
        self.trainable = True

    def parameters(self):
        return {"weights_x": self.weights_x, "weights_h": self.weights_h, "biases": self.biases}

    def gradients(self):
        return {"weights_x": self.dweights_x, "weights_h": self.dweights_h, "biases": self.dbiases}

    def forward(self, inputs, h_prev):
        """inputs: (N, D), one step of the sequences; h_prev: (N, H), the previous state.

        returns: h_next (N, H). Stores in ``self.cache`` everything ``backward`` needs
        (``backward`` must read nothing else: the sequence layer saves the cache of each
        step and puts it back before calling ``backward`` for that step).
        """
        # TODO(ch11): implement RNNCell.forward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement RNNCell.forward")

    def backward(self, dvalues):
        """dvalues: (N, H), the gradient arriving at h_next.

        Sets, for this one step: ``self.dweights_x`` (D, H), ``self.dweights_h`` (H, H),
        ``self.dbiases`` (1, H) (summed over the batch), ``self.dh_prev`` (N, H) and
        ``self.dinputs`` (N, D).

        returns: ``self.dinputs``
        """
        # TODO(ch11): implement RNNCell.backward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement RNNCell.backward")


class RNN(Layer):
    """A recurrent layer: its cell run over every step of (N, T, D) sequences.

    ``self.cell`` is a ``cell_class(n_inputs, n_hidden, rng)`` (an ``RNNCell`` here; the
    ``GRU`` layer reuses this class with a ``GRUCell``). The layer's parameters are its
    cell's, the same arrays under the same names; its gradients are their sums over the
    steps, set by ``backward``.
    """

    cell_class = RNNCell

    def __init__(self, n_inputs, n_hidden, rng):
        self.n_inputs, self.n_hidden = n_inputs, n_hidden
        self.cell = self.cell_class(n_inputs, n_hidden, rng)
        self.grads = {name: np.zeros_like(p) for name, p in self.cell.parameters().items()}
        self.trainable = True

    def parameters(self):
        return self.cell.parameters()

    def gradients(self):
        return self.grads

    def forward(self, inputs, h0=None, training=False):
        """inputs: (N, T, D); h0: (N, H), the state before the first step (None: zeros).

        Runs the cell at t = 0, 1, ..., T - 1, each step from the state the step before it
        returned, and saves each step's ``self.cell.cache`` (in a list, in step order).

        returns: (N, T, H), the hidden state after every step (out[:, t] is h_t).
        """
        # TODO(ch11): implement RNN.forward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement RNN.forward")

    def backward(self, dvalues):
        """dvalues: (N, T, H), the gradient arriving at every hidden state (from the layer
        above: the loss may use every step, or only the last one and zeros elsewhere).

        Backpropagation through time, from t = T - 1 down to 0: the gradient at h_t is
        dvalues[:, t] plus the gradient that step t + 1 sent back to its h_prev. Put step
        t's cache back into the cell, run ``self.cell.backward`` on that sum, and add the
        cell's ``gradients()`` of that step into this layer's.

        Sets ``self.dinputs`` (N, T, D), ``self.dh0`` (N, H) (the gradient that reaches
        h0), and ``self.grads``: name -> the sum over the T steps (what ``gradients()``
        returns).

        returns: ``self.dinputs``
        """
        # TODO(ch11): implement RNN.backward (the docstring gives the shapes).
        raise NotImplementedError("ch11: implement RNN.backward")
