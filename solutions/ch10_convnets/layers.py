"""The layers of a convolutional network: ``Conv2D``, ``MaxPool2D`` and ``Flatten``.

They follow the course's layer contract: ``forward(inputs, training=False)`` stores what
backward needs and returns the output; ``backward(dvalues)`` sets ``self.dinputs`` and
returns it. They also follow the parameter protocol: ``parameters()`` returns the live
parameter arrays by name, ``gradients()`` the gradients of the last backward under the
same names, and ``trainable`` (True unless frozen) tells an optimizer whether to update
them. So a ``Model`` trains, saves and freezes them like a ``Dense``.
"""

import numpy as np

from ..ch09_mnist import Layer
from .im2col import col2im, conv_output_size, im2col


class Conv2D(Layer):
    """A 2-d convolution layer (a cross-correlation, as every framework computes it).

    Attributes:
        weights:  (F, C, K, K) float64, F = out_channels filters over C = in_channels
        biases:   (F,) float64, one per filter, zeros at first
        stride, padding, kernel_size: ints
        dweights, dbiases, dinputs: set by ``backward``
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, rng=None,
                 weight_scale=None):
        """in_channels C, out_channels F, kernel_size K: ints; stride >= 1, padding >= 0: ints;
        rng: np.random.Generator (None: ``np.random.default_rng(0)``);
        weight_scale: float, or None for He initialisation ``sqrt(2 / (C * K * K))``.

        ``weights = weight_scale * rng.standard_normal((F, C, K, K))`` (one draw, the only
        use of rng); ``biases = np.zeros(F)``; ``trainable = True``.
        """
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        self.trainable = True
        ### BEGIN SOLUTION
        if rng is None:
            rng = np.random.default_rng(0)
        if weight_scale is None:
            weight_scale = np.sqrt(2.0 / (in_channels * kernel_size * kernel_size))
        self.weights = weight_scale * rng.standard_normal((out_channels, in_channels, kernel_size, kernel_size))
        self.biases = np.zeros(out_channels)
        self.dweights = np.zeros_like(self.weights)
        self.dbiases = np.zeros_like(self.biases)
        ### END SOLUTION

    def parameters(self):
        """{"weights": self.weights, "biases": self.biases}: the live arrays (not copies)."""
        return {"weights": self.weights, "biases": self.biases}

    def gradients(self):
        """{"weights": self.dweights, "biases": self.dbiases}, as the last backward set them."""
        return {"weights": self.dweights, "biases": self.dbiases}

    def buffers(self):
        """{}: no running statistics."""
        return {}

    def regularizers(self):
        """{}: no penalty."""
        return {}

    def forward(self, inputs, training=False):
        """inputs: (N, C, H, W); training: unused (the layer is the same in training).

        returns: (N, F, OH, OW), ``OH = conv_output_size(H, K, stride, padding)`` (OW
                 likewise), with
                 ``out[n, f, oh, ow] = biases[f] + sum over c, p, q of
                 weights[f, c, p, q] * xp[n, c, oh * stride + p, ow * stride + q]``
                 (xp: the inputs zero-padded by ``padding``). No kernel flip.

        Compute it as one matrix product: ``cols = im2col(inputs, K, K, stride, padding)``
        (N*OH*OW, C*K*K) times ``weights.reshape(F, -1).T`` (C*K*K, F), plus the biases,
        then reshape (N, OH, OW, F) and move the filter axis to position 1. Keep
        ``self.inputs`` (or its shape) and ``self.cols`` for backward.
        """
        ### BEGIN SOLUTION
        N, C, H, W = inputs.shape
        K, s, p = self.kernel_size, self.stride, self.padding
        out_h, out_w = conv_output_size(H, K, s, p), conv_output_size(W, K, s, p)
        self.inputs = inputs
        self.cols = im2col(inputs, K, K, s, p)
        F = self.weights.shape[0]
        # The same product, transposed: (F, C*K*K) @ (C*K*K, N*OH*OW) gives every filter's
        # outputs as one long row, so the move to (N, F, OH, OW) keeps OH*OW blocks whole.
        out = self.weights.reshape(F, -1) @ self.cols.T + self.biases.reshape(F, 1)
        self.output = out.reshape(F, N, out_h, out_w).transpose(1, 0, 2, 3)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, F, OH, OW), the gradient of the loss with respect to the output.

        Sets (and returns the last):
            dbiases:  (F,)  dvalues summed over the batch and both spatial axes
            dweights: (F, C, K, K)  summed over the batch: with ``d = dvalues`` moved to
                      (N*OH*OW, F), ``(d.T @ cols).reshape(weights.shape)``
            dinputs:  (N, C, H, W)  ``col2im(d @ weights.reshape(F, -1), ...)``: the
                      gradients of overlapping windows add up, and the padding is cropped

        When ``self.input_gradient`` is False (the first layer of a network, chapter 08's
        ``finalize``: its inputs are the images), it sets dbiases and dweights as above,
        ``self.dinputs = None``, and returns None without the product and the ``col2im``.
        """
        ### BEGIN SOLUTION
        F = self.weights.shape[0]
        K, s, p = self.kernel_size, self.stride, self.padding
        d_t = dvalues.transpose(1, 0, 2, 3).reshape(F, -1)  # d.T: (F, N*OH*OW)
        self.dbiases = d_t.sum(axis=1)
        self.dweights = (d_t @ self.cols).reshape(self.weights.shape)
        if not self.input_gradient:  # nothing reads the images' gradient
            self.dinputs = None
            return None
        # d @ W.reshape(F, -1), computed as the transpose of (W.reshape(F, -1).T @ d.T):
        # the same values, laid out in memory as col2im reads them fastest.
        dcols = (self.weights.reshape(F, -1).T @ d_t).T
        self.dinputs = col2im(dcols, self.inputs.shape, K, K, s, p)
        return self.dinputs
        ### END SOLUTION


