# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 04: Backpropagation
#
# Backpropagation gives every parameter its gradient in one backward sweep, by the chain
# rule from the loss down to the inputs. You write `Dense.backward`
# (`exercises/ch04_backprop/dense.py`), a two-layer network's loss and gradients with bare
# numpy (`two_layer.py`), and the tool that tells whether a backward pass is right, the
# numerical gradient check (`gradcheck.py`). Chapter text:
# `exercises/ch04_backprop/README.md`.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch04")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch04_backprop import (
    Dense,
    ReLU,
    SoftmaxCrossEntropy,
    numerical_gradient,
    rel_error,
    sparse_gradient_check,
    two_layer_loss_and_grads,
)

# %% [markdown]
# ## The chain rule on one neuron
#
# $z = w_1x_1 + w_2x_2 + b$, $a = \max(0, z)$, $L = (a - t)^2$. The slopes along the path
# multiply:
#
# $$
# \frac{\partial L}{\partial w_1} = \underbrace{2(a - t)}_{\partial L/\partial a}\cdot
# \underbrace{\mathbf 1[z > 0]}_{\partial a/\partial z}\cdot \underbrace{x_1}_{\partial z/\partial w_1}.
# $$
#
# With $x = (1, -2)$, $w = (0.5, 0.25)$, $b = 0.1$, $t = 1$: $z = a = 0.1$, $L = 0.81$, and
# $\partial L/\partial z = -1.8$, so the weights get $-1.8\,x = (-1.8, 3.6)$ and the inputs
# $-1.8\,w = (-0.9, -0.45)$. Your `numerical_gradient` confirms it:

# %%
x, w, b, t = np.array([1.0, -2.0]), np.array([0.5, 0.25]), 0.1, 1.0


def loss_of_w(w_):
    return (max(0.0, float(w_ @ x) + b) - t) ** 2


print("dL/dw numerically:", numerical_gradient(loss_of_w, w))
print("by hand          :", -1.8 * x)

# %% [markdown]
# ## A Dense layer, in matrix form
#
# For $Y = XW + b$ with upstream gradient $G = \partial L/\partial Y$, shape
# $(N, n_{\text{out}})$:
#
# $$
# dW = X^\top G \;(n_{\text{in}}, n_{\text{out}}), \qquad
# db = \textstyle\sum_s G_{s,:} \;(1, n_{\text{out}}), \qquad
# dX = G W^\top \;(N, n_{\text{in}}).
# $$
#
# A gradient has the shape of what it differentiates, and there is only one product of the
# two available matrices that has it. The bias was broadcast to all $N$ samples in the
# forward pass, so its gradient sums over them. Check your `backward` entry by entry against
# central differences of $L = \sum G \odot \text{forward}(X)$:

# %%
rng = np.random.default_rng(0)
layer = Dense(4, 3, rng, weight_scale=1.0)
X = rng.standard_normal((5, 4))
G = rng.standard_normal((5, 3))
layer.forward(X)
layer.backward(G)


def loss_with(name):
    def f(value):
        saved = getattr(layer, name)
        setattr(layer, name, value)
        out = float(np.sum(G * layer.forward(X)))
        setattr(layer, name, saved)
        return out
    return f


print("dweights:", rel_error(layer.dweights, numerical_gradient(loss_with("weights"), layer.weights)))
print("dbiases :", rel_error(layer.dbiases, numerical_gradient(loss_with("biases"), layer.biases)))
print("dinputs :", rel_error(layer.dinputs, numerical_gradient(lambda x_: float(np.sum(G * layer.forward(x_))), X)))

# %% [markdown]
# ## Through a two-layer network, by hand
#
# Dense → ReLU → Dense → softmax → cross-entropy. Backwards:
#
# | step | computes |
# |---|---|
# | softmax + cross-entropy | $dS = (P - Y_{\text{onehot}})/N$ |
# | second Dense | $dW_2 = A_1^\top dS$, $db_2 = \sum_n dS_n$, $dA_1 = dS\,W_2^\top$ |
# | ReLU | $dZ_1 = dA_1 \odot \mathbf 1[Z_1 > 0]$ |
# | first Dense | $dW_1 = X^\top dZ_1$, $db_1 = \sum_n dZ_{1,n}$ |
#
# `two_layer_loss_and_grads` does it with bare numpy. The same pass with the course's
# classes must give the same numbers:

