"""Chapter 03: losses and accuracy."""

from ..ch02_activations import (
    Dense,
    LeakyReLU,
    Linear,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    layer_output,
    matmul,
    neuron_output,
)
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

__all__ = [
    "Dense",
    "layer_output",
    "matmul",
    "neuron_output",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "Linear",
    "Loss",
    "CategoricalCrossEntropy",
    "BinaryCrossEntropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "SoftmaxCrossEntropy",
    "accuracy",
    "binary_accuracy",
]
