"""Train the chapter's three models and draw its figures.

Run it from the repository root once everything in the chapter is written:

    OMP_NUM_THREADS=1 python3 -m nox -s run -- exercises.ch13_generative.make_plots     # --seed 0 --epochs 10

It reads the shipped MNIST images (pixel values divided by 255), takes chapter 09's split
(``split_indices`` with ``SPLIT_SEED``), trains the autoencoder and the VAE on the 8,000
training images for 10 epochs (the graded runs use 3,000 images and 4 epochs: the samples
look better after longer training) and the U-Net with its graded settings, about a minute
in all on one core, and writes, next to this file:

    img/ae_codes.png          the 2-d codes of 1,000 test digits (an autoencoder with
                              n_latent=2), coloured by digit
    img/vae_samples.png       64 images decoded from codes drawn from the prior N(0, I)
    img/vae_reconstructions.png  test digits (top) and the VAE's reconstructions (bottom)
    img/vae_interpolation.png the decoded path between the codes (mu) of two test digits
    img/unet.png              generated shapes: input, target mask, U-Net prediction, and
                              the prediction of the same U-Net trained with its skip empty
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..ch09_mnist import SPLIT_SEED, read_idx, split_indices  # noqa: E402
from . import unet as unet_module  # noqa: E402
from .autoencoder import train_autoencoder  # noqa: E402
from .shapes import foreground_iou, make_shapes  # noqa: E402
from .unet import train_unet  # noqa: E402
from .vae import train_vae  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data"
IMG = Path(__file__).resolve().parent / "img"


def grid(images, rows, path, title):
    """(n, 784) images in [0, 1] as a grid of rows x (n / rows) 28 x 28 tiles."""
    cols = len(images) // rows
    tiles = images[:rows * cols].reshape(rows, cols, 28, 28).transpose(0, 2, 1, 3).reshape(rows * 28, cols * 28)
    fig, ax = plt.subplots(figsize=(cols * 0.45, rows * 0.45 + 0.4))
    ax.imshow(tiles, cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10, help="for the autoencoder and the VAE")
    args = parser.parse_args()
    IMG.mkdir(exist_ok=True)
    images = read_idx(DATA / "mnist-t10k-images-idx3-ubyte.gz")
    labels = read_idx(DATA / "mnist-t10k-labels-idx1-ubyte.gz")
    X = images.reshape(len(images), -1).astype(np.float64) / 255.0
    train, _, test = split_indices(10000, np.random.default_rng(SPLIT_SEED))
    Xtr, Xte, yte = X[train], X[test], labels[test]

    ae = train_autoencoder(Xtr, np.random.default_rng(args.seed), n_latent=2, epochs=args.epochs)
    codes = ae.encode(Xte)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    points = ax.scatter(codes[:, 0], codes[:, 1], c=yte, cmap="tab10", s=6)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_title("Autoencoder, 2-d codes of 1,000 test digits")
    fig.tight_layout()
    fig.savefig(IMG / "ae_codes.png", dpi=110)
    plt.close(fig)
    print("autoencoder (2-d codes): training loss per epoch", np.round(ae.history, 1))

    rng = np.random.default_rng(args.seed)
    vae = train_vae(Xtr, rng, epochs=args.epochs)
    print("VAE: negative ELBO per epoch", np.round(vae.history, 1))
    grid(vae.generate(rng.standard_normal((64, vae.n_latent))), 4, IMG / "vae_samples.png",
         "VAE: decoded samples z ~ N(0, I)")
    mu, _ = vae.encode(Xte[:16])
    grid(np.concatenate([Xte[:16], vae.generate(mu)]), 2, IMG / "vae_reconstructions.png",
         "test digits (top) and the VAE's reconstructions from mu (bottom)")
    a, b = vae.encode(Xte[[0, 1]])[0]
    t = np.linspace(0, 1, 10)[:, None]
    grid(vae.generate((1 - t) * a + t * b), 1, IMG / "vae_interpolation.png",
         f"from a {yte[0]} to a {yte[1]}: decoded (1 - t) mu_a + t mu_b")

    Xs, Ys = make_shapes(800, 16, np.random.default_rng(1))
    Xt, Yt = make_shapes(200, 16, np.random.default_rng(2))
    model = train_unet(Xs, Ys, np.random.default_rng(args.seed))
    concat, split = unet_module.concat_channels, unet_module.split_channels
    unet_module.concat_channels = lambda skip, up: np.concatenate([np.zeros_like(skip), up], axis=1)
    unet_module.split_channels = lambda d, n: (np.zeros_like(d[:, :n]), d[:, n:])
    try:
        no_skip = train_unet(Xs, Ys, np.random.default_rng(args.seed))
        pred_no_skip = no_skip.predict(Xt)
    finally:
        unet_module.concat_channels, unet_module.split_channels = concat, split
    pred = model.predict(Xt)
    iou, iou_no_skip = foreground_iou(pred, Yt), foreground_iou(pred_no_skip, Yt)
    print(f"U-Net foreground IoU on 200 new images: {iou:.3f}; with an empty skip: {iou_no_skip:.3f}")
    fig, axes = plt.subplots(4, 5, figsize=(7.5, 6.4))
    rows = (("input", Xt[:, 0], "gray"), ("target", Yt, "gray"), (f"U-Net (IoU {iou:.3f})", pred, "gray"),
            (f"empty skip (IoU {iou_no_skip:.3f})", pred_no_skip, "gray"))
    for r, (name, arrays, cmap) in enumerate(rows):
        for c in range(5):
            axes[r, c].imshow(arrays[c], cmap=cmap)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.tight_layout()
    fig.savefig(IMG / "unet.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
