"""A convolution written with loops: the slow form that the timing lab (``conv_lab.py``)
races against ``Conv2D``'s im2col."""

import numpy as np

from .im2col import conv_output_size


def conv2d_loops(x, weights, biases, stride=1, padding=0):
    """The convolution of ``Conv2D.forward``, computed one output value at a time.

    x:       (N, C, H, W); weights: (F, C, K, K); biases: (F,)
    stride:  int >= 1; padding: int >= 0
    returns: (N, F, OH, OW) with ``out[n, f, oh, ow] = biases[f] + sum(weights[f] *
             xp[n, :, oh*stride:oh*stride+K, ow*stride:ow*stride+K])``, xp the zero-padded
             input; the same values as ``Conv2D.forward``.

    Write it with four nested loops (over n, f, oh, ow) and one window product in the
    innermost: the slow form that the lab times.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    F, _, K, _ = weights.shape
    out_h, out_w = conv_output_size(H, K, stride, padding), conv_output_size(W, K, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty((N, F, out_h, out_w))
    for n in range(N):
        for f in range(F):
            for i in range(out_h):
                for j in range(out_w):
                    window = xp[n, :, i * stride:i * stride + K, j * stride:j * stride + K]
                    out[n, f, i, j] = np.sum(window * weights[f]) + biases[f]
    return out
    ### END SOLUTION
