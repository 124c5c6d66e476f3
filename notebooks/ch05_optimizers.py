# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 05: Optimizers
#
# Gradients say which way is downhill; an optimizer decides how far to step. You write random
# search (the baseline without gradients), SGD with learning-rate decay and momentum, Adagrad,
# RMSprop and Adam in `exercises/ch05_optimizers/`. This notebook watches them move on small
# problems you can plot. Chapter text: `exercises/ch05_optimizers/README.md`.
#
# Notation: $p$ a parameter array, $g$ its gradient, $\eta_t$ the current learning rate, $t$ the
# step number (1 for the first step).

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch05")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch05_optimizers import (
    SGD,
    Adagrad,
    Adam,
    Dense,
    Layer,
    ReLU,
    RMSprop,
    SoftmaxCrossEntropy,
    accuracy,
    random_search,
)


class Point(Layer):
    """A stand-in for a layer with one parameter, its position: an optimizer sees only
    ``parameters()`` and ``gradients()``, so any layer-like object can be optimized."""

    def __init__(self, *coords):
        self.weights = np.array([coords], dtype=float)   # (1, d)

    def parameters(self):
        return {"position": self.weights}

    def gradients(self):
        return {"position": self.dweights}


def descend(optimizer, start, grad, steps):
    """Positions (steps + 1, d) of a Point moved by ``optimizer`` with gradient function ``grad``."""
    point, path = Point(*start), [np.array(start, dtype=float)]
    for _ in range(steps):
        point.dweights = grad(point.weights)
        optimizer.pre_update_params()
        optimizer.update_params(point)
        optimizer.post_update_params()
        path.append(point.weights[0].copy())
    return np.array(path)

# %% [markdown]
# ## How large can the learning rate be?
#
# On $L = \tfrac12 a p^2$ the gradient is $ap$ and one step gives $p \leftarrow (1 - \eta a)p$:
# smooth convergence for $\eta < 1/a$, oscillation for $1/a < \eta < 2/a$, divergence beyond.
# With your SGD, $a = 4$:

# %%
a = 4.0
fig, ax = plt.subplots(figsize=(5, 3))
for lr in (0.1, 0.4, 0.52):
    path = descend(SGD(learning_rate=lr), [1.0], lambda w: a * w, 15)
    ax.plot(path[:, 0], "o-", ms=3, label=f"$\\eta$ = {lr} ($\\eta a$ = {lr * a:.2f})")
ax.axhline(0, color="k", lw=0.5)
ax.set_xlabel("step")
ax.set_ylabel("p")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Learning-rate decay
#
# $\eta_t = \eta_0 / (1 + \text{decay} \cdot \text{iterations})$, recomputed from $\eta_0$ at
# every step, with `iterations` counting the steps already finished (0 during the first).

# %%
opt = SGD(learning_rate=1.0, decay=0.1)
rates = []
for _ in range(11):
    opt.pre_update_params()
    rates.append(round(opt.current_learning_rate, 3))
    opt.post_update_params()
print(rates)   # 1.0, 0.909, 0.833, 0.769, ..., 0.5 at iterations = 10

# %% [markdown]
# ## A ravine: momentum and per-parameter step sizes
#
# $L = \tfrac12(p_1^2 + 25\,p_2^2)$ is 25 times steeper across than along. Plain SGD must keep
# $\eta < 2/25$ for the steep direction and then crawls along the flat one. Momentum
# ($u \leftarrow \mu u - \eta g$, $p \leftarrow p + u$) accumulates speed along the floor and
# cancels the zig-zag; Adagrad, RMSprop and Adam divide each coordinate's step by the size of
# its own gradients:
#
# $$
# c \leftarrow c + g^2 \ \text{(Adagrad)}, \qquad c \leftarrow \rho c + (1-\rho) g^2 \ \text{(RMSprop)},
# \qquad p \leftarrow p - \eta_t \frac{g}{\sqrt c + \epsilon}.
# $$

# %%
scales = np.array([[1.0, 25.0]])
grad = lambda w: scales * w  # noqa: E731
runs = {
    "SGD, lr 0.07": SGD(learning_rate=0.07),
    "SGD + momentum 0.8": SGD(learning_rate=0.02, momentum=0.8),
    "Adagrad, lr 0.5": Adagrad(learning_rate=0.5),
    "RMSprop, lr 0.05": RMSprop(learning_rate=0.05),
    "Adam, lr 0.2": Adam(learning_rate=0.2),
}
g1, g2 = np.meshgrid(np.linspace(-5.5, 1, 200), np.linspace(-1.6, 1.6, 200))
fig, axes = plt.subplots(1, 2, figsize=(13, 3.6))
axes[0].contour(g1, g2, 0.5 * (g1 ** 2 + 25 * g2 ** 2), levels=15, colors="0.8")
for label, opt in runs.items():
    path = descend(opt, [-5.0, 1.5], grad, 60)
    axes[0].plot(path[:, 0], path[:, 1], ".-", ms=3, label=label)
    axes[1].semilogy(0.5 * (path[:, 0] ** 2 + 25 * path[:, 1] ** 2) + 1e-12, label=label)
axes[0].legend(fontsize=7)
axes[1].set_xlabel("step")
axes[1].set_ylabel("loss")
plt.show()

