"""The whole chapter in one run: read, split, preprocess, train, evaluate, and the figures
of the chapter text.

Run it from the repository root once everything in the chapter is written:

    python3 -m nox -s run -- exercises.ch09_mnist.make_plots              # --seed 0 by default

It reads the shipped IDX files with ``read_idx``, splits the 10,000 images with
``split_indices`` and ``SPLIT_SEED``, scales them with ``preprocess``, trains with
``train_mnist`` (training seed ``--seed``), and prints the history, the test accuracy, the
confusion matrix and the per-class precision and recall. Then it draws a digit "7" as a
black-on-white PNG, as a drawing program would save it, and runs it through
``read_png_digit`` and the model. Writes, next to this file:

    img/samples.png            the first 30 test images of the split, with their labels
    img/confusion_matrix.png   the test set's confusion matrix
    img/drawn_seven.png        the drawn digit (28x28)
"""

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .evaluate import confusion_matrix, plot_confusion_matrix, precision_recall, read_png_digit  # noqa: E402
from .idx import read_idx  # noqa: E402
from .prepare import SPLIT_SEED, preprocess, split_indices  # noqa: E402
from .train_mnist import train_mnist  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data"
IMG = Path(__file__).resolve().parent / "img"


def plot_samples(images, labels, path, count=30):
    """A grid of the first ``count`` images with their labels."""
    cols = 10
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 1.05))
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < count:
            ax.imshow(images[k], cmap="gray", vmin=0, vmax=255)
            ax.set_title(str(int(labels[k])), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_seven():
    """A 28x28 black-on-white "7" in [0, 1] (1 = white paper), drawn with two thick strokes."""
    rows, cols = np.mgrid[0:28, 0:28]
    ink = np.zeros((28, 28))
    for (r0, c0), (r1, c1) in (((7, 7), (7, 20)), ((7, 20), (22, 12))):
        for t in np.linspace(0.0, 1.0, 60):
            r, c = r0 + t * (r1 - r0), c0 + t * (c1 - c0)
            ink = np.maximum(ink, np.clip(1.8 - np.hypot(rows - r, cols - c), 0.0, 1.0))
    return 1.0 - ink


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="training seed (weights and shuffling)")
    args = parser.parse_args(argv)
    IMG.mkdir(exist_ok=True)
    try:
        images = read_idx(DATA / "mnist-t10k-images-idx3-ubyte.gz")
        labels = read_idx(DATA / "mnist-t10k-labels-idx1-ubyte.gz").astype(np.int64)
        train, val, test = split_indices(len(images), np.random.default_rng(SPLIT_SEED))
        X = preprocess(images)
        print(f"split (seed {SPLIT_SEED}): {len(train)} training, {len(val)} validation, {len(test)} test images")
        model = train_mnist(X[train], labels[train], X[val], labels[val], np.random.default_rng(args.seed))
        predicted = np.argmax(model.predict(X[test]), axis=1)
        cm = confusion_matrix(labels[test], predicted)
        precision, recall = precision_recall(cm)
    except NotImplementedError as exc:
        print(f"not implemented yet: {exc}. Write it, then run this again.")
        return 1

    history = model.history
    for epoch in range(len(history["loss"])):
        print(f"epoch {epoch + 1:2d}: training loss {history['loss'][epoch]:.4f}, "
              f"training accuracy {history['accuracy'][epoch]:.4f}, "
              f"validation accuracy {history['val_accuracy'][epoch]:.4f}")
    print(f"test accuracy: {np.mean(predicted == labels[test]):.4f} ({int(np.trace(cm))} of {len(test)})")
    print("confusion matrix (rows: true digit, columns: predicted digit):")
    print(cm)
    print("digit  count  precision  recall")
    for digit in range(10):
        print(f"{digit:5d}  {int(cm[digit].sum()):5d}  {precision[digit]:9.3f}  {recall[digit]:6.3f}")

    plot_samples(images[test], labels[test], IMG / "samples.png")
    plot_confusion_matrix(cm, IMG / "confusion_matrix.png",
                          title=f"MNIST, {len(test)} test images (accuracy {np.mean(predicted == labels[test]):.3f})")
    drawing = IMG / "drawn_seven.png"
    plt.imsave(drawing, draw_seven(), cmap="gray", vmin=0.0, vmax=1.0)
    probabilities = model.predict(read_png_digit(drawing))[0]
    top = np.argsort(probabilities)[::-1][:3]
    print(f"{drawing.name}: predicted {top[0]}; top three "
          + ", ".join(f"{d} ({probabilities[d]:.3f})" for d in top))
    print(f"wrote {', '.join(p.name for p in sorted(IMG.glob('*.png')))} in {IMG}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
