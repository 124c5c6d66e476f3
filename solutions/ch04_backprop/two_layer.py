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
    ### BEGIN SOLUTION
    N = X.shape[0]

    # Forward pass, keeping every intermediate that backward needs.
    z1 = X @ W1 + b1                                  # (N, H) pre-activations
    hidden = np.maximum(0.0, z1)                      # (N, H) after ReLU
    scores = hidden @ W2 + b2                         # (N, C) logits
    shifted = scores - scores.max(axis=1, keepdims=True)  # largest logit of each row is 0
    exps = np.exp(shifted)                            # (N, C), all in (0, 1]
    probs = exps / exps.sum(axis=1, keepdims=True)    # (N, C), rows sum to 1
    clipped = np.clip(probs, 1e-7, 1 - 1e-7)
    loss = float(-np.mean(np.log(clipped[np.arange(N), y])))

    # Backward pass: one line per step of the chain rule.
    onehot = np.zeros_like(probs)
    onehot[np.arange(N), y] = 1.0                     # (N, C)
    dscores = (probs - onehot) / N                    # (N, C)  softmax + mean CE together
    dW2 = hidden.T @ dscores                          # (H, N) @ (N, C) -> (H, C)
    db2 = dscores.sum(axis=0, keepdims=True)          # (N, C) summed over N -> (1, C)
    dhidden = dscores @ W2.T                          # (N, C) @ (C, H) -> (N, H)
    dz1 = dhidden * (z1 > 0)                          # (N, H), zero where ReLU was off
    dW1 = X.T @ dz1                                   # (D, N) @ (N, H) -> (D, H)
    db1 = dz1.sum(axis=0, keepdims=True)              # (N, H) summed over N -> (1, H)

    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    return loss, grads
    ### END SOLUTION
