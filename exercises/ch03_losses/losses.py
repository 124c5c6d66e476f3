# Generated from solutions/ch03_losses/losses.py by `nox -s stubs`: fill in the TODOs below.
"""Loss functions, their gradients, and accuracy.

A loss turns a batch of predictions and the matching targets into one number that
training tries to make small. Every loss here follows the same contract:

- ``forward(y_pred, y_true)`` returns the per-sample losses, shape (N,);
- ``calculate(y_pred, y_true)`` returns their mean over the batch, a float;
- ``backward(dvalues, y_true)`` sets and returns ``self.dinputs``, the gradient of
  the *mean* loss with respect to the predictions (so it is already divided by N).

Predictions that enter a logarithm are clipped to ``[EPSILON, 1 - EPSILON]`` first,
so that a probability of exactly 0 or 1 gives a large but finite loss and gradient.
"""

import numpy as np

from ..ch02_activations import Softmax

EPSILON = 1e-7


class Loss:
    """Base class: a subclass defines ``forward``; ``calculate`` averages it."""

    def forward(self, y_pred, y_true):
        """Per-sample losses, shape (N,). Defined by each subclass."""
        raise NotImplementedError

    def calculate(self, y_pred, y_true):
        """Mean loss over the batch.

        y_pred:  predictions, first axis of length N (shape as the subclass expects)
        y_true:  targets for the same N samples (shape as the subclass expects)
        returns: float, the mean of ``self.forward(y_pred, y_true)`` (shape (N,))
        """
        # TODO(ch03): implement Loss.calculate (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement Loss.calculate")


class CategoricalCrossEntropy(Loss):
    """Cross-entropy for N samples and C mutually exclusive classes.

    The loss of one sample is ``-log p``, where ``p`` is the predicted probability
    of its true class.
    """

    def forward(self, y_pred, y_true):
        """Per-sample cross-entropy.

        y_pred:  (N, C) predicted probabilities (each row sums to 1)
        y_true:  (N,) integer class labels in [0, C), or (N, C) one-hot rows
        returns: (N,) array, ``-log(clip(p_true, EPSILON, 1 - EPSILON))``
        """
        # TODO(ch03): implement CategoricalCrossEntropy.forward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement CategoricalCrossEntropy.forward")

    def backward(self, dvalues, y_true):
        """Gradient of the mean cross-entropy with respect to the probabilities.

        dvalues: (N, C) predicted probabilities (the ``y_pred`` of ``forward``)
        y_true:  (N,) integer class labels, or (N, C) one-hot rows
        returns: (N, C) array ``-onehot / clip(dvalues, EPSILON, 1 - EPSILON) / N``,
                 also stored as ``self.dinputs``
        """
        # TODO(ch03): implement CategoricalCrossEntropy.backward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement CategoricalCrossEntropy.backward")


class BinaryCrossEntropy(Loss):
    """Cross-entropy for K independent yes/no outputs per sample (sigmoid outputs)."""

    def forward(self, y_pred, y_true):
        """Per-sample binary cross-entropy, averaged over the K outputs.

        y_pred:  (N, K) predicted probabilities of the answer 1
        y_true:  (N, K) targets, each 0 or 1
        returns: (N,) array, the mean over K of ``-(y log p + (1 - y) log(1 - p))``
                 with ``p`` clipped to [EPSILON, 1 - EPSILON]
        """
        # TODO(ch03): implement BinaryCrossEntropy.forward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement BinaryCrossEntropy.forward")

    def backward(self, dvalues, y_true):
        """Gradient of the mean binary cross-entropy with respect to the probabilities.

        dvalues: (N, K) predicted probabilities (the ``y_pred`` of ``forward``)
        y_true:  (N, K) targets, each 0 or 1
        returns: (N, K) array ``-(y / p - (1 - y) / (1 - p)) / K / N`` with ``p`` the
                 clipped ``dvalues``, also stored as ``self.dinputs``
        """
        # TODO(ch03): implement BinaryCrossEntropy.backward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement BinaryCrossEntropy.backward")


