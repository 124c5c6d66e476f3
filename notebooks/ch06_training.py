# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 06: Training loops, data sets and honest testing
#
# Every part of a network exists; this chapter puts them in a loop. You write small data
# generators (`exercises/ch06_training/datasets.py`) and the loop itself: mini-batches, a
# validation split, standardisation, a network builder, `train_step` and `train`
# (`loop.py`). This notebook trains three kinds of model with it and measures them on data
# they never saw. Chapter text: `exercises/ch06_training/README.md`.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch06")

# %%
import matplotlib.pyplot as plt
import numpy as np

from data.loaders import load_breast_cancer
from exercises.ch06_training import (
    Adam,
    build_network,
    evaluate,
    fit_standardizer,
    minibatch_indices,
    predict,
    sine_data,
    spiral_data,
    standardize,
    train,
    train_validation_split,
    vertical_data,
    xor_data,
)

COLOURS = np.array(["#1b9e77", "#d95f02", "#7570b3"])

# %% [markdown]
# ## Synthetic data sets
#
# Each generator draws from the Generator passed in, in a fixed order, so the same seed gives
# the same data in every correct implementation. The spiral's arm $k$ puts point $i$ at radius
# $r_i$ and angle $2\pi k / C + 8 r_i + 0.3\,\varepsilon_i$: no straight line separates the
# classes.

# %%
rng = np.random.default_rng(0)
sets = {
    "spiral_data(100, 3)": spiral_data(100, 3, rng),
    "vertical_data(100, 3)": vertical_data(100, 3, rng),
    "xor_data(200)": xor_data(200, rng),
}
fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
for ax, (title, (X, y)) in zip(axes, sets.items()):
    ax.scatter(X[:, 0], X[:, 1], s=8, c=COLOURS[np.asarray(y).astype(int).ravel()])
    ax.set_title(title)
X, y = sine_data(200)
axes[3].plot(X[:, 0], y[:, 0], ".", ms=3)
axes[3].set_title("sine_data(200)")
plt.show()

# %% [markdown]
# ## Epochs and mini-batches
#
# An epoch cuts one permutation of the $N$ samples into consecutive batches of $B$ (the last
# one smaller): every sample exactly once, a new order every epoch, the same indices for `X`
# and `y`.

# %%
rng = np.random.default_rng(0)
for epoch in range(3):
    print(f"epoch {epoch}:", [b.tolist() for b in minibatch_indices(10, 4, rng)])

# %% [markdown]
# ## A spiral classifier, tested on fresh points
#
# 2 inputs, 64 ReLU units, 3 outputs, Adam (learning rate 0.02, decay $10^{-3}$), 300
# epochs of 32. The training accuracy is what the model memorised; only fresh points from
# the same distribution measure what it learned. The validation part (20% of the training
# data) is what you would tune hyperparameters on.

# %%
rng = np.random.default_rng(0)
X, y = spiral_data(100, 3, rng)
X_train, y_train, X_val, y_val = train_validation_split(X, y, 0.2, rng)
X_test, y_test = spiral_data(100, 3, np.random.default_rng(1))
fit_rng = np.random.default_rng(0)
layers, loss = build_network([2, 64, 3], fit_rng)
history = train(layers, loss, Adam(learning_rate=0.02, decay=1e-3), X_train, y_train, 300, 32, fit_rng,
                validation=(X_val, y_val))
test_loss, test_acc = evaluate(layers, loss, X_test, y_test)
print(f"training accuracy {history['accuracy'][-1]:.3f}, validation {history['val_accuracy'][-1]:.3f}, "
      f"test {test_acc:.3f}")

grid = np.linspace(-1.1, 1.1, 200)
gx, gy = np.meshgrid(grid, grid)
regions = np.argmax(predict(layers, np.column_stack([gx.ravel(), gy.ravel()])), axis=1).reshape(gx.shape)
fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 4))
ax0.contourf(gx, gy, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=COLOURS, alpha=0.25)
ax0.scatter(X_test[:, 0], X_test[:, 1], s=8, c=COLOURS[y_test])
ax0.set_title("decision regions, fresh test points")
ax1.semilogy(history["loss"], label="training")
ax1.semilogy(history["val_loss"], label="validation")
ax1.set_title("loss per epoch")
ax2.plot(history["accuracy"], label="training")
ax2.plot(history["val_accuracy"], label="validation")
ax2.set_title("accuracy per epoch")
for ax in (ax1, ax2):
    ax.set_xlabel("epoch")
    ax.legend()
