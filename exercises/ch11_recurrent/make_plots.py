"""The chapter's figures and its sampled text, in one run.

Run it from the repository root once everything in the chapter is written:

    python3 -m nox -s run -- exercises.ch11_recurrent.make_plots            # a few minutes

Writes, next to this file:

    img/gradient_through_time.png   how much gradient reaches each step back, RNN vs LSTM vs GRU
    img/adding_curves.png           training loss on the adding problem, T = 10 and T = 40
    img/char_model.png              the character model's training loss

and prints the character model's validation loss and text it samples.
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..ch09_mnist import predict  # noqa: E402
from .adding import CELLS, train_adding  # noqa: E402
from .char_model import TRAIN_FRACTION, build_vocabulary, encode, load_text, sample, train_char_model  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
COLORS = {"rnn": "tab:red", "lstm": "tab:blue", "gru": "tab:green"}
NAMES = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}


def gradient_through_time(cell, T=60, H=32, N=64, seeds=5):
    """Mean over ``seeds`` fresh layers (random inputs, standard normal): the norm of the
    gradient that reaches the input at step t when only the last hidden state receives a
    gradient (ones / sqrt(N H)), for t = 0 .. T - 1."""
    norms = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        layer = CELLS[cell](4, H, rng)
        x = rng.standard_normal((N, T, 4))
        layer.forward(x)
        d = np.zeros((N, T, H))
        d[:, -1] = 1.0 / np.sqrt(N * H)
        dx = layer.backward(d)
        norms.append(np.linalg.norm(dx, axis=(0, 2)))
    return np.mean(norms, axis=0)


def plot_gradient_through_time(path):
    T = 60
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for cell in ("rnn", "lstm", "gru"):
        norms = gradient_through_time(cell, T=T)
        ax.semilogy(np.arange(T)[::-1], norms, color=COLORS[cell], label=NAMES[cell])
    ax.set_xlabel("steps back from the last step (T - 1 - t)")
    ax.set_ylabel("norm of the gradient at input step t")
    ax.set_title("Gradient from the last hidden state, at initialisation (H = 32)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_adding_curves(path, steps, seed):
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, T in zip(axes, (10, 40)):
        for cell in ("rnn", "lstm", "gru"):
            _, losses = train_adding(cell, T, np.random.default_rng(seed), steps=steps)
            smooth = np.convolve(losses, np.ones(20) / 20, mode="valid")
            ax.semilogy(np.arange(len(smooth)) + 20, smooth, color=COLORS[cell], label=NAMES[cell])
            print(f"adding problem, T = {T}, {NAMES[cell]}: mean training loss over the last 50 steps "
                  f"{np.mean(losses[-50:]):.4f}")
        ax.axhline(1 / 6, color="gray", linestyle="--", linewidth=1, label="predicting 1 (1/6)")
        ax.set_title(f"adding problem, T = {T}")
        ax.set_xlabel("training step")
    axes[0].set_ylabel("training loss (MSE, mean of 20 steps)")
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def char_model(path, seed):
    text = load_text()
    vocabulary = build_vocabulary(text)
    ids = encode(text, vocabulary)
    n = int(len(ids) * TRAIN_FRACTION)
    layers, losses = train_char_model(ids[:n], len(vocabulary), np.random.default_rng(seed), steps=1000)
    val = ids[n:]
    m = (len(val) - 1) // 32
    z = predict(layers, val[:m * 32].reshape(m, 32))
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    y = val[1:m * 32 + 1]
    print(f"character model, 1,000 steps: validation loss {-np.mean(logp[np.arange(len(y)), y]):.3f} "
          "nats per character")
    for temperature in (0.5, 1.0):
        print(f"\n--- sampled at temperature {temperature}, after the prompt 'ROMEO:\\n' ---")
        print("ROMEO:\n" + sample(layers, vocabulary, "ROMEO:\n", 300, np.random.default_rng(1), temperature))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(losses, color="tab:green", linewidth=0.8)
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss (nats per character)")
    ax.set_title("Character-level GRU on tiny Shakespeare")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Chapter 11's figures.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=2000, help="training steps of each adding-problem run")
    args = parser.parse_args(argv)
    IMG.mkdir(exist_ok=True)
    plot_gradient_through_time(IMG / "gradient_through_time.png")
    plot_adding_curves(IMG / "adding_curves.png", args.steps, args.seed)
    char_model(IMG / "char_model.png", args.seed)


if __name__ == "__main__":
    main()
