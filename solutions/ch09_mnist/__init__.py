"""Chapter 09: MNIST, a real data set end to end (IDX files, a fixed split, preprocessing,
the chapter's network, the confusion matrix, precision and recall, your own drawings).

Exports the course so far (chapter 08's package) plus this chapter's.
"""

from ..ch08_model import *  # noqa: F403  (the course so far)
from ..ch08_model import __all__ as _course_so_far
from .evaluate import confusion_matrix, plot_confusion_matrix, precision_recall, read_png_digit
from .idx import IDX_IMAGES, IDX_LABELS, parse_idx, read_idx
from .prepare import SPLIT_SEED, SPLIT_SIZES, preprocess, split_indices
from .train_mnist import BATCH_SIZE, EPOCHS, LEARNING_RATE, MNIST_LAYERS, build_mnist_model, train_mnist

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "BATCH_SIZE",
    "EPOCHS",
    "IDX_IMAGES",
    "IDX_LABELS",
    "LEARNING_RATE",
    "MNIST_LAYERS",
    "SPLIT_SEED",
    "SPLIT_SIZES",
    "build_mnist_model",
    "confusion_matrix",
    "parse_idx",
    "plot_confusion_matrix",
    "precision_recall",
    "preprocess",
    "read_idx",
    "read_png_digit",
    "split_indices",
    "train_mnist",
] if name not in _course_so_far]
