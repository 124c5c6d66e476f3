"""Output activations that know how to turn the network's outputs into predictions.

A ``Model`` measures accuracy on *predictions*, not on raw outputs: the class with the
highest probability, a yes/no answer, or a value. Which one depends only on the last
layer, so each output activation gets a ``predictions(outputs)`` method. Everything
else (``forward(inputs, training=False)``, ``backward`` and the rest of the layer
contract) is chapter 02's, unchanged: these classes only add the one method.
"""

import numpy as np

from ..ch07_generalization import Linear as _Linear
from ..ch07_generalization import Sigmoid as _Sigmoid
from ..ch07_generalization import Softmax as _Softmax


class Softmax(_Softmax):
    """Chapter 02's ``Softmax``, plus ``predictions``."""

    def predictions(self, outputs):
        """outputs: (N, C) class probabilities (what ``forward`` returned).

        returns: (N,) int array, the index of the most probable class of each sample.
        """
        ### BEGIN SOLUTION
        return np.argmax(outputs, axis=1)
        ### END SOLUTION


class Sigmoid(_Sigmoid):
    """Chapter 02's ``Sigmoid``, plus ``predictions``."""

    def predictions(self, outputs):
        """outputs: (N, K) probabilities of the answer 1, one column per yes/no output.

        returns: (N, K) int array, 1 where the probability is above 0.5, else 0.
        """
        ### BEGIN SOLUTION
        return (outputs > 0.5).astype(np.int64)
        ### END SOLUTION


class Linear(_Linear):
    """Chapter 02's ``Linear``, plus ``predictions``."""

    def predictions(self, outputs):
        """outputs: (N, K) values. returns: (N, K), the outputs themselves (a regression
        predicts values, so there is nothing to decide)."""
        ### BEGIN SOLUTION
        return outputs
        ### END SOLUTION
