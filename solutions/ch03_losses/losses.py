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
        ### BEGIN SOLUTION
        sample_losses = self.forward(y_pred, y_true)
        return float(np.mean(sample_losses))
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        y_pred = np.clip(np.asarray(y_pred, dtype=np.float64), EPSILON, 1 - EPSILON)
        y_true = np.asarray(y_true)
        if y_true.ndim == 1:
            p_true = y_pred[np.arange(len(y_pred)), y_true]
        else:
            p_true = np.sum(y_pred * y_true, axis=1)
        return -np.log(p_true)
        ### END SOLUTION

    def backward(self, dvalues, y_true):
        """Gradient of the mean cross-entropy with respect to the probabilities.

        dvalues: (N, C) predicted probabilities (the ``y_pred`` of ``forward``)
        y_true:  (N,) integer class labels, or (N, C) one-hot rows
        returns: (N, C) array ``-onehot / clip(dvalues, EPSILON, 1 - EPSILON) / N``,
                 also stored as ``self.dinputs``
        """
        ### BEGIN SOLUTION
        n_samples, n_classes = np.shape(dvalues)
        y_true = np.asarray(y_true)
        if y_true.ndim == 1:
            y_true = np.eye(n_classes)[y_true]
        clipped = np.clip(np.asarray(dvalues, dtype=np.float64), EPSILON, 1 - EPSILON)
        self.dinputs = -y_true / clipped / n_samples
        return self.dinputs
        ### END SOLUTION


class BinaryCrossEntropy(Loss):
    """Cross-entropy for K independent yes/no outputs per sample (sigmoid outputs)."""

    def forward(self, y_pred, y_true):
        """Per-sample binary cross-entropy, averaged over the K outputs.

        y_pred:  (N, K) predicted probabilities of the answer 1
        y_true:  (N, K) targets, each 0 or 1
        returns: (N,) array, the mean over K of ``-(y log p + (1 - y) log(1 - p))``
                 with ``p`` clipped to [EPSILON, 1 - EPSILON]
        """
        ### BEGIN SOLUTION
        p = np.clip(np.asarray(y_pred, dtype=np.float64), EPSILON, 1 - EPSILON)
        y = np.asarray(y_true, dtype=np.float64)
        per_output = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return np.mean(per_output, axis=1)
        ### END SOLUTION

    def backward(self, dvalues, y_true):
        """Gradient of the mean binary cross-entropy with respect to the probabilities.

        dvalues: (N, K) predicted probabilities (the ``y_pred`` of ``forward``)
        y_true:  (N, K) targets, each 0 or 1
        returns: (N, K) array ``-(y / p - (1 - y) / (1 - p)) / K / N`` with ``p`` the
                 clipped ``dvalues``, also stored as ``self.dinputs``
        """
        ### BEGIN SOLUTION
        n_samples, n_outputs = np.shape(dvalues)
        p = np.clip(np.asarray(dvalues, dtype=np.float64), EPSILON, 1 - EPSILON)
        y = np.asarray(y_true, dtype=np.float64)
        self.dinputs = -(y / p - (1 - y) / (1 - p)) / n_outputs / n_samples
        return self.dinputs
        ### END SOLUTION


class MeanSquaredError(Loss):
    """Squared error for regression, averaged over the K outputs of each sample."""

    def forward(self, y_pred, y_true):
        """Per-sample mean squared error.

        y_pred:  (N, K) predicted values
        y_true:  (N, K) target values
        returns: (N,) array, the mean over K of ``(y_true - y_pred) ** 2``
        """
        ### BEGIN SOLUTION
        diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
        return np.mean(diff**2, axis=1)
        ### END SOLUTION

    def backward(self, dvalues, y_true):
        """Gradient of the mean squared error with respect to the predictions.

        dvalues: (N, K) predicted values (the ``y_pred`` of ``forward``)
        y_true:  (N, K) target values
        returns: (N, K) array ``-2 (y_true - dvalues) / K / N``, also stored as
                 ``self.dinputs``
        """
        ### BEGIN SOLUTION
        n_samples, n_outputs = np.shape(dvalues)
        diff = np.asarray(y_true, dtype=np.float64) - np.asarray(dvalues, dtype=np.float64)
        self.dinputs = -2 * diff / n_outputs / n_samples
        return self.dinputs
        ### END SOLUTION


class MeanAbsoluteError(Loss):
    """Absolute error for regression, averaged over the K outputs of each sample."""

    def forward(self, y_pred, y_true):
        """Per-sample mean absolute error.

        y_pred:  (N, K) predicted values
        y_true:  (N, K) target values
        returns: (N,) array, the mean over K of ``|y_true - y_pred|``
        """
        ### BEGIN SOLUTION
        diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
        return np.mean(np.abs(diff), axis=1)
        ### END SOLUTION

    def backward(self, dvalues, y_true):
        """Gradient of the mean absolute error with respect to the predictions.

        dvalues: (N, K) predicted values (the ``y_pred`` of ``forward``)
        y_true:  (N, K) target values
        returns: (N, K) array ``sign(dvalues - y_true) / K / N`` (0 where they are
                 equal), also stored as ``self.dinputs``
        """
        ### BEGIN SOLUTION
        n_samples, n_outputs = np.shape(dvalues)
        diff = np.asarray(dvalues, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
        self.dinputs = np.sign(diff) / n_outputs / n_samples
        return self.dinputs
        ### END SOLUTION


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
        ### BEGIN SOLUTION
        self.output = self.activation.forward(inputs)
        return self.loss.calculate(self.output, y_true)
        ### END SOLUTION

    def backward(self, dvalues, y_true):
        """Gradient of the mean loss with respect to the logits.

        dvalues: (N, C) softmax probabilities (normally ``self.output``)
        y_true:  (N,) integer class labels, or (N, C) one-hot rows
        returns: (N, C) array ``(dvalues - onehot) / N``, also stored as
                 ``self.dinputs``
        """
        ### BEGIN SOLUTION
        n_samples, n_classes = np.shape(dvalues)
        probs = np.asarray(dvalues)
        y_true = np.asarray(y_true)
        if y_true.ndim == 1:
            # One-hot rows in the probabilities' precision: float32 stays float32.
            y_true = np.eye(n_classes, dtype=probs.dtype)[y_true]
        self.dinputs = (probs - y_true) / n_samples
        return self.dinputs
        ### END SOLUTION


def accuracy(y_pred, y_true):
    """Fraction of samples whose highest-scoring class is the true class.

    y_pred:  (N, C) scores or probabilities
    y_true:  (N,) integer class labels, or (N, C) one-hot rows
    returns: float in [0, 1], ``mean(argmax(y_pred, axis=1) == labels)``
    """
    ### BEGIN SOLUTION
    predictions = np.argmax(y_pred, axis=1)
    y_true = np.asarray(y_true)
    labels = np.argmax(y_true, axis=1) if y_true.ndim == 2 else y_true
    return float(np.mean(predictions == labels))
    ### END SOLUTION


def binary_accuracy(y_pred, y_true):
    """Fraction of the N * K yes/no outputs that are right at threshold 0.5.

    y_pred:  (N, K) predicted probabilities of the answer 1
    y_true:  (N, K) targets, each 0 or 1
    returns: float in [0, 1], ``mean((y_pred > 0.5) == y_true)``
    """
    ### BEGIN SOLUTION
    predictions = np.asarray(y_pred) > 0.5
    return float(np.mean(predictions == np.asarray(y_true)))
    ### END SOLUTION
