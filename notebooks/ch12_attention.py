# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 12: attention
#
# Every position asks a question (a query), every position offers a label (a key) and a
# content (a value), and each position reads all the values at once, weighted by how well
# each key answers its query. You write `exercises/ch12_attention/` (`attention.py`,
# `multihead.py`, `layernorm.py`, `positional.py`, `encoder.py`, `tasks.py`). Chapter text,
# with the maths and the conventions the grader checks (masks: True = may attend; a fully
# masked row gives zeros; sin on even columns, cos on odd ones; heads own consecutive
# slices of the features): `exercises/ch12_attention/README.md`.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch12")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch12_attention import (
    REVERSAL_T,
    REVERSAL_V,
    SORT_LEN,
    SORT_V,
    LayerNorm,
    attention_forward,
    causal_mask,
    greedy_decode,
    reversal_data,
    sinusoidal_encoding,
    sort_data,
    split_heads,
    train_reversal,
    train_sorter,
)

# %% [markdown]
# ## Attention with a mask
#
# Three queries, four keys. The causal mask lets query t read keys 0..t; the last row
# below hides every key from query 2 of the padded example: its weights and output are 0.

# %%
rng = np.random.default_rng(0)
q, k, v = rng.standard_normal((1, 3, 4)), rng.standard_normal((1, 4, 4)), rng.standard_normal((1, 4, 2))
print(causal_mask(4))
out, w = attention_forward(q, k, v, causal_mask(4)[:3])
print(np.round(w[0], 3), "rows sum to", w[0].sum(axis=1))
mask = np.ones((1, 3, 4), dtype=bool)
mask[0, 2] = False
out, w = attention_forward(q, k, v, mask)
print(np.round(w[0], 3), "\noutput of the fully masked query:", out[0, 2])

# %% [markdown]
# ## Why divide by sqrt(dk)
#
# Dot products of dk random numbers grow like sqrt(dk); unscaled, the softmax becomes nearly
# one-hot as heads get wider. The largest weight of a row, on average:

# %%
for dk in (4, 64, 512):
    q, k = rng.standard_normal((200, 1, dk)), rng.standard_normal((200, 10, dk))
    _, w = attention_forward(q, k, np.zeros((200, 10, 1)))
    raw = np.exp(q @ k.transpose(0, 2, 1))
    raw = raw / raw.sum(axis=-1, keepdims=True)
    print(f"dk={dk:4d}: scaled {w.max(axis=-1).mean():.2f}   unscaled {raw.max(axis=-1).mean():.2f}")

# %% [markdown]
# ## Heads own slices of the features
#
# With 8 features and 2 heads, head 0 gets features 0-3 of every position and head 1
# features 4-7.

# %%
x = np.arange(2 * 8, dtype=float).reshape(1, 2, 8)
print(split_heads(x, 2)[0])

# %% [markdown]
# ## Layer norm and the sinusoidal encoding

# %%
x = rng.normal(3.0, 5.0, size=(2, 3, 6))
y = LayerNorm(6).forward(x)
print("row means", np.round(y.mean(axis=-1), 12).ravel(), "\nrow variances", np.round(y.var(axis=-1), 4).ravel())
pe = sinusoidal_encoding(50, 32)
print("PE[0] =", pe[0, :8], "...")
plt.figure(figsize=(6, 3))
plt.imshow(pe.T, aspect="auto", cmap="RdBu")
plt.xlabel("position t")
plt.ylabel("column")
plt.title("sinusoidal encoding (sin on even columns, cos on odd)")
plt.colorbar()
plt.show()

# %% [markdown]
# ## Reversal: attention maps of a trained model
#
# `train_reversal` trains one pre-LN block on sequences of 8 tokens (a few seconds). Each
# output position has to read the mirrored input position: the maps of the two heads of
# the trained model show it as an anti-diagonal.

# %%
model, history = train_reversal(np.random.default_rng(0))
X, Y = reversal_data(500, REVERSAL_T, REVERSAL_V, np.random.default_rng(1))
pred = np.asarray(model.predict(X)).argmax(-1)
print(f"token accuracy {np.mean(pred == Y):.3f}, sequences right {np.mean(np.all(pred == Y, axis=1)):.3f}")


def attention_maps(model, x):
    """The attention weights of the first block's attention for one sequence (1, T)."""
    model.predict(x)
    block = next(layer for layer in model.layers if hasattr(layer, "attn"))
    return block.attn.attention[0]


x = X[:1]
maps = attention_maps(model, x)
fig, axes = plt.subplots(1, len(maps), figsize=(4 * len(maps), 3.5))
for h, ax in enumerate(np.atleast_1d(axes)):
    ax.imshow(maps[h], cmap="viridis", vmin=0, vmax=1)
    ax.set_title(f"head {h}")
    ax.set_xlabel("key position (input)")
    ax.set_ylabel("query position (output)")
    ax.set_xticks(range(REVERSAL_T), x[0])
plt.suptitle("reversal: where each position reads")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Without positional information
#
# The same model trained without `PositionalEncoding`: every output position receives the
# same information (a bag of tokens), so each can only guess. Accuracy per output position:

# %%
flat_model, _ = train_reversal(np.random.default_rng(0), positional=False)
flat = np.asarray(flat_model.predict(X)).argmax(-1)
plt.figure(figsize=(6, 3))
plt.bar(np.arange(REVERSAL_T) - 0.2, np.mean(pred == Y, axis=0), width=0.4, label="with positions")
plt.bar(np.arange(REVERSAL_T) + 0.2, np.mean(flat == Y, axis=0), width=0.4, label="without")
plt.xlabel("output position")
plt.ylabel("token accuracy")
plt.legend()
plt.show()
print(f"without positions: token accuracy {np.mean(flat == Y):.3f}")

# %% [markdown]
# ## A causal decoder that sorts, and the same decoder without its mask
#
# Greedy decoding writes the answer one token at a time from the prompt alone. The model
# trained without the causal mask reaches a training loss as small, but it learned to copy
# the next token, which is not there when it writes.

# %%
Xs, Ys = sort_data(500, SORT_LEN, SORT_V, np.random.default_rng(2))
for causal in (True, False):
    sorter, history = train_sorter(np.random.default_rng(0), causal=causal)
    answer = greedy_decode(sorter, Xs[:, :SORT_LEN], SORT_LEN)
    print(f"causal={causal!s:5}: training loss {history['loss'][-1]:.4f}, "
          f"answers right {np.mean(np.all(answer == Ys, axis=1)):.3f}; "
          f"{Xs[0, :SORT_LEN]} -> {answer[0]}")

# %% [markdown]
# ## Your grade for this chapter
#
# Attention, multi-head attention, layer norm, positions and the encoder block against the
# reference (values with fixed weights, properties, gradient checks), then the two training
# runs (reversal, and the sorter judged by greedy decoding).

# %%
grade_cell("ch12")
