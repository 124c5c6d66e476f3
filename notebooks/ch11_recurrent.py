# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 11: recurrent networks
#
# A recurrent layer reads a sequence one step at a time and carries a state from step to
# step. You write `exercises/ch11_recurrent/` (`rnn.py`, `lstm.py`, `gru.py`, `embedding.py`,
# `stack.py`, `clipping.py`, `adding.py`, `char_model.py`). Chapter text, with the maths of
# every cell and the conventions the grader checks (gate order i, f, g, o for the LSTM; r, z,
# n for the GRU; the reset gate on `h_prev @ Wh_n + bh_n`; z keeps the old state):
# `exercises/ch11_recurrent/README.md`. The text of the character model is the first
# 99,843 characters of "tiny Shakespeare" (public domain; see `data/README.md`).

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch11")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch11_recurrent import (
    GRU,
    LSTM,
    RNN,
    LSTMCell,
    build_vocabulary,
    encode,
    load_text,
    sample,
    train_adding,
    train_char_model,
)

# %% [markdown]
# ## One LSTM step, gate by gate
#
# The four blocks of `a = inputs @ Wx + h_prev @ Wh + b` are, in order, the input gate i,
# the forget gate f, the candidate g and the output gate o. With the forget gate's bias
# pushed up, the cell keeps its old state; with the input gate's, it writes the candidate.

# %%
rng = np.random.default_rng(0)
cell = LSTMCell(3, 4, rng)
x, h, c = rng.standard_normal((2, 3)), np.zeros((2, 4)), np.ones((2, 4))
for label, block in (("forget gate open", 1), ("input gate open", 0)):
    cell.biases[...] = -6.0
    cell.biases[:, 4 * block:4 * block + 4] = 6.0
    h_next, c_next = cell.forward(x, h, c)
    print(f"{label:17s} c_next[0] = {np.round(c_next[0], 3)}")

# %% [markdown]
# ## How far back does the gradient reach?
#
# Give a fresh layer a gradient at its **last** hidden state only, and look at the gradient
# that arrives at each input step. Write `gradient_reach(layer, x)`: run the layer forward
# on `x` (N, T, D), backward with `dvalues` zero everywhere except ones at step T - 1, and
# return the norm of `dinputs[:, t]` for every t (not graded).

# %%
def gradient_reach(layer, x):
    """(T,) array: the norm of the gradient at input step t, from ones at the last state."""
    ### BEGIN SOLUTION
    out = layer.forward(x)
    d = np.zeros_like(out)
    d[:, -1] = 1.0
    dx = layer.backward(d)
    return np.linalg.norm(dx, axis=(0, 2))
    ### END SOLUTION


x = np.random.default_rng(1).standard_normal((16, 50, 4))
for cls, color in ((RNN, "tab:red"), (LSTM, "tab:blue"), (GRU, "tab:green")):
    norms = gradient_reach(cls(4, 32, np.random.default_rng(2)), x)
    plt.semilogy(np.arange(50)[::-1], norms, color=color, label=cls.__name__)
plt.xlabel("steps back from the last step")
plt.ylabel("gradient norm at that input")
plt.legend()
plt.show()

# %% [markdown]
# ## The adding problem
#
# Two marked values hidden in a sequence of random values; the target is their sum. A vanilla
# RNN learns it on short sequences; on long ones the gradient from the answer no longer
# reaches the first marked value. (A short run here: 150 steps. The chapter's figure,
# `python3 -m nox -s run -- exercises.ch11_recurrent.make_plots`, trains longer and adds the LSTM.)

# %%
for T, style in ((10, "-"), (40, "--")):
    for cell_name, color in (("rnn", "tab:red"), ("gru", "tab:green")):
        _, losses = train_adding(cell_name, T, np.random.default_rng(0), steps=150)
        smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
        plt.semilogy(smooth, style, color=color, label=f"{cell_name.upper()}, T = {T}")
plt.axhline(1 / 6, color="gray", linewidth=1)
plt.xlabel("training step")
plt.ylabel("training loss")
plt.legend()
plt.show()

# %% [markdown]
# ## A character-level model
#
# 100 training steps take a few seconds and already produce words and speaker names; the
# graded run takes 200.

# %%
text = load_text(COURSE / "data")
vocabulary = build_vocabulary(text)
ids = encode(text, vocabulary)
layers, losses = train_char_model(ids[: int(0.9 * len(ids))], len(vocabulary), np.random.default_rng(0), steps=100)
print(f"training loss: {losses[0]:.2f} -> {losses[-1]:.2f} nats per character")
print(sample(layers, vocabulary, "ROMEO:\n", 200, np.random.default_rng(1), temperature=0.7))

# %% [markdown]
# ## Your grade for this chapter
#
# Values with fixed weights for every cell and layer, gradient checks with a gradient on
# every step, stacks, embedding, clipping, the adding problem (a GRU on 40-step sequences) and
# the character model's validation loss.

# %%
grade_cell("ch11")
