# Generated from solutions/ch08_model/accuracy.py by `nox -s stubs`: fill in the TODOs below.
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
        # TODO(ch08): implement Accuracy.calculate (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement Accuracy.calculate")


class AccuracyCategorical(Accuracy):
    """Multi-class classification: a prediction is a class index."""

    def compare(self, predictions, y):
        """predictions: (N,) int class indices (``Softmax.predictions``);
        y: (N,) int labels, or (N, C) one-hot rows (turn those into labels first).

        returns: (N,) bool array, ``predictions == labels``.
        """
        # TODO(ch08): implement AccuracyCategorical.compare (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement AccuracyCategorical.compare")


class AccuracyBinary(Accuracy):
    """Binary (yes/no) outputs: each of the K outputs of a sample is judged separately."""

    def compare(self, predictions, y):
        """predictions: (N, K) 0/1 (``Sigmoid.predictions``); y: (N, K) 0/1 targets.

        returns: (N, K) bool array, ``predictions == y``.
        """
        # TODO(ch08): implement AccuracyBinary.compare (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement AccuracyBinary.compare")


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
        # TODO(ch08): implement AccuracyRegression.init (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement AccuracyRegression.init")

    def compare(self, predictions, y):
        """predictions, y: (N, K) values. returns: (N, K) bool array,
        ``|predictions - y| < precision``."""
        # TODO(ch08): implement AccuracyRegression.compare (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement AccuracyRegression.compare")
