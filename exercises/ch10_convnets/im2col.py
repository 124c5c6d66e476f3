# Generated from solutions/ch10_convnets/im2col.py by `nox -s stubs`: fill in the TODOs below.
"""Images to columns and back: the two reshapes that turn a convolution into one matrix
product.

Layout (the grader checks exactly this):

* images are NCHW: ``x[n, c, i, j]`` is channel ``c`` of image ``n`` at row ``i``,
  column ``j``;
* ``im2col`` returns one **row per output position** and one **column per weight** of a
  filter: ``cols[(n * OH + oh) * OW + ow, (c * KH + p) * KW + q] = xp[n, c, oh * s + p,
  ow * s + q]`` where ``xp`` is ``x`` zero-padded by ``padding`` on all four sides. The
  columns follow the order (channel, kernel row, kernel column), which is the order of
  ``W.reshape(F, -1)`` for weights ``W`` of shape (F, C, KH, KW).
"""

import numpy as np


def conv_output_size(size, kernel, stride=1, padding=0):
    """The number of positions of a window sliding over one axis.

    size: int, the input length along the axis (H or W); kernel: int, the window length;
    stride: int >= 1; padding: int >= 0, zeros added at both ends.
    returns: int, ``(size + 2 * padding - kernel) // stride + 1``: the last window must
             fit entirely inside the padded input (positions that do not fill a whole
             window are dropped).
    raises:  ValueError when the window does not fit even once
             (``size + 2 * padding < kernel``).
    """
    # TODO(ch10): implement conv_output_size (the docstring gives the shapes).
    raise NotImplementedError("ch10: implement conv_output_size")


def im2col(x, kernel_h, kernel_w, stride=1, padding=0):
    """Every window of a batch of images as one row of a matrix.

    x:        (N, C, H, W) array
    kernel_h, kernel_w: ints, the window's height and width
    stride:   int >= 1, the step between windows (the same along both axes)
    padding:  int >= 0, zeros added on all four sides before sliding
    returns:  (N * OH * OW, C * kernel_h * kernel_w) array with
              ``OH = conv_output_size(H, kernel_h, stride, padding)`` (OW likewise): row
              ``(n * OH + oh) * OW + ow`` holds the window of image n whose top-left
              corner is at padded position (oh * stride, ow * stride), its entries in the
              order (channel, kernel row, kernel column), i.e. the window
              ``xp[n, :, rows, cols]`` flattened in C order.

    Loop over the kernel positions (p, q), not over the pixels: each (p, q) moves a whole
    strided slice ``xp[:, :, p:p + stride * OH:stride, q:q + stride * OW:stride]`` at once.
    """
    # TODO(ch10): implement im2col (the docstring gives the shapes).
    raise NotImplementedError("ch10: implement im2col")


def col2im(cols, x_shape, kernel_h, kernel_w, stride=1, padding=0):
    """The adjoint of ``im2col``: every entry of ``cols`` added back onto the pixel it came from.

    cols:     (N * OH * OW, C * kernel_h * kernel_w) array laid out as ``im2col`` returns
    x_shape:  (N, C, H, W), the shape of the images ``im2col`` was applied to
    kernel_h, kernel_w, stride, padding: as given to ``im2col``
    returns:  (N, C, H, W) array: the padded image of zeros onto which each window is
              **added** (a pixel covered by several windows, as when stride < kernel,
              receives the sum of all its entries), with the padding cropped off.

    This is what the backward pass of a convolution needs: the gradient of
    ``sum(im2col(x) * cols)`` with respect to x, so that
    ``sum(im2col(x) * c) == sum(x * col2im(c, x.shape, ...))`` for every x and c.
    """
    # TODO(ch10): implement col2im (the docstring gives the shapes).
    raise NotImplementedError("ch10: implement col2im")