plt.show()

# %% [markdown]
# ## Logistic regression on breast cancer, standardised without peeking
#
# 569 tumours, 30 measurements, malignant (0) or benign (1). `Dense(30, 1)` + `Sigmoid` +
# `BinaryCrossEntropy` is logistic regression. The features range from about 0.004 to 900, so
# we standardise, $x' = (x - \mu)/\sigma$, with $\mu, \sigma$ from the **training part only**,
# applied unchanged to validation and test data.
#
# ### Try it
#
# Any score needs a baseline. Write `majority_baseline`: the accuracy on `y_test` of always
# predicting the most frequent class of `y_train` (not graded).

# %%
def majority_baseline(y_train, y_test):
    """Accuracy (float) of predicting the most common training label for every test sample."""
    ### BEGIN SOLUTION
    values, counts = np.unique(np.asarray(y_train).ravel(), return_counts=True)
    return float(np.mean(np.asarray(y_test).ravel() == values[np.argmax(counts)]))
    ### END SOLUTION


X, labels = load_breast_cancer()
y = labels.reshape(-1, 1).astype(float)             # binary targets: a column (N, 1)
rng = np.random.default_rng(0)
X_rest, y_rest, X_test, y_test = train_validation_split(X, y, 0.25, rng)      # hold out the test set first
X_train, y_train, X_val, y_val = train_validation_split(X_rest, y_rest, 0.2, rng)
mean, std = fit_standardizer(X_train)
X_train, X_val, X_test = (standardize(part, mean, std) for part in (X_train, X_val, X_test))
fit_rng = np.random.default_rng(0)
layers, loss = build_network([30, 1], fit_rng, task="binary")
history = train(layers, loss, Adam(learning_rate=0.01), X_train, y_train, 40, 32, fit_rng,
                validation=(X_val, y_val))
print(f"test accuracy {evaluate(layers, loss, X_test, y_test)[1]:.3f}; "
      f"always the majority class: {majority_baseline(y_train, y_test):.3f}")

# %% [markdown]
# ## Regression on a sine
#
# A regression network ends in `Linear`, so its output can be any number, and is judged by an
# error in the target's units (the mean absolute error), not by accuracy. Trained on
# `sine_data(500)`, tested at the 499 midpoints between the grid points:

# %%
X, y = sine_data(500)
X_train, y_train, X_val, y_val = train_validation_split(X, y, 0.2, np.random.default_rng(0))
fit_rng = np.random.default_rng(0)
layers, loss = build_network([1, 64, 64, 1], fit_rng, task="regression")
history = train(layers, loss, Adam(learning_rate=0.005, decay=1e-3), X_train, y_train, 100, 32, fit_rng,
                validation=(X_val, y_val))
X_mid = (X[:-1] + X[1:]) / 2
y_pred = predict(layers, X_mid)
error = y_pred - np.sin(2 * np.pi * X_mid)
print(f"test MAE {np.mean(np.abs(error)):.4f} (predicting the mean everywhere: "
      f"{np.mean(np.abs(np.sin(2 * np.pi * X_mid))):.2f})")
fig, (ax_fit, ax_err) = plt.subplots(2, 1, figsize=(6, 4.4), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
ax_fit.plot(X_mid, np.sin(2 * np.pi * X_mid), color="0.6", lw=3, label="sin(2πx)")
ax_fit.plot(X_mid, y_pred, lw=1.2, label="network")
ax_fit.legend()
ax_err.plot(X_mid, error)
ax_err.set_ylabel("error")
plt.show()

# %% [markdown]
# The error is largest at the ends of the interval, where the data stops. Change the seed
# and the MAE moves by a third of its size: quote a spread over seeds, not one run.
#
# ## Your grade for this chapter
#
# The data sets and every loop function against the reference, properties of the batches and
# the split, and four training runs (spiral, breast cancer, sine, Iris) trained by *your*
# loop and judged on held-out data your code never sees. This chapter's grading takes
# longer than the others (it trains networks).

# %%
grade_cell("ch06")
