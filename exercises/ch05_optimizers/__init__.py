"""Chapter 05: optimizers.

Exports every class and function of the course so far, plus this chapter's optimizers
and random search.
"""

from ..ch04_backprop import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Dense,
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
    numerical_gradient,
    rel_error,
    sparse_gradient_check,
    two_layer_loss_and_grads,
)
from .optimizers import SGD, Adagrad, Adam, Optimizer, RMSprop
from .random_search import random_search

__all__ = [
    "Adagrad",
    "Adam",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "Dense",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Optimizer",
    "RMSprop",
    "ReLU",
    "SGD",
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
    "random_search",
    "sparse_gradient_check",
    "two_layer_loss_and_grads",
]
