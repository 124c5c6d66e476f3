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

from ..ch11_recurrent import Adam, Embedding, Layer, MergeSteps, SoftmaxCrossEntropy, Stack, TimeDense, predict
from ..ch11_recurrent import clipped_train_step
from .encoder import EncoderBlock
from .layernorm import LayerNorm
from .positional import PositionalEncoding

# The settings the grader trains with.
D_MODEL, N_HEADS, D_FF = 32, 2, 64
LEARNING_RATE, BATCH, MAX_NORM = 3e-3, 64, 1.0
REVERSAL_T, REVERSAL_V, REVERSAL_STEPS, REVERSAL_LAYERS = 8, 10, 120, 1
SORT_LEN, SORT_V, SORT_STEPS, SORT_LAYERS = 6, 3, 200, 1


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


def build_transformer(n_tokens, rng, n_layers=1, causal=False, positional=True, keep_last=None,
                      d_model=D_MODEL, n_heads=N_HEADS, d_ff=D_FF):
    """A small transformer as a list of layers, created from ``rng`` in this order:

        Embedding(n_tokens, d_model, rng)
        PositionalEncoding(d_model)                        (left out when positional=False)
        Stack([EncoderBlock(d_model, n_heads, d_ff, rng, causal=causal) for each layer])
        LayerNorm(d_model)                                 (pre-LN blocks need a final norm)
        TimeDense(d_model, n_tokens, rng)
        KeepLast(keep_last)                                (only when keep_last is given)
        MergeSteps()

    On ids (N, T) it returns logits (N * T', n_tokens), row n * T' + t for step t of
    sequence n (T' = T, or keep_last)."""
    layers = [Embedding(n_tokens, d_model, rng)]
    if positional:
        layers.append(PositionalEncoding(d_model))
    layers.append(Stack([EncoderBlock(d_model, n_heads, d_ff, rng, causal=causal) for _ in range(n_layers)]))
    layers += [LayerNorm(d_model), TimeDense(d_model, n_tokens, rng)]
    if keep_last is not None:
        layers.append(KeepLast(keep_last))
    layers.append(MergeSteps())
    return layers


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


def train_steps(layers, data, steps, rng, learning_rate=LEARNING_RATE, batch_size=BATCH, max_norm=MAX_NORM):
    """Train ``layers`` on fresh batches: each of the ``steps`` steps draws
    ``X, Y = data(batch_size, rng)`` and takes one chapter 11 ``clipped_train_step(layers,
    loss, optimizer, X, Y.reshape(-1), max_norm)``, with ``loss = SoftmaxCrossEntropy()``
    and ``optimizer = Adam(learning_rate=learning_rate)`` created once.

    returns: the list of the ``steps`` training losses
    """
    # TODO(ch12): implement train_steps (the docstring gives the shapes).
    raise NotImplementedError("ch12: implement train_steps")


def train_reversal(rng, steps=REVERSAL_STEPS, positional=True):
    """``layers = build_transformer(REVERSAL_V, rng, n_layers=REVERSAL_LAYERS,
    positional=positional)``, then ``train_steps`` on ``reversal_data(batch, REVERSAL_T,
    REVERSAL_V, rng)``. returns: (layers, losses)"""
    layers = build_transformer(REVERSAL_V, rng, n_layers=REVERSAL_LAYERS, positional=positional)
    losses = train_steps(layers, lambda n, r: reversal_data(n, REVERSAL_T, REVERSAL_V, r), steps, rng)
    return layers, losses


def train_sorter(rng, steps=SORT_STEPS, causal=True):
    """``layers = build_transformer(SORT_V, rng, n_layers=SORT_LAYERS, causal=causal,
    keep_last=SORT_LEN)``, then ``train_steps`` on ``sort_data(batch, SORT_LEN, SORT_V, rng)``
    (the loss scores only the answer). returns: (layers, losses)"""
    layers = build_transformer(SORT_V, rng, n_layers=SORT_LAYERS, causal=causal, keep_last=SORT_LEN)
    losses = train_steps(layers, lambda n, r: sort_data(n, SORT_LEN, SORT_V, r), steps, rng)
    return layers, losses


def greedy_decode(layers, prompts, n_new, n_tokens):
    """Write ``n_new`` tokens after each prompt, one at a time: run the model on the
    sequences so far (N, t), take the logits of the last step of each sequence and append
    their argmax (the lowest id on a tie). prompts: (N, L) int.

    returns: (N, n_new) int, the new tokens"""
    seqs = np.asarray(prompts)
    for _ in range(n_new):
        logits = np.asarray(predict(layers, seqs)).reshape(len(seqs), -1, n_tokens)[:, -1]
        seqs = np.concatenate([seqs, np.argmax(logits, axis=1)[:, None]], axis=1)
    return seqs[:, -n_new:]
