"""Draw the chapter's figures: the spiral data, a learned decision boundary, learning curves
and a regression fit.

Run it from the repository root once the chapter works:

    python3 -m nox -s run -- exercises.ch06_training.make_plots

It uses only this chapter's code: ``spiral_data``, ``train_validation_split``,
``build_network``, ``train`` and ``predict``, with the hyper-parameters of the graded
spiral and sine runs. It writes four PNG files to ``img/`` next to this file and prints
the accuracies and errors it measured:

    img/spiral_data.png        the three-class spiral, coloured by class
    img/decision_boundary.png  the class the trained network predicts at every point
    img/learning_curves.png    training and validation loss and accuracy per epoch
    img/sine_fit.png           the regression network's fit of one sine period
"""

import argparse
from pathlib import Path

import numpy as np

from . import Adam, build_network, predict, sine_data, spiral_data, train, train_validation_split

HERE = Path(__file__).resolve().parent
COLOURS = ["#1b9e77", "#d95f02", "#7570b3"]


def train_spiral(seed):
    """(layers, history, (X_train, y_train), (X_test, y_test), test accuracy) of the spiral run."""
    rng = np.random.default_rng(seed)
    X, y = spiral_data(100, 3, rng)
    X_train, y_train, X_val, y_val = train_validation_split(X, y, 0.2, rng)
    X_test, y_test = spiral_data(100, 3, np.random.default_rng(seed + 1))
    fit_rng = np.random.default_rng(seed)  # the weights first, then every epoch's permutation
    layers, loss = build_network([2, 64, 3], fit_rng)
    history = train(layers, loss, Adam(learning_rate=0.02, decay=1e-3), X_train, y_train, 300, 32, fit_rng,
                    validation=(X_val, y_val))
    test_accuracy = float(np.mean(np.argmax(predict(layers, X_test), axis=1) == y_test))
    return layers, history, (X_train, y_train), (X_test, y_test), test_accuracy


def plot_spiral(ax, X, y, size=12):
    for k in range(int(y.max()) + 1):
        ax.scatter(X[y == k, 0], X[y == k, 1], s=size, color=COLOURS[k], edgecolors="white", linewidths=0.4,
                   label=f"class {k}")
    ax.set_aspect("equal")
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-1.1, 1.1)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "img")
    args = parser.parse_args(argv)
    try:
        return draw(args)
    except NotImplementedError as exc:
        print(f"Not implemented yet: {exc}. The figures need the whole chapter (and chapters 01-05); "
              "finish it, then run this again.")
        return 1


def draw(args):
    """Train the runs and write the four figures to ``args.out``."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    args.out.mkdir(parents=True, exist_ok=True)
    save = dict(metadata={"Software": None})

    # 1. The data.
    X, y = spiral_data(100, 3, np.random.default_rng(args.seed))
    fig, ax = plt.subplots(figsize=(5.2, 4.2), dpi=100)
    plot_spiral(ax, X, y)
    ax.set_title("spiral_data(100, 3, rng): 300 points", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(args.out / "spiral_data.png", **save)
    plt.close(fig)

    # 2. The decision boundary of a trained network, with the test points on top.
    layers, history, (X_train, y_train), (X_test, y_test), test_accuracy = train_spiral(args.seed)
    grid = np.linspace(-1.1, 1.1, 300)
    gx, gy = np.meshgrid(grid, grid)
    classes = np.argmax(predict(layers, np.column_stack([gx.ravel(), gy.ravel()])), axis=1).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(4.2, 4.2), dpi=100)
    ax.contourf(gx, gy, classes, levels=[-0.5, 0.5, 1.5, 2.5], cmap=ListedColormap(COLOURS), alpha=0.25)
    plot_spiral(ax, X_test, y_test, size=10)
    ax.set_title(f"2-64-3 network after 300 epochs; fresh test points\n"
                 f"training accuracy {history['accuracy'][-1]:.1%}, test accuracy {test_accuracy:.1%}", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out / "decision_boundary.png", **save)
    plt.close(fig)
    print(f"spiral: training accuracy {history['accuracy'][-1]:.3f}, validation "
          f"{history['val_accuracy'][-1]:.3f}, test {test_accuracy:.3f}")

    # 3. Learning curves: what the validation part is for.
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(7.6, 3.2), dpi=100)
    ax_loss.plot(epochs, history["loss"], label="training", linewidth=1.4)
    ax_loss.plot(epochs, history["val_loss"], label="validation", linewidth=1.4)
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("loss (cross-entropy)")
    ax_acc.plot(epochs, history["accuracy"], label="training", linewidth=1.4)
    ax_acc.plot(epochs, history["val_accuracy"], label="validation", linewidth=1.4)
    ax_acc.set_ylabel("accuracy")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("epoch")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Spiral: measured on the whole training and validation parts after every epoch", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out / "learning_curves.png", **save)
    plt.close(fig)

    # 4. Regression: one sine period, tested between the training grid points.
    X, y = sine_data(500)
    X_train, y_train, X_val, y_val = train_validation_split(X, y, 0.2, np.random.default_rng(args.seed))
    fit_rng = np.random.default_rng(args.seed)
    layers, loss = build_network([1, 64, 64, 1], fit_rng, task="regression")
    history = train(layers, loss, Adam(learning_rate=0.005, decay=1e-3), X_train, y_train, 100, 32, fit_rng,
                    validation=(X_val, y_val))
    X_test = (X[:-1] + X[1:]) / 2
    y_test = np.sin(2 * np.pi * X_test)
    y_pred = predict(layers, X_test)
    mae = float(np.mean(np.abs(y_pred - y_test)))
    fig, (ax_fit, ax_err) = plt.subplots(2, 1, figsize=(6.0, 4.6), dpi=100, sharex=True,
                                         gridspec_kw={"height_ratios": [2, 1]})
    ax_fit.plot(X_test[:, 0], y_test[:, 0], color="0.6", linewidth=3, label="sin(2πx)")
    ax_fit.plot(X_test[:, 0], y_pred[:, 0], color=COLOURS[1], linewidth=1.2, label="network")
    ax_fit.set_ylabel("y")
    ax_fit.legend(fontsize=8)
    ax_fit.set_title(f"1-64-64-1 ReLU network, linear output, 100 epochs: test MAE {mae:.4f}", fontsize=9)
    ax_err.plot(X_test[:, 0], (y_pred - y_test)[:, 0], color=COLOURS[2], linewidth=1.0)
    ax_err.axhline(0, color="0.5", linewidth=0.8)
    ax_err.set_ylabel("error")
    ax_err.set_xlabel("x")
    for ax in (ax_fit, ax_err):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(args.out / "sine_fit.png", **save)
    plt.close(fig)
    print(f"sine: test mean absolute error {mae:.4f} (validation {history['val_mae'][-1]:.4f})")
    print(f"wrote 4 figures to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
