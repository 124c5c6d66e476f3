# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 14: transfer learning
#
# A LeNet-5 that the course trained on the digits 0-4 (shipped in `data/pretrained/`),
# loaded into your own layers and reused: as a frozen feature extractor and as a starting
# point for fine-tuning on the digits 5-9 with a few labels, and as the eyes of a style
# transfer. You write `exercises/ch14_transfer/` (`pretrained.py`, `freezing.py`,
# `few_labels.py`, `style.py`). Chapter text: `exercises/ch14_transfer/README.md`.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch14")

# %%
import matplotlib.pyplot as plt
import numpy as np

from exercises.ch14_transfer import (
    CHECK_FILE,
    MODEL_FILE,
    PRETRAINED_DIR,
    Adam,
    Dense,
    ParamGroups,
    ENCODER_FILE,
    Model,
    chain_sequences,
    check_forward,
    fit_few_labels,
    fit_sequence_classifier,
    mask_tokens,
    gram,
    labelled_subset,
    load_digits,
    load_pretrained,
    set_trainable,
    stylize,
)

# %% [markdown]
# ## Loading, with a forward check
#
# `load_pretrained` builds chapter 10's LeNet-5, copies the file's `layer{i}.{name}` arrays
# into it and checks that it gives the shipped outputs on the shipped inputs. Then a
# transposed kernel (same shape, different network) must be refused.

# %%
model = load_pretrained(PRETRAINED_DIR / MODEL_FILE, PRETRAINED_DIR / CHECK_FILE, np.random.default_rng(0))
check = np.load(PRETRAINED_DIR / CHECK_FILE, allow_pickle=False)
print("largest difference:", check_forward(model, check["inputs"], check["outputs"]))
model.layers[0].weights[...] = model.layers[0].weights.transpose(0, 1, 3, 2).copy()
try:
    check_forward(model, check["inputs"], check["outputs"])
except ValueError as exc:
    print("refused:", exc)
model = load_pretrained(PRETRAINED_DIR / MODEL_FILE, PRETRAINED_DIR / CHECK_FILE, np.random.default_rng(0))

# %% [markdown]
# ## Freezing and two learning rates
#
# A frozen layer is skipped by the optimizer: its weights stay put and no Adam state is
# created for it. `ParamGroups` gives each group of layers its own optimizer.

# %%
rng = np.random.default_rng(0)
body, head = Dense(3, 4, rng), Dense(4, 2, rng)
for layer in (body, head):
    layer.dweights, layer.dbiases = np.ones_like(layer.weights), np.ones_like(layer.biases)
set_trainable([body], False)
groups = ParamGroups([([body], Adam(learning_rate=3e-4)), ([head], Adam(learning_rate=3e-3))])
before = body.weights.copy(), head.weights.copy()
groups.pre_update_params()
groups.update_params(body)
groups.update_params(head)
groups.post_update_params()
print("body moved:", np.abs(body.weights - before[0]).max(), " head moved:", np.abs(head.weights - before[1]).max())
print("optimizer state for the frozen body:", groups.state_names(body))

# %% [markdown]
# ## Digits 5-9 from 25 labels
#
# The same labelled subset for the three strategies; accuracy on the 492 held-out 5-9.

# %%
X, y, parts = load_digits()
idx = labelled_subset(y, parts["pool"], 5, np.random.default_rng(1))
test = parts["target_test"]
for strategy in ("features", "finetune", "scratch"):
    net = fit_few_labels(model, X[idx], y[idx], strategy, np.random.default_rng(0))
    print(f"{strategy:9s}", round(float(np.mean(np.argmax(net.predict(X[test]), axis=1) == y[test])), 3))

# %% [markdown]
# ## A tiny BERT-like encoder
#
# Pretrained by the course to fill in masked symbols of sequences from two Markov chains;
# here fine-tuned to tell the chains apart from 6 labelled sequences, against the same
# network trained from scratch.

# %%
rng = np.random.default_rng(0)
labels = rng.permutation(np.repeat([0, 1], 3))
seqs = chain_sequences(labels, rng)
print(seqs[0], "\n", mask_tokens(seqs[:1], rng)[0][0])  # 24 is the mask token
test_labels = rng.permutation(np.repeat([0, 1], 200))
test_seqs = chain_sequences(test_labels, rng)
encoder = Model.load(PRETRAINED_DIR / ENCODER_FILE)
for strategy in ("finetune", "scratch"):
    clf = fit_sequence_classifier(encoder, seqs, labels, strategy, np.random.default_rng(0))
    print(f"{strategy:9s}", round(float(np.mean(np.argmax(clf.predict(test_seqs), axis=1) == test_labels)), 3))

# %% [markdown]
# ## Style transfer
#
# Gram matrices `F F^T / (C H W)` of the ReLU outputs after each convolution; the image
# starts as the content digit and Adam moves it towards the style's Gram matrices.

# %%
print("Gram matrix of a 6-channel map:", gram(np.random.default_rng(0).standard_normal((1, 6, 28, 28))).shape)
content = X[test[y[test] == 7][:1]]
style = X[parts["source_test"][y[parts["source_test"]] == 0][:1]]
image, history = stylize(model.layers, content, style)
fig, axes = plt.subplots(1, 4, figsize=(10, 2.5))
for ax, img, title in zip(axes, (content, style, image), ("content", "style", "stylized")):
    ax.imshow(img[0, 0], cmap="gray", vmin=-1, vmax=1)
    ax.set_title(title)
    ax.axis("off")
axes[3].plot(history)
axes[3].set_yscale("log")
axes[3].set_title("loss")
plt.show()

# %% [markdown]
# ## Your grade for this chapter
#
# Loading (copies, refusals, the forward check), freezing and groups of learning rates
# (frozen layers untouched and without optimizer state, each group at its own rate), the new
# head, feature extraction, where each strategy starts and how it trains, transfer against
# scratch (eight subsets, four of them paired), masking, mean pooling, fine-tuning the encoder against
# scratch, feature maps, Gram matrices, the three losses and their
# gradients, the style-transfer gradient and a stylizing run. About twenty seconds.

# %%
grade_cell("ch14")
