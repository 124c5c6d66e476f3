# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 03: Losses and accuracy
#
# To improve a network we first need one number that says how wrong it is: the loss. You
# write the common losses in `exercises/ch03_losses/losses.py`, each with its gradient
# with respect to the predictions (where backpropagation starts in chapter 04), the fused
# softmax + cross-entropy, and accuracy. This notebook explores them; the chapter text is
# `exercises/ch03_losses/README.md`.
#
# Notation: $N$ samples, $C$ classes, $K$ outputs per sample; every `forward` returns the
# per-sample losses, shape $(N,)$, and `calculate` their mean.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch03")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch03_losses import (
    BinaryCrossEntropy,
    CategoricalCrossEntropy,
    MeanAbsoluteError,
    MeanSquaredError,
    Softmax,
    SoftmaxCrossEntropy,
    accuracy,
    binary_accuracy,
)

# %% [markdown]
# ## Categorical cross-entropy
#
# A classifier outputs, per sample, $C$ probabilities. The loss of sample $n$ with true class
# $y_n$ is
#
# $$
# \ell_n = -\log p_{n, y_n} = -\sum_c t_{nc} \log p_{nc}
# $$
#
# (the second form with one-hot targets $t$). Probability 1 for the right class costs 0,
# $0.7$ costs $0.357$, $0.1$ costs $2.303$: confident mistakes cost the most. Labels come as
# integers $(N,)$ or one-hot rows $(N, C)$; both must give the same values.

# %%
p = np.array([[0.7, 0.2, 0.1],
              [0.1, 0.5, 0.4],
              [0.02, 0.9, 0.08]])
labels = np.array([0, 1, 1])
onehot = np.eye(3)[labels]
cce = CategoricalCrossEntropy()
print("per sample, sparse :", cce.forward(p, labels))
print("per sample, one-hot:", cce.forward(p, onehot))
print("mean (calculate)   :", cce.calculate(p, labels))

q = np.linspace(0.001, 1, 300)
plt.figure(figsize=(5, 3))
plt.plot(q, -np.log(q))
plt.xlabel("probability of the true class")
plt.ylabel("loss $-\\log p$")
plt.show()

# %% [markdown]
# ## Clipping
#
# A softmax can return an exact 0; then $-\log 0 = \infty$ and the gradient divides by
# zero. The course clips predictions to $[10^{-7}, 1 - 10^{-7}]$ first, so the worst loss of a
# sample is $-\ln 10^{-7} \approx 16.1$.

# %%
print(cce.forward(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 0])))   # finite: about 16.1 and 1e-7

# %% [markdown]
# ## Gradients, and why they carry $1/N$
#
# `calculate` returns the mean over the batch, so every gradient is divided by $N$:
#
# $$
# \frac{\partial L}{\partial p_{nc}} = -\frac{t_{nc}}{N\,p_{nc}} \quad\text{(cross-entropy)},\qquad
# \frac{\partial L^{\text{MSE}}}{\partial p_{nk}} = -\frac{2(y_{nk} - p_{nk})}{NK},\qquad
# \frac{\partial L^{\text{MAE}}}{\partial p_{nk}} = \frac{\operatorname{sign}(p_{nk} - y_{nk})}{NK}.
# $$
#
# ### Try it
#
# Write `numeric_loss_gradient(loss, y_pred, y_true)`: central differences of
# `loss.calculate` with respect to every entry of `y_pred` (not graded; the next cell
# compares it with your `backward` for four losses).

# %%
def numeric_loss_gradient(loss, y_pred, y_true, h=1e-6):
    """(N, K) array: d loss.calculate(y_pred, y_true) / d y_pred, by central differences."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(y_pred)
    for idx in np.ndindex(y_pred.shape):
        up, down = y_pred.copy(), y_pred.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = (loss.calculate(up, y_true) - loss.calculate(down, y_true)) / (2 * h)
    return grad
    ### END SOLUTION


rng = np.random.default_rng(0)
probs = rng.uniform(0.05, 0.95, size=(4, 3))
cases = [
    (CategoricalCrossEntropy(), probs / probs.sum(axis=1, keepdims=True), np.array([0, 2, 1, 1])),
    (BinaryCrossEntropy(), probs, (rng.uniform(size=(4, 3)) > 0.5).astype(float)),
    (MeanSquaredError(), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))),
    (MeanAbsoluteError(), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))),
]
for loss, y_pred, y_true in cases:
    analytic = loss.backward(y_pred, y_true)
    numeric = numeric_loss_gradient(loss, y_pred, y_true)
    err = np.max(np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric)))
    print(f"{type(loss).__name__:24s} max relative error {err:.1e}")

# %% [markdown]
# ## Squared or absolute error?
#
# Squaring punishes large errors much more, and its gradient shrinks near the target;
# the absolute error grows linearly and its gradient has the same size everywhere. Fit a
# single constant $c$ to data with one outlier by plain gradient descent with each loss: the
# MSE pulls $c$ towards the mean (and the outlier), the MAE towards the median.

# %%
y = np.array([[1.0], [1.2], [0.9], [1.1], [8.0]])   # one outlier
for loss in (MeanSquaredError(), MeanAbsoluteError()):
    c = np.zeros((5, 1))
    for _ in range(2000):
        c -= 0.05 * loss.backward(c, y).sum() * np.ones_like(c)   # one shared constant
    print(f"{type(loss).__name__:18s} fitted constant {c[0, 0]:.3f}")
print(f"mean {y.mean():.3f}, median {np.median(y):.3f}")

# %% [markdown]
# ## Softmax and cross-entropy, fused
#
# Chained through the softmax Jacobian $p_j(\delta_{jk} - p_k)$, the cross-entropy gradient
# collapses to "predicted minus true":
#
# $$
# \frac{\partial L}{\partial z_{nk}} = \frac{p_{nk} - t_{nk}}{N}.
# $$
#
# `SoftmaxCrossEntropy` uses it. Compare it with the two-step route on ordinary logits, then
# on logits where the true class has a tiny probability: the separate route divides by the
# clipped $10^{-7}$ but multiplies by the real $10^{-12}$, and the gradient all but vanishes.

# %%
def two_step(z, y):
    sm, ce = Softmax(), CategoricalCrossEntropy()
    probs = sm.forward(z)
    return sm.backward(ce.backward(probs, y))


fused = SoftmaxCrossEntropy()
for z in [np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]]), np.array([[0.0, 30.0, 0.0], [0.5, 2.5, 0.3]])]:
    y = np.array([0, 1])
    fused.forward(z, y)
    print("fused   :", fused.backward(fused.output, y)[0])
    print("two-step:", two_step(z, y)[0])

# %% [markdown]
# ## Accuracy
#
# What we report, not what we optimise: the fraction of samples whose highest-scoring class
# is the true one. It changes only when a prediction crosses a decision boundary, so its
# gradient is zero almost everywhere.

# %%
print("accuracy       :", accuracy(p, labels), "(same with one-hot:", accuracy(p, onehot), ")")
print("binary accuracy:", binary_accuracy(np.array([[0.9, 0.2], [0.4, 0.6]]), np.array([[1, 0], [1, 1]])))

# %% [markdown]
# ## Your grade for this chapter
#
# Values against the reference (sparse and one-hot labels, probabilities of exactly 0 and 1,
# a batch of one), gradients against central differences, and "calculate is the mean of
# forward".

# %%
grade_cell("ch03")
