# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 10: convolutional networks
#
# One small set of weights slid over every position of an image: the convolution. You write
# `exercises/ch10_convnets/` (`im2col.py`, `layers.py`, `loops.py`, `lenet.py`). Chapter
# text: `exercises/ch10_convnets/README.md`. Images are NCHW arrays: (batch, channels,
# rows, columns).

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch10")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from data.loaders import load_mnist_idx
from exercises.ch10_convnets import (
    Conv2D,
    Flatten,
    MaxPool2D,
    col2im,
    conv2d_loops,
    conv_output_size,
    im2col,
)

# %% [markdown]
# ## The output size
#
# A window of `K` values, moved in steps of `s` over `H` values padded by `p` zeros at both
# ends, fits `(H + 2p - K) // s + 1` times.

# %%
for size, kernel, stride, padding in [(28, 5, 1, 2), (28, 2, 2, 0), (5, 2, 2, 0), (7, 3, 2, 1)]:
    print(f"H={size:2d} K={kernel} s={stride} p={padding} -> {conv_output_size(size, kernel, stride, padding)}")

# %% [markdown]
# ## im2col on a tiny image
#
# One 3x4 image with two channels, a 2x2 window, stride 1: six windows, each a row of
# 2 * 2 * 2 = 8 values in the order (channel, kernel row, kernel column).

# %%
x = np.arange(24, dtype=float).reshape(1, 2, 3, 4)
print(x[0])
cols = im2col(x, 2, 2)
print(cols.shape)
print(cols)

# %% [markdown]
# `col2im` adds every entry back onto its pixel. With all ones, each pixel receives the
# number of windows that cover it: the corners 1, the middle pixels up to 4.

# %%
print(col2im(np.ones_like(cols), x.shape, 2, 2)[0, 0])

# %% [markdown]
# The adjoint identity the grader checks: `sum(im2col(x) * c) == sum(x * col2im(c))`.

# %%
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 5, 6))
c = rng.standard_normal(im2col(x, 3, 3, 1, 1).shape)
print(np.sum(im2col(x, 3, 3, 1, 1) * c), np.sum(x * col2im(c, x.shape, 3, 3, 1, 1)))

# %% [markdown]
# ## A convolution on a digit
#
# Two hand-made 3x3 filters, one for vertical and one for horizontal edges, on an MNIST
# digit. Conv2D computes a cross-correlation: no kernel flip.

# %%
images, labels = load_mnist_idx()
digit = ((images[:1].astype(float) - 127.5) / 127.5).reshape(1, 1, 28, 28)
conv = Conv2D(1, 2, 3, padding=1, rng=np.random.default_rng(0))
conv.weights = np.array([[[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]], [[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]]], float)
conv.biases = np.zeros(2)
maps = conv.forward(digit)
pooled = MaxPool2D(2).forward(np.maximum(maps, 0))
fig, axes = plt.subplots(1, 5, figsize=(10, 2))
for ax, img, title in zip(axes, [digit[0, 0], maps[0, 0], maps[0, 1], pooled[0, 0], pooled[0, 1]],
                          ["digit", "vertical edges", "horizontal edges", "pooled (v)", "pooled (h)"]):
    ax.imshow(img, cmap="gray")
    ax.set_title(title, fontsize=8)
    ax.axis("off")
plt.show()
print("flattened:", Flatten().forward(pooled).shape)

# %% [markdown]
# ## The tie rule
#
# In a window with several equal maxima, the first one in reading order gets the gradient.

# %%
pool = MaxPool2D(2)
x = np.array([[[[1.0, 3.0, 0.0, 0.0], [3.0, 2.0, 0.0, 0.0]]]])
pool.forward(x)
print(pool.backward(np.ones((1, 1, 1, 2)))[0, 0])

# %% [markdown]
# ## The timing lab, small
#
# The loops against im2col on LeNet's first convolution, 8 images. (The full lab:
# `python3 -m nox -s run -- exercises.ch10_convnets.conv_lab`.)

# %%
x = rng.standard_normal((8, 1, 28, 28))
conv = Conv2D(1, 6, 5, padding=2, rng=rng)
start = time.perf_counter()
fast = conv.forward(x)
t_fast = time.perf_counter() - start
start = time.perf_counter()
slow = conv2d_loops(x, conv.weights, conv.biases, 1, 2)
t_slow = time.perf_counter() - start
print(f"same values: {np.allclose(fast, slow)}; loops {t_slow * 1e3:.0f} ms, im2col {t_fast * 1e3:.1f} ms, "
      f"{t_slow / t_fast:.0f}x")

# %% [markdown]
# ## Your grade for this chapter
#
# im2col and col2im, Conv2D forward and backward (values and gradient checks), its speed,
# MaxPool2D with the tie rule, Flatten, the loop convolution, LeNet-5's architecture, a small
# batch learned by heart, and one training run judged on held-out test images. Grading this
# chapter takes longer (it trains the network).

# %%
grade_cell("ch10")
