"""Draw the chapter's figure: random search against gradient descent on a two-class spiral.

Run it from the repository root once the chapter works:

    python3 -m nox -s run -- exercises.ch05_optimizers.make_plots

It trains the same small network (2 inputs, 64 ReLU units, 2 softmax outputs) from the
same starting weights in three ways, each for the same number of steps (one loss
evaluation per step): random search, plain SGD, and SGD with momentum. It writes
``img/random_search.png`` next to this file and prints the final losses and accuracies.
"""

import argparse
from pathlib import Path

import numpy as np

from . import SGD, Dense, ReLU, SoftmaxCrossEntropy, accuracy, random_search

HERE = Path(__file__).resolve().parent


def spiral(n_per_class, rng, turns=1.5, noise=0.1):
    """Two interleaved spiral arms of ``turns`` turns each: X (2 n, 2), y (2 n,) labels 0 and 1."""
    X, y = [], []
    for label in (0, 1):
        r = np.linspace(0.05, 1.0, n_per_class)
        theta = 2 * np.pi * turns * r + np.pi * label + noise * rng.standard_normal(n_per_class)
        X.append(np.column_stack([r * np.sin(theta), r * np.cos(theta)]))
        y.append(np.full(n_per_class, label))
    return np.concatenate(X), np.concatenate(y)


class Network:
    """Dense(2, hidden) -> ReLU -> Dense(hidden, 2) -> softmax cross-entropy."""

    def __init__(self, hidden, rng):
        self.dense1 = Dense(2, hidden, rng, weight_scale=0.5)
        self.relu = ReLU()
        self.dense2 = Dense(hidden, 2, rng, weight_scale=0.5)
        self.loss = SoftmaxCrossEntropy()

    def params(self):
        """{"W1": (2, hidden), "b1": (1, hidden), "W2": (hidden, 2), "b2": (1, 2)}, the live arrays."""
        return {"W1": self.dense1.weights, "b1": self.dense1.biases,
                "W2": self.dense2.weights, "b2": self.dense2.biases}

    def set_params(self, p):
        """Use the arrays of the dict ``p`` (keys and shapes as ``params()``) as the weights."""
        self.dense1.weights, self.dense1.biases = p["W1"], p["b1"]
        self.dense2.weights, self.dense2.biases = p["W2"], p["b2"]

    def forward(self, X, y):
        """X (N, 2), y (N,) labels -> (mean loss, accuracy), two floats."""
        logits = self.dense2.forward(self.relu.forward(self.dense1.forward(X)))
        loss = self.loss.forward(logits, y)
        return loss, accuracy(self.loss.output, y)

    def backward(self, y):
        """Fill dweights and dbiases of both layers (after ``forward`` on the same batch)."""
        self.dense2.backward(self.loss.backward(self.loss.output, y))
        self.dense1.backward(self.relu.backward(self.dense2.dinputs))


def train_random_search(net, X, y, steps, rng, scale):
    """Random search from the network's weights -> (history (steps,), final accuracy)."""
    start = {k: v.copy() for k, v in net.params().items()}

    def loss_fn(p):
        net.set_params(p)
        return net.forward(X, y)[0]

    best, history = random_search(loss_fn, start, steps, rng, scale=scale)
    net.set_params(best)
    return history, net.forward(X, y)[1]


def train_gradient(net, X, y, steps, optimizer):
    """Full-batch training -> (loss before each step (steps,), final accuracy)."""
    history = np.empty(steps)
    for i in range(steps):
        history[i], _ = net.forward(X, y)
        net.backward(y)
        optimizer.pre_update_params()
        optimizer.update_params(net.dense1)
        optimizer.update_params(net.dense2)
        optimizer.post_update_params()
    return history, net.forward(X, y)[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=HERE / "img" / "random_search.png")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = spiral(100, np.random.default_rng(0))
    runs = [
        ("random search", lambda net: train_random_search(net, X, y, args.steps,
                                                                       np.random.default_rng(1), 0.05)),
        ("SGD", lambda net: train_gradient(net, X, y, args.steps, SGD(learning_rate=0.5))),
        ("SGD with momentum",
         lambda net: train_gradient(net, X, y, args.steps, SGD(learning_rate=0.5, momentum=0.9))),
    ]
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    for label, train in runs:
        net = Network(64, np.random.default_rng(2))  # the same starting weights for every run
        history, acc = train(net)
        marks = ", ".join(f"{history[m - 1]:.3f} at {m}" for m in (1, 100, 1000, args.steps) if m <= args.steps)
        print(f"{label:38s} loss {marks}; accuracy {acc:.2f}")
        ax.plot(np.arange(1, args.steps + 1), history, label=f"{label}: accuracy {acc:.0%}", linewidth=1.4)
    ax.set_xscale("log")
    ax.set_xlabel("step (one loss evaluation each)")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title("Two-class spiral, 2-64-2 network, same starting weights\n"
                 "random search: scale 0.05; SGD: learning rate 0.5; momentum: 0.9", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, metadata={"Software": None})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
