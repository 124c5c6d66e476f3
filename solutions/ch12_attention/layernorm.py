"""Layer normalization: every position's feature vector rescaled to mean 0 and variance 1,
then scaled and shifted by learned ``gamma`` and ``beta``."""

import numpy as np

from ..ch11_recurrent import Layer


class LayerNorm(Layer):
    """Normalization over the **last axis** (the features of one position), the same in
    training and at inference (no running statistics).

    For every row x (the last axis, D features):
        mean = x.mean(),  var = ((x - mean) ** 2).mean()      (divided by D: biased)
        xhat = (x - mean) / sqrt(var + epsilon)
        out  = gamma * xhat + beta

    Parameters ``gamma`` (1, D) ones and ``beta`` (1, D) zeros; gradients ``dgamma`` and
    ``dbeta``, summed over every row. ``epsilon`` = 1e-5 by default.
    """

    def __init__(self, n_features, epsilon=1e-5):
        self.n_features, self.epsilon = int(n_features), float(epsilon)
        self.gamma = np.ones((1, n_features))
        self.beta = np.zeros((1, n_features))
        self.dgamma = np.zeros_like(self.gamma)
        self.dbeta = np.zeros_like(self.beta)
        self.trainable = True

    def parameters(self):
        return {"gamma": self.gamma, "beta": self.beta}

    def gradients(self):
        return {"gamma": self.dgamma, "beta": self.dbeta}

    def forward(self, inputs, training=False):
        """inputs: (..., D), any number of leading axes (usually (N, T, D)).
        returns: the same shape. Stores what backward needs."""
        ### BEGIN SOLUTION
        self.inputs = inputs
        mean = inputs.mean(axis=-1, keepdims=True)
        centered = inputs - mean
        var = (centered ** 2).mean(axis=-1, keepdims=True)
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)
        self.xhat = centered * self.inv_std
        self.output = self.gamma * self.xhat + self.beta
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: the shape of the output.

        dgamma = sum over rows of dvalues * xhat;  dbeta = sum over rows of dvalues;
        with g = dvalues * gamma, per row:
        dinputs = inv_std * (g - mean(g) - xhat * mean(g * xhat))
        Sets and returns ``self.dinputs``."""
        ### BEGIN SOLUTION
        D = self.n_features
        flat_d = dvalues.reshape(-1, D)
        self.dgamma = np.sum(flat_d * self.xhat.reshape(-1, D), axis=0, keepdims=True)
        self.dbeta = np.sum(flat_d, axis=0, keepdims=True)
        g = dvalues * self.gamma
        self.dinputs = self.inv_std * (g - g.mean(axis=-1, keepdims=True)
                                       - self.xhat * (g * self.xhat).mean(axis=-1, keepdims=True))
        return self.dinputs
        ### END SOLUTION