# %% [markdown]
# ## Adam and its bias correction
#
# Adam keeps running averages $m$ of $g$ and $v$ of $g^2$, both starting at 0, so both start
# biased towards 0: $\mathbb E[m_t] = (1 - \beta_1^t)\,\bar g$. Dividing by $1 - \beta^t$
# removes the bias:
#
# $$
# \hat m = \frac{m}{1 - \beta_1^t},\qquad \hat v = \frac{v}{1 - \beta_2^t},\qquad
# p \leftarrow p - \eta_t\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}, \qquad t = \text{iterations} + 1 .
# $$
#
# ### Try it
#
# Write one parameter's Adam by hand (not graded), then compare its path with your `Adam`.

# %%
def adam_by_hand(gradients, lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, p=0.0):
    """Positions of one scalar parameter after each gradient in ``gradients`` (a list of floats)."""
    positions = []
    ### BEGIN SOLUTION
    m = v = 0.0
    for t, g in enumerate(gradients, start=1):
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g * g
        m_hat, v_hat = m / (1 - beta_1 ** t), v / (1 - beta_2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + epsilon)
        positions.append(p)
    ### END SOLUTION
    return positions


grads = [0.5, -2.0, 3.0, 0.01, 1e-4]
point, mine = Point(0.0), []
adam = Adam(learning_rate=0.1)
for g in grads:
    point.dweights = np.array([[g]])
    adam.pre_update_params()
    adam.update_params(point)
    adam.post_update_params()
    mine.append(float(point.weights[0, 0]))
print("by hand  :", np.round(adam_by_hand(grads), 6))
print("your Adam:", np.round(mine, 6))

# %% [markdown]
# Whatever the size of the first gradient, Adam's first step has size about $\eta$:

# %%
for g in (1e-6, 1.0, 1e6):
    point, adam = Point(0.0), Adam(learning_rate=0.01)
    point.dweights = np.array([[g]])
    adam.pre_update_params()
    adam.update_params(point)
    adam.post_update_params()
    print(f"gradient {g:g}: first step {-point.weights[0, 0]:.6f}")

# %% [markdown]
# ## Random search, and why gradients win
#
# Random search keeps a random nudge when it lowers the loss. Near a minimum a nudge of size
# $s$ gains about $s\lVert g\rVert$ but pays a curvature penalty that grows with the number of
# parameters $d$: it progresses about $d$ times more slowly than gradient descent. A 2-32-2
# network on a two-class spiral (162 parameters), 400 steps each, same start:

# %%
def spiral(n, rng, turns=1.5, noise=0.1):
    r = np.tile(np.linspace(0.05, 1, n), 2)
    label = np.repeat([0, 1], n)
    theta = 2 * np.pi * turns * r + np.pi * label + noise * rng.standard_normal(2 * n)
    return np.column_stack([r * np.sin(theta), r * np.cos(theta)]), label


X, y = spiral(100, np.random.default_rng(0))


def network(seed):
    rng = np.random.default_rng(seed)
    return Dense(2, 32, rng, weight_scale=0.5), ReLU(), Dense(32, 2, rng, weight_scale=0.5), SoftmaxCrossEntropy()


def loss_and_accuracy(d1, relu, d2, head):
    loss = head.forward(d2.forward(relu.forward(d1.forward(X))), y)
    return loss, accuracy(head.output, y)


steps = 400
d1, relu, d2, head = network(2)
start = {"W1": d1.weights.copy(), "b1": d1.biases.copy(), "W2": d2.weights.copy(), "b2": d2.biases.copy()}


def loss_of(params):
    d1.weights, d1.biases, d2.weights, d2.biases = params["W1"], params["b1"], params["W2"], params["b2"]
    return loss_and_accuracy(d1, relu, d2, head)[0]


best, history_rs = random_search(loss_of, start, steps, np.random.default_rng(1), scale=0.05)
loss_of(best)   # puts the best parameters found back into the network
acc_rs = loss_and_accuracy(d1, relu, d2, head)[1]

d1, relu, d2, head = network(2)
opt, history_sgd = SGD(learning_rate=0.5, momentum=0.9), []
for _ in range(steps):
    history_sgd.append(loss_and_accuracy(d1, relu, d2, head)[0])
    d1.backward(relu.backward(d2.backward(head.backward(head.output, y))))
    opt.pre_update_params()
    opt.update_params(d1)
    opt.update_params(d2)
    opt.post_update_params()
acc_sgd = loss_and_accuracy(d1, relu, d2, head)[1]

plt.figure(figsize=(5.5, 3.2))
plt.semilogx(np.arange(1, steps + 1), history_rs, label=f"random search (accuracy {acc_rs:.0%})")
plt.semilogx(np.arange(1, steps + 1), history_sgd, label=f"SGD + momentum (accuracy {acc_sgd:.0%})")
plt.xlabel("step")
plt.ylabel("training loss")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# `python3 -m nox -s run -- exercises.ch05_optimizers.make_plots` draws the chapter's full figure (3,000
# steps, plain SGD too).
#
# ## Your grade for this chapter
#
# Exact update sequences of every optimizer against the reference over five steps (decay,
# momentum, other hyperparameters, small gradients), state per (layer, parameter name), Adam's first
# step, short training runs, and random search against the reference with the same seed.

# %%
grade_cell("ch05")