class MaxPool2D(Layer):
    """Max pooling over K x K windows, channel by channel.

    The tie rule: when several entries of a window share its maximum, the **first** of
    them in reading order (row by row, top-left first, as ``np.argmax`` of the flattened
    window finds it) is the maximum; only it receives the window's gradient.
    """

    def __init__(self, kernel_size=2, stride=None):
        """kernel_size K: int; stride: int, or None for ``stride = kernel_size``
        (windows side by side, no overlap). ``trainable = True`` (nothing to train)."""
        self.kernel_size = int(kernel_size)
        self.stride = int(kernel_size if stride is None else stride)
        self.trainable = True

    def parameters(self):
        """{}: no parameters."""
        return {}

    def gradients(self):
        """{}: no parameters."""
        return {}

    def buffers(self):
        """{}: no running statistics."""
        return {}

    def regularizers(self):
        """{}: no penalty."""
        return {}

    def forward(self, inputs, training=False):
        """inputs: (N, C, H, W); training: unused.

        returns: (N, C, OH, OW) with ``OH = conv_output_size(H, K, stride)`` (no padding;
                 rows or columns that do not fill a window are left out), each entry the
                 maximum of its window ``inputs[n, c, oh*stride:oh*stride+K,
                 ow*stride:ow*stride+K]``. Keep what backward needs: the position of the
                 maximum chosen by the tie rule in each window.

        Hint: ``im2col`` of the inputs reshaped to (N*C, 1, H, W) gives one window per row.
        """
        ### BEGIN SOLUTION
        N, C, H, W = inputs.shape
        K, s = self.kernel_size, self.stride
        out_h, out_w = conv_output_size(H, K, s), conv_output_size(W, K, s)
        self.input_shape = inputs.shape
        cols = im2col(inputs.reshape(N * C, 1, H, W), K, K, s)
        self.argmax = np.argmax(cols, axis=1)
        self.output = cols[np.arange(len(cols)), self.argmax].reshape(N, C, out_h, out_w)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, C, OH, OW).

        Sets and returns ``dinputs``, (N, C, H, W): each window's gradient goes to the one
        entry its forward chose (the tie rule), every other entry of the window gets 0; an
        entry that is the chosen maximum of several overlapping windows (stride < K)
        receives the sum of their gradients; entries outside every window get 0.
        """
        ### BEGIN SOLUTION
        N, C, H, W = self.input_shape
        K, s = self.kernel_size, self.stride
        dcols = np.zeros((dvalues.size, K * K), dtype=dvalues.dtype)
        dcols[np.arange(dvalues.size), self.argmax] = dvalues.reshape(-1)
        self.dinputs = col2im(dcols, (N * C, 1, H, W), K, K, s).reshape(N, C, H, W)
        return self.dinputs
        ### END SOLUTION


class Flatten(Layer):
    """From feature maps to the rows a ``Dense`` layer takes."""

    def __init__(self):
        self.trainable = True

    def parameters(self):
        """{}: no parameters."""
        return {}

    def gradients(self):
        """{}: no parameters."""
        return {}

    def buffers(self):
        """{}: no running statistics."""
        return {}

    def regularizers(self):
        """{}: no penalty."""
        return {}

    def forward(self, inputs, training=False):
        """inputs: (N, d1, d2, ...), e.g. (N, C, H, W); training: unused.

        returns: (N, d1 * d2 * ...): each sample's values in C order, so for feature maps
                 the channel index varies slowest (``out[n, (c * H + i) * W + j] =
                 inputs[n, c, i, j]``). Keep the input shape for backward.
        """
        ### BEGIN SOLUTION
        self.input_shape = inputs.shape
        self.output = inputs.reshape(inputs.shape[0], -1)
        return self.output
        ### END SOLUTION

    def backward(self, dvalues):
        """dvalues: (N, d1 * d2 * ...). Sets and returns ``dinputs``: dvalues in the shape
        of the last forward's inputs (the inverse of forward's reshape)."""
        ### BEGIN SOLUTION
        self.dinputs = dvalues.reshape(self.input_shape)
        return self.dinputs
        ### END SOLUTION
