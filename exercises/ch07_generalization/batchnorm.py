# Generated from solutions/ch07_generalization/batchnorm.py by `nox -s stubs`: fill in the TODOs below.
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
        # TODO(ch07): implement BatchNorm.forward (the docstring gives the shapes).
        raise NotImplementedError("ch07: implement BatchNorm.forward")

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
        # TODO(ch07): implement BatchNorm.backward (the docstring gives the shapes).
        raise NotImplementedError("ch07: implement BatchNorm.backward")
