"""Chapter 01: neurons and layers."""

from .dense import Dense
from .neuron import layer_output, matmul, neuron_output

__all__ = ["Dense", "layer_output", "matmul", "neuron_output"]
