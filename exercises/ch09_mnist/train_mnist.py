# Generated from solutions/ch09_mnist/train_mnist.py by `nox -s stubs`: fill in the TODOs below.
"""The chapter's network for MNIST, built and trained with chapter 08's ``Model``.

``make_plots.py`` runs the whole pipeline (read, split, preprocess, train, evaluate) on
the chapter's split and prints the results.
"""

import numpy as np

from ..ch08_model import AccuracyCategorical, Adam, CategoricalCrossEntropy, Dense, Model, ReLU, Softmax

# The architecture and the training settings the grader uses.
MNIST_LAYERS = (784, 128, 64, 10)
LEARNING_RATE = 1e-3
EPOCHS = 10
BATCH_SIZE = 64


def build_mnist_model(rng):
    """The chapter's multi-layer perceptron, finalized and ready to train.

    Layers, in order: ``Dense(784, 128)``, ``ReLU()``, ``Dense(128, 64)``, ``ReLU()``,
    ``Dense(64, 10)``, ``Softmax()``. Each ``Dense(n_in, n_out, rng, weight_scale=...)``
    uses He initialisation, ``weight_scale = sqrt(2 / n_in)``, and the three are created
    in that order from ``rng`` (so ``rng`` draws the first layer's weights first).
    Loss ``CategoricalCrossEntropy()`` (the model fuses it with the ``Softmax``),
    optimizer ``Adam(learning_rate=LEARNING_RATE)``, accuracy ``AccuracyCategorical()``.

    rng:     np.random.Generator
    returns: a finalized ``Model``; ``predict`` on (N, 784) inputs gives (N, 10) class
             probabilities
    """
    # TODO(ch09): implement build_mnist_model (the docstring gives the shapes).
    raise NotImplementedError("ch09: implement build_mnist_model")


def train_mnist(X_train, y_train, X_val, y_val, rng, epochs=EPOCHS, batch_size=BATCH_SIZE):
    """Build the chapter's model and train it.

    ``model = build_mnist_model(rng)``, then ``model.train(X_train, y_train,
    epochs=epochs, batch_size=batch_size, validation_data=(X_val, y_val), rng=rng)``: the
    same Generator draws the weights first, then one permutation per epoch. The history
    that ``train`` returns is kept as ``model.history``.

    X_train: (N, 784) preprocessed images; y_train: (N,) int labels 0-9
    X_val:   (M, 784); y_val: (M,) int labels (only measured, never trained on)
    rng:     np.random.Generator; epochs, batch_size: ints
    returns: the trained ``Model``
    """
    # TODO(ch09): implement train_mnist (the docstring gives the shapes).
    raise NotImplementedError("ch09: implement train_mnist")

