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
    ### BEGIN SOLUTION
    padded = size + 2 * padding
    if padded < kernel:
        raise ValueError(f"a window of {kernel} does not fit in {size} values padded by {padding}")
    return (padded - kernel) // stride + 1
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    out_h = conv_output_size(H, kernel_h, stride, padding)
    out_w = conv_output_size(W, kernel_w, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    # Filled as the transpose, one row per weight (c, p, q) and one column per position
    # (n, oh, ow): each (p, q) then writes C whole rows at once, and ``.T`` at the end is
    # the (N*OH*OW, C*KH*KW) matrix as a view, with no second copy. (The values are those
    # of the formula above; only the order in memory differs, which matrix products and
    # col2im read fastest.)
    cols = np.empty((C, kernel_h, kernel_w, N, out_h, out_w), dtype=xp.dtype)
    for p in range(kernel_h):
        for q in range(kernel_w):
            window = xp[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride]
            cols[:, p, q] = window.transpose(1, 0, 2, 3)
    return cols.reshape(C * kernel_h * kernel_w, N * out_h * out_w).T
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    N, C, H, W = x_shape
    out_h = conv_output_size(H, kernel_h, stride, padding)
    out_w = conv_output_size(W, kernel_w, stride, padding)
    cols = cols.reshape(N, out_h, out_w, C, kernel_h, kernel_w).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for p in range(kernel_h):
        for q in range(kernel_w):
            xp[:, :, p:p + stride * out_h:stride, q:q + stride * out_w:stride] += cols[:, :, p, q]
    return xp[:, :, padding:padding + H, padding:padding + W]
    ### END SOLUTION
