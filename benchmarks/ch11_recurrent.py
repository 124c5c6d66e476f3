"""Chapter 11 measurements: the adding-problem bar over seeds, broken variants, and the
speed of a numpy LSTM next to PyTorch's.

    python benchmarks/ch11_recurrent.py [--seeds 10] [--skip-bar] [--skip-char] [--skip-speed]

1. The bar. ``test_adding_gru_long_sequences_reach_bar`` trains a GRU on the adding
   problem; its settings (T, bar) are read from the suite module, the training settings
   from the solution's constants. The reference (``reference.ch11_recurrent.adding_fit``)
   replays the run for training seeds 0..N-1 and reports the test mean squared error on
   1,000 held-out sequences drawn by the suite's own test-set function. Then the same for
   runs that must fail: a vanilla RNN with the same settings, and a GRU whose backward
   drops the hidden-state gradient carried from step t + 1 (the classic BPTT bug).
2. The character model's bar: the reference's validation loss (``char_fit``) over the
   same seeds, a GRU whose backward drops the carried hidden gradient, a run of a tenth
   of the steps, and two baselines that learn no context.
3. Speed. One "epoch" of 100 training steps of an LSTM (H = 16, T = 40, batches of 32,
   Adam, clipping) on the adding problem: the reference (plain functions), the course's
   solution (the chapter's classes) and, when it is installed, PyTorch CPU (torch.nn.LSTM,
   one thread), side by side; then 20 steps of a larger LSTM (H = 128, batches of 64).

BLAS and PyTorch are held to one thread, so the figures do not depend on the number of cores.
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from reference import ch11_recurrent as ref  # noqa: E402
from reference.ch11_recurrent import variants  # noqa: E402
from solutions.ch11_recurrent import adding as solution  # noqa: E402

SUITE = ROOT / "grader" / "suites" / "ch11_recurrent" / "test_adding.py"
SETTINGS = dict(
    steps=solution.ADDING_STEPS,
    n_hidden=solution.ADDING_HIDDEN,
    batch_size=solution.ADDING_BATCH,
    lr=solution.ADDING_LEARNING_RATE,
    max_norm=solution.ADDING_MAX_NORM,
)
TEST_SEED, N_TEST = 12345, 1000


def load_suite():
    spec = importlib.util.spec_from_file_location("ch11_adding_suite", SUITE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def no_h_carry(kind, x, h0, params, dhs, c0=None):
    return variants.sequence_backward_variant(kind, x, h0, params, dhs, "no_h_carry", c0=c0)


def measure_bar(seeds):
    suite = load_suite()
    T = suite.T_GRADED
    X, y = suite._test_set(np.random.default_rng(TEST_SEED), N_TEST, T)
    runs = [
        ("GRU (graded)", "gru", None),
        ("vanilla RNN", "rnn", None),
        ("GRU, hidden gradient not carried", "gru", no_h_carry),
    ]
    rows = []
    for label, kind, backward in runs:
        results, cpu = [], []
        for seed in range(seeds):
            start = time.process_time()
            p, dense, _ = ref.adding_fit(
                kind, T, np.random.default_rng(seed), backward=backward, **SETTINGS
            )
            results.append(float(np.mean((ref.adding_predict(kind, p, dense, X) - y) ** 2)))
            cpu.append(time.process_time() - start)
            print(
                f"  {label:34s} seed {seed}: test MSE {results[-1]:.4f} ({cpu[-1]:.1f} CPU s)",
                flush=True,
            )
        rows.append((label, results, statistics.mean(cpu)))
    print(
        f"\nadding problem, T = {T}, {SETTINGS}; bar: test MSE <= {suite.BAR}; "
        f"{N_TEST} test sequences (suite's _test_set, seed {TEST_SEED})\n"
    )
    print(
        "| run | training seed 0 | seeds 0-%d: worst / mean / best | below the bar | CPU s / run |"
        % (seeds - 1)
    )
    print("|---|---:|---:|---:|---:|")
    for label, results, cpu in rows:
        passing = sum(r <= suite.BAR for r in results)
        print(
            f"| {label} | {results[0]:.4f} | {max(results):.4f} / {statistics.mean(results):.4f} / "
            f"{min(results):.4f} | {passing} of {len(results)} | {cpu:.2f} |"
        )
    print(f"| predicting 1 for every sequence | {float(np.mean((1.0 - y) ** 2)):.4f} | | | |")


def measure_char(seeds):
    """The character model's validation loss over training seeds, and runs that must fail."""
    spec = importlib.util.spec_from_file_location(
        "ch11_char_suite", SUITE.parent / "test_char_model.py"
    )
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    _, vocabulary, ids = suite._text()
    train, X_val, y_val = suite._validation(ids)
    V = len(vocabulary)
    from solutions.ch11_recurrent import char_model

    settings = dict(
        steps=char_model.CHAR_STEPS,
        batch_size=char_model.CHAR_BATCH,
        T=char_model.CHAR_T,
        lr=char_model.CHAR_LEARNING_RATE,
        max_norm=char_model.CHAR_MAX_NORM,
    )

    def gru_no_carry(kind, x, h0, params, dhs, c0=None):
        return variants.sequence_backward_variant(kind, x, h0, params, dhs, "no_h_carry", c0=c0)

    rows = []
    for label, backward, steps in [
        ("GRU (graded)", None, settings["steps"]),
        ("GRU, hidden gradient not carried", gru_no_carry, settings["steps"]),
        ("GRU, a tenth of the steps", None, settings["steps"] // 10),
    ]:
        results, cpu = [], []
        for seed in range(seeds):
            start = time.process_time()
            params, _ = ref.char_fit(
                train,
                V,
                np.random.default_rng(seed),
                backward=backward,
                **dict(settings, steps=steps),
            )
            results.append(suite._cross_entropy(ref.char_forward(params, X_val), y_val))
            cpu.append(time.process_time() - start)
            print(
                f"  {label:34s} seed {seed}: validation loss {results[-1]:.4f} ({cpu[-1]:.1f} CPU s)",
                flush=True,
            )
        rows.append((label, results, statistics.mean(cpu)))
    counts = np.bincount(train, minlength=V) + 1.0
    unigram = float(-np.mean(np.log((counts / counts.sum())[y_val])))
    print(
        f"\ncharacter model, {settings}; bar: validation loss <= {suite.BAR} nats per character; "
        f"{len(y_val)} held-out characters\n"
    )
    print(
        "| run | training seed 0 | seeds 0-%d: worst / mean / best | below the bar | CPU s / run |"
        % (seeds - 1)
    )
    print("|---|---:|---:|---:|---:|")
    for label, results, cpu in rows:
        print(
            f"| {label} | {results[0]:.3f} | {max(results):.3f} / {statistics.mean(results):.3f} / "
            f"{min(results):.3f} | {sum(r <= suite.BAR for r in results)} of {len(results)} | {cpu:.2f} |"
        )
    print(f"| character frequencies of the training text (unigram) | {unigram:.3f} | | | |")
    print(f"| every character equally likely | {np.log(V):.3f} | | | |")


def lstm_epoch_reference(steps, T, H, batch):
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    ref.adding_fit("lstm", T, rng, steps=steps, n_hidden=H, batch_size=batch, lr=1e-2, max_norm=5.0)
    return time.perf_counter() - start


def lstm_epoch_solution(steps, T, H, batch):
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    solution.train_adding("lstm", T, rng, steps=steps, n_hidden=H, batch_size=batch)
    return time.perf_counter() - start


def lstm_epoch_torch(steps, T, H, batch):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    lstm = torch.nn.LSTM(2, H, batch_first=True).double()
    head = torch.nn.Linear(H, 1).double()
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, lr=1e-2, eps=1e-7)
    start = time.perf_counter()
    for _ in range(steps):
        X, y = ref.adding_data(batch, T, rng)
        out, _ = lstm(torch.from_numpy(X))
        loss = torch.mean((head(out[:, -1]) - torch.from_numpy(y)) ** 2)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
    return time.perf_counter() - start


