# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 07: Generalization
#
# The goal is not a small training loss but good predictions on data the network has never
# seen. You write the standard tools in `exercises/ch07_generalization/`: L1/L2 penalties
# (in the loss and in `Dense.backward`), inverted dropout, weight initialisation, and batch
# normalization. From now on every layer takes `forward(inputs, training=False)`. Chapter
# text: `exercises/ch07_generalization/README.md`.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch07")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch07_generalization import (
    Adam,
    BatchNorm,
    Dense,
    Dropout,
    ReLU,
    SoftmaxCrossEntropy,
    Tanh,
    accuracy,
    init_weights,
    regularization_loss,
    spiral_data,
)

# %% [markdown]
# ## Weight initialisation: the scale decides what reaches the output
#
# A neuron sums fan_in products, so each layer multiplies the variance of the signal by about
# $\text{fan\_in}\cdot\operatorname{Var}(w)$ (and whatever the activation keeps):
#
# | kind | $\operatorname{Var}(w)$ |
# |---|---|
# | random | $10^{-4}$ |
# | Xavier / Glorot | $2/(\text{fan\_in} + \text{fan\_out})$ |
# | He | $2/\text{fan\_in}$ (ReLU keeps half the second moment) |
#
# ### Try it
#
# Write the standard deviation each kind should have (not graded); the cell compares it with
# what your `init_weights` draws.

# %%
def expected_std(kind, fan_in, fan_out):
    """The standard deviation of the weights of ``init_weights(kind, fan_in, fan_out, rng)``."""
    ### BEGIN SOLUTION
    variance = {"zeros": 0.0, "random": 1e-4, "xavier": 2.0 / (fan_in + fan_out), "he": 2.0 / fan_in}[kind]
    return float(np.sqrt(variance))
    ### END SOLUTION


for kind in ("zeros", "random", "xavier", "he"):
    W = init_weights(kind, 500, 400, np.random.default_rng(0))
    print(f"{kind:7s} expected {expected_std(kind, 500, 400):.5f}, drawn {W.std():.5f}, shape {W.shape}")

# %% [markdown]
# Send 1000 standard normal samples through ten layers of 256 units and watch the standard
# deviation of the activations, layer after layer:

# %%
X0 = np.random.default_rng(1).standard_normal((1000, 256))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for ax, (name, act) in zip(axes, [("tanh", Tanh()), ("ReLU", ReLU())]):
    for kind in ("random", "xavier", "he"):
        rng, h, stds = np.random.default_rng(2), X0, []
        for _ in range(10):
            h = act.forward(h @ init_weights(kind, 256, 256, rng))
            stds.append(h.std())
        ax.semilogy(range(1, 11), stds, "o-", label=kind)
    ax.set_title(f"{name} after every layer")
    ax.set_xlabel("layer")
axes[0].set_ylabel("std of the activations")
axes[0].legend()
plt.show()

# %% [markdown]
# "random" loses the signal within a few layers; with ReLU only He keeps it steady. Rule of
# thumb: Xavier for tanh and sigmoid, He for ReLU.
#
# ## L1 and L2 penalties
#
# A regularized layer adds $R = \lambda_1\sum|W| + \lambda_2\sum W^2$ (and the same for the
# biases) to the loss, so `backward` adds its gradient
# $\lambda_1\operatorname{sign}(W) + 2\lambda_2 W$ to `dweights`. The grader checks that the
# two agree; so can you:

# %%
rng = np.random.default_rng(3)
layer = Dense(4, 3, rng, weight_scale=1.0, weight_regularizer_l1=0.01, weight_regularizer_l2=0.05,
              bias_regularizer_l2=0.1)
layer.biases = rng.standard_normal((1, 3))
X = rng.standard_normal((5, 4))
layer.forward(X)
layer.backward(np.zeros((5, 3)))   # no gradient from the data: dweights is the penalty's alone
added = layer.dweights.copy()
h, numeric = 1e-6, np.zeros_like(layer.weights)
for idx in np.ndindex(layer.weights.shape):
    saved = layer.weights[idx]
    layer.weights[idx] = saved + h
    up = regularization_loss(layer)
    layer.weights[idx] = saved - h
    down = regularization_loss(layer)
    layer.weights[idx] = saved
    numeric[idx] = (up - down) / (2 * h)
print(f"penalty R = {regularization_loss(layer):.4f}")
print("what backward adds vs the numerical gradient of R: max difference",
      np.abs(added - numeric).max())

# %% [markdown]
# ## Dropout
#
# In training each value is kept with probability $p = 1 - \text{rate}$ and scaled by $1/p$,
# so its expectation is unchanged and inference is simply the identity:
#
# $$
# \text{output} = \text{inputs} \odot \frac{m}{p}, \quad m \sim \text{Bernoulli}(p), \qquad
# \mathbb E[\text{output}] = \text{inputs}.
# $$

