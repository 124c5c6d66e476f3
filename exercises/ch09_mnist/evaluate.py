# Generated from solutions/ch09_mnist/evaluate.py by `nox -s stubs`: fill in the TODOs below.
"""Looking past the accuracy: the confusion matrix, per-class precision and recall, and
running the network on a digit you drew yourself.

``plot_confusion_matrix`` and ``read_png_digit`` use matplotlib (imported inside them,
so that the rest of the chapter needs numpy only).
"""

import numpy as np

from .prepare import preprocess


def confusion_matrix(y_true, y_pred, num_classes=10):
    """Counts of (true class, predicted class) pairs.

    y_true:      (N,) integer labels in [0, num_classes)
    y_pred:      (N,) integer predicted labels in [0, num_classes) (the argmax of the
                 network's outputs, not the outputs themselves)
    num_classes: int, C
    returns:     (C, C) int64 array ``cm``; ``cm[t, p]`` is the number of samples of true
                 class t predicted as p: **rows are true classes, columns predictions**.
                 It sums to N; its diagonal counts the correct predictions.
    raises:      ValueError if a label is outside [0, num_classes)
    """
    # TODO(ch09): implement confusion_matrix (the docstring gives the shapes).
    raise NotImplementedError("ch09: implement confusion_matrix")


def precision_recall(cm):
    """Per-class precision and recall from a confusion matrix.

    cm:      (C, C) array, rows true classes, columns predicted classes
    returns: (precision (C,), recall (C,)) float64 arrays:
             precision[k] = cm[k, k] / (sum of column k): of the samples predicted k, the
                            fraction that really are k
             recall[k]    = cm[k, k] / (sum of row k): of the samples that are k, the
                            fraction predicted k
             A class never predicted has precision 0, a class that never occurs has
             recall 0 (0 / 0 is defined as 0 here, never NaN).
    """
    # TODO(ch09): implement precision_recall (the docstring gives the shapes).
    raise NotImplementedError("ch09: implement precision_recall")


def plot_confusion_matrix(cm, path, title="Confusion matrix"):
    """Save a confusion matrix as a PNG heat map (counts written in the cells).

    cm: (C, C) array, rows true classes, columns predicted classes; path: where to write
    the PNG; title: str. Returns ``path``.
    """
    # A Figure used directly (not through pyplot) draws off-screen and leaves the
    # backend of an interactive session or a notebook alone.
    from matplotlib.figure import Figure

    cm = np.asarray(cm)
    n = cm.shape[0]
    fig = Figure(figsize=(6.4, 5.6), dpi=100)
    ax = fig.subplots()
    # A log-like scale keeps the few errors visible next to the large diagonal.
    shown = np.log1p(cm.astype(np.float64))
    image = ax.imshow(shown, cmap="Blues")
    for t in range(n):
        for p in range(n):
            dark = shown[t, p] > 0.6 * shown.max()
            ax.text(p, t, str(int(cm[t, p])), ha="center", va="center", fontsize=8,
                    color="white" if dark else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    bar.set_label("log(1 + count)")
    fig.tight_layout()
    fig.savefig(path)
    return path


def read_png_digit(path):
    """A 28x28 PNG image of a digit as one network input, preprocessed like MNIST.

    1. ``matplotlib.image.imread(path)``: floats in [0, 1], shape (28, 28) for a
       grayscale PNG, (28, 28, 3) for RGB, (28, 28, 4) for RGBA;
    2. to gray: RGBA is first laid onto a white background (``rgb * alpha + (1 - alpha)``,
       so transparent pixels count as white); then the mean of the three colour channels;
    3. MNIST digits are white on black: if the image's mean is > 0.5 (a white
       background), invert it (``1 - gray``);
    4. scale to MNIST's 0-255 and ``preprocess``: ``(255 * gray - 127.5) / 127.5``.

    path:    str or pathlib.Path of a PNG file
    returns: (1, 784) float64 array in [-1, 1], row after row
    raises:  ValueError if the image is not 28x28
    """
    # TODO(ch09): implement read_png_digit (the docstring gives the shapes).
    raise NotImplementedError("ch09: implement read_png_digit")
