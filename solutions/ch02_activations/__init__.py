"""Chapter 02: activation functions, forward and backward."""

from ..ch01_neurons import Dense, layer_output, matmul, neuron_output
from .activations import Linear, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh

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
]
