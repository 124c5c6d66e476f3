# Generated from solutions/ch10_convnets/loops.py by `nox -s stubs`: fill in the TODOs below.
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
    # TODO(ch10): implement conv2d_loops (the docstring gives the shapes).
    raise NotImplementedError("ch10: implement conv2d_loops")
