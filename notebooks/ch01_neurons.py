# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 01: Neurons and layers
#
# A network repeats one small computation many times: a weighted sum plus a bias. In this
# notebook you run it three ways, with the code **you** write in
# `exercises/ch01_neurons/` (the modules are what is graded; this notebook is where you try
# them): one neuron, a layer in pure Python, and a whole batch as one matrix product. Then
# you time your pure-Python product against numpy's.
#
# The full chapter text is `exercises/ch01_neurons/README.md`. Run the cells from the top;
# a cell that calls a function you have not written yet stops with
# `NotImplementedError: ch01: implement ...`: that is your next task. Edit the module,
# save, and re-run the cell (modules are reloaded automatically).

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch01")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from exercises.ch01_neurons import Dense, layer_output, matmul, neuron_output

# %% [markdown]
# ## One neuron
#
# A neuron with inputs $x_1, \dots, x_n$, one weight $w_i$ per input and a bias $b$ outputs
#
# $$
# y = \sum_{i=1}^{n} w_i x_i + b .
# $$
#
# With $x = (1, 2, 3)$, $w = (0.2, 0.8, -0.5)$ and $b = 2$ the products are $0.2$, $1.6$ and
# $-1.5$, so $y = 0.2 + 1.6 - 1.5 + 2 = 2.3$. Your `neuron_output(inputs, weights, bias)`
# takes two Python lists and a float:

# %%
neuron_output([1.0, 2.0, 3.0], [0.2, 0.8, -0.5], 2.0)  # 2.3 (up to float rounding)

# %% [markdown]
# ## A layer of neurons
#
# A layer is several neurons reading the same inputs, each with its own weights and bias.
# In pure Python the weights are a list of rows, **one row per neuron**, and
# `layer_output` returns one output per row, in order. Neuron 1 below gives
# $0.5 - 1.8 + 0.9 - 1 = -1.4$.

# %%
inputs = [1.0, 2.0, 3.0]
weights = [[0.2, 0.8, -0.5],   # neuron 0
           [0.5, -0.9, 0.3]]   # neuron 1
biases = [2.0, -1.0]
layer_output(inputs, weights, biases)  # [2.3, -1.4]

# %% [markdown]
# ## The matrix form, on a batch
#
# A batch of $N$ samples is a matrix $X$ of shape $(N, n_{\text{in}})$, one sample per row.
# `Dense` keeps its weights as $W$ of shape $(n_{\text{in}}, n_{\text{out}})$, **one column
# per neuron** (the transpose of the lists above), and its biases as a row $b$ of shape
# $(1, n_{\text{out}})$:
#
# $$
# \underbrace{Y}_{(N,\,n_{\text{out}})} = \underbrace{X}_{(N,\,n_{\text{in}})}\,
# \underbrace{W}_{(n_{\text{in}},\,n_{\text{out}})} + \underbrace{b}_{(1,\,n_{\text{out}})},
# \qquad Y_{sj} = \sum_k X_{sk} W_{kj} + b_j .
# $$
#
# The inner dimensions line up without a transpose, and the output has one row per sample
# and one column per neuron: what the next layer expects as its input. The bias row is
# *broadcast*: numpy adds the one row of shape $(1, n_{\text{out}})$ to each of the $N$ rows.

# %%
rng = np.random.default_rng(0)
layer = Dense(3, 2, rng)
print("weights", layer.weights.shape, " biases", layer.biases.shape)
layer.weights = np.array(weights).T          # the two neurons above, as columns
layer.biases = np.array([biases])
X = np.array([[1.0, 2.0, 3.0],
              [0.0, 0.0, 0.0],
              [-1.0, 0.5, 2.0]])
Y = layer.forward(X)
print(Y)   # first row: [2.3, -1.4]; second row: the biases alone

# %% [markdown]
# ### Try it: the batch, one number at a time
#
# Write `dense_by_loops(X, W, b)` below **with your `neuron_output`**: for each sample (row
# of `X`) and each neuron (column of `W`), one weighted sum plus that neuron's bias. It must
# agree with `Dense.forward`. (This cell is not graded; it is here so that the formula
# $Y_{sj}$ above becomes code you wrote twice.)

# %%
def dense_by_loops(X, W, b):
    """X (N, n_in), W (n_in, n_out), b (1, n_out) numpy arrays -> (N, n_out) array."""
    ### BEGIN SOLUTION
    N, n_out = X.shape[0], W.shape[1]
    Y = np.empty((N, n_out))
    for s in range(N):
        for j in range(n_out):
            Y[s, j] = neuron_output(list(X[s]), list(W[:, j]), float(b[0, j]))
    return Y
    ### END SOLUTION


