"""Chapter 03: losses and accuracy.

Exports the course so far (chapter 02's package) plus this chapter's losses.
"""

from ..ch02_activations import *  # noqa: F403  (the course so far)
from ..ch02_activations import __all__ as _course_so_far
from .losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    SoftmaxCrossEntropy,
    accuracy,
    binary_accuracy,
)

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "Loss",
    "CategoricalCrossEntropy",
    "BinaryCrossEntropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "SoftmaxCrossEntropy",
    "accuracy",
    "binary_accuracy",
] if name not in _course_so_far]
