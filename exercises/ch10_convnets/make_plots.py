"""Train LeNet-5 on the chapter-09 split and draw the chapter's figures.

Run it from the repository root once everything in the chapter is written:

    OMP_NUM_THREADS=1 python3 -m nox -s run -- exercises.ch10_convnets.make_plots     # --epochs 3 --seed 0

It reads the shipped MNIST images, splits them with chapter 09's ``split_indices`` and
``SPLIT_SEED``, scales them with ``preprocess`` and reshapes them to (N, 1, 28, 28), trains
with ``train_lenet`` on all 8,000 training images (a minute or two on one core), prints the
history and the test accuracy, and writes, next to this file:

    img/filters.png            the six 5x5 filters of the first convolution
    img/feature_maps.png       one test digit and the six feature maps conv1 + ReLU make of it
    img/confusion_matrix.png   LeNet-5's confusion matrix on the 1,000 test images
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..ch09_mnist import (SPLIT_SEED, confusion_matrix, plot_confusion_matrix, preprocess,  # noqa: E402
                          read_idx, split_indices)
from .lenet import train_lenet  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data"
IMG = Path(__file__).resolve().parent / "img"


def plot_filters(weights, path):
    """The filters of a Conv2D with one input channel, (F, 1, K, K), side by side."""
    fig, axes = plt.subplots(1, len(weights), figsize=(1.4 * len(weights), 1.7))
    for f, ax in enumerate(axes):
        w = weights[f, 0]
        limit = np.abs(w).max()
        ax.imshow(w, cmap="coolwarm", vmin=-limit, vmax=limit)
        ax.set_title(f"filter {f}", fontsize=9)
        ax.axis("off")
    fig.suptitle("conv1 after training (red positive, blue negative)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_feature_maps(model, image, path):
    """One image (1, 1, 28, 28) and the outputs of the first Conv2D + ReLU for it."""
    maps = model.layers[1].forward(model.layers[0].forward(image))[0]
    fig, axes = plt.subplots(1, 1 + len(maps), figsize=(1.4 * (1 + len(maps)), 1.7))
    axes[0].imshow(image[0, 0], cmap="gray")
    axes[0].set_title("input", fontsize=9)
    for f, ax in enumerate(axes[1:]):
        ax.imshow(maps[f], cmap="magma")
        ax.set_title(f"map {f}", fontsize=9)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    images = read_idx(DATA / "mnist-t10k-images-idx3-ubyte.gz")
    labels = read_idx(DATA / "mnist-t10k-labels-idx1-ubyte.gz").astype(np.int64)
    X = preprocess(images).reshape(-1, 1, 28, 28)
    train, val, test = split_indices(len(X), np.random.default_rng(SPLIT_SEED))
    model = train_lenet(X[train], labels[train], X[val], labels[val], np.random.default_rng(args.seed),
                        epochs=args.epochs)
    for epoch, (acc, val_acc) in enumerate(zip(model.history["accuracy"], model.history["val_accuracy"]), 1):
        print(f"epoch {epoch}: training accuracy {acc:.3f}, validation accuracy {val_acc:.3f}")
    predictions = np.argmax(model.predict(X[test], batch_size=500), axis=1)
    print(f"test accuracy {np.mean(predictions == labels[test]):.3f}")
    IMG.mkdir(exist_ok=True)
    plot_filters(np.asarray(model.layers[0].weights), IMG / "filters.png")
    plot_feature_maps(model, X[test[:1]], IMG / "feature_maps.png")
    plot_confusion_matrix(confusion_matrix(labels[test], predictions), IMG / "confusion_matrix.png",
                          title="LeNet-5, 1,000 test images")
    print(f"wrote filters.png, feature_maps.png and confusion_matrix.png in {IMG}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
