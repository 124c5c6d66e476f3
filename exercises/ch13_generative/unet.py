# Generated from solutions/ch13_generative/unet.py by `nox -s stubs`: fill in the TODOs below.
"""A small U-Net for per-pixel classification (segmentation), built from chapter 10's
``Conv2D`` and ``MaxPool2D`` and three new pieces: 2x nearest-neighbour upsampling, the
concatenation of a skip connection, and the per-pixel softmax cross-entropy.

Shapes for an input (N, C_in, H, W), H and W even, c = ``channels``:

    down:     Conv2D(C_in, c, 3, padding=1), ReLU        -> a1 (N, c, H, W)      the skip
    pool:     MaxPool2D(2)                               ->    (N, c, H/2, W/2)
    bottom:   Conv2D(c, 2c, 3, padding=1), ReLU          ->    (N, 2c, H/2, W/2)
    upsample: Upsample2D()                               -> u  (N, 2c, H, W)
    concat:   concat_channels(a1, u)                     ->    (N, 3c, H, W)  skip FIRST
    up:       Conv2D(3c, c, 3, padding=1), ReLU          ->    (N, c, H, W)
    head:     Conv2D(c, n_classes, 1)                    -> logits (N, n_classes, H, W)

The class of a pixel is the argmax of its logits over axis 1 (its softmax).
"""

import numpy as np

from ..ch10_convnets import Conv2D, MaxPool2D
from ..ch11_recurrent import Adam, Layer, ReLU

# The training settings the grader uses.
UNET_CHANNELS = 4
UNET_EPOCHS = 3
UNET_BATCH = 16
UNET_LEARNING_RATE = 5e-3


class Upsample2D(Layer):
    """2x nearest-neighbour upsampling: every value becomes a 2 x 2 block of copies."""

    def forward(self, inputs, training=False):
        """inputs: (N, C, H, W). returns: (N, C, 2H, 2W) with
        ``out[n, c, i, j] = inputs[n, c, i // 2, j // 2]``."""
        # TODO(ch13): implement Upsample2D.forward (the docstring gives the shapes).
        raise NotImplementedError("ch13: implement Upsample2D.forward")

    def backward(self, dvalues):
        """dvalues: (N, C, 2H, 2W). Sets and returns ``self.dinputs`` (N, C, H, W): each
        input value was copied to four outputs, so its gradient is the **sum** of the four
        gradients of its 2 x 2 block."""
        # TODO(ch13): implement Upsample2D.backward (the docstring gives the shapes).
        raise NotImplementedError("ch13: implement Upsample2D.backward")


def concat_channels(skip, up):
    """skip: (N, Cs, H, W); up: (N, Cu, H, W). returns: (N, Cs + Cu, H, W), the skip's
    channels first, then the upsampled ones."""
    # TODO(ch13): implement concat_channels (the docstring gives the shapes).
    raise NotImplementedError("ch13: implement concat_channels")


def split_channels(dvalues, n_skip):
    """The backward of ``concat_channels``. dvalues: (N, Cs + Cu, H, W); n_skip: Cs.
    returns: ``(dskip, dup)``: the gradient of the first Cs channels (N, Cs, H, W) and of
    the others (N, Cu, H, W)."""
    # TODO(ch13): implement split_channels (the docstring gives the shapes).
    raise NotImplementedError("ch13: implement split_channels")


def pixel_softmax(logits):
    """logits: (N, K, H, W). returns: (N, K, H, W), the softmax over the class axis 1 at
    every pixel (each ``out[n, :, i, j]`` sums to 1), stable for huge logits."""
    # TODO(ch13): implement pixel_softmax (the docstring gives the shapes).
    raise NotImplementedError("ch13: implement pixel_softmax")


