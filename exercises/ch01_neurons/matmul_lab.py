"""Timing lab: your pure-Python ``matmul`` against numpy's ``@``.

Run it from the repository root (``--sizes 8 16 32`` picks other sizes):

    python3 -m nox -s run -- exercises.ch01_neurons.matmul_lab

Both products run on the same random float64 square matrices; each timing is repeated
and the best one kept. The results must agree before anything is reported.

BLAS threads matter: numpy hands ``@`` to a BLAS library that may use every core.
For a fair single-thread comparison run

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python3 -m nox -s run -- exercises.ch01_neurons.matmul_lab

``--threads`` reports the core count, these variables and the BLAS numpy uses.
"""

import argparse
import os
import sys
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from .neuron import matmul

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def best_time(fn, repeats, number=1):
    """Best of ``repeats`` timings of ``number`` calls of ``fn()``, per call; and a result."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            result = fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best, result


def agrees(c_list, c_np):
    """True if the list-of-rows ``c_list`` has the shape and values of ``c_np``."""
    try:
        c = np.array(c_list, dtype=np.float64)
    except (TypeError, ValueError):  # ragged rows or non-numbers
        return False
    return c.shape == c_np.shape and np.allclose(c, c_np)


def report_threads(console):
    """Print the core count, the thread variables and numpy's BLAS."""
    console.print(f"os.cpu_count(): {os.cpu_count()}")
    for var in THREAD_VARS:
        console.print(f"{var}: {os.environ.get(var, '(not set)')}")
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        console.print(f"numpy {np.__version__}, BLAS: {blas.get('name')} {blas.get('version')}")
    except Exception:  # older numpy: no dict form of the config
        console.print(f"numpy {np.__version__}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", action="store_true", help="report the thread setup and exit")
    args = parser.parse_args(argv)
    console = Console()
    if args.threads:
        report_threads(console)
        return 0

    rng = np.random.default_rng(0)
    table = Table(title=f"pure-Python matmul vs numpy @ (float64, best of {args.repeats})")
    for name in ("n", "multiply-adds n³", "pure Python", "numpy @", "speed-up"):
        table.add_column(name, justify="right")
    for n in args.sizes:
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        a_list, b_list = a.tolist(), b.tolist()
        try:
            t_py, c_py = best_time(lambda: matmul(a_list, b_list), args.repeats)
        except NotImplementedError:
            console.print("[red]matmul is not implemented yet.[/red] Write it in "
                          "neuron.py (chapter 01), then run this lab again.")
            return 1
        t_np, c_np = best_time(lambda: a @ b, args.repeats, number=100)  # too fast to time once
        if not agrees(c_py, c_np):
            console.print(f"[red]matmul disagrees with numpy for n = {n}.[/red] Fix it first.")
            return 1
        table.add_row(str(n), f"{n**3:,}", f"{t_py * 1e3:.3f} ms", f"{t_np * 1e3:.4f} ms",
                      f"{t_py / t_np:,.0f}×")
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
