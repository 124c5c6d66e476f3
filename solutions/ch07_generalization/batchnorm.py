"""Batch normalization: standardise every feature over the batch, then let the network
rescale and shift it with two learned parameters, ``gamma`` and ``beta``."""

import numpy as np

from ..ch06_training import Layer


class BatchNorm(Layer):
    """Batch normalization of a (N, D) batch, feature by feature (over axis 0).

    Parameters (learned): ``gamma`` (1, D), initially ones, and ``beta`` (1, D),
    initially zeros. Statistics (not learned, updated by training forwards):
    ``running_mean`` (1, D), initially zeros, and ``running_var`` (1, D), initially
    ones.

    **The parameter interface** (chapter 01's ``Layer``, used by the optimizers of
    chapter 05): ``parameters()`` is ``{"gamma": gamma, "beta": beta}`` (the layer's own
    arrays, so an optimizer updates them in place) and ``gradients()`` is
    ``{"gamma": dgamma, "beta": dbeta}``. The running statistics are not trained; they are
    ``buffers()``, ``{"running_mean": ..., "running_var": ...}``, saved with the parameters
    (chapter 08) because predictions need them.
    """

    def __init__(self, n_features, momentum=0.9, epsilon=1e-5):
        """n_features: int D; momentum: float in [0, 1), the weight kept by the running
        statistics at each training step; epsilon: float > 0, added to the variance
        before the square root."""
        self.n_features = n_features
        self.momentum = momentum
        self.epsilon = epsilon
        self.gamma = np.ones((1, n_features))
        self.beta = np.zeros((1, n_features))
        self.running_mean = np.zeros((1, n_features))
        self.running_var = np.ones((1, n_features))

    def parameters(self):
        """{"gamma": (1, D), "beta": (1, D)}: the layer's own arrays."""
        return {"gamma": self.gamma, "beta": self.beta}

    def gradients(self):
        """{"gamma": dgamma, "beta": dbeta}, both (1, D), as the last ``backward`` set them."""
        return {"gamma": self.dgamma, "beta": self.dbeta}

    def buffers(self):
        """{"running_mean": (1, D), "running_var": (1, D)}: not trained, but saved."""
        return {"running_mean": self.running_mean, "running_var": self.running_var}

    def forward(self, inputs, training=False):
        """inputs: (N, D); training: bool.

        training=True: normalise with the batch's own statistics, ``mean =
        inputs.mean(axis=0)`` and the biased ``var = inputs.var(axis=0)`` (divided by N),
        both (1, D); then update ``running = momentum * running + (1 - momentum) *
        batch`` for the mean and for the variance.
        training=False: normalise with ``running_mean`` and ``running_var``, which are
        left unchanged.

        In both cases ``x_hat = (inputs - mean) / sqrt(var + epsilon)`` (N, D), and the
        output is ``gamma * x_hat + beta`` (N, D), stored as ``self.output`` and
        returned. Stores what ``backward`` needs (``self.x_hat``, ``self.std_inv`` =
        ``1 / sqrt(var + epsilon)`` (1, D), and ``self.training``).
        """
        ### BEGIN SOLUTION
        self.inputs = inputs
        self.training = training
        if training:
            mean = inputs.mean(axis=0, keepdims=True)  # (1, D)
            var = inputs.var(axis=0, keepdims=True)    # (1, D), biased: divides by N
            m = self.momentum
            self.running_mean = m * self.running_mean + (1.0 - m) * mean
            self.running_var = m * self.running_var + (1.0 - m) * var
        else:
            mean, var = self.running_mean, self.running_var
        self.std_inv = 1.0 / np.sqrt(var + self.epsilon)  # (1, D)
        self.x_hat = (inputs - mean) * self.std_inv       # (N, D)
        self.output = self.gamma * self.x_hat + self.beta  # (N, D)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, D), the gradient of the loss with respect to the output.

        Sets ``self.dgamma`` (1, D) = ``sum over the batch of dvalues * x_hat``,
        ``self.dbeta`` (1, D) = ``sum over the batch of dvalues``, and
        ``self.dinputs`` (N, D), and returns ``self.dinputs``.

        After a training forward the batch mean and variance depend on every input, so
        with ``g = dvalues * gamma``:
        ``dinputs = std_inv / N * (N * g - sum(g) - x_hat * sum(g * x_hat))`` (sums over
        the batch). After an inference forward the statistics are constants and
        ``dinputs = dvalues * gamma * std_inv``.
        """
        ### BEGIN SOLUTION
        self.dgamma = np.sum(dvalues * self.x_hat, axis=0, keepdims=True)
        self.dbeta = np.sum(dvalues, axis=0, keepdims=True)
        g = dvalues * self.gamma  # gradient with respect to x_hat, (N, D)
        if not self.training:
            self.dinputs = g * self.std_inv
            return self.dinputs
        n = dvalues.shape[0]
        self.dinputs = (self.std_inv / n) * (
            n * g
            - np.sum(g, axis=0, keepdims=True)
            - self.x_hat * np.sum(g * self.x_hat, axis=0, keepdims=True)
        )
        return self.dinputs
        ### END SOLUTION
