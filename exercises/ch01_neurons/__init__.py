"""Chapter 01: neurons and layers (and ``Layer``, the contract every layer follows)."""

from .dense import Dense
from .layer import Layer
from .neuron import layer_output, matmul, neuron_output

__all__ = [
    "Dense",
    "Layer",
    "layer_output",
    "matmul",
    "neuron_output",
]
