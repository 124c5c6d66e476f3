# Generated from solutions/ch06_training/loop.py by `nox -s stubs`: fill in the TODOs below.
"""The training loop: mini-batches, epochs, a validation split, and evaluation.

A network here is a plain Python list of layers, applied in order, plus a loss object.
Every layer follows the course's contract (``forward(inputs, training=False)`` returns the
output and keeps what ``backward`` needs; ``backward(dvalues)`` returns ``dinputs``). A layer
is *trainable* when its ``parameters()`` are not empty (a ``Dense``); an optimizer from
chapter 05 updates them from the layer's ``gradients()``.

Three kinds of task use the same loop, told apart by the loss:

    loss                                    last layer       targets y         metric
    SoftmaxCrossEntropy (takes the logits)  Dense (logits)   (N,) int labels   accuracy
    CategoricalCrossEntropy                 Softmax          (N,) int labels   accuracy
    BinaryCrossEntropy                      Sigmoid          (N, K) 0/1        accuracy
    MeanSquaredError, MeanAbsoluteError     Linear           (N, K) floats     mae

The helpers ``is_trainable``, ``loss_value``, ``loss_gradient``, ``metric_name`` and
``metric`` are given; the functions with a TODO are yours.
"""

import numpy as np

from ..ch05_optimizers import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    Dense,
    Linear,
    MeanSquaredError,
    ReLU,
    Sigmoid,
    SoftmaxCrossEntropy,
    accuracy,
    binary_accuracy,
)

# --------------------------------------------------------------------- given helpers


def is_trainable(layer):
    """True for a layer with parameters to update (its ``parameters()`` are not empty),
    whatever they are called. A frozen layer (``trainable`` False) still counts: the
    optimizer is the one that leaves it alone."""
    return bool(layer.parameters())


def loss_value(loss, output, y):
    """The mean loss (a float) of the network output (N, ...) against the targets y.

    ``SoftmaxCrossEntropy.forward`` takes the logits and returns the mean itself (and keeps
    the probabilities as ``loss.output``); every other loss averages through ``calculate``.
    """
    if isinstance(loss, SoftmaxCrossEntropy):
        return float(loss.forward(output, y))
    return float(loss.calculate(output, y))


def loss_gradient(loss, output, y):
    """The gradient of the mean loss with respect to the network output, same shape as
    ``output``. Call it right after ``loss_value`` on the same batch: the fused softmax
    loss starts from the probabilities its ``forward`` kept."""
    if isinstance(loss, SoftmaxCrossEntropy):
        return loss.backward(loss.output, y)
    return loss.backward(output, y)


def metric_name(loss):
    """'accuracy' for the classification losses, 'mae' (mean absolute error) for
    regression: a regression has no accuracy."""
    if isinstance(loss, (SoftmaxCrossEntropy, CategoricalCrossEntropy, BinaryCrossEntropy)):
        return "accuracy"
    return "mae"


