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
    ### BEGIN SOLUTION
    total = bias
    for x, w in zip(inputs, weights):
        total += x * w
    return total
    ### END SOLUTION


def layer_output(inputs, weights, biases):
    """Outputs of a layer of neurons that all see the same inputs.

    inputs:  list of n_inputs floats
    weights: list of n_neurons rows, each a list of n_inputs floats (row j = neuron j)
    biases:  list of n_neurons floats
    returns: list of n_neurons floats; entry j is neuron j's output
    """
    ### BEGIN SOLUTION
    return [neuron_output(inputs, row, b) for row, b in zip(weights, biases)]
    ### END SOLUTION


def matmul(a, b):
    """Matrix product of two matrices stored as lists of rows, in pure Python.

    a: list of n rows, each a list of k floats   (shape (n, k))
    b: list of k rows, each a list of m floats   (shape (k, m))
    returns: list of n rows, each a list of m floats (shape (n, m)),
             entry [i][j] = sum over t of a[i][t] * b[t][j]
    raises:  ValueError if the inner dimensions differ (len(a[0]) != len(b))
    """
    ### BEGIN SOLUTION
    k = len(b)
    if any(len(row) != k for row in a):
        raise ValueError(f"inner dimensions differ: a has rows of length {len(a[0])}, b has {k} rows")
    m = len(b[0]) if k else 0
    columns = [[b[t][j] for t in range(k)] for j in range(m)]
    return [[sum(x * y for x, y in zip(row, col)) for col in columns] for row in a]
    ### END SOLUTION
