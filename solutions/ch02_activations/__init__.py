"""Chapter 02: activation functions, forward and backward.

Exports the course so far (chapter 01's package) plus this chapter's activations.
"""

from ..ch01_neurons import *  # noqa: F403  (the course so far)
from ..ch01_neurons import __all__ as _course_so_far
from .activations import Linear, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Linear",
] if name not in _course_so_far]
