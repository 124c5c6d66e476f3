"""The gated recurrent unit (GRU), in PyTorch's form.

Gate blocks, in this order along the 3H columns: r (reset gate), z (update gate), n (the
candidate state). The reset gate multiplies the recurrent part *after* its matrix product
and bias, ``r * (h_prev @ Wh_n + bh_n)``, and z keeps the old state:
``h_next = (1 - z) * n + z * h_prev``.
"""

import numpy as np

from ..ch09_mnist import Layer
from .lstm import sigmoid
from .rnn import RNN, uniform_init


class GRUCell(Layer):
    """One GRU step. With ``ax = inputs @ Wx + bx`` and ``ah = h_prev @ Wh + bh`` (N, 3H),
    each cut into blocks r, z, n of H columns::

        r = sigmoid(ax_r + ah_r)
        z = sigmoid(ax_z + ah_z)
        n = tanh(ax_n + r * ah_n)
        h_next = (1 - z) * n + z * h_prev

    Parameters: ``weights_x`` (D, 3H), ``weights_h`` (H, 3H), ``biases_x`` (1, 3H),
    ``biases_h`` (1, 3H), all four drawn by ``uniform_init`` in that order (two biases: the
    reset gate multiplies ``bh_n`` but not ``bx_n``). Gradients ``dweights_x``,
    ``dweights_h``, ``dbiases_x``, ``dbiases_h``.
    """

    def __init__(self, n_inputs, n_hidden, rng):
        self.n_inputs, self.n_hidden = n_inputs, n_hidden
        self.weights_x = uniform_init(rng, n_hidden, n_inputs, 3 * n_hidden)
        self.weights_h = uniform_init(rng, n_hidden, n_hidden, 3 * n_hidden)
        self.biases_x = uniform_init(rng, n_hidden, 1, 3 * n_hidden)
        self.biases_h = uniform_init(rng, n_hidden, 1, 3 * n_hidden)
        self.dweights_x = np.zeros_like(self.weights_x)
        self.dweights_h = np.zeros_like(self.weights_h)
        self.dbiases_x = np.zeros_like(self.biases_x)
        self.dbiases_h = np.zeros_like(self.biases_h)
        self.trainable = True

    def parameters(self):
        return {"weights_x": self.weights_x, "weights_h": self.weights_h, "biases_x": self.biases_x,
                "biases_h": self.biases_h}

    def gradients(self):
        return {"weights_x": self.dweights_x, "weights_h": self.dweights_h, "biases_x": self.dbiases_x,
                "biases_h": self.dbiases_h}

    def forward(self, inputs, h_prev):
        """inputs: (N, D); h_prev: (N, H).

        returns: h_next (N, H). Stores in ``self.cache`` everything ``backward`` needs.
        """
        ### BEGIN SOLUTION
        H = self.n_hidden
        ax = inputs @ self.weights_x + self.biases_x
        ah = h_prev @ self.weights_h + self.biases_h
        r = sigmoid(ax[:, :H] + ah[:, :H])
        z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
        ah_n = ah[:, 2 * H:]
        n = np.tanh(ax[:, 2 * H:] + r * ah_n)
        h_next = (1.0 - z) * n + z * h_prev
        self.cache = (inputs, h_prev, r, z, n, ah_n)
        return h_next
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, H), the gradient arriving at h_next.

        Sets, for this one step: ``self.dweights_x``, ``self.dweights_h``,
        ``self.dbiases_x``, ``self.dbiases_h`` (summed over the batch), ``self.dh_prev``
        (N, H) (both paths: through z * h_prev and through the matrix products) and
        ``self.dinputs`` (N, D).

        returns: ``self.dinputs``
        """
        ### BEGIN SOLUTION
        inputs, h_prev, r, z, n, ah_n = self.cache
        dn = dvalues * (1.0 - z)
        dz = dvalues * (h_prev - n)
        da_n = dn * (1.0 - n ** 2)       # at ax_n + r * ah_n
        dr = da_n * ah_n
        da_r = dr * r * (1.0 - r)
        da_z = dz * z * (1.0 - z)
        dax = np.concatenate([da_r, da_z, da_n], axis=1)
        dah = np.concatenate([da_r, da_z, da_n * r], axis=1)
        self.dweights_x = inputs.T @ dax
        self.dweights_h = h_prev.T @ dah
        self.dbiases_x = np.sum(dax, axis=0, keepdims=True)
        self.dbiases_h = np.sum(dah, axis=0, keepdims=True)
        self.dh_prev = dvalues * z + dah @ self.weights_h.T
        self.dinputs = dax @ self.weights_x.T
        return self.dinputs
        ### END SOLUTION


class GRU(RNN):
    """A GRU layer: ``RNN``'s forward and backward (one state, h) with a ``GRUCell``."""

    cell_class = GRUCell
