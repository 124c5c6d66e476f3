# Generated from solutions/ch14_transfer/sequences.py by `nox -s stubs`: fill in the TODOs below.
"""A tiny BERT-like encoder, pretrained by masked-token prediction, fine-tuned to classify
sequences from a few labels.

The data is made by code: two random sparse Markov chains over ``N_SYMBOLS`` symbols (from
every symbol, each chain can go to three others), and sequences of ``SEQ_T`` symbols drawn
from one of them. The task: which chain made a sequence? The course pretrained chapter
12's encoder (``build_transformer(N_TOKENS, rng, n_layers=2)``) on unlabelled sequences of
both chains by **masked-token prediction**: hide some symbols, predict them from the others
(the course's reference recipe made ``data/pretrained/encoder-mlm.npz``).
To fill a blank, the encoder has to learn which symbols follow which, the very thing that
tells the chains apart.
"""

import copy

import numpy as np

from ..ch13_generative import Adam, Dense, Layer, Softmax, build_transformer
from .few_labels import assemble
from .freezing import HEAD_LR, fine_tune_groups

N_SYMBOLS, SEQ_T = 24, 16
MASK_ID, N_TOKENS = N_SYMBOLS, N_SYMBOLS + 1  # the mask is one more token
CHAIN_SEED, MASK_RATE = 140, 0.15
ENCODER_BODY_LAYERS = 5  # Embedding, PositionalEncoding, EncoderBlock, EncoderBlock, LayerNorm
ENCODER_D = 32
SEQ_STEPS = 40
SEQ_STRATEGIES = ("finetune", "scratch")


def markov_chains(seed=CHAIN_SEED, n_symbols=N_SYMBOLS, n_next=3):
    """The two chains (given): (2, S, S) transition matrices; from each symbol, ``n_next``
    distinct next symbols (``rng.choice``) with Dirichlet(1) probabilities, chain 0's rows
    first, all from ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    chains = np.zeros((2, n_symbols, n_symbols))
    for c in range(2):
        for s in range(n_symbols):
            nxt = rng.choice(n_symbols, n_next, replace=False)
            chains[c, s, nxt] = rng.dirichlet(np.ones(n_next))
    return chains


def chain_sequences(labels, rng, T=SEQ_T, chains=None):
    """(n, T) int sequences, row i drawn from chain ``labels[i]`` (given): the first symbol
    uniform, then one ``rng.random`` per step for the whole batch, read through each row's
    cumulative transition probabilities."""
    chains = markov_chains() if chains is None else chains
    labels = np.asarray(labels)
    X = np.zeros((len(labels), T), dtype=np.int64)
    X[:, 0] = rng.integers(0, chains.shape[1], size=len(labels))
    for t in range(1, T):
        u = rng.random(len(labels))
        cdf = np.cumsum(chains[labels, X[:, t - 1]], axis=1)
        X[:, t] = np.minimum(np.sum(cdf <= u[:, None], axis=1), chains.shape[1] - 1)
    return X


def mask_tokens(ids, rng, rate=MASK_RATE, mask_id=MASK_ID, n_symbols=N_SYMBOLS):
    """Masked-token corruption, as the encoder was pretrained with.

    Draw, in this order and each of the shape of ``ids``: ``selected = rng.random(shape) <
    rate``, ``r = rng.random(shape)``, ``random_ids = rng.integers(0, n_symbols, shape)``.
    A selected position becomes ``mask_id`` when ``r < 0.8``, ``random_ids`` there when
    ``r >= 0.9``, and keeps its id otherwise (so the model cannot trust an unmasked symbol
    either); every other position keeps its id.

    ids: (N, T) int. returns: ``(inputs, selected)``: (N, T) int and (N, T) bool (the
    positions the loss scores). ``ids`` is not modified.
    """
    # TODO(ch14): implement mask_tokens (the docstring gives the shapes).
    raise NotImplementedError("ch14: implement mask_tokens")


class MeanPool(Layer):
    """(N, T, D) -> (N, D): the mean over the T positions, one vector per sequence. No
    parameters."""

    def forward(self, inputs, training=False):
        """inputs: (N, T, D). returns: (N, D), ``inputs.mean(axis=1)``; keeps T for backward."""
        # TODO(ch14): implement MeanPool.forward (the docstring gives the shapes).
        raise NotImplementedError("ch14: implement MeanPool.forward")

    def backward(self, dvalues):
        """dvalues: (N, D). Sets and returns ``self.dinputs`` (N, T, D): each position gets
        ``dvalues / T``."""
        # TODO(ch14): implement MeanPool.backward (the docstring gives the shapes).
        raise NotImplementedError("ch14: implement MeanPool.backward")


def fit_sequence_classifier(pretrained, X, y, strategy, rng, steps=SEQ_STEPS):
    """Classify sequences with the encoder: fine-tuned from the pretrained one, or from scratch.

    body: ``copy.deepcopy(pretrained.layers[:ENCODER_BODY_LAYERS])`` ("finetune": the
    embedding, positions, both blocks and the final layer norm; the masked-token output
    layer is left behind) or ``build_transformer(N_TOKENS, rng,
    n_layers=2).layers[:ENCODER_BODY_LAYERS]`` ("scratch"); then the head ``[MeanPool(),
    Dense(ENCODER_D, 2, rng, weight_scale=sqrt(2 / ENCODER_D)), Softmax()]``. Train
    ``assemble(body + head, optimizer)`` with ``fine_tune_groups(body, head)``
    ("finetune") or ``Adam(learning_rate=HEAD_LR)`` ("scratch"), ``model.train(X, y,
    epochs=steps, batch_size=None, rng=None, progress=False)``.

    pretrained: the loaded encoder ``Model`` (not changed); X: (N, T) int; y: (N,) labels
    0/1; rng: np.random.Generator. returns: the trained ``Model`` (ids in, (N, 2)
    probabilities out). raises: ValueError for an unknown strategy.
    """
    # TODO(ch14): implement fit_sequence_classifier (the docstring gives the shapes).
    raise NotImplementedError("ch14: implement fit_sequence_classifier")
