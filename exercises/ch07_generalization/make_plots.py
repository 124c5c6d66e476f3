"""The figure of the chapter text: how the spread of activations changes with depth,
for each initialisation.

Run it from the repository root (after ``init_weights`` is written):

    python3 -m nox -s run -- exercises.ch07_generalization.make_plots

A batch of 1000 standard normal samples with 256 features goes through 10 dense layers
of 256 neurons (biases 0), each followed by tanh (left panel) or ReLU (right panel). The
weights of every layer come from ``init_weights(kind, 256, 256, rng)``. The plot shows
the standard deviation of the activations after each layer, on a log scale; the numbers
are printed too. Writes ``img/activations_by_depth.png`` next to this file.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .init import init_weights  # noqa: E402

WIDTH, DEPTH, SAMPLES = 256, 10, 1000
KINDS = ("zeros", "random", "xavier", "he")
ACTIVATIONS = {"tanh": np.tanh, "ReLU": lambda z: np.maximum(0.0, z)}
OUT = Path(__file__).resolve().parent / "img" / "activations_by_depth.png"


def stds_by_depth(kind, activation, seed=0):
    """(DEPTH,) array: the standard deviation of all activations after each layer."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((SAMPLES, WIDTH))
    stds = []
    for _ in range(DEPTH):
        a = activation(a @ init_weights(kind, WIDTH, WIDTH, rng))
        stds.append(float(a.std()))
    return np.array(stds)


def main():
    try:
        results = {(name, kind): stds_by_depth(kind, fn)
                   for name, fn in ACTIVATIONS.items() for kind in KINDS}
    except NotImplementedError:
        print("init_weights is not implemented yet: write it in init.py (chapter 07), "
              "then run this again.")
        return 1
    depth = np.arange(1, DEPTH + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, name in zip(axes, ACTIVATIONS):
        for kind in KINDS:
            stds = results[(name, kind)]
            if np.all(stds == 0):
                # A log scale cannot show 0: say so instead of drawing nothing silently.
                ax.plot([], [], label=f"{kind} (std exactly 0 at every layer)")
                continue
            ax.plot(depth, stds, label=kind)
        ax.set_yscale("log")
        ax.set_title(f"{name}, width {WIDTH}")
        ax.set_xlabel("layer")
        ax.set_xticks(depth)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("standard deviation of the activations")
    axes[1].legend(loc="lower left", fontsize=8)
    fig.suptitle("Activations through 10 layers, by weight initialisation")
    fig.tight_layout()
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT, dpi=120)
    for (name, kind), stds in results.items():
        print(f"{name:5s} {kind:7s} " + " ".join(f"{s:9.3g}" for s in stds))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
