"""Chapter 11: recurrent networks (Embedding, RNN, LSTM and GRU cells and layers with
backpropagation through time, stacking, clipping by global norm, the adding problem and
a character-level language model).

Exports every class and function of the course so far (chapter 10's package), plus this
chapter's.
"""

from ..ch10_convnets import *  # noqa: F403  (the course so far)
from ..ch10_convnets import __all__ as _EARLIER
from ..ch10_convnets import register_layer
from .adding import (ADDING_BATCH, ADDING_HIDDEN, ADDING_LEARNING_RATE, ADDING_MAX_NORM, ADDING_STEPS, CELLS,
                     adding_data, clipped_train_step, train_adding)
from .char_model import (CHAR_BATCH, CHAR_EMBEDDING, CHAR_HIDDEN, CHAR_LEARNING_RATE, CHAR_MAX_NORM, CHAR_STEPS,
                         CHAR_T, TEXT_FILE, TRAIN_FRACTION, build_char_model, build_vocabulary, char_batches, decode,
                         encode, load_text, sample, train_char_model)
from .clipping import clip_grad_norm, global_norm
from .embedding import Embedding
from .gru import GRU, GRUCell
from .lstm import LSTM, LSTMCell, sigmoid
from .rnn import RNN, RNNCell, uniform_init
from .stack import LastStep, MergeSteps, Stack, TimeDense

# Model files may hold this chapter's layers (chapter 08's allow-list), rebuilt from these
# constructor arguments; their arrays are found through parameters().
for _cls, _args in ((RNN, ("n_inputs", "n_hidden")), (LSTM, ("n_inputs", "n_hidden")), (GRU, ("n_inputs", "n_hidden")),
                    (Embedding, ("n_tokens", "n_dims")), (TimeDense, ("n_inputs", "n_outputs")), (LastStep, ()),
                    (MergeSteps, ())):
    register_layer(_cls, _args)

# The course so far, then this chapter's new names.
__all__ = _EARLIER + [name for name in [
    "ADDING_BATCH",
    "ADDING_HIDDEN",
    "ADDING_LEARNING_RATE",
    "ADDING_MAX_NORM",
    "ADDING_STEPS",
    "CELLS",
    "adding_data",
    "clipped_train_step",
    "train_adding",
    "CHAR_BATCH",
    "CHAR_EMBEDDING",
    "CHAR_HIDDEN",
    "CHAR_LEARNING_RATE",
    "CHAR_MAX_NORM",
    "CHAR_STEPS",
    "CHAR_T",
    "Embedding",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "LastStep",
    "MergeSteps",
    "RNN",
    "RNNCell",
    "Stack",
    "TEXT_FILE",
    "TRAIN_FRACTION",
    "TimeDense",
    "build_char_model",
    "build_vocabulary",
    "char_batches",
    "decode",
    "encode",
    "load_text",
    "sample",
    "train_char_model",
    "clip_grad_norm",
    "global_norm",
    "sigmoid",
    "uniform_init",
] if name not in _EARLIER]