def metric(loss, output, y):
    """The task's metric (a float) for the network output against y: the fraction of
    correct argmax classes (multi-class), of correct outputs at threshold 0.5 (binary),
    or the mean absolute error (regression)."""
    if isinstance(loss, (SoftmaxCrossEntropy, CategoricalCrossEntropy)):
        return accuracy(output, y)
    if isinstance(loss, BinaryCrossEntropy):
        return binary_accuracy(output, y)
    errors = np.asarray(output, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return float(np.mean(np.abs(errors)))


# --------------------------------------------------------------------- data handling


def minibatch_indices(n_samples, batch_size, rng, shuffle=True):
    """The sample indices of one epoch, cut into mini-batches.

    With ``shuffle``, draw exactly one ``rng.permutation(n_samples)`` (and nothing else);
    without, use ``np.arange(n_samples)`` and draw nothing (``rng`` may then be None).
    Cut that order into consecutive slices of ``batch_size``: the last batch is smaller
    when ``batch_size`` does not divide ``n_samples``; it is kept, never dropped, so that
    every sample is used exactly once per epoch.

    n_samples, batch_size: ints >= 1; rng: np.random.Generator (or None without shuffle)
    returns: list of ceil(n_samples / batch_size) int arrays, each of shape (<= batch_size,)
    """
    # TODO(ch06): implement minibatch_indices (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement minibatch_indices")


def train_validation_split(X, y, validation_fraction, rng):
    """Split the samples into a training part and a validation part, at random.

    Draw one ``perm = rng.permutation(N)``; with ``n_val = round(N * validation_fraction)``
    (Python's ``round``), the samples ``perm[:n_val]`` form the validation part and
    ``perm[n_val:]`` the training part, each in the order of ``perm``. Every sample lands
    in exactly one part; X and y are split with the same indices.

    X: (N, D) array; y: (N,) or (N, K) array; validation_fraction: float in [0, 1];
    rng: np.random.Generator
    returns: (X_train (N - n_val, D), y_train, X_val (n_val, D), y_val)
    """
    # TODO(ch06): implement train_validation_split (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement train_validation_split")


def fit_standardizer(X):
    """The per-feature mean and standard deviation of X, to standardise features.

    Compute them on the training part only, and apply them unchanged to the validation
    and test parts (``standardize``). A feature that is constant has standard deviation 0:
    use 1 for it instead, so that standardising never divides by zero.

    X: (N, D) array
    returns: (mean (1, D), std (1, D)) float64; ``std`` is ``np.std(X, axis=0)`` (the
             population form, ddof=0) with zeros replaced by 1
    """
    # TODO(ch06): implement fit_standardizer (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement fit_standardizer")


def standardize(X, mean, std):
    """X (N, D) with every feature shifted by ``mean`` (1, D) and divided by ``std`` (1, D).

    returns: (N, D) float64 ``(X - mean) / std``; X itself is left unchanged
    """
    # TODO(ch06): implement standardize (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement standardize")


# --------------------------------------------------------------------- networks


def build_network(layer_sizes, rng, task="multiclass", weight_scale=0.1):
    """A fully connected network and the loss that fits the task.

    layer_sizes: list of ints ``[n_inputs, n_hidden_1, ..., n_outputs]`` (at least 2)
    rng:         np.random.Generator for the weights; the ``Dense`` layers are created in
                 order from the input side, each with ``weight_scale``
    task:        "multiclass", "binary" or "regression"
    returns:     (layers, loss). ``layers`` alternates ``Dense`` and ``ReLU`` (a ReLU after
                 every Dense but the last), then ends with
                 - "multiclass": nothing after the last Dense; loss ``SoftmaxCrossEntropy()``
                 - "binary":     a ``Sigmoid()``; loss ``BinaryCrossEntropy()``
                 - "regression": a ``Linear()``; loss ``MeanSquaredError()``
                 Any other task raises ValueError.

    Example: ``build_network([2, 64, 3], rng)`` gives
    ``[Dense(2, 64), ReLU(), Dense(64, 3)]`` with ``SoftmaxCrossEntropy()``.
    """
    # TODO(ch06): implement build_network (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement build_network")


def predict(layers, X):
    """The forward pass: X through every layer in order.

    layers: list of layers; X: (N, n_inputs) array
    returns: the last layer's output, (N, n_outputs): logits for a network trained with
             ``SoftmaxCrossEntropy``, probabilities after a ``Sigmoid``, values after
             a ``Linear``
    """
    # TODO(ch06): implement predict (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement predict")


def evaluate(layers, loss, X, y):
    """Loss and metric of the network on a whole data set (no training).

    returns: (loss_value(loss, output, y), metric(loss, output, y)), two floats, where
             ``output = predict(layers, X)``
    """
    # TODO(ch06): implement evaluate (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement evaluate")


# --------------------------------------------------------------------- training


def train_step(layers, loss, optimizer, X_batch, y_batch):
    """One step of gradient descent on one mini-batch.

    1. forward: ``output = predict(layers, X_batch)``;
    2. the loss: ``value = loss_value(loss, output, y_batch)``;
    3. backward: ``dvalues = loss_gradient(loss, output, y_batch)``, then through
       *every* layer in reverse order, each receiving what the layer after it returned;
    4. update: ``optimizer.pre_update_params()`` once, ``optimizer.update_params(layer)``
       for every trainable layer, ``optimizer.post_update_params()`` once.

    X_batch: (B, n_inputs); y_batch: the B matching targets
    returns: float, the batch's mean loss before the update (``value``)
    """
    # TODO(ch06): implement train_step (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement train_step")


def train(layers, loss, optimizer, X, y, epochs, batch_size, rng, validation=None, shuffle=True):
    """Train the network with mini-batches for a number of epochs.

    Each epoch:
    1. ``batches = minibatch_indices(len(X), batch_size, rng, shuffle)``: the only use of
       ``rng``, so one permutation per epoch;
    2. ``train_step`` on ``X[idx], y[idx]`` for every ``idx`` in ``batches``, in order
       (the same indices for X and y!);
    3. ``evaluate`` on the whole training set, and on ``validation`` if given.

    X: (N, n_inputs); y: N targets; epochs, batch_size: ints; rng: np.random.Generator;
    validation: None or a tuple (X_val, y_val)
    returns: history, a dict of four lists with one float per epoch, measured after the
             epoch's updates; with m = ``metric_name(loss)`` ('accuracy' or 'mae'):
             ``"loss"``, m, ``"val_loss"`` and ``"val_" + m`` (the last two stay empty
             without validation)
    """
    # TODO(ch06): implement train (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement train")
