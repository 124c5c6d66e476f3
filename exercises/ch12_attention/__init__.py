"""Chapter 12: attention (scaled dot-product attention with masks, multi-head attention,
layer normalization, positional encodings, the pre-LN transformer encoder block, and two
tasks: sequence reversal and a causal decoder that sorts by greedy decoding).

Exports the course so far (chapter 11's package) plus this chapter's.
"""

from ..ch11_recurrent import *  # noqa: F403  (the course so far)
from ..ch11_recurrent import __all__ as _course_so_far
from .attention import attention_backward, attention_forward, causal_mask, merge_heads, split_heads
from .encoder import EncoderBlock
from .layernorm import LayerNorm
from .multihead import MultiHeadAttention
from .positional import PositionalEncoding, PositionEmbedding, sinusoidal_encoding
from .tasks import (BATCH, D_FF, D_MODEL, N_HEADS, REVERSAL_LAYERS, REVERSAL_LEARNING_RATE, REVERSAL_STEPS,
                    REVERSAL_T, REVERSAL_V, SORT_LAYERS, SORT_LEARNING_RATE, SORT_LEN, SORT_STEPS, SORT_V, KeepLast,
                    TokenAccuracy, TokenCrossEntropy, TokenLogits, build_transformer, greedy_decode, reversal_data,
                    sort_data, train_model, train_reversal, train_sorter)

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "BATCH", "D_FF", "D_MODEL", "N_HEADS",
    "REVERSAL_LAYERS", "REVERSAL_LEARNING_RATE", "REVERSAL_STEPS", "REVERSAL_T", "REVERSAL_V",
    "SORT_LAYERS", "SORT_LEARNING_RATE", "SORT_LEN", "SORT_STEPS", "SORT_V",
    "EncoderBlock", "KeepLast", "LayerNorm", "MultiHeadAttention", "PositionEmbedding", "PositionalEncoding",
    "TokenAccuracy", "TokenCrossEntropy", "TokenLogits",
    "attention_backward", "attention_forward", "build_transformer", "causal_mask", "greedy_decode",
    "merge_heads", "reversal_data", "sinusoidal_encoding", "sort_data", "split_heads", "train_model",
    "train_reversal", "train_sorter",
] if name not in _course_so_far]

# Model files (chapter 08) may name this chapter's layers; each keeps its constructor's
# numbers as attributes of the same names.
for _cls, _args in [(MultiHeadAttention, ("d_model", "n_heads", "causal")), (LayerNorm, ("n_features", "epsilon")),
                    (PositionalEncoding, ("d_model",)), (PositionEmbedding, ("max_len", "d_model")),
                    (EncoderBlock, ("d_model", "n_heads", "d_ff", "causal")), (KeepLast, ("k",)),
                    (TokenLogits, ())]:
    register_layer(_cls, _args)  # noqa: F405  (chapter 08's, from the course so far)
