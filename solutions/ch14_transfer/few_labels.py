"""Digits 0-4 -> digits 5-9 with a few labels: three ways to train a LeNet-5 on them.

- ``"features"``: feature extraction. The pretrained convolutions (the *body*, layers 0-6
  of ``build_lenet``: up to and including ``Flatten``) are frozen; they turn every image
  into 400 features once, and only a new *head* (the dense layers) is trained on them.
- ``"finetune"``: the pretrained body and a new head are trained together, the body with
  a learning rate ten times smaller (``fine_tune_groups``).
- ``"scratch"``: a new body and a new head, nothing pretrained.

Every run trains for ``steps`` full-batch steps (all the labelled images in one batch:
``model.train(X, y, epochs=steps, batch_size=None, rng=None)``).
"""

import copy
from pathlib import Path

import numpy as np

from ..ch13_generative import (SPLIT_SEED, Adam, AccuracyCategorical, CategoricalCrossEntropy, Conv2D, Dense, Flatten,
                               MaxPool2D, Model, ReLU, Softmax, preprocess, read_idx, split_indices)
from .freezing import HEAD_LR, fine_tune_groups, set_trainable

DATA = Path(__file__).resolve().parent.parent.parent / "data"

BODY_LAYERS = 7  # layers 0-6 of build_lenet: conv, ReLU, pool, conv, ReLU, pool, Flatten
FEW_STEPS = 60
STRATEGIES = ("features", "finetune", "scratch")


def load_digits(folder=DATA):
    """The shipped MNIST images for this chapter (given): ``(X, y, parts)`` with X
    (10000, 1, 28, 28) scaled to [-1, 1] (chapter 09's ``preprocess``), y (10000,) int
    labels, and ``parts`` a dict of index arrays from chapter 09's split
    (``split_indices`` with ``default_rng(SPLIT_SEED)``): ``"source"`` and
    ``"source_test"`` (training and test images of the digits 0-4: what the shipped
    network learned), ``"pool"`` (training images of the digits 5-9: labelled subsets are
    drawn from it) and ``"target_test"`` (the 492 test images of the digits 5-9)."""
    folder = Path(folder)
    images = read_idx(folder / "mnist-t10k-images-idx3-ubyte.gz")
    y = read_idx(folder / "mnist-t10k-labels-idx1-ubyte.gz").astype(np.int64)
    X = preprocess(images).reshape(-1, 1, 28, 28)
    train, _, test = split_indices(len(y), np.random.default_rng(SPLIT_SEED))
    parts = {"source": train[y[train] < 5], "source_test": test[y[test] < 5],
             "pool": train[y[train] >= 5], "target_test": test[y[test] >= 5]}
    return X, y, parts


def labelled_subset(y, pool, per_class, rng, classes=(5, 6, 7, 8, 9)):
    """Indices of ``per_class`` labelled images of each class (given), drawn without
    replacement from ``pool``, one ``rng.choice`` per class in order: (per_class * 5,)."""
    return np.concatenate([rng.choice(pool[y[pool] == c], per_class, replace=False) for c in classes])


def new_body(rng):
    """LeNet-5's convolutional part, freshly initialised (chapter 10's ``build_lenet``
    layers 0-6, given): Conv2D(1, 6, 5, padding=2), ReLU, MaxPool2D(2), Conv2D(6, 16, 5),
    ReLU, MaxPool2D(2), Flatten; the two Conv2D draw their He weights from rng in that order."""
    return [Conv2D(1, 6, 5, padding=2, rng=rng), ReLU(), MaxPool2D(2), Conv2D(6, 16, 5, rng=rng), ReLU(),
            MaxPool2D(2), Flatten()]


def new_head(rng, n_classes=10):
    """A new head: Dense(400, 120), ReLU, Dense(120, 84), ReLU, Dense(84, n_classes),
    Softmax; each Dense with He scale ``weight_scale=sqrt(2 / n_inputs)``, drawn from rng in
    that order (biases zero). returns: the list of the six layers."""
    ### BEGIN SOLUTION
    layers = []
    sizes = (400, 120, 84, n_classes)
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(n_in, n_out, rng, weight_scale=np.sqrt(2.0 / n_in)))
        layers.append(Softmax() if i == len(sizes) - 2 else ReLU())
    return layers
    ### END SOLUTION


def assemble(layers, optimizer):
    """A finalized ``Model`` of ``layers`` with the categorical cross-entropy, accuracy and
    the given optimizer (given)."""
    model = Model()
    for layer in layers:
        model.add(layer)
    model.set(loss=CategoricalCrossEntropy(), optimizer=optimizer, accuracy=AccuracyCategorical())
    model.finalize()
    return model


def extract_features(layers, X, batch_size=500):
    """The outputs of ``layers`` (run in order, ``training=False``) for X. X: (N, 1, 28, 28).
    returns: (N, D), e.g. D = 400 after the body. Run the images through in slices of
    ``batch_size`` to bound the memory the feature maps take; the result is the same for
    any batch_size."""
    ### BEGIN SOLUTION
    parts = []
    for start in range(0, len(X), batch_size):
        out = X[start:start + batch_size]
        for layer in layers:
            out = layer.forward(out, training=False)
        parts.append(out)
    return np.concatenate(parts, axis=0)
    ### END SOLUTION


def fit_few_labels(pretrained, X, y, strategy, rng, steps=FEW_STEPS):
    """Train one strategy on a few labelled images.

    pretrained: the loaded ``Model`` (``load_pretrained``); it is not changed: the body is
    ``copy.deepcopy(pretrained.layers[:BODY_LAYERS])`` ("features", "finetune") or
    ``new_body(rng)`` ("scratch"); then ``head = new_head(rng)`` (a new head every time:
    the pretrained head only knows the digits 0-4).

    - "features": ``set_trainable(body, False)``; ``features = extract_features(body, X)``;
      train ``assemble(head, Adam(learning_rate=HEAD_LR))`` on (features, y);
    - "finetune": train ``assemble(body + head, fine_tune_groups(body, head))`` on (X, y);
    - "scratch": train ``assemble(body + head, Adam(learning_rate=HEAD_LR))`` on (X, y);

    each with ``model.train(inputs, y, epochs=steps, batch_size=None, rng=None,
    progress=False)``.

    X: (N, 1, 28, 28); y: (N,) int labels 0-9; strategy: one of ``STRATEGIES``;
    rng: np.random.Generator. returns: ``assemble(body + head, optimizer)``, the whole
    network (images in, 10 probabilities out), with the optimizer that trained it.
    raises: ValueError for an unknown strategy.
    """
    ### BEGIN SOLUTION
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}: use one of {STRATEGIES}")
    body = new_body(rng) if strategy == "scratch" else copy.deepcopy(pretrained.layers[:BODY_LAYERS])
    head = new_head(rng)
    if strategy == "features":
        set_trainable(body, False)
        features = extract_features(body, X)
        optimizer = Adam(learning_rate=HEAD_LR)
        assemble(head, optimizer).train(features, y, epochs=steps, batch_size=None, rng=None, progress=False)
        return assemble(body + head, optimizer)
    optimizer = fine_tune_groups(body, head) if strategy == "finetune" else Adam(learning_rate=HEAD_LR)
    model = assemble(body + head, optimizer)
    model.train(X, y, epochs=steps, batch_size=None, rng=None, progress=False)
    return model
    ### END SOLUTION
