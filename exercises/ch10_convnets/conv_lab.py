"""Timing lab: a convolution written with loops against ``Conv2D`` (im2col, one product).

Run it from the repository root (``--batch 16`` and ``--repeats 5`` change the sizes):

    OMP_NUM_THREADS=1 python3 -m nox -s run -- exercises.ch10_convnets.conv_lab

Both compute LeNet-5's two convolutions on the same random batch; the results must
agree before any time is reported. Expect the loops to be two orders of magnitude slower:
that is why a network that trains in seconds with im2col would need hours without it.
"""

import argparse
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from .layers import Conv2D
from .loops import conv2d_loops


def best_time(fn, repeats):
    """(best time in seconds of ``repeats`` calls of ``fn()``, the last result)."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


# LeNet-5's convolutions: (name, input shape without the batch, filters, kernel, padding)
LENET_CONVS = (("conv1", (1, 28, 28), 6, 5, 2), ("conv2", (6, 14, 14), 16, 5, 0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    table = Table(title=f"one forward pass on a batch of {args.batch} (float64, best of {args.repeats})")
    for name in ("layer", "input", "loops", "im2col", "speed-up"):
        table.add_column(name, justify="right")
    for name, shape, filters, kernel, padding in LENET_CONVS:
        x = rng.standard_normal((args.batch, *shape))
        layer = Conv2D(shape[0], filters, kernel, padding=padding, rng=rng)
        layer.biases = rng.standard_normal(filters)
        t_fast, fast = best_time(lambda: layer.forward(x), args.repeats)
        t_loop, slow = best_time(lambda: conv2d_loops(x, layer.weights, layer.biases, 1, padding), 1)
        if not np.allclose(fast, slow):
            raise SystemExit(f"{name}: the two convolutions disagree: fix them before timing them")
        table.add_row(name, "x".join(map(str, (args.batch, *shape))), f"{t_loop * 1e3:.1f} ms",
                      f"{t_fast * 1e3:.2f} ms", f"{t_loop / t_fast:.0f}x")
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