# %%
drop = Dropout(0.3, np.random.default_rng(4))
ones = np.ones((1000, 100))
out = drop.forward(ones, training=True)
print(f"kept fraction {np.mean(out > 0):.4f} (expected 0.7), kept value {out.max():.4f} (1/0.7 = {1 / 0.7:.4f}), "
      f"mean {out.mean():.4f}")
print("inference is the identity:", np.array_equal(drop.forward(ones), ones), "mask:", drop.mask)

# %% [markdown]
# ## Overfitting, and what the tools change
#
# A 2-96-96-3 network trained hard on only 20 points per spiral arm memorises them. Train it
# three ways (no regularization, L2 on the weights, dropout after each hidden layer) and test
# on 600 fresh points. Note the loop: `training=True` while training, the default (`False`)
# when predicting. (With so few points the numbers move with the seeds: try a few.)

# %%
X_train, y_train = spiral_data(20, 3, np.random.default_rng(5))
X_test, y_test = spiral_data(200, 3, np.random.default_rng(6))


def make(l2=0.0, dropout=0.0, seed=0):
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in [(2, 96), (96, 96)]:
        layers += [Dense(n_in, n_out, rng, weight_scale=0.1, weight_regularizer_l2=l2), ReLU()]
        if dropout:
            layers.append(Dropout(dropout, rng))
    return layers + [Dense(96, 3, rng, weight_scale=0.1, weight_regularizer_l2=l2)]


def forward(layers, X, training=False):
    for layer in layers:
        X = layer.forward(X, training=training)
    return X


def fit(layers, epochs=400):
    head, opt = SoftmaxCrossEntropy(), Adam(learning_rate=0.005)
    for _ in range(epochs):
        head.forward(forward(layers, X_train, training=True), y_train)
        grad = head.backward(head.output, y_train)
        for layer in reversed(layers):
            grad = layer.backward(grad)
        opt.pre_update_params()
        for layer in layers:
            opt.update_params(layer)  # a layer without parameters has nothing to update
        opt.post_update_params()
    return layers


for label, layers in [("no regularization", make()), ("L2 2e-3 on the weights", make(l2=2e-3)),
                      ("dropout 0.3", make(dropout=0.3))]:
    fit(layers)
    train_acc = accuracy(forward(layers, X_train), y_train)
    test_acc = accuracy(forward(layers, X_test), y_test)
    penalty = sum(regularization_loss(layer) for layer in layers)  # 0 for a layer without penalties
    weights = [layer.parameters()["weights"] for layer in layers if "weights" in layer.parameters()]
    weight_norm = np.sqrt(sum(np.sum(W ** 2) for W in weights))
    print(f"{label:24s} training {train_acc:.3f}  test {test_acc:.3f}  |W| {weight_norm:6.2f}  penalty {penalty:.3f}")

# %% [markdown]
# ## Batch normalization
#
# In training, each feature is standardised over the batch, then scaled and shifted by the
# learned $\gamma, \beta$:
#
# $$
# \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}}, \qquad y = \gamma\odot\hat x + \beta,
# $$
#
# while running averages $\text{running} \leftarrow m\cdot\text{running} + (1 - m)\cdot\text{batch}$
# estimate $\mu$ and $\sigma^2$ for inference, where a prediction must not depend on the rest
# of its batch.

# %%
rng = np.random.default_rng(7)
bn = BatchNorm(3)
means = []
for _ in range(40):
    batch = rng.normal(loc=[5.0, -2.0, 0.0], scale=[3.0, 0.5, 1.0], size=(32, 3))
    out = bn.forward(batch, training=True)
    means.append(bn.running_mean[0].copy())
print("training output: column means", out.mean(axis=0).round(6), "stds", out.std(axis=0).round(4))
print("running mean", bn.running_mean.round(3), " running var", bn.running_var.round(3))
one = np.array([[5.0, -2.0, 0.0]])
print("a single sample at inference:", bn.forward(one).round(4), "(in training it would be beta:",
      bn.forward(one, training=True).round(4), ")")
plt.figure(figsize=(5, 3))
plt.plot(np.array(means))
plt.xlabel("training batches")
plt.title("running_mean (momentum 0.9) towards (5, -2, 0)")
plt.show()

# %% [markdown]
# The batch-norm backward has three paths to every input (directly, through $\mu$, through
# $\sigma^2$), which collapse into
# $\frac{s}{N}\big(Ng - \sum_n g_n - \hat x\odot\sum_n g_n\hat x_n\big)$ with
# $g = \text{dvalues}\odot\gamma$ and $s = 1/\sqrt{\sigma^2 + \varepsilon}$: each column of
# `dinputs` sums to 0.

# %%
x, g = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
bn = BatchNorm(3)
bn.forward(x, training=True)
print("column sums of dinputs:", bn.backward(g).sum(axis=0).round(12))

# %% [markdown]
# ## Your grade for this chapter
#
# Regularized gradients against the reference and against your own `regularization_loss`;
# dropout's exact masks, keep rate and inference; the variance of every initialisation;
# batch norm forward, running statistics, inference and backward (gradient-checked); and the
# `training` keyword on every layer.

# %%
grade_cell("ch07")
