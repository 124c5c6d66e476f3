# Generated from solutions/ch04_backprop/two_layer.py by `nox -s stubs`: fill in the TODOs below.
"""The chain rule by hand: loss and gradients of a two-layer network.

Dense -> ReLU -> Dense -> softmax -> cross-entropy, written with bare numpy
operations and no layer classes, so that every step of backpropagation is on the
page with its shapes.
"""

import numpy as np


def two_layer_loss_and_grads(X, y, W1, b1, W2, b2):
    """Mean cross-entropy loss of a two-layer classifier and its gradients.

    X:  (N, D) inputs
    y:  (N,) int class labels in [0, C)
    W1: (D, H), b1: (1, H)  first (hidden) dense layer
    W2: (H, C), b2: (1, C)  second (output) dense layer
    returns: (loss, grads)
             loss:  float, mean over the batch of ``-log p[n, y[n]]``, where p is the
                    softmax of the scores and is clipped to [1e-7, 1 - 1e-7]
             grads: dict with keys "W1" (D, H), "b1" (1, H), "W2" (H, C), "b2" (1, C),
                    the gradient of the loss with respect to each parameter
    """
    # TODO(ch04): implement two_layer_loss_and_grads (the docstring gives the shapes).
    raise NotImplementedError("ch04: implement two_layer_loss_and_grads")
