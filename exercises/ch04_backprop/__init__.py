"""Chapter 04: backpropagation.

Exports every class and function of the course so far; ``Dense`` is now the
version with ``backward``.
"""

from ..ch03_losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    LeakyReLU,
    Linear,
    Loss,
    MeanAbsoluteError,
    MeanSquaredError,
    ReLU,
    Sigmoid,
    Softmax,
    SoftmaxCrossEntropy,
    Tanh,
    accuracy,
    binary_accuracy,
    layer_output,
    matmul,
    neuron_output,
)
from .dense import Dense
from .gradcheck import numerical_gradient, rel_error, sparse_gradient_check
from .two_layer import two_layer_loss_and_grads

__all__ = [
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "Dense",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "accuracy",
    "binary_accuracy",
    "layer_output",
    "matmul",
    "neuron_output",
    "numerical_gradient",
    "rel_error",
    "sparse_gradient_check",
    "two_layer_loss_and_grads",
]
