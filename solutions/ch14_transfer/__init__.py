"""Chapter 14: transfer learning (loading the course's pretrained LeNet-5 into your own
layers with a forward check, freezing, a learning rate per group of layers, few-label
transfer from digits 0-4 to digits 5-9, and style transfer with Gram matrices).

Exports the course so far (the previous chapter's package) plus this chapter's.
"""

from ..ch13_generative import *  # noqa: F403  (the course so far)
from ..ch13_generative import __all__ as _course_so_far
from .few_labels import (BODY_LAYERS, FEW_STEPS, STRATEGIES, assemble, extract_features, fit_few_labels,
                         labelled_subset, load_digits, new_body, new_head)
from .freezing import BODY_LR, HEAD_LR, ParamGroups, fine_tune_groups, set_trainable
from .sequences import (ENCODER_BODY_LAYERS, ENCODER_D, MASK_ID, MASK_RATE, N_SYMBOLS, N_TOKENS, SEQ_STEPS,
                        SEQ_STRATEGIES, SEQ_T, MeanPool, chain_sequences, fit_sequence_classifier, markov_chains,
                        mask_tokens)
from .pretrained import (CHECK_ATOL, CHECK_FILE, ENCODER_CHECK_FILE, ENCODER_FILE, MODEL_FILE, PRETRAINED_DIR, check_forward, copy_parameters,
                         load_pretrained)
from .style import (CONTENT_LAYER, CONTENT_WEIGHT, STYLE_LAYERS, STYLE_LEARNING_RATE, STYLE_STEPS, STYLE_WEIGHT,
                    TV_WEIGHT, ImageParameter, content_loss, content_loss_backward, feature_maps, gram,
                    gram_backward, style_loss, style_loss_backward, style_targets, style_transfer_loss, stylize,
                    tv_loss, tv_loss_backward)

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "BODY_LAYERS", "FEW_STEPS", "STRATEGIES", "assemble", "extract_features", "fit_few_labels",
    "labelled_subset", "load_digits", "new_body", "new_head",
    "BODY_LR", "HEAD_LR", "ParamGroups", "fine_tune_groups", "set_trainable",
    "CHECK_ATOL", "CHECK_FILE", "ENCODER_CHECK_FILE", "ENCODER_FILE", "MODEL_FILE", "PRETRAINED_DIR", "check_forward", "copy_parameters",
    "load_pretrained",
    "ENCODER_BODY_LAYERS", "ENCODER_D", "MASK_ID", "MASK_RATE", "N_SYMBOLS", "N_TOKENS", "SEQ_STEPS",
    "SEQ_STRATEGIES", "SEQ_T", "MeanPool", "chain_sequences", "fit_sequence_classifier", "markov_chains",
    "mask_tokens",
    "CONTENT_LAYER", "CONTENT_WEIGHT", "STYLE_LAYERS", "STYLE_LEARNING_RATE", "STYLE_STEPS", "STYLE_WEIGHT",
    "TV_WEIGHT", "ImageParameter", "content_loss", "content_loss_backward", "feature_maps", "gram",
    "gram_backward", "style_loss", "style_loss_backward", "style_targets", "style_transfer_loss", "stylize",
    "tv_loss", "tv_loss_backward",
] if name not in _course_so_far]

# Model files (chapter 08) may name this chapter's layer.
register_layer(MeanPool, ())  # noqa: F405  (chapter 08's, from the course so far)
