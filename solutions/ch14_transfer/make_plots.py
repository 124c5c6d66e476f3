"""Run the chapter's two experiments and draw its figures.

Run it from the repository root once everything in the chapter is written:

    OMP_NUM_THREADS=1 python3 -m nox -s run -- exercises.ch14_transfer.make_plots     # --subsets 3

It loads the shipped network with your ``load_pretrained`` (the forward check included),
then writes, next to this file:

    img/accuracy_vs_labels.png   test accuracy on the 492 held-out digits 5-9 against the
                                 number of labelled images (1, 2, 5, 10 and 20 per digit),
                                 for feature extraction, fine-tuning and training from
                                 scratch: the mean over labelled subsets, with the worst
                                 and best subset as a band
    img/style_transfer.png       a content digit, a style digit, the image stylize makes
                                 from them, and the losses along the way

and prints the accuracies. About two minutes on one core.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .few_labels import STRATEGIES, fit_few_labels, labelled_subset, load_digits  # noqa: E402
from .pretrained import CHECK_FILE, MODEL_FILE, PRETRAINED_DIR, load_pretrained  # noqa: E402
from .style import stylize  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
PER_CLASS = (1, 2, 5, 10, 20)
LABELS = {"features": "feature extraction (body frozen)", "finetune": "fine-tuning (body at BODY_LR)",
          "scratch": "from scratch"}


def accuracy_vs_labels(pretrained, X, y, parts, subsets, path):
    test = parts["target_test"]
    results = {s: np.zeros((len(PER_CLASS), subsets)) for s in STRATEGIES}
    for i, per_class in enumerate(PER_CLASS):
        for k in range(subsets):
            idx = labelled_subset(y, parts["pool"], per_class, np.random.default_rng(1000 * per_class + k))
            for strategy in STRATEGIES:
                model = fit_few_labels(pretrained, X[idx], y[idx], strategy, np.random.default_rng(k))
                results[strategy][i, k] = np.mean(np.argmax(model.predict(X[test]), axis=1) == y[test])
        print(f"{5 * per_class:4d} labels: " + ", ".join(
            f"{s} {results[s][i].mean():.3f}" for s in STRATEGIES), flush=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    n = 5 * np.array(PER_CLASS)
    for strategy in STRATEGIES:
        acc = results[strategy]
        ax.plot(n, acc.mean(axis=1), marker="o", label=LABELS[strategy])
        ax.fill_between(n, acc.min(axis=1), acc.max(axis=1), alpha=0.2)
    ax.set_xscale("log")
    ax.set_xticks(n, [str(v) for v in n])
    ax.set_xlabel("labelled images of the digits 5-9")
    ax.set_ylabel("test accuracy (492 held-out digits 5-9)")
    ax.set_title(f"A LeNet-5 pretrained on 0-4, reused for 5-9 ({subsets} subsets per point)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return results


def style_figure(pretrained, X, y, parts, path):
    test, source = parts["target_test"], parts["source_test"]
    content = X[test[y[test] == 7][:1]]
    style = X[source[y[source] == 0][:1]]
    image, history = stylize(pretrained.layers, content, style)
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.6))
    for ax, img, title in zip(axes, (content, style, image), ("content", "style", "stylized (100 steps)")):
        ax.imshow(img[0, 0], cmap="gray", vmin=-1, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    axes[3].plot(history)
    axes[3].set_yscale("log")
    axes[3].set_xlabel("Adam step", fontsize=8)
    axes[3].set_title("total loss", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"style transfer: total loss {history[0]:.4g} -> {history[-1]:.4g}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 14's experiments and figures")
    parser.add_argument("--subsets", type=int, default=3, help="labelled subsets per point")
    args = parser.parse_args(argv)
    IMG.mkdir(exist_ok=True)
    X, y, parts = load_digits()
    pretrained = load_pretrained(PRETRAINED_DIR / MODEL_FILE, PRETRAINED_DIR / CHECK_FILE, np.random.default_rng(0))
    test = parts["source_test"]
    print(f"the shipped network on the held-out digits 0-4: accuracy "
          f"{np.mean(np.argmax(pretrained.predict(X[test]), axis=1) == y[test]):.3f}")
    style_figure(pretrained, X, y, parts, IMG / "style_transfer.png")
    accuracy_vs_labels(pretrained, X, y, parts, args.subsets, IMG / "accuracy_vs_labels.png")


if __name__ == "__main__":
    main()
