# Generated from solutions/ch11_recurrent/char_model.py by `nox -s stubs`: fill in the TODOs below.
"""A character-level language model: read text one character at a time and predict the
next one, then write new text by sampling from those predictions.

The chapter's text is the first 99,843 characters of the "tiny Shakespeare" collection
(``data/tinyshakespeare-100k.txt``; the source and licence are in ``data/README.md``).
"""

from pathlib import Path

import numpy as np

from ..ch09_mnist import Adam, SoftmaxCrossEntropy, predict
from .adding import clipped_train_step
from .embedding import Embedding
from .gru import GRU
from .stack import MergeSteps, TimeDense

TEXT_FILE = "tinyshakespeare-100k.txt"
# The split of the text: the first 90% to train on, the rest to validate.
TRAIN_FRACTION = 0.9
# The settings the grader trains with.
CHAR_EMBEDDING, CHAR_HIDDEN = 16, 64
CHAR_STEPS, CHAR_BATCH, CHAR_T = 200, 32, 32
CHAR_LEARNING_RATE, CHAR_MAX_NORM = 1e-2, 5.0


def load_text(folder=None):
    """The chapter's text as one string (``folder``: where the file is; by default the
    course's ``data/`` folder)."""
    folder = Path(folder) if folder else Path(__file__).resolve().parents[2] / "data"
    return (folder / TEXT_FILE).read_text(encoding="utf-8")


def build_vocabulary(text):
    """The distinct characters of ``text``, sorted (by code point): a list of strings of
    length 1. A character's index in this list is its token id."""
    return sorted(set(text))


def encode(text, vocabulary):
    """text: a string whose characters are all in ``vocabulary`` (a list of characters).

    returns: (len(text),) int64 array, the id (index in ``vocabulary``) of each character
    """
    # TODO(ch11): implement encode (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement encode")


def decode(ids, vocabulary):
    """ids: a sequence of ints in [0, len(vocabulary)). returns: the string they spell."""
    # TODO(ch11): implement decode (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement decode")


def char_batches(ids, T, batch_size, rng):
    """A batch of training windows and their targets, the next character of every step.

    Draw exactly one ``starts = rng.integers(0, len(ids) - T, size=batch_size)``. Window k
    is ``ids[starts[k]:starts[k] + T]`` and its targets are the same window shifted by one,
    ``ids[starts[k] + 1:starts[k] + T + 1]``.

    ids:     (L,) int array; T, batch_size: ints; rng: np.random.Generator
    returns: X (batch_size, T) int array, Y (batch_size, T) int array
    """
    # TODO(ch11): implement char_batches (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement char_batches")


def build_char_model(n_tokens, rng, n_embedding=CHAR_EMBEDDING, n_hidden=CHAR_HIDDEN):
    """The chapter's model, as a list of layers created from ``rng`` in this order:
    ``Embedding(n_tokens, n_embedding, rng)``, ``GRU(n_embedding, n_hidden, rng)``,
    ``TimeDense(n_hidden, n_tokens, rng)``, ``MergeSteps()``. On ids (N, T) it returns
    (N * T, n_tokens) scores (logits) of the next character, row n * T + t for step t of
    sequence n."""
    return [Embedding(n_tokens, n_embedding, rng), GRU(n_embedding, n_hidden, rng),
            TimeDense(n_hidden, n_tokens, rng), MergeSteps()]


def train_char_model(ids, n_tokens, rng, steps=CHAR_STEPS, batch_size=CHAR_BATCH, T=CHAR_T,
                     learning_rate=CHAR_LEARNING_RATE, max_norm=CHAR_MAX_NORM):
    """Train the chapter's model to predict the next character.

    ``layers = build_char_model(n_tokens, rng)``, the loss ``SoftmaxCrossEntropy()`` (on
    the logits), ``Adam(learning_rate=learning_rate)``. Each of the ``steps`` steps draws
    ``X, Y = char_batches(ids, T, batch_size, rng)`` and takes one
    ``clipped_train_step(layers, loss, optimizer, X, Y.reshape(-1), max_norm)`` (the
    targets flattened in the same order as the rows of the logits).

    ids:     (L,) int array, the training text encoded; n_tokens: int
    returns: (layers, losses): the trained layers and the ``steps`` training losses
    """
    # TODO(ch11): implement train_char_model (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement train_char_model")


def sample(layers, vocabulary, prompt, n_chars, rng, temperature=1.0, context=CHAR_T):
    """Write ``n_chars`` new characters after ``prompt``, one at a time.

    For each new character: run the model on the last ``context`` characters written so
    far (the prompt included) as one sequence of ids (1, t); take the logits of the last
    step, ``z`` (n_tokens,); turn them into probabilities ``p = softmax(z / temperature)``
    (subtract the maximum first); draw the next id with ``rng.choice(len(vocabulary),
    p=p)``; append it.

    prompt:  a non-empty string of characters in ``vocabulary``; n_chars: int >= 0
    rng:     np.random.Generator (one ``rng.choice`` per character, nothing else)
    temperature: float > 0; below 1 the text is more predictable, above 1 more random
    returns: the ``n_chars`` new characters, a string (without the prompt)
    """
    # TODO(ch11): implement sample (the docstring gives the shapes).
    raise NotImplementedError("ch11: implement sample")
