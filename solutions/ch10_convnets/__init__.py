"""Chapter 10: convolutional networks (im2col and col2im, Conv2D, MaxPool2D, Flatten,
LeNet-5 on MNIST, and a timing lab: loops against im2col).

Exports the course so far (chapter 09's package) plus this chapter's.
"""

from ..ch09_mnist import *  # noqa: F403  (the course so far)
from ..ch09_mnist import __all__ as _course_so_far
from ..ch09_mnist import register_layer
from .im2col import col2im, conv_output_size, im2col
from .layers import Conv2D, Flatten, MaxPool2D
from .loops import conv2d_loops
from .lenet import LENET_BATCH_SIZE, LENET_EPOCHS, LENET_LEARNING_RATE, build_lenet, train_lenet

# Whole-model files (chapter 08's Model.save / Model.load) may hold this chapter's layers.
register_layer(Conv2D, ("in_channels", "out_channels", "kernel_size", "stride", "padding"))
register_layer(MaxPool2D, ("kernel_size", "stride"))
register_layer(Flatten, ())

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "Conv2D",
    "Flatten",
    "LENET_BATCH_SIZE",
    "LENET_EPOCHS",
    "LENET_LEARNING_RATE",
    "MaxPool2D",
    "build_lenet",
    "col2im",
    "conv2d_loops",
    "conv_output_size",
    "im2col",
    "train_lenet",
] if name not in _course_so_far]
