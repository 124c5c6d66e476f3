"""Weight initialisation schemes: how the starting weights of a dense layer are drawn.

Every scheme returns a (n_inputs, n_neurons) matrix. ``fan_in`` is ``n_inputs`` (how
many values each neuron sums), ``fan_out`` is ``n_neurons``.
"""

import numpy as np

KINDS = ("zeros", "random", "xavier", "he")


def init_weights(kind, n_inputs, n_neurons, rng):
    """Initial weights for a dense layer.

    kind:      one of "zeros", "random", "xavier", "he"
    n_inputs:  int, fan_in
    n_neurons: int, fan_out
    rng:       np.random.Generator
    returns:   (n_inputs, n_neurons) float64 array:
               "zeros":  all 0 (rng is not used)
               "random": 0.01 * standard normal
               "xavier": standard normal * sqrt(2 / (fan_in + fan_out)), i.e. variance
                         2 / (fan_in + fan_out) (Glorot, for tanh and sigmoid)
               "he":     standard normal * sqrt(2 / fan_in), i.e. variance 2 / fan_in
                         (for ReLU)
               The random kinds draw ``rng.standard_normal((n_inputs, n_neurons))``
               once, then scale it.
    raises:    ValueError for any other ``kind`` (before drawing anything)
    """
    ### BEGIN SOLUTION
    if kind == "zeros":
        return np.zeros((n_inputs, n_neurons))
    if kind == "random":
        std = 0.01
    elif kind == "xavier":
        std = np.sqrt(2.0 / (n_inputs + n_neurons))
    elif kind == "he":
        std = np.sqrt(2.0 / n_inputs)
    else:
        raise ValueError(f"unknown initialisation {kind!r}; expected one of {', '.join(KINDS)}")
    return std * rng.standard_normal((n_inputs, n_neurons))
    ### END SOLUTION
