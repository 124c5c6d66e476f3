"""Classify your own digit images with the chapter's network, from the command line.

Run it from the repository root once the chapter is written:

    python3 -m nox -s run -- exercises.ch09_mnist.classify my_digit.png [another.png ...]

The images are 28x28 PNG files (grayscale, RGB or RGBA; black on white or white on black),
as a drawing program saves them. The first run trains the chapter's network (``train_mnist``
on the split's 8,000 training images, seed ``--seed``: about ten seconds) and saves it with
chapter 08's ``Model.save`` to ``mnist_model.npz`` next to this file; later runs load that
file (``--retrain`` trains again, ``--model FILE`` names another file). Each image goes
through your ``read_png_digit``; the program prints the digit the network predicts and
the three most probable digits with their probabilities.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from ..ch08_model import Model
from .evaluate import read_png_digit
from .idx import read_idx
from .prepare import SPLIT_SEED, preprocess, split_indices
from .train_mnist import train_mnist

DATA = Path(__file__).resolve().parents[2] / "data"
MODEL_FILE = Path(__file__).resolve().parent / "mnist_model.npz"


def trained_model(path, seed=0, retrain=False):
    """The chapter's network: loaded from ``path``, or trained (and saved there) when the
    file is missing or ``retrain`` is true."""
    path = Path(path)
    if path.is_file() and not retrain:
        print(f"loading the network from {path}")
        return Model.load(path)
    print("training the network (train_mnist on 8,000 MNIST images) ...")
    images = read_idx(DATA / "mnist-t10k-images-idx3-ubyte.gz")
    labels = read_idx(DATA / "mnist-t10k-labels-idx1-ubyte.gz").astype(np.int64)
    train, val, _ = split_indices(len(images), np.random.default_rng(SPLIT_SEED))
    X = preprocess(images)
    model = train_mnist(X[train], labels[train], X[val], labels[val], np.random.default_rng(seed))
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    print(f"saved it to {path} (later runs load it; --retrain trains again)")
    return model


def describe(model, image_path):
    """One line: the predicted digit of the PNG at ``image_path`` and the three most probable."""
    probabilities = np.asarray(model.predict(read_png_digit(image_path)))[0]
    top = np.argsort(probabilities)[::-1][:3]
    ranked = ", ".join(f"{d} ({probabilities[d]:.3f})" for d in top)
    return f"{image_path}: {top[0]}   (most probable: {ranked})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", help="28x28 PNG files of digits")
    parser.add_argument("--model", default=str(MODEL_FILE), help="the saved network to use or create")
    parser.add_argument("--retrain", action="store_true", help="train again even if the file exists")
    parser.add_argument("--seed", type=int, default=0, help="training seed (weights and shuffling)")
    args = parser.parse_args(argv)
    try:
        model = trained_model(args.model, seed=args.seed, retrain=args.retrain)
        failed = 0
        for name in args.images:
            try:
                print(describe(model, name))
            except NotImplementedError:
                raise
            except Exception as exc:  # not a PNG, not 28x28, unreadable: say so, go on
                print(f"{name}: cannot classify it: {type(exc).__name__}: {exc}")
                failed += 1
    except NotImplementedError as exc:
        print(f"not implemented yet: {exc}. Write it, then run this again.")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
