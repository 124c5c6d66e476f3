"""Train the chapter's two small transformers and draw the chapter's figures.

Run it from the repository root once everything in the chapter is written:

    OMP_NUM_THREADS=1 python3 -m nox -s run -- exercises.ch12_attention.make_plots     # --seed 0

It trains the reversal model with and without the positional encoding and the sorter
with and without the causal mask (about 15 s on one core), prints their scores on
held-out data, and writes, next to this file:

    img/attention_maps.png    the reversal model's attention weights on one input, heads side by side
    img/no_positions.png      token accuracy per output position, with and without positions
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .tasks import (REVERSAL_T, REVERSAL_V, SORT_LEN, SORT_V, greedy_decode, reversal_data, sort_data,  # noqa: E402
                    train_reversal, train_sorter)

IMG = Path(__file__).resolve().parent / "img"


def first_block(model):
    """The first encoder block of a model built by ``build_transformer``."""
    return next(layer for layer in model.layers if hasattr(layer, "attn"))


def plot_attention_maps(model, x, path):
    """The first block's attention weights for one sequence x (1, T), one panel per head."""
    model.predict(x)
    maps = first_block(model).attn.attention[0]
    fig, axes = plt.subplots(1, len(maps), figsize=(3.6 * len(maps), 3.4))
    for h, ax in enumerate(np.atleast_1d(axes)):
        ax.imshow(maps[h], cmap="viridis", vmin=0, vmax=1)
        ax.set_title(f"head {h}", fontsize=10)
        ax.set_xlabel("key: input position (token)", fontsize=8)
        ax.set_ylabel("query: output position", fontsize=8)
        ax.set_xticks(range(x.shape[1]), [f"{t}\n({tok})" for t, tok in enumerate(x[0])], fontsize=7)
        ax.set_yticks(range(x.shape[1]))
    fig.suptitle("reversal: the attention weights of the trained block", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_no_positions(acc_with, acc_without, path):
    T = len(acc_with)
    fig, ax = plt.subplots(figsize=(5.5, 3))
    ax.bar(np.arange(T) - 0.2, acc_with, width=0.4, label="with the sinusoidal encoding")
    ax.bar(np.arange(T) + 0.2, acc_without, width=0.4, label="without positions")
    ax.set_xlabel("output position")
    ax.set_ylabel("token accuracy")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="center right")
    ax.set_title("reversal, 500 held-out sequences", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 12's figures")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    IMG.mkdir(exist_ok=True)
    X, Y = reversal_data(500, REVERSAL_T, REVERSAL_V, np.random.default_rng(12345))
    scores = {}
    for positional in (True, False):
        model, _ = train_reversal(np.random.default_rng(args.seed), positional=positional)
        pred = np.asarray(model.predict(X)).argmax(-1)
        scores[positional] = np.mean(pred == Y, axis=0)
        print(f"reversal, positional={positional}: token accuracy {np.mean(pred == Y):.3f}, "
              f"sequences {np.mean(np.all(pred == Y, axis=1)):.3f}")
        if positional:
            plot_attention_maps(model, X[:1], IMG / "attention_maps.png")
    plot_no_positions(scores[True], scores[False], IMG / "no_positions.png")
    Xs, Ys = sort_data(500, SORT_LEN, SORT_V, np.random.default_rng(12345))
    for causal in (True, False):
        model, history = train_sorter(np.random.default_rng(args.seed), causal=causal)
        answer = greedy_decode(model, Xs[:, :SORT_LEN], SORT_LEN)
        print(f"sorter, causal={causal}: training loss {history['loss'][-1]:.4f}, greedy answers right "
              f"{np.mean(np.all(answer == Ys, axis=1)):.3f}")
    print(f"wrote {IMG / 'attention_maps.png'} and {IMG / 'no_positions.png'}")


if __name__ == "__main__":
    main()
