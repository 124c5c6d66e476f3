"""Accuracy objects: how many predictions are right, for each kind of task.

A model calls ``accuracy.init(y)`` once with the training targets before training, then
``accuracy.calculate(predictions, y)`` on every batch. The subclasses differ only in
``compare``, which decides, sample by sample, whether a prediction counts as right.
"""

import numpy as np


class Accuracy:
    """Base class: ``calculate`` averages what a subclass's ``compare`` returns."""

    def init(self, y, reinit=False):
        """Prepare for targets like ``y`` (the training targets). Nothing to do here;
        ``AccuracyRegression`` overrides it to choose its precision."""

    def compare(self, predictions, y):
        """A boolean array, True where a prediction is right. Defined by each subclass."""
        raise NotImplementedError("each accuracy defines its own compare")

    def calculate(self, predictions, y):
        """predictions, y: the predictions of N samples and their targets (shapes as the
        subclass expects).

        returns: float in [0, 1], the mean of ``self.compare(predictions, y)`` over all
                 its entries.
        """
        ### BEGIN SOLUTION
        return float(np.mean(self.compare(predictions, y)))
        ### END SOLUTION


class AccuracyCategorical(Accuracy):
    """Multi-class classification: a prediction is a class index."""

    def compare(self, predictions, y):
        """predictions: (N,) int class indices (``Softmax.predictions``);
        y: (N,) int labels, or (N, C) one-hot rows (turn those into labels first).

        returns: (N,) bool array, ``predictions == labels``.
        """
        ### BEGIN SOLUTION
        y = np.asarray(y)
        if y.ndim == 2:
            y = np.argmax(y, axis=1)
        return np.asarray(predictions) == y
        ### END SOLUTION


class AccuracyBinary(Accuracy):
    """Binary (yes/no) outputs: each of the K outputs of a sample is judged separately."""

    def compare(self, predictions, y):
        """predictions: (N, K) 0/1 (``Sigmoid.predictions``); y: (N, K) 0/1 targets.

        returns: (N, K) bool array, ``predictions == y``.
        """
        ### BEGIN SOLUTION
        return np.asarray(predictions) == np.asarray(y)
        ### END SOLUTION


class AccuracyRegression(Accuracy):
    """Regression: a predicted value is "right" when it is within ``precision`` of its
    target. There is no natural accuracy for a regression; this one is a rough but
    readable number to watch during training.

    Attributes:
        precision: float, or None until ``init`` chooses it
    """

    def __init__(self, precision=None):
        """precision: float > 0, the largest distance that still counts as right; None
        lets ``init`` derive it from the targets."""
        self.precision = precision

    def init(self, y, reinit=False):
        """y: (N, K) targets. When ``precision`` is None (or ``reinit`` is True), set it to
        ``np.std(y) / 250`` (the standard deviation of all entries of y, as a float);
        a precision that is already set is kept."""
        ### BEGIN SOLUTION
        if self.precision is None or reinit:
            self.precision = float(np.std(y) / 250)
        ### END SOLUTION

    def compare(self, predictions, y):
        """predictions, y: (N, K) values. returns: (N, K) bool array,
        ``|predictions - y| < precision``."""
        ### BEGIN SOLUTION
        return np.abs(np.asarray(predictions) - np.asarray(y)) < self.precision
        ### END SOLUTION