print(np.allclose(dense_by_loops(X, layer.weights, layer.biases), layer.forward(X)))

# %% [markdown]
# ## Matrix multiplication in pure Python
#
# For $A$ of shape $(n, k)$ and $B$ of shape $(k, m)$, the product $C = AB$ has shape
# $(n, m)$ and
#
# $$
# C_{ij} = \sum_{t=1}^{k} A_{it} B_{tj} .
# $$
#
# Each entry is the dot product of a row of $A$ with a column of $B$, so the inner
# dimensions must agree: your `matmul` raises `ValueError` when they do not. Three nested
# loops run the multiply-add $n \cdot k \cdot m$ times: $n^3$ for square matrices.

# %%
A = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]      # (3, 2)
B = [[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]]       # (2, 3)
print(np.array(matmul(A, B)))
print(np.array(A) @ np.array(B))
try:
    matmul(A, A)                               # (3, 2) times (3, 2): inner dimensions 2 and 3
except ValueError as exc:
    print("ValueError:", exc)

# %% [markdown]
# ## A small timing lab
#
# How much does the interpreter cost? Time your `matmul` against numpy's `@` on square
# matrices. Every pure-Python multiply-add handles boxed floats and looks up their types at
# run time; numpy hands the whole product to a compiled BLAS kernel that works on raw
# doubles with vector instructions, tile by tile in the cache. The full lab, with a table,
# is `python3 -m nox -s run -- exercises.ch01_neurons.matmul_lab`.

# %%
def best_of(fn, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


sizes = [8, 16, 32, 64]
t_python, t_numpy = [], []
rng = np.random.default_rng(1)
for n in sizes:
    a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    la, lb = a.tolist(), b.tolist()
    t_python.append(best_of(lambda: matmul(la, lb)))
    t_numpy.append(best_of(lambda: a @ b))
    print(f"n={n:3d}: pure Python {t_python[-1] * 1e3:8.3f} ms, numpy {t_numpy[-1] * 1e3:7.4f} ms, "
          f"ratio {t_python[-1] / t_numpy[-1]:7.0f}")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(sizes, t_python, "o-", label="your matmul")
ax.loglog(sizes, t_numpy, "s-", label="numpy @")
ax.loglog(sizes, [t_python[-1] * (n / sizes[-1]) ** 3 for n in sizes], "k:", label="$\\propto n^3$")
ax.set_xlabel("n (square matrices)")
ax.set_ylabel("seconds (best of 3)")
ax.legend()
plt.show()

# %% [markdown]
# The pure-Python curve follows the dotted $n^3$ line: a constant cost per multiply-add.
# numpy's curve is flat at first (a fixed overhead of about a microsecond per call) and
# only later starts to climb, which is why the ratio grows with $n$. The lesson for the
# course: write each loop once to understand it, then use whole-array operations.
#
# ## Initialising the weights
#
# `Dense(n_inputs, n_neurons, rng, weight_scale=0.01)` draws its weights as `weight_scale`
# times standard normal samples of shape $(n_{\text{in}}, n_{\text{out}})$, from the
# Generator `rng` you pass in (never from numpy's global state), and sets the biases to
# zeros. The same seed therefore gives the same layer, which is how the grader checks it.

# %%
a = Dense(4, 3, np.random.default_rng(42))
b = Dense(4, 3, np.random.default_rng(42))
print("same seed, same weights:", np.array_equal(a.weights, b.weights))
print("biases:", a.biases)

big = Dense(200, 100, np.random.default_rng(0), weight_scale=0.5)
print(f"weight_scale 0.5: standard deviation of 20,000 weights = {big.weights.std():.3f}")
plt.figure(figsize=(5, 3))
plt.hist(big.weights.ravel(), bins=60)
plt.title("Dense(200, 100, weight_scale=0.5): weights")
plt.show()

# %% [markdown]
# ## One sample at a time, all at once
#
# Each sample goes through the layer independently, so shuffling the rows of a batch
# shuffles the rows of the output the same way. The grader checks this property on random
# batches.

# %%
X = np.random.default_rng(3).standard_normal((6, 4))
perm = np.random.default_rng(4).permutation(6)
print(np.allclose(a.forward(X)[perm], a.forward(X[perm])))

# %% [markdown]
# ## Your grade for this chapter
#
# The cell below runs the chapter's grader on your modules (in a separate process) and
# prints one row per test: its points and, for a failure, what went wrong. Its result, the
# last line, is your score. (`python3 -m nox -s grade-01` prints the same from a terminal.)

# %%
grade_cell("ch01")
