# Generated from solutions/ch12_attention/tasks.py by `nox -s stubs`: fill in the TODOs below.
"""Two tasks for a small transformer, and the model that learns them.

- **Reversal**: read T tokens, write them in the opposite order, all at once (an encoder:
  every position sees the whole sequence). Only positions make this possible: without a
  positional encoding every output position receives the same information.
- **Sorting, one token at a time** (a causal decoder): read a prompt of digits, then
  write them sorted, each new token predicted from the tokens before it. At test time
  the model writes the answer by greedy decoding, feeding back its own predictions; only
  a model that never looked ahead during training can do that.
"""

import numpy as np

from ..ch11_recurrent import AccuracyBinary, Adam, Embedding, Layer, Model, TimeDense
from .encoder import EncoderBlock
from .layernorm import LayerNorm
from .positional import PositionalEncoding

# The settings the grader trains with.
D_MODEL, N_HEADS, D_FF, BATCH = 32, 2, 64, 64
REVERSAL_T, REVERSAL_V, REVERSAL_STEPS, REVERSAL_LAYERS, REVERSAL_LEARNING_RATE = 8, 10, 120, 1, 3e-3
SORT_LEN, SORT_V, SORT_STEPS, SORT_LAYERS, SORT_LEARNING_RATE = 6, 3, 300, 1, 3e-3


class KeepLast(Layer):
    """(N, T, K) -> (N, k, K): the last ``k`` steps of every sequence (the steps a loss
    scores). No parameters; the gradient of the dropped steps is 0."""

    def __init__(self, k):
        self.k = int(k)

    def forward(self, inputs, training=False):
        self.input_shape = inputs.shape
        self.output = inputs[:, -self.k:]
        return self.output

    def backward(self, dvalues):
        self.dinputs = np.zeros(self.input_shape)
        self.dinputs[:, -self.k:] = dvalues
        return self.dinputs


class TokenLogits(Layer):
    """The output layer of a model that scores a token at every step: (N, T, V) logits
    pass through unchanged; ``predictions`` are the most likely tokens, (N, T)."""

    def forward(self, inputs, training=False):
        self.output = inputs
        return inputs

    def backward(self, dvalues):
        self.dinputs = dvalues
        return dvalues

    def predictions(self, outputs):
        return np.argmax(outputs, axis=-1)


class TokenCrossEntropy:
    """Softmax and cross-entropy over the last axis, for logits (N, T, V) and integer
    targets (N, T): a sample's loss is the mean over its T steps of -log p(target).
    Follows the course's loss contract (``forward`` per-sample losses (N,), ``calculate``
    their mean, ``backward`` the gradient of that mean with respect to the logits)."""

    def _log_probs(self, logits):
        z = logits - np.max(logits, axis=-1, keepdims=True)
        return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))

    def forward(self, y_pred, y_true):
        picked = np.take_along_axis(self._log_probs(y_pred), np.asarray(y_true)[..., None], axis=-1)[..., 0]
        return -np.mean(picked, axis=1)

    def calculate(self, y_pred, y_true):
        return float(np.mean(self.forward(y_pred, y_true)))

    def backward(self, dvalues, y_true):
        N, T, V = dvalues.shape
        grad = np.exp(self._log_probs(dvalues))
        grad -= np.eye(V)[np.asarray(y_true)]
        self.dinputs = grad / (N * T)
        return self.dinputs


class TokenAccuracy(AccuracyBinary):
    """The share of tokens predicted right: predictions and targets (N, T) compared entry
    by entry, which is what chapter 08's ``AccuracyBinary.compare`` does."""


def build_transformer(n_tokens, rng, n_layers=1, causal=False, positional=True, keep_last=None,
                      d_model=D_MODEL, n_heads=N_HEADS, d_ff=D_FF):
    """A small transformer as a chapter 08 ``Model`` (layers added, nothing set yet), its
    layers created from ``rng`` in this order:

        Embedding(n_tokens, d_model, rng)
        PositionalEncoding(d_model)                        (left out when positional=False)
        EncoderBlock(d_model, n_heads, d_ff, rng, causal=causal), n_layers times
        LayerNorm(d_model)                                 (pre-LN blocks need a final norm)
        TimeDense(d_model, n_tokens, rng)
        KeepLast(keep_last)                                (only when keep_last is given)
        TokenLogits()

    On ids (N, T) it returns logits (N, T', n_tokens), T' = T or keep_last."""
    model = Model()
    model.add(Embedding(n_tokens, d_model, rng))
    if positional:
        model.add(PositionalEncoding(d_model))
    for _ in range(n_layers):
        model.add(EncoderBlock(d_model, n_heads, d_ff, rng, causal=causal))
    model.add(LayerNorm(d_model))
    model.add(TimeDense(d_model, n_tokens, rng))
    if keep_last is not None:
        model.add(KeepLast(keep_last))
    model.add(TokenLogits())
    return model


