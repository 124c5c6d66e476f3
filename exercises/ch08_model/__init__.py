"""Chapter 08: the model object (train, evaluate, predict, save and load).

Exports the course so far (chapter 07's package), with this chapter's ``Softmax``,
``Sigmoid`` and ``Linear`` (chapter 02's plus ``predictions``) in place of the old ones,
and this chapter's ``Model``, accuracy objects, file format and plotting.
"""

from ..ch07_generalization import *  # noqa: F403  (the course so far)
from ..ch07_generalization import __all__ as _course_so_far
from .accuracy import Accuracy, AccuracyBinary, AccuracyCategorical, AccuracyRegression
from .activations import Linear, Sigmoid, Softmax
from .model import HISTORY_KEYS, Model, batch_slices, progress_bar
from .plots import plot_history
from .saving import (
    ARCHITECTURE_KEY,
    FORMAT,
    VERSION,
    build_object,
    decode_architecture,
    encode_architecture,
    parameter_key,
    parameter_names,
    read_arrays,
    register_layer,
)

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "ARCHITECTURE_KEY",
    "Accuracy",
    "AccuracyBinary",
    "AccuracyCategorical",
    "AccuracyRegression",
    "FORMAT",
    "HISTORY_KEYS",
    "Linear",
    "Model",
    "Sigmoid",
    "Softmax",
    "VERSION",
    "batch_slices",
    "build_object",
    "decode_architecture",
    "encode_architecture",
    "parameter_key",
    "parameter_names",
    "plot_history",
    "progress_bar",
    "read_arrays",
    "register_layer",
] if name not in _course_so_far]
