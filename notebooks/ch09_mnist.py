# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 09: MNIST, end to end
#
# A real benchmark through the whole pipeline: read a binary file format byte by byte, split
# with a fixed seed, scale, train chapter 08's `Model`, and look past the accuracy. You write
# `exercises/ch09_mnist/` (`idx.py`, `prepare.py`, `evaluate.py`, `train_mnist.py`). Chapter
# text: `exercises/ch09_mnist/README.md`. The course ships MNIST's 10,000 test images
# (CC BY-SA 3.0; see `data/README.md`).

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch09")

# %%
import gzip
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from data.loaders import HERE as DATA
from exercises.ch09_mnist import (
    SPLIT_SEED,
    confusion_matrix,
    precision_recall,
    preprocess,
    read_idx,
    read_png_digit,
    split_indices,
    train_mnist,
)

# %% [markdown]
# ## The IDX format
#
# A header, then the raw values. Every header integer is 32 bits, **big-endian** (most
# significant byte first); bytes 0-3 are the magic number, 2051 for images and 2049 for
# labels, then one 32-bit size per dimension:

# %%
with gzip.open(DATA / "mnist-t10k-images-idx3-ubyte.gz", "rb") as fh:
    head = fh.read(20)
print(" ".join(f"{b:02x}" for b in head))
print("magic, big-endian   :", int.from_bytes(head[0:4], "big"))
print("magic, little-endian:", int.from_bytes(head[0:4], "little"), "(the mistake the magic number catches)")
print("count, rows, cols   :", [int.from_bytes(head[i:i + 4], "big") for i in (4, 8, 12)])

# %%
images = read_idx(DATA / "mnist-t10k-images-idx3-ubyte.gz")
labels = read_idx(DATA / "mnist-t10k-labels-idx1-ubyte.gz")
print(images.shape, images.dtype, labels.shape, labels[:10])

# %% [markdown]
# ## A fixed split, and scaling
#
# One permutation with `SPLIT_SEED`, cut into 8,000 / 1,000 / 1,000: disjoint by
# construction, and the same for everyone (the grader included). Then every pixel becomes
# $x = (\text{pixel} - 127.5)/127.5 \in [-1, 1]$, one row of 784 values per image (convert to
# float first: uint8 arithmetic wraps around).

# %%
train, val, test = split_indices(len(images), np.random.default_rng(SPLIT_SEED))
X = preprocess(images)
print("parts:", len(train), len(val), len(test), "| overlap:", len(set(train) & set(val) | set(val) & set(test)))
print("X:", X.shape, X.dtype, "range", X.min(), X.max())
fig, axes = plt.subplots(2, 10, figsize=(10, 2.4))
for ax, i in zip(axes.ravel(), test[:20]):
    ax.imshow(images[i], cmap="gray_r")
    ax.set_title(int(labels[i]), fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Training
#
# 784 → Dense(128) → ReLU → Dense(64) → ReLU → Dense(10) → Softmax, He initialisation, Adam
# with learning rate 0.001, batches of 64. The chapter's run takes 10 epochs; three are enough
# to see it work here.

# %%
model = train_mnist(X[train], labels[train], X[val], labels[val], np.random.default_rng(0), epochs=3)
for epoch, (acc, val_acc) in enumerate(zip(model.history["accuracy"], model.history["val_accuracy"]), start=1):
    print(f"epoch {epoch}: training accuracy {acc:.4f}, validation accuracy {val_acc:.4f}")
predicted = model.predict(X[test]).argmax(axis=1)
print(f"test accuracy {np.mean(predicted == labels[test]):.4f}")

# %% [markdown]
# ## Past the accuracy: the confusion matrix
#
# `cm[t, p]` counts the test images of digit `t` that the network called `p`: rows are true
# classes, columns predictions. Per class, precision reads a column (how often "k" is right)
# and recall a row (how many k's were found):
#
# $$
# \text{precision}_k = \frac{\text{cm}[k,k]}{\sum_t \text{cm}[t,k]},\qquad
# \text{recall}_k = \frac{\text{cm}[k,k]}{\sum_p \text{cm}[k,p]}.
# $$

# %%
cm = confusion_matrix(labels[test], predicted)
precision, recall = precision_recall(cm)
fig, ax = plt.subplots(figsize=(4.6, 4))
ax.imshow(np.log1p(cm), cmap="Blues")
for t in range(10):
    for p in range(10):
        if cm[t, p]:
            ax.text(p, t, cm[t, p], ha="center", va="center", fontsize=7)
ax.set_xlabel("predicted")
ax.set_ylabel("true")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
plt.show()
print("digit      " + " ".join(f"{k:5d}" for k in range(10)))
print("precision  " + " ".join(f"{v:5.2f}" for v in precision))
print("recall     " + " ".join(f"{v:5.2f}" for v in recall))

# %% [markdown]
# ### Try it
#
# Write `most_confused(cm, k)`: the `k` largest off-diagonal entries as
# `(true digit, predicted digit, count)` tuples, largest first (not graded).

# %%
def most_confused(cm, k=5):
    """The k most frequent mistakes in a confusion matrix: [(true, predicted, count), ...]."""
    ### BEGIN SOLUTION
    off = cm.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:k]
    return [(int(t), int(p), int(off[t, p])) for t, p in zip(*np.unravel_index(order, off.shape)) if off[t, p]]
    ### END SOLUTION


most_confused(cm)

# %% [markdown]
# ## Your own handwriting
#
# `read_png_digit` turns a 28×28 PNG into one network input: to gray (a transparent background
# counts as white paper), inverted if mostly white (MNIST is white on black), then
# `preprocess`. Here is a "7" drawn with two thick strokes, saved as a drawing program would.

# %%
rows, cols = np.mgrid[0:28, 0:28]
ink = np.zeros((28, 28))
for (r0, c0), (r1, c1) in (((7, 7), (7, 20)), ((7, 20), (22, 12))):
    for t in np.linspace(0, 1, 60):
        ink = np.maximum(ink, np.clip(1.8 - np.hypot(rows - (r0 + t * (r1 - r0)), cols - (c0 + t * (c1 - c0))), 0, 1))
path = Path(tempfile.mkdtemp()) / "seven.png"
plt.imsave(path, 1 - ink, cmap="gray", vmin=0, vmax=1)
x = read_png_digit(path)
probabilities = model.predict(x)[0]
plt.figure(figsize=(2, 2))
plt.imshow(x.reshape(28, 28), cmap="gray")
plt.axis("off")
plt.show()
print("the network says", probabilities.argmax(), "with probability", probabilities.max().round(3))

# %% [markdown]
# ## Your grade for this chapter
#
# IDX parsing (headers, magic numbers, sizes that do not match), the split and preprocessing,
# the confusion matrix and precision/recall, reading a PNG, and one training run of your
# network judged on the test part. Grading this chapter takes longer (it trains the network).

# %%
grade_cell("ch09")
