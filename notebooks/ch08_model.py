# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 08: The model object
#
# A `Model` holds the layers, the loss, the optimizer and an accuracy measure, and knows how
# to train, evaluate, predict, and save itself to a file and load itself back. You write it
# in `exercises/ch08_model/` (`model.py`, `saving.py`, `accuracy.py` and the `predictions`
# methods in `activations.py`). Chapter text: `exercises/ch08_model/README.md`.

# %%
# Run this cell first: it finds the course folder (the one with grader/ and exercises/).
import sys
from pathlib import Path

COURSE = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "grader" / "notebook.py").is_file())
if str(COURSE) not in sys.path:
    sys.path.insert(0, str(COURSE))
from grader.notebook import grade_cell, setup

setup("ch08")

# %%
import json
import tempfile

import matplotlib.pyplot as plt
import numpy as np

from exercises.ch08_model import (
    AccuracyCategorical,
    Adam,
    CategoricalCrossEntropy,
    Dense,
    Dropout,
    Model,
    ReLU,
    Softmax,
    spiral_data,
    train_validation_split,
)

# %% [markdown]
# ## Building and finalizing a model
#
# `add` the layers in order, `set` the loss, optimizer and accuracy, then `finalize`: it finds
# the trainable layers (those whose `parameters()` are not empty: the Model, like the
# optimizers, reaches every layer only through the course's layer contract), the output
# layer, and whether the last layer and the loss form the softmax/cross-entropy pair, whose
# fused gradient
# $(p - \text{onehot})/N$ replaces the two separate backward passes. It also sets the first
# layer's `input_gradient` to False: that layer's inputs are the data, so nothing reads its
# `dinputs` and its backward skips them. Every other layer's becomes True: the layer before
# it needs its `dinputs`, also when it was the first layer of another model.

# %%
def spiral_model(seed=0):
    rng = np.random.default_rng(seed)
    model = Model()
    model.add(Dense(2, 128, rng, weight_scale=0.1, weight_regularizer_l2=5e-5, bias_regularizer_l2=5e-5))
    model.add(ReLU())
    model.add(Dropout(0.1, np.random.default_rng(seed + 1000)))
    model.add(Dense(128, 3, rng, weight_scale=0.1))
    model.add(Softmax())
    model.set(loss=CategoricalCrossEntropy(), optimizer=Adam(learning_rate=0.02, decay=5e-4),
              accuracy=AccuracyCategorical())
    model.finalize()
    return model, rng


model, rng = spiral_model()
print("trainable layers:", [type(layer).__name__ for layer in model.trainable_layers])
print("output layer:", type(model.output_layer).__name__,
      "| fused softmax/cross-entropy:", model.softmax_cross_entropy is not None)

# %% [markdown]
# ## Training, and reading the history
#
# Each epoch shuffles once (`rng.permutation(N)`), takes one step per batch, and records the
# means of the batch values **weighted by batch size**. Training values are measured during
# the epoch with dropout active; validation values after it, at inference.

# %%
data_rng = np.random.default_rng(0)
X, y = spiral_data(100, 3, data_rng)
X_train, y_train, X_val, y_val = train_validation_split(X, y, 0.2, data_rng)
X_test, y_test = spiral_data(100, 3, np.random.default_rng(1))
history = model.train(X_train, y_train, epochs=200, batch_size=32, validation_data=(X_val, y_val), rng=rng,
                      progress=False)
test_loss, test_accuracy = model.evaluate(X_test, y_test)
print(f"test loss {test_loss:.3f}, test accuracy {test_accuracy:.3f}")

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.4))
ax_loss.semilogy(history["data_loss"], label="training data loss")
ax_loss.semilogy(history["loss"], "--", label="training loss + penalty")
ax_loss.semilogy(history["val_loss"], label="validation loss")
ax_acc.plot(history["accuracy"], label="training (dropout on)")
ax_acc.plot(history["val_accuracy"], label="validation")
for ax in (ax_loss, ax_acc):
    ax.set_xlabel("epoch")
    ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Try it
#
# Why weight the batches? Write `epoch_mean(values, sizes)`, the mean of per-batch values
# weighted by their sizes (not graded). With 10 samples in batches of 4, 4 and 2, compare it
# with the plain mean of the three batch means.

# %%
def epoch_mean(values, sizes):
    """sum_b |b| v_b / N for per-batch values ``values`` and batch sizes ``sizes``."""
    ### BEGIN SOLUTION
    values, sizes = np.asarray(values, dtype=float), np.asarray(sizes, dtype=float)
    return float(np.sum(values * sizes) / np.sum(sizes))
    ### END SOLUTION


per_sample = np.arange(10.0)                 # pretend per-sample losses 0..9
batches = [per_sample[:4], per_sample[4:8], per_sample[8:]]
means = [b.mean() for b in batches]
print("weighted:", epoch_mean(means, [len(b) for b in batches]), " plain mean of batch means:", np.mean(means),
      " true mean:", per_sample.mean())

# %% [markdown]
# ## `predict` and `evaluate`
#
# Both run at inference (`training=False`): dropout off, nothing shuffled, so the results are
# deterministic and do not depend on the batch size.

# %%
full = model.predict(X_test)
print("same outputs in batches of 7:", np.allclose(model.predict(X_test, batch_size=7), full))
print("deterministic:", np.array_equal(model.predict(X_test), full))
pick = np.random.default_rng(2).choice(len(X_test), 12, replace=False)
print("predictions:", model.output_layer.predictions(full[pick]), "\ntrue       :", y_test[pick])

# %% [markdown]
# ## Saving without pickle
#
# A pickle is a small program that the reader runs, so a model file from anyone else must
# never be unpickled. The course's format is pure data: float64 arrays named
# `layer{i}.{name}` (the names of each layer's `parameters()`, then of its `buffers()`, such
# as a batch normalization's running statistics) and a JSON description stored as `uint8`
# bytes, read with
# `np.load(path, allow_pickle=False)`, and only class names from fixed allow-lists are
# accepted when the model is rebuilt.

# %%
folder = Path(tempfile.mkdtemp())
model.save(folder / "spiral.npz")
again = Model.load(folder / "spiral.npz")
print("the loaded model predicts the same:", np.array_equal(again.predict(X_test), full))
with np.load(folder / "spiral.npz", allow_pickle=False) as npz:
    for name in npz.files:
        print(f"  {name:22s} {str(npz[name].dtype):8s} {npz[name].shape}")
    spec = json.loads(npz["architecture"].tobytes().decode("utf-8"))
print([layer["class"] for layer in spec["layers"]], spec["optimizer"]["class"])

# %% [markdown]
# A file whose architecture names something outside the allow-lists must be refused with a
# `ValueError`, before anything is built:

# %%
spec["layers"][1]["class"] = "eval"
with np.load(folder / "spiral.npz", allow_pickle=False) as npz:
    arrays = {name: npz[name] for name in npz.files}
arrays["architecture"] = np.frombuffer(json.dumps(spec).encode("utf-8"), dtype=np.uint8)
np.savez(folder / "evil.npz", **arrays)
try:
    Model.load(folder / "evil.npz")
    print("loaded?! Model.load must refuse unknown classes")
except ValueError as exc:
    print("refused:", exc)

# %% [markdown]
# ## Your grade for this chapter
#
# Predictions and accuracies; `finalize` (the fused gradient, the first layer's
# `input_gradient`) and one step through a network with batch norm; three
# short runs whose parameters and histories must match the reference; `evaluate` and
# `predict` (batched, deterministic); a spiral run judged on held-out data; parameters and
# whole-model files, including malformed and malicious ones.

# %%
grade_cell("ch08")
