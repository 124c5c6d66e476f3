"""Chapter 13: generative models (an MLP autoencoder; a variational autoencoder with the
reparameterization, the KL term and the ELBO; a small U-Net with upsampling and skip
connections, trained on shapes made by code).

Exports the course so far (the previous chapter's package) plus this chapter's.
"""

from ..ch12_attention import *  # noqa: F403  (the course so far)
from ..ch12_attention import __all__ as _course_so_far
from .autoencoder import (AE_BATCH, AE_EPOCHS, AE_HIDDEN, AE_LATENT, AE_LEARNING_RATE, Autoencoder,
                          BinaryCrossEntropyWithLogits, named_arrays, run_backward, run_forward, sigmoid_stable,
                          train_autoencoder)
from .shapes import foreground_iou, make_shapes
from .unet import (UNET_BATCH, UNET_CHANNELS, UNET_EPOCHS, UNET_LEARNING_RATE, PixelCrossEntropy, UNet, Upsample2D,
                   concat_channels, pixel_softmax, split_channels, train_unet)
from .vae import (VAE, VAE_BATCH, VAE_EPOCHS, VAE_HIDDEN, VAE_LATENT, VAE_LEARNING_RATE, kl_divergence,
                  kl_divergence_backward, reparameterize, reparameterize_backward, train_vae)

# The course so far, then this chapter's new names (a name it replaces keeps its place).
__all__ = _course_so_far + [name for name in [
    "AE_BATCH", "AE_EPOCHS", "AE_HIDDEN", "AE_LATENT", "AE_LEARNING_RATE", "Autoencoder",
    "BinaryCrossEntropyWithLogits", "named_arrays", "run_backward", "run_forward", "sigmoid_stable",
    "train_autoencoder",
    "foreground_iou", "make_shapes",
    "UNET_BATCH", "UNET_CHANNELS", "UNET_EPOCHS", "UNET_LEARNING_RATE", "PixelCrossEntropy", "UNet", "Upsample2D",
    "concat_channels", "pixel_softmax", "split_channels", "train_unet",
    "VAE", "VAE_BATCH", "VAE_EPOCHS", "VAE_HIDDEN", "VAE_LATENT", "VAE_LEARNING_RATE", "kl_divergence",
    "kl_divergence_backward", "reparameterize", "reparameterize_backward", "train_vae",
] if name not in _course_so_far]
