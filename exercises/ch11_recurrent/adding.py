# Generated from solutions/ch11_recurrent/adding.py by `nox -s stubs`: fill in the TODOs below.
"""The adding problem: a task that needs memory over many steps.

Each input sequence has T steps of two channels: a random value in [0, 1), and a marker
that is 1 at exactly two steps (one in each half of the sequence) and 0 elsewhere. The
target is the sum of the two marked values. A network must remember the first marked value
for up to T steps while ignoring everything else; predicting the mean target, 1, scores a
mean squared error of 1/6 (the variance of a sum of two uniform values).
"""

import numpy as np

from ..ch09_mnist import Adam, Dense, MeanSquaredError, is_trainable, loss_gradient, loss_value, predict
from .clipping import clip_grad_norm
from .gru import GRU
from .lstm import LSTM
from .rnn import RNN
from .stack import LastStep

CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
# The settings the grader trains with.
ADDING_HIDDEN = 16
ADDING_STEPS = 300
ADDING_BATCH = 32
ADDING_LEARNING_RATE = 1e-2
ADDING_MAX_NORM = 5.0


def adding_data(n, T, rng):
    """n sequences of the adding problem.

    Draw exactly, in this order: ``values = rng.uniform(0, 1, size=(n, T))``;
    ``first = rng.integers(0, T // 2, size=n)``; ``second = rng.integers(T // 2, T, size=n)``
    (so the two marked steps are different: one in each half).

    n, T:    ints, T >= 2
    rng:     np.random.Generator
    returns: X (n, T, 2) float64, with X[:, :, 0] the values and X[:, :, 1] the markers
             (1.0 at steps ``first`` and ``second`` of each sequence, 0.0 elsewhere);
             y (n, 1) float64, the sum of each sequence's two marked values
    """
    # TODO(ch11): implement adding_data (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement adding_data")


def clipped_train_step(layers, loss, optimizer, X_batch, y_batch, max_norm):
    """Chapter 06's ``train_step`` with clipping by global norm between the backward pass
    and the update:

    1. ``output = predict(layers, X_batch)``; ``value = loss_value(loss, output, y_batch)``;
    2. ``dvalues = loss_gradient(loss, output, y_batch)``, then every layer's ``backward``
       in reverse order;
    3. ``clip_grad_norm(layers, max_norm)``;
    4. ``optimizer.pre_update_params()``, ``optimizer.update_params(layer)`` for every
       trainable layer (``is_trainable``), ``optimizer.post_update_params()``.

    returns: float, the batch's mean loss before the update (``value``)
    """
    # TODO(ch11): implement clipped_train_step (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement clipped_train_step")


def train_adding(cell, T, rng, steps=ADDING_STEPS, n_hidden=ADDING_HIDDEN, batch_size=ADDING_BATCH,
                 learning_rate=ADDING_LEARNING_RATE, max_norm=ADDING_MAX_NORM):
    """Train a recurrent network on the adding problem with sequences of length T.

    The network, created from ``rng`` in this order: ``CELLS[cell](2, n_hidden, rng)``,
    ``LastStep()``, ``Dense(n_hidden, 1, rng, weight_scale=1 / sqrt(n_hidden))``. The loss
    is ``MeanSquaredError()``, the optimizer ``Adam(learning_rate=learning_rate)``.

    Each of the ``steps`` steps draws a fresh batch ``adding_data(batch_size, T, rng)`` and
    takes one ``clipped_train_step`` on it.

    cell:    "rnn", "lstm" or "gru"; T: int; rng: np.random.Generator
    returns: (layers, losses): the trained layers (a list; ``predict(layers, X)`` gives
             (n, 1) predictions) and the list of the ``steps`` training losses
    """
    # TODO(ch11): implement train_adding (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement train_adding")
