# Generated from solutions/ch08_model/activations.py by `nox -s stubs`: fill in the TODOs below.
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
        # TODO(ch08): implement Softmax.predictions (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement Softmax.predictions")


class Sigmoid(_Sigmoid):
    """Chapter 02's ``Sigmoid``, plus ``predictions``."""

    def predictions(self, outputs):
        """outputs: (N, K) probabilities of the answer 1, one column per yes/no output.

        returns: (N, K) int array, 1 where the probability is above 0.5, else 0.
        """
        # TODO(ch08): implement Sigmoid.predictions (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement Sigmoid.predictions")


class Linear(_Linear):
    """Chapter 02's ``Linear``, plus ``predictions``."""

    def predictions(self, outputs):
        """outputs: (N, K) values. returns: (N, K), the outputs themselves (a regression
        predicts values, so there is nothing to decide)."""
        # TODO(ch08): implement Linear.predictions (the docstring gives the shapes).
        raise NotImplementedError("ch08: implement Linear.predictions")
