"""Chapter 06: training loops, data sets, validation and testing.

Exports the course so far (chapter 05's package) plus this chapter's data sets and
training loop.
"""

from ..ch05_optimizers import *  # noqa: F403  (the course so far)
from ..ch05_optimizers import __all__ as _course_so_far
from .datasets import sine_data, spiral_data, vertical_data, xor_data
from .loop import (
    build_network,
    evaluate,
    fit_standardizer,
    is_trainable,
    loss_gradient,
    loss_value,
    metric,
    metric_name,
    minibatch_indices,
    predict,
    standardize,
    train,
    train_step,
    train_validation_split,
)

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "build_network",
    "evaluate",
    "fit_standardizer",
    "is_trainable",
    "loss_gradient",
    "loss_value",
    "metric",
    "metric_name",
    "minibatch_indices",
    "predict",
    "sine_data",
    "spiral_data",
    "standardize",
    "train",
    "train_step",
    "train_validation_split",
    "vertical_data",
    "xor_data",
] if name not in _course_so_far]
