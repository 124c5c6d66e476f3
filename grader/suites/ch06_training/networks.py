"""Chapter 06 suite helpers shared by the chapter's test files: small networks wired from
the student's own classes, and the data the tests draw."""

from grader.api import Rng, np
from grader.suites.common import draw_targets  # noqa: F401  (re-exported for the chapter's tests)


def indexed_data(n, d=3):
    """X whose first column is the sample's index; y = 10 * index: a split that keeps rows
    together keeps y == 10 * X[:, 0]."""
    X = np.column_stack(
        [np.arange(n, dtype=np.float64)] + [np.full(n, 0.5 * j) for j in range(1, d)]
    )
    return X, 10 * np.arange(n)


def draw_params(rng, sizes, scale=0.5):
    return [
        (scale * rng.standard_normal((a, b)), 0.1 * rng.standard_normal((1, b)))
        for a, b in zip(sizes[:-1], sizes[1:])
    ]


def network(student, params, task):
    """Your classes wired as the chapter's network, with the given (W, b) per Dense layer.
    returns (layers, dense layers, loss)."""
    layers, dense = [], []
    for i, (W, b) in enumerate(params):
        layer = student.Dense(W.shape[0], W.shape[1], Rng(0))
        layer.weights, layer.biases = W, b
        layers.append(layer)
        dense.append(layer)
        if i < len(params) - 1:
            layers.append(student.ReLU())
    if task == "binary":
        layers.append(student.Sigmoid())
        loss = student.BinaryCrossEntropy()
    elif task == "regression":
        layers.append(student.Linear())
        loss = student.MeanSquaredError()
    else:
        loss = student.SoftmaxCrossEntropy()
    return layers, dense, loss
