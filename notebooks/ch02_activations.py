# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 02: Activation functions
#
# Between two dense layers sits an activation: a small layer with a `forward` and, for the
# first time in the course, a `backward` pass. You write six of them in
# `exercises/ch02_activations/activations.py`; this notebook plots them, checks their
# gradients numerically, and shows why the numerically stable forms matter. The chapter
# text is `exercises/ch02_activations/README.md`.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch02")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch02_activations import Dense, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh

# %% [markdown]
# ## Why non-linearities
#
# Two dense layers with nothing in between collapse into one:
#
# $$
# (XW_1 + b_1)W_2 + b_2 = X\,(W_1W_2) + (b_1W_2 + b_2) = XW' + b' .
# $$
#
# Put a non-linear $f$ between them and that no longer happens. The next cell makes it
# concrete: the same two random layers, with and without a ReLU in between, on the line
# $x \in [-3, 3]$. Without the ReLU the output is a straight line; with it, a sum of hinges.

# %%
rng = np.random.default_rng(0)
d1, d2 = Dense(1, 8, rng, weight_scale=1.0), Dense(8, 1, rng, weight_scale=1.0)
d1.biases = rng.standard_normal((1, 8))
x = np.linspace(-3, 3, 200).reshape(-1, 1)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(x, d2.forward(d1.forward(x)), label="Dense, Dense")
ax.plot(x, d2.forward(ReLU().forward(d1.forward(x))), label="Dense, ReLU, Dense")
ax.legend()
plt.show()

# %% [markdown]
# ## The contract
#
# Every activation takes a batch `inputs` of shape $(N, D)$ and returns an output of the same
# shape; `backward(dvalues)` receives $\partial L / \partial\,\text{output}$, shape $(N, D)$,
# and sets and returns `self.dinputs` $= \partial L / \partial\,\text{inputs}$. For an
# element-wise $y = f(x)$ the chain rule is a plain product:
#
# $$
# \texttt{dinputs} = \texttt{dvalues} \odot f'(\texttt{inputs}).
# $$
#
# | activation | $f(x)$ | $f'(x)$ |
# |---|---|---|
# | ReLU | $\max(0, x)$ | $1$ if $x > 0$, else $0$ (also at $x = 0$) |
# | Leaky ReLU | $x$ if $x > 0$, else $\alpha x$ | $1$ or $\alpha$ |
# | Sigmoid | $1 / (1 + e^{-x})$ | $\sigma(x)(1 - \sigma(x))$ |
# | Tanh | $\tanh x$ | $1 - \tanh^2 x$ |
# | Linear | $x$ | $1$ |
#
# Plot each function and, through your `backward` with `dvalues` all ones, its derivative:

# %%
x = np.linspace(-4, 4, 401).reshape(1, -1)   # one sample, 401 values
fig, axes = plt.subplots(1, 5, figsize=(15, 2.8), sharex=True)
for ax, act in zip(axes, [ReLU(), LeakyReLU(alpha=0.1), Sigmoid(), Tanh(), Linear()]):
    y = act.forward(x)
    dy = act.backward(np.ones_like(x))
    ax.plot(x[0], y[0], label="forward")
    ax.plot(x[0], dy[0], "--", label="backward (dvalues = 1)")
    ax.set_title(type(act).__name__)
axes[0].legend(fontsize=7)
plt.show()

# %% [markdown]
# ## Checking a backward pass numerically
#
# For a random `dvalues` $g$, the scalar $L(x) = \sum g \odot f(x)$ has gradient exactly
# `backward(g)`. Central differences estimate it entry by entry:
#
# $$
# \frac{\partial L}{\partial x_k} \approx \frac{L(x + h e_k) - L(x - h e_k)}{2h}.
# $$
#
# ### Try it
#
# Complete `numeric_dinputs(act, x, g)` (not graded: chapter 04 builds the real tool). Then
# the cell compares it with your `backward` for every activation. Keep the points away from
# ReLU's corner at 0, where the slope jumps.

# %%
def numeric_dinputs(act, x, g, h=1e-6):
    """Central differences of sum(g * act.forward(x)) with respect to every entry of x, shape of x."""
    ### BEGIN SOLUTION
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        grad[idx] = (np.sum(g * act.forward(xp)) - np.sum(g * act.forward(xm))) / (2 * h)
    return grad
    ### END SOLUTION


rng = np.random.default_rng(1)
x = rng.standard_normal((4, 5))
x[np.abs(x) < 0.05] = 0.5               # away from the kink of (leaky) ReLU
g = rng.standard_normal((4, 5))
for act in [ReLU(), LeakyReLU(), Sigmoid(), Tanh(), Softmax(), Linear()]:
    act.forward(x)
    analytic = act.backward(g)
    numeric = numeric_dinputs(act, x, g)
    err = np.max(np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric)))
    print(f"{type(act).__name__:10s} max relative error {err:.1e}")

# %% [markdown]
# ## Overflow: sigmoid and softmax
#
# In float64 `np.exp(t)` overflows to `inf` once $t > 709.8$. The naive sigmoid
# $1/(1 + e^{-x})$ does so for $x = -1000$; the stable form only ever exponentiates
# $-|x|$: with $e = e^{-|x|}$, $\sigma(x) = 1/(1 + e)$ for $x \ge 0$ and $e/(1 + e)$ for
# $x < 0$.
#
# Softmax turns each row $z$ into $s_i = e^{z_i} / \sum_k e^{z_k}$. Subtracting the row's
# maximum changes nothing (the factor $e^{-c}$ cancels) and keeps every exponent $\le 0$:
#
# $$
# \operatorname{softmax}(z - c) = \operatorname{softmax}(z), \qquad c = \max_k z_k .
# $$

# %%
big = np.array([[1000.0, 999.0, 998.0], [-1000.0, 0.0, 1000.0], [7.0, 7.0, 7.0]])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(big) / np.exp(big).sum(axis=1, keepdims=True)
print("naive softmax:\n", naive)
print("your softmax:\n", Softmax().forward(big))
print("your sigmoid of [-1000, 0, 1000]:", Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]])))

# %% [markdown]
# ## Softmax backward without the Jacobian
#
# Each output of softmax depends on every input of its row: the Jacobian of one row is
# $J = \operatorname{diag}(s) - s s^\top$. Multiplying by it collapses to
#
# $$
# \frac{\partial L}{\partial z_j} = s_j \Big(g_j - \sum_i g_i s_i\Big),
# $$
#
# one subtraction per entry instead of a $D \times D$ matrix per sample. The cell builds the
# Jacobians explicitly and compares them with your `backward`.

# %%
rng = np.random.default_rng(2)
z, g = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
sm = Softmax()
s = sm.forward(z)
explicit = np.stack([(np.diag(row) - np.outer(row, row)) @ grow for row, grow in zip(s, g)])
print(np.allclose(sm.backward(g), explicit))

# %% [markdown]
# ## Your grade for this chapter
#
# The grader checks values against a reference on several shapes and edge cases (exact
# zeros, ties, $\pm 1000$), gradients by central differences, and properties such as
# "softmax rows sum to 1" on many random inputs.

# %%
grade_cell("ch02")
