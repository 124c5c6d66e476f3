"""Reference for chapter 01: neurons, layers, matmul, dense forward."""

import numpy as np


def neuron_output(inputs, weights, bias):
    """float: dot(inputs, weights) + bias."""
    return float(
        np.dot(np.asarray(inputs, dtype=np.float64), np.asarray(weights, dtype=np.float64)) + bias
    )


def layer_output(inputs, weights, biases):
    """(n_neurons,) array: weights (n_neurons, n_inputs) @ inputs + biases."""
    W = np.asarray(weights, dtype=np.float64)
    return W @ np.asarray(inputs, dtype=np.float64) + np.asarray(biases, dtype=np.float64)


def matmul(a, b):
    """(n, m) array: the product of a (n, k) and b (k, m)."""
    return np.asarray(a, dtype=np.float64) @ np.asarray(b, dtype=np.float64)


def dense_init(n_inputs, n_neurons, rng, weight_scale=0.01):
    """(weights (n_inputs, n_neurons), biases (1, n_neurons)) as the course defines them."""
    weights = weight_scale * rng.standard_normal((n_inputs, n_neurons))
    biases = np.zeros((1, n_neurons))
    return weights, biases


def dense_forward(X, W, b):
    """(N, n_neurons): X (N, n_inputs) @ W (n_inputs, n_neurons) + b (1, n_neurons)."""
    return np.asarray(X, dtype=np.float64) @ W + b