class PixelCrossEntropy:
    """Softmax cross-entropy at every pixel, on logits.

    Per image: the **mean** over its H x W pixels of ``-log p[label]`` where ``p =
    pixel_softmax(logits)``; ``calculate`` averages over the images.
    """

    def forward(self, y_pred, y_true):
        """y_pred: (N, K, H, W) logits; y_true: (N, H, W) int labels in [0, K).
        returns: (N,), the per-image mean over pixels of the cross-entropy (computed from
        log-softmax, ``z - max - log(sum(exp(z - max)))``, so finite for any logits)."""
        # TODO(ch13): implement PixelCrossEntropy.forward (the docstring gives the shapes).
        raise NotImplementedError("ch13: implement PixelCrossEntropy.forward")

    def calculate(self, y_pred, y_true):
        """The mean of ``forward`` over the images (a float)."""
        return float(np.mean(self.forward(y_pred, y_true)))

    def backward(self, dvalues, y_true):
        """dvalues: (N, K, H, W) the logits; y_true: (N, H, W). Sets and returns
        ``self.dinputs``: ``(pixel_softmax(logits) - one_hot(labels)) / (N * H * W)``,
        the one-hot along axis 1."""
        # TODO(ch13): implement PixelCrossEntropy.backward (the docstring gives the shapes).
        raise NotImplementedError("ch13: implement PixelCrossEntropy.backward")


class UNet(Layer):
    """The U-Net of the module docstring.

    Attributes: the layers ``down``, ``pool``, ``bottom``, ``upsample``, ``up``, ``head``
    (and three ReLUs ``relu_down``, ``relu_bottom``, ``relu_up``). ``parameters()`` /
    ``gradients()`` name the arrays ``"down.weights"``, ``"down.biases"``,
    ``"bottom.weights"``, ..., ``"head.biases"``.
    """

    LAYERS = ("down", "bottom", "up", "head")

    def __init__(self, in_channels, channels, n_classes, rng):
        """in_channels, channels (c), n_classes: ints; rng: np.random.Generator. The four
        ``Conv2D`` are created in the order down, bottom, up, head, each with its default
        He initialisation from ``rng``."""
        self.in_channels, self.channels, self.n_classes = in_channels, channels, n_classes
        # TODO(ch13): implement UNet.__init__ (the docstring gives the shapes).
        raise NotImplementedError("ch13: implement UNet.__init__")

    def parameters(self):
        return {f"{name}.{key}": array for name in self.LAYERS
                for key, array in getattr(self, name).parameters().items()}

    def gradients(self):
        return {f"{name}.{key}": array for name in self.LAYERS
                for key, array in getattr(self, name).gradients().items()}

    def forward(self, inputs, training=False):
        """inputs: (N, in_channels, H, W), H and W even. returns: the logits
        (N, n_classes, H, W), through the layers of the module docstring."""
        # TODO(ch13): implement UNet.forward (the docstring gives the shapes).
        raise NotImplementedError("ch13: implement UNet.forward")

    def backward(self, dvalues):
        """dvalues: (N, n_classes, H, W), the gradient with respect to the logits.
        Backward through every layer in reverse; at the concatenation, ``split_channels``
        gives the skip's share and the upsampled share; the skip's share is **added** to
        the gradient that reaches ``a1`` through the pooling branch, before the first
        ReLU. Sets and returns ``self.dinputs`` (N, in_channels, H, W)."""
        # TODO(ch13): implement UNet.backward (the docstring gives the shapes).
        raise NotImplementedError("ch13: implement UNet.backward")

    def predict(self, inputs):
        """inputs: (N, in_channels, H, W). returns: (N, H, W) int, the class of highest
        logit at every pixel (given)."""
        return np.argmax(self.forward(inputs), axis=1)


def train_unet(X, masks, rng, channels=UNET_CHANNELS, epochs=UNET_EPOCHS, batch_size=UNET_BATCH,
               learning_rate=UNET_LEARNING_RATE):
    """Train a U-Net with two classes (background 0, foreground 1).

    ``model = UNet(X.shape[1], channels, 2, rng)``, ``PixelCrossEntropy()``,
    ``Adam(learning_rate)``. Each epoch: ``order = rng.permutation(N)``; for every batch of
    ``batch_size`` consecutive indices of ``order``: forward (``training=True``),
    ``model.backward(loss.backward(logits, batch_masks))``, then the optimizer's three
    calls with ``update_params(model)``.

    X: (N, C, H, W) images; masks: (N, H, W) int labels; rng: np.random.Generator.
    returns: the trained ``UNet``; ``model.history`` the epochs' mean training losses.
    """
    # TODO(ch13): implement train_unet (the docstring gives the shapes).
    raise NotImplementedError("ch13: implement train_unet")