def reversal_data(n, T, n_tokens, rng):
    """n sequences of the reversal task: draw ``X = rng.integers(0, n_tokens, size=(n, T))``
    (the only draw); the targets are every row reversed.

    returns: X (n, T) int, Y (n, T) int with ``Y[:, t] = X[:, T - 1 - t]``
    """
    # TODO(ch12): implement reversal_data (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement reversal_data")


def sort_data(n, length, n_tokens, rng):
    """n examples of the sorting task for a causal decoder: draw
    ``prompt = rng.integers(0, n_tokens, size=(n, length))`` (the only draw); the full
    sequence is the prompt followed by its sorted copy, S (n, 2 * length).

    returns: X = S[:, :-1] (n, 2 * length - 1), the tokens the decoder reads;
             Y = S[:, length:] (n, length), the answer: the tokens that positions
             length - 1, ..., 2 * length - 2 of X must predict
    """
    # TODO(ch12): implement sort_data (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement sort_data")


def train_model(model, X, Y, learning_rate, rng, batch_size=BATCH):
    """Train a model from ``build_transformer`` with your chapter 08 ``Model``:
    ``model.set(loss=TokenCrossEntropy(), optimizer=Adam(learning_rate=learning_rate),
    accuracy=TokenAccuracy())``, then one epoch over (X, Y) in shuffled batches,
    ``model.train(X, Y, epochs=1, batch_size=batch_size, rng=rng, progress=False)``.

    X: (n, T) int token ids; Y: (n, T') int targets; rng: np.random.Generator
    returns: the history ``model.train`` returned
    """
    # TODO(ch12): implement train_model (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement train_model")


def train_reversal(rng, steps=REVERSAL_STEPS, positional=True):
    """``model = build_transformer(REVERSAL_V, rng, n_layers=REVERSAL_LAYERS,
    positional=positional)``; ``X, Y = reversal_data(steps * BATCH, REVERSAL_T, REVERSAL_V,
    rng)``; ``train_model(model, X, Y, REVERSAL_LEARNING_RATE, rng)``: ``steps`` batches of
    fresh sequences. returns: (model, history)"""
    model = build_transformer(REVERSAL_V, rng, n_layers=REVERSAL_LAYERS, positional=positional)
    X, Y = reversal_data(steps * BATCH, REVERSAL_T, REVERSAL_V, rng)
    return model, train_model(model, X, Y, REVERSAL_LEARNING_RATE, rng)


def train_sorter(rng, steps=SORT_STEPS, causal=True):
    """``model = build_transformer(SORT_V, rng, n_layers=SORT_LAYERS, causal=causal,
    keep_last=SORT_LEN)`` (the loss scores only the answer); ``X, Y = sort_data(steps *
    BATCH, SORT_LEN, SORT_V, rng)``; ``train_model(model, X, Y, SORT_LEARNING_RATE, rng)``.
    returns: (model, history)"""
    model = build_transformer(SORT_V, rng, n_layers=SORT_LAYERS, causal=causal, keep_last=SORT_LEN)
    X, Y = sort_data(steps * BATCH, SORT_LEN, SORT_V, rng)
    return model, train_model(model, X, Y, SORT_LEARNING_RATE, rng)


def greedy_decode(model, prompts, n_new):
    """Write ``n_new`` tokens after each prompt, one at a time: run the model on the
    sequences so far (N, t), take the logits of the last step of each sequence and append
    their argmax (the lowest id on a tie). prompts: (N, L) int.

    returns: (N, n_new) int, the new tokens"""
    seqs = np.asarray(prompts)
    for _ in range(n_new):
        logits = np.asarray(model.predict(seqs))[:, -1]
        seqs = np.concatenate([seqs, np.argmax(logits, axis=1)[:, None]], axis=1)
    return seqs[:, -n_new:]