def measure_speed(repeat=3, steps=100, T=40, H=16, batch=32):
    timers = [
        ("reference (plain functions)", lstm_epoch_reference),
        ("course solution (the chapter's classes)", lstm_epoch_solution),
    ]
    try:
        import torch  # noqa: F401

        timers.append(("PyTorch CPU, torch.nn.LSTM, float64, 1 thread", lstm_epoch_torch))
    except ImportError:
        print("(PyTorch is not installed: its row is left out)")
    print(
        f"\nLSTM on the adding problem: {steps} steps of batches of {batch}, T = {T}, H = {H}, Adam, clip 5 "
        f"(best of {repeat}, wall seconds)\n"
    )
    print(f"| implementation | seconds per {steps} steps | relative to PyTorch |")
    print("|---|---:|---:|")
    best = {label: min(fn(steps, T, H, batch) for _ in range(repeat)) for label, fn in timers}
    base = next((v for k, v in best.items() if k.startswith("PyTorch")), None)
    for label, seconds in best.items():
        ratio = f"{seconds / base:.1f}x" if base else "-"
        print(f"| {label} | {seconds:.2f} | {ratio} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--skip-bar", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-char", action="store_true")
    args = parser.parse_args()
    if not args.skip_bar:
        measure_bar(args.seeds)
    if not args.skip_char:
        measure_char(args.seeds)
    if not args.skip_speed:
        measure_speed()
        measure_speed(steps=20, H=128, batch=64)


if __name__ == "__main__":
    main()
