# Generated from solutions/ch01_neurons/neuron.py by `nox -s stubs`: fill in the TODOs below.
"""One neuron, one layer and a matrix product, in pure Python (no numpy).

These are the slow, explicit versions of what ``Dense`` does with numpy. Writing
them once makes every index of the matrix form of a layer concrete.
"""


def neuron_output(inputs, weights, bias):
    """Output of a single neuron: the weighted sum of its inputs plus its bias.

    inputs:  list of n floats
    weights: list of n floats, one per input
    bias:    float
    returns: float, ``sum(inputs[i] * weights[i]) + bias``
    """
    # TODO(ch01): implement neuron_output (the docstring gives the shapes).
    raise NotImplementedError("ch01: implement neuron_output")


def layer_output(inputs, weights, biases):
    """Outputs of a layer of neurons that all see the same inputs.

    inputs:  list of n_inputs floats
    weights: list of n_neurons rows, each a list of n_inputs floats (row j = neuron j)
    biases:  list of n_neurons floats
    returns: list of n_neurons floats; entry j is neuron j's output
    """
    # TODO(ch01): implement layer_output (the docstring gives the shapes).
    raise NotImplementedError("ch01: implement layer_output")


def matmul(a, b):
    """Matrix product of two matrices stored as lists of rows, in pure Python.

    a: list of n rows, each a list of k floats   (shape (n, k))
    b: list of k rows, each a list of m floats   (shape (k, m))
    returns: list of n rows, each a list of m floats (shape (n, m)),
             entry [i][j] = sum over t of a[i][t] * b[t][j]
    raises:  ValueError if the inner dimensions differ (len(a[0]) != len(b))
    """
    # TODO(ch01): implement matmul (the docstring gives the shapes).
    raise NotImplementedError("ch01: implement matmul")
