"""The long short-term memory (LSTM) cell and layer.

Gate blocks, in this order along the 4H columns of the weights and biases (PyTorch's
order): i (input gate), f (forget gate), g (candidate), o (output gate).
"""

import numpy as np

from ..ch09_mnist import Layer
from .rnn import uniform_init


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), elementwise, without overflow warnings."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


class LSTMCell(Layer):
    """One LSTM step. With ``a = inputs @ Wx + h_prev @ Wh + b`` (N, 4H) cut into four
    blocks of H columns, a_i, a_f, a_g, a_o::

        i = sigmoid(a_i)   f = sigmoid(a_f)   g = tanh(a_g)   o = sigmoid(a_o)
        c_next = f * c_prev + i * g
        h_next = o * tanh(c_next)

    Parameters: ``weights_x`` (D, 4H), ``weights_h`` (H, 4H), drawn by ``uniform_init`` in
    that order; ``biases`` (1, 4H), zeros except the forget gate's block, 1.0 (so that at
    the start of training the cell keeps its state: f = sigmoid(1) = 0.73). Gradients ``dweights_x``, ``dweights_h``,
    ``dbiases``.
    """

    def __init__(self, n_inputs, n_hidden, rng):
        self.n_inputs, self.n_hidden = n_inputs, n_hidden
        self.weights_x = uniform_init(rng, n_hidden, n_inputs, 4 * n_hidden)
        self.weights_h = uniform_init(rng, n_hidden, n_hidden, 4 * n_hidden)
        self.biases = np.zeros((1, 4 * n_hidden))
        self.biases[:, n_hidden:2 * n_hidden] = 1.0  # forget gate open: start by remembering
        self.dweights_x = np.zeros_like(self.weights_x)
        self.dweights_h = np.zeros_like(self.weights_h)
        self.dbiases = np.zeros_like(self.biases)
        self.trainable = True

    def parameters(self):
        return {"weights_x": self.weights_x, "weights_h": self.weights_h, "biases": self.biases}

    def gradients(self):
        return {"weights_x": self.dweights_x, "weights_h": self.dweights_h, "biases": self.dbiases}

    def forward(self, inputs, h_prev, c_prev):
        """inputs: (N, D); h_prev, c_prev: (N, H), the previous hidden and cell states.

        returns: the tuple (h_next, c_next), each (N, H). Stores in ``self.cache``
        everything ``backward`` needs (and ``backward`` reads nothing else).
        """
        ### BEGIN SOLUTION
        H = self.n_hidden
        a = inputs @ self.weights_x + h_prev @ self.weights_h + self.biases
        i = sigmoid(a[:, :H])
        f = sigmoid(a[:, H:2 * H])
        g = np.tanh(a[:, 2 * H:3 * H])
        o = sigmoid(a[:, 3 * H:])
        c_next = f * c_prev + i * g
        tanh_c = np.tanh(c_next)
        h_next = o * tanh_c
        self.cache = (inputs, h_prev, c_prev, i, f, g, o, tanh_c)
        return h_next, c_next
        ### END SOLUTION

    def backward(self, dvalues, dc_next):
        """dvalues: (N, H), the gradient arriving at h_next; dc_next: (N, H), the gradient
        arriving at c_next (from the next step; zeros after the last one).

        Sets, for this one step: ``self.dweights_x``, ``self.dweights_h``, ``self.dbiases``
        (summed over the batch), ``self.dh_prev``, ``self.dc_prev`` (N, H) and
        ``self.dinputs`` (N, D).

        returns: ``self.dinputs``
        """
        ### BEGIN SOLUTION
        inputs, h_prev, c_prev, i, f, g, o, tanh_c = self.cache
        dc = dc_next + dvalues * o * (1.0 - tanh_c ** 2)  # both paths into c_next
        di = dc * g
        df = dc * c_prev
        dg = dc * i
        do = dvalues * tanh_c
        da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g ** 2),
                             do * o * (1.0 - o)], axis=1)
        self.dweights_x = inputs.T @ da
        self.dweights_h = h_prev.T @ da
        self.dbiases = np.sum(da, axis=0, keepdims=True)
        self.dh_prev = da @ self.weights_h.T
        self.dc_prev = dc * f
        self.dinputs = da @ self.weights_x.T
        return self.dinputs
        ### END SOLUTION


class LSTM(Layer):
    """An LSTM layer: its ``LSTMCell`` (``self.cell``) run over (N, T, D) sequences,
    carrying both the hidden state h and the cell state c. Parameters and gradients as in
    ``RNN``: the cell's arrays, and their sums over the steps."""

    def __init__(self, n_inputs, n_hidden, rng):
        self.n_inputs, self.n_hidden = n_inputs, n_hidden
        self.cell = LSTMCell(n_inputs, n_hidden, rng)
        self.grads = {name: np.zeros_like(p) for name, p in self.cell.parameters().items()}
        self.trainable = True

    def parameters(self):
        return self.cell.parameters()

    def gradients(self):
        return self.grads

    def forward(self, inputs, h0=None, c0=None, training=False):
        """inputs: (N, T, D); h0, c0: (N, H), the states before the first step (None:
        zeros). Saves each step's ``self.cell.cache``.

        returns: (N, T, H), the hidden state h_t after every step (the cell states are
        kept inside the layer).
        """
        ### BEGIN SOLUTION
        N, T, _ = inputs.shape
        h = np.zeros((N, self.n_hidden)) if h0 is None else h0
        c = np.zeros((N, self.n_hidden)) if c0 is None else c0
        self.input_shape = inputs.shape
        self.caches = []
        self.output = np.zeros((N, T, self.n_hidden))
        for t in range(T):
            h, c = self.cell.forward(inputs[:, t], h, c)
            self.caches.append(self.cell.cache)
            self.output[:, t] = h
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, T, H), the gradient arriving at every hidden state.

        BPTT as in ``RNN.backward``, with two states carried back: the gradient at h_t is
        dvalues[:, t] plus the cell's dh_prev from step t + 1, and the gradient at c_t is
        the cell's dc_prev from step t + 1 (zeros at the last step).

        Sets ``self.dinputs`` (N, T, D), ``self.dh0`` and ``self.dc0`` (N, H), and
        ``self.grads`` (sums over the steps).

        returns: ``self.dinputs``
        """
        ### BEGIN SOLUTION
        N, T, _ = dvalues.shape
        self.grads = {name: np.zeros_like(p) for name, p in self.cell.parameters().items()}
        self.dinputs = np.zeros(self.input_shape)
        dh_next = np.zeros((N, self.n_hidden))
        dc_next = np.zeros((N, self.n_hidden))
        for t in reversed(range(T)):
            self.cell.cache = self.caches[t]
            self.dinputs[:, t] = self.cell.backward(dvalues[:, t] + dh_next, dc_next)
            dh_next, dc_next = self.cell.dh_prev, self.cell.dc_prev
            for name, g in self.cell.gradients().items():
                self.grads[name] += g
        self.dh0, self.dc0 = dh_next, dc_next
        return self.dinputs
        ### END SOLUTION
