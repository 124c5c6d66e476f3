"""LeNet-5 (with ReLU and max pooling), built and trained with chapter 08's ``Model``.

``make_plots.py`` trains it on the chapter-09 split and draws the chapter's figures.
"""

import numpy as np

from ..ch09_mnist import AccuracyCategorical, Adam, CategoricalCrossEntropy, Dense, Model, ReLU, Softmax
from .layers import Conv2D, Flatten, MaxPool2D

# The training settings the grader uses.
LENET_LEARNING_RATE = 3e-3
LENET_EPOCHS = 3
LENET_BATCH_SIZE = 64


def build_lenet(rng):
    """LeNet-5 for (N, 1, 28, 28) images, finalized and ready to train.

    Layers, in order (shapes for one 28 x 28 image):

        Conv2D(1, 6, 5, padding=2)   (1, 28, 28) -> (6, 28, 28)
        ReLU, MaxPool2D(2)                       -> (6, 14, 14)
        Conv2D(6, 16, 5)                         -> (16, 10, 10)
        ReLU, MaxPool2D(2)                       -> (16, 5, 5)
        Flatten                                  -> (400,)
        Dense(400, 120), ReLU, Dense(120, 84), ReLU, Dense(84, 10), Softmax

    Every Conv2D and Dense uses He initialisation (Conv2D's default; a Dense gets
    ``weight_scale=sqrt(2 / n_in)``), created in this order from ``rng``. Loss
    ``CategoricalCrossEntropy()``, optimizer ``Adam(learning_rate=LENET_LEARNING_RATE)``, accuracy
    ``AccuracyCategorical()``.

    rng:     np.random.Generator
    returns: a finalized ``Model``; ``predict`` on (N, 1, 28, 28) gives (N, 10) probabilities
    """
    ### BEGIN SOLUTION
    model = Model()
    model.add(Conv2D(1, 6, 5, padding=2, rng=rng))
    model.add(ReLU())
    model.add(MaxPool2D(2))
    model.add(Conv2D(6, 16, 5, rng=rng))
    model.add(ReLU())
    model.add(MaxPool2D(2))
    model.add(Flatten())
    sizes = (400, 120, 84, 10)
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(Dense(n_in, n_out, rng, weight_scale=np.sqrt(2.0 / n_in)))
        model.add(Softmax() if i == len(sizes) - 2 else ReLU())
    model.set(loss=CategoricalCrossEntropy(), optimizer=Adam(learning_rate=LENET_LEARNING_RATE),
              accuracy=AccuracyCategorical())
    model.finalize()
    return model
    ### END SOLUTION


def train_lenet(X_train, y_train, X_val, y_val, rng, epochs=LENET_EPOCHS, batch_size=LENET_BATCH_SIZE):
    """Build LeNet-5 and train it, as chapter 09's ``train_mnist`` does for its network.

    ``model = build_lenet(rng)``, then ``model.train(X_train, y_train, epochs=epochs,
    batch_size=batch_size, validation_data=(X_val, y_val), rng=rng)``; the history is
    kept as ``model.history``.

    X_train: (N, 1, 28, 28) images scaled to [-1, 1] (chapter 09's ``preprocess``,
             reshaped); y_train: (N,) int labels
    X_val:   (M, 1, 28, 28); y_val: (M,)
    rng:     np.random.Generator (the weights first, then one permutation per epoch)
    returns: the trained ``Model``
    """
    ### BEGIN SOLUTION
    model = build_lenet(rng)
    model.history = model.train(X_train, y_train, epochs=epochs, batch_size=batch_size,
                                validation_data=(X_val, y_val), rng=rng)
    return model
    ### END SOLUTION
