"""The activations of chapter 02, with a ``forward`` that accepts ``training``.

From this chapter on, a network calls every layer the same way,
``layer.forward(inputs, training=...)``, because dropout and batch normalization
behave differently while training and at inference. An activation computes the same
thing in both cases, so these classes only accept the keyword and pass the inputs on
to chapter 02's ``forward``. Their ``backward`` is chapter 02's, unchanged.
"""

from ..ch06_training import LeakyReLU as _LeakyReLU
from ..ch06_training import Linear as _Linear
from ..ch06_training import ReLU as _ReLU
from ..ch06_training import Sigmoid as _Sigmoid
from ..ch06_training import Softmax as _Softmax
from ..ch06_training import Tanh as _Tanh


class _AcceptsTraining:
    """Mixin: ``forward(inputs, training=False)`` calls the parent's ``forward(inputs)``."""

    def forward(self, inputs, training=False):
        """inputs: (N, D); training: bool, unused. Returns the parent's output, (N, D)."""
        return super().forward(inputs)


class ReLU(_AcceptsTraining, _ReLU):
    """Chapter 02's ``ReLU``; ``forward(inputs, training=False)``."""


class LeakyReLU(_AcceptsTraining, _LeakyReLU):
    """Chapter 02's ``LeakyReLU(alpha=0.01)``; ``forward(inputs, training=False)``."""


class Sigmoid(_AcceptsTraining, _Sigmoid):
    """Chapter 02's ``Sigmoid``; ``forward(inputs, training=False)``."""


class Tanh(_AcceptsTraining, _Tanh):
    """Chapter 02's ``Tanh``; ``forward(inputs, training=False)``."""


class Softmax(_AcceptsTraining, _Softmax):
    """Chapter 02's ``Softmax``; ``forward(inputs, training=False)``."""


class Linear(_AcceptsTraining, _Linear):
    """Chapter 02's ``Linear``; ``forward(inputs, training=False)``."""