class MeanSquaredError(Loss):
    """Squared error for regression, averaged over the K outputs of each sample."""

    def forward(self, y_pred, y_true):
        """Per-sample mean squared error.

        y_pred:  (N, K) predicted values
        y_true:  (N, K) target values
        returns: (N,) array, the mean over K of ``(y_true - y_pred) ** 2``
        """
        # TODO(ch03): implement MeanSquaredError.forward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement MeanSquaredError.forward")

    def backward(self, dvalues, y_true):
        """Gradient of the mean squared error with respect to the predictions.

        dvalues: (N, K) predicted values (the ``y_pred`` of ``forward``)
        y_true:  (N, K) target values
        returns: (N, K) array ``-2 (y_true - dvalues) / K / N``, also stored as
                 ``self.dinputs``
        """
        # TODO(ch03): implement MeanSquaredError.backward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement MeanSquaredError.backward")


class MeanAbsoluteError(Loss):
    """Absolute error for regression, averaged over the K outputs of each sample."""

    def forward(self, y_pred, y_true):
        """Per-sample mean absolute error.

        y_pred:  (N, K) predicted values
        y_true:  (N, K) target values
        returns: (N,) array, the mean over K of ``|y_true - y_pred|``
        """
        # TODO(ch03): implement MeanAbsoluteError.forward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement MeanAbsoluteError.forward")

    def backward(self, dvalues, y_true):
        """Gradient of the mean absolute error with respect to the predictions.

        dvalues: (N, K) predicted values (the ``y_pred`` of ``forward``)
        y_true:  (N, K) target values
        returns: (N, K) array ``sign(dvalues - y_true) / K / N`` (0 where they are
                 equal), also stored as ``self.dinputs``
        """
        # TODO(ch03): implement MeanAbsoluteError.backward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement MeanAbsoluteError.backward")


class SoftmaxCrossEntropy:
    """Softmax activation and categorical cross-entropy as one step.

    ``forward`` takes logits (scores before the softmax) and returns the mean loss;
    ``backward`` uses the short combined gradient ``(p - onehot) / N`` instead of
    chaining the two separate backward passes.

    Attributes:
        activation: a ``Softmax`` (chapter 02)
        loss:       a ``CategoricalCrossEntropy``
        output:     (N, C) softmax probabilities, set by ``forward``
    """

    def __init__(self):
        self.activation = Softmax()
        self.loss = CategoricalCrossEntropy()

    def forward(self, inputs, y_true):
        """Softmax of the logits, then the mean cross-entropy.

        inputs:  (N, C) logits
        y_true:  (N,) integer class labels, or (N, C) one-hot rows
        returns: float, the mean cross-entropy of the softmax probabilities;
                 the probabilities, (N, C), are stored as ``self.output``
        """
        # TODO(ch03): implement SoftmaxCrossEntropy.forward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement SoftmaxCrossEntropy.forward")

    def backward(self, dvalues, y_true):
        """Gradient of the mean loss with respect to the logits.

        dvalues: (N, C) softmax probabilities (normally ``self.output``)
        y_true:  (N,) integer class labels, or (N, C) one-hot rows
        returns: (N, C) array ``(dvalues - onehot) / N``, also stored as
                 ``self.dinputs``
        """
        # TODO(ch03): implement SoftmaxCrossEntropy.backward (the docstring gives the shapes).
        raise NotImplementedError("ch03: implement SoftmaxCrossEntropy.backward")


def accuracy(y_pred, y_true):
    """Fraction of samples whose highest-scoring class is the true class.

    y_pred:  (N, C) scores or probabilities
    y_true:  (N,) integer class labels, or (N, C) one-hot rows
    returns: float in [0, 1], ``mean(argmax(y_pred, axis=1) == labels)``
    """
    # TODO(ch03): implement accuracy (the docstring gives the shapes).
    raise NotImplementedError("ch03: implement accuracy")


def binary_accuracy(y_pred, y_true):
    """Fraction of the N * K yes/no outputs that are right at threshold 0.5.

    y_pred:  (N, K) predicted probabilities of the answer 1
    y_true:  (N, K) targets, each 0 or 1
    returns: float in [0, 1], ``mean((y_pred > 0.5) == y_true)``
    """
    # TODO(ch03): implement binary_accuracy (the docstring gives the shapes).
    raise NotImplementedError("ch03: implement binary_accuracy")