# %%
rng = np.random.default_rng(1)
N, D, H, C = 6, 4, 5, 3
Xb, yb = rng.standard_normal((N, D)), rng.integers(0, C, size=N)
d1, d2 = Dense(D, H, rng, weight_scale=0.5), Dense(H, C, rng, weight_scale=0.5)
d1.biases, d2.biases = rng.standard_normal((1, H)) * 0.1, rng.standard_normal((1, C)) * 0.1
loss, grads = two_layer_loss_and_grads(Xb, yb, d1.weights, d1.biases, d2.weights, d2.biases)

relu, head = ReLU(), SoftmaxCrossEntropy()
value = head.forward(d2.forward(relu.forward(d1.forward(Xb))), yb)
d1.backward(relu.backward(d2.backward(head.backward(head.output, yb))))
print(f"loss: by hand {loss:.6f}, with the classes {value:.6f}")
for key, got in [("W1", d1.dweights), ("b1", d1.dbiases), ("W2", d2.dweights), ("b2", d2.dbiases)]:
    print(f"{key}: relative error {rel_error(grads[key], got):.1e}")

# %% [markdown]
# ## Choosing $h$
#
# The central difference has a truncation error of order $h^2$ and a rounding error of order
# $\varepsilon/h$ ($\varepsilon \approx 10^{-16}$ in float64). Their sum is smallest near
# $h \approx \varepsilon^{1/3}$. Measure it on $f(x) = \sum \sin x$, whose gradient is
# $\cos x$:

# %%
xs = np.random.default_rng(2).uniform(-2, 2, size=10)
hs = np.logspace(-12, -1, 23)
errors = [rel_error(numerical_gradient(lambda v: float(np.sum(np.sin(v))), xs, h=h), np.cos(xs)) for h in hs]
plt.figure(figsize=(5, 3.2))
plt.loglog(hs, errors, "o-")
plt.axvline(1e-5, color="k", ls=":")
plt.xlabel("h")
plt.ylabel("max relative error")
plt.title("central differences in float64")
plt.show()

# %% [markdown]
# ## Reading a relative error
#
# $\mathrm{err}(a, b) = \max_i |a_i - b_i| / \max(10^{-8}, |a_i| + |b_i|)$. Below $10^{-7}$:
# correct. A flipped sign gives exactly 1; a gradient $k$ times too large gives
# $(k - 1)/(k + 1)$, e.g. $(N - 1)/(N + 1)$ for a forgotten $1/N$.
#
# ### Try it
#
# Predict, then compute: the relative error of a gradient that forgot to divide by the batch
# size $N = 8$, and of one with the wrong sign. Fill in the two expressions (not graded).

# %%
g = np.random.default_rng(3).standard_normal((8, 3))


def predicted_errors(N):
    """(error for a gradient N times too large, error for a flipped sign), as formulas in N."""
    ### BEGIN SOLUTION
    return (N - 1) / (N + 1), 1.0
    ### END SOLUTION


print("predicted:", predicted_errors(8))
print("measured :", rel_error(8 * g, g), rel_error(-g, g))

# %% [markdown]
# ## Sparse checks
#
# A full numerical gradient costs two forward passes per entry. On big tensors, check a few
# random coordinates: `sparse_gradient_check` returns where it looked and the error there.

# %%
W = np.random.default_rng(4).standard_normal((30, 20))
f = lambda m: float(np.sum(m ** 3))  # noqa: E731
good, bad = 3 * W ** 2, 3 * W ** 2 + (np.arange(20) == 7) * 1.0   # bad: one column wrong
rng = np.random.default_rng(5)
idx, err = sparse_gradient_check(f, W, good, 10, rng)
print("correct gradient, worst of 10 checks:", err.max())
idx, err = sparse_gradient_check(f, W, bad, 10, np.random.default_rng(5))
print("one wrong column, errors:", np.round(err, 3), "at columns", idx[:, 1])

# %% [markdown]
# A bug in one column of 20 slips through ten random checks about 60% of the time: which is
# why the grader also runs full checks on small shapes.
#
# ## Your grade for this chapter

# %%
grade_cell("ch04")
