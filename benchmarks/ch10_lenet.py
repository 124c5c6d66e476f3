"""Chapter 10: LeNet-5's accuracy bar and its speed.

    python benchmarks/ch10_lenet.py accuracy [--seeds 10] [--impl solution|reference] [--frozen]
    python benchmarks/ch10_lenet.py speed [--images 2000] [--repeats 3] [--skip-reference]

``accuracy`` replays the graded training run (its sizes, epochs and learning rate are read
from the suite, grader/suites/ch10_convnets/test_lenet.py) for training seeds 0..N-1 and
prints the test accuracy of each, then worst / mean / best. ``--frozen`` trains the broken
variant the bar must reject: LeNet-5 whose convolution weights and biases never change
from their random initial values. ``--impl reference`` uses the functional reference
(``reference/ch10_convnets.lenet_fit_predict``), ``solution`` (default, two to four times
faster) the course's solution with chapter 08's ``Model``; the two give the same
accuracies (checked on the graded seed by ``--check``).

``speed`` times one training epoch of LeNet-5 (batches of 64, Adam) on the same images:
the reference (float64; ``--skip-reference`` leaves it out), the solution in float64 and
in float32 (its parameters cast to float32 after they are drawn), and PyTorch CPU in
float64 and float32 when torch is installed (a dev-only dependency). One BLAS thread (and
one torch thread) throughout. The implementations take turns, one warm-up round and then
``--repeats`` counted rounds, so that a change in the machine's load hits all of them; the
figures are the medians of the wall time and of the process's CPU time per epoch, and the
ratios use CPU time (on a busy machine it stays close to what a free core would take).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from data.loaders import load_mnist_idx  # noqa: E402
from reference import ch10_convnets as ref  # noqa: E402
from reference.ch09_mnist import split_indices  # noqa: E402

CONVS = ("conv1.W", "conv1.b", "conv2.W", "conv2.b")


def suite():
    path = ROOT / "grader" / "suites" / "ch10_convnets" / "test_lenet.py"
    spec = importlib.util.spec_from_file_location("ch10_lenet_suite", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def data(train_size, val_size):
    images, labels = load_mnist_idx()
    X = ((images.astype(np.float64) - 127.5) / 127.5).reshape(-1, 1, 28, 28)
    y = labels.astype(np.int64)
    train, val, test = split_indices(10000, np.random.default_rng(9))
    return X, y, train[:train_size], val[:val_size], test


def run_solution(X, y, train, val, test, seed, epochs, frozen):
    from solutions.ch10_convnets import Conv2D, build_lenet

    rng = np.random.default_rng(seed)
    model = build_lenet(rng)
    if frozen:
        for layer in model.layers:
            if isinstance(layer, Conv2D):
                layer.trainable = False
        update = (
            model.optimizer.update_params
        )  # also skip them where an optimizer ignores `trainable`
        model.optimizer.update_params = lambda layer: (
            None if isinstance(layer, Conv2D) else update(layer)
        )
    model.train(
        X[train], y[train], epochs=epochs, batch_size=64, validation_data=(X[val], y[val]), rng=rng
    )
    return model.predict(X[test], batch_size=500)


def run_reference(X, y, train, val, test, seed, epochs, frozen, lr):
    return ref.lenet_fit_predict(
        X[train], y[train], X[test], seed, epochs, lr=lr, frozen=CONVS if frozen else ()
    )


def accuracy(args):
    s = suite()
    X, y, train, val, test = data(s.TRAIN_SIZE, s.VAL_SIZE)
    print(
        f"{s.TRAIN_SIZE} training images x {s.EPOCHS} epochs, learning rate {s.LEARNING_RATE}, "
        f"{'frozen convolutions' if args.frozen else 'everything trained'}, {args.impl}"
    )
    scores = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        if args.impl == "solution":
            out = run_solution(X, y, train, val, test, seed, s.EPOCHS, args.frozen)
        else:
            out = run_reference(
                X, y, train, val, test, seed, s.EPOCHS, args.frozen, s.LEARNING_RATE
            )
        scores.append(float(np.mean(np.argmax(out, axis=1) == y[test])))
        print(f"seed {seed}: {scores[-1]:.3f}  ({time.perf_counter() - start:.1f} s)", flush=True)
    if scores:
        print(
            f"worst / mean / best: {min(scores):.3f} / {np.mean(scores):.3f} / {max(scores):.3f}; bar {s.BAR}"
        )
    if args.check:
        a = run_solution(X, y, train, val, test, 0, s.EPOCHS, args.frozen)
        b = run_reference(X, y, train, val, test, 0, s.EPOCHS, args.frozen, s.LEARNING_RATE)
        same = np.mean(np.argmax(a, 1) == np.argmax(b, 1))
        print(
            f"seed 0: solution and reference agree on {same:.3f} of the test predictions, "
            f"largest probability difference {np.max(np.abs(a - b)):.2e}"
        )


def _rounds(runs, repeats):
    """Run every function of ``runs`` once per round, one after the other, for one warm-up
    round and ``repeats`` counted ones, so that a change in the machine's load hits every
    implementation alike. Returns {name: (median wall s, median CPU s)}."""
    wall = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    for round_ in range(repeats + 1):
        for name, fn in runs.items():
            w, c = time.perf_counter(), time.process_time()
            fn()
            if round_:
                wall[name].append(time.perf_counter() - w)
                cpu[name].append(time.process_time() - c)
    return {name: (float(np.median(wall[name])), float(np.median(cpu[name]))) for name in runs}


def _float32_parameters(model):
    """Cast every trainable layer's parameters to float32 (the layers draw them in
    float64); the layers then compute in the dtype of their inputs."""
    for layer in model.trainable_layers:
        for name, value in layer.parameters().items():
            setattr(layer, name, value.astype(np.float32))
    return model


def speed(args):
    s = suite()
    X, y, train, _, _ = data(args.images, 0)
    runs = {}

    def solution(dtype):
        from solutions.ch10_convnets import build_lenet

        Xt, yt = X[train].astype(dtype), y[train]

        def epoch():
            rng = np.random.default_rng(0)
            model = build_lenet(rng)
            if dtype == np.float32:
                _float32_parameters(model)
            model.train(Xt, yt, epochs=1, batch_size=64, rng=rng, progress=False)

        return epoch

    if not args.skip_reference:

        def reference_epoch():
            ref.lenet_fit_predict(X[train], y[train], X[train][:1], 0, 1, lr=s.LEARNING_RATE)

        runs["reference (numpy, float64)"] = reference_epoch
    runs["solution with the course's Model (numpy, float64)"] = solution(np.float64)
    runs["solution with the course's Model (numpy, float32)"] = solution(np.float32)
    try:
        import torch
    except ImportError:
        torch = None
        print("(PyTorch is not installed: its rows are left out)")
    if torch is not None:
        torch.set_num_threads(1)

        def torch_run(dtype):
            torch.manual_seed(0)
            net = torch.nn.Sequential(
                torch.nn.Conv2d(1, 6, 5, padding=2),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
                torch.nn.Conv2d(6, 16, 5),
                torch.nn.ReLU(),
                torch.nn.MaxPool2d(2),
                torch.nn.Flatten(),
                torch.nn.Linear(400, 120),
                torch.nn.ReLU(),
                torch.nn.Linear(120, 84),
                torch.nn.ReLU(),
                torch.nn.Linear(84, 10),
            ).to(dtype)
            opt = torch.optim.Adam(net.parameters(), lr=s.LEARNING_RATE, eps=1e-7)
            tx, ty = torch.tensor(X[train], dtype=dtype), torch.tensor(y[train])

            def epoch():
                perm = torch.randperm(len(tx))
                for i in range(0, len(tx), 64):
                    idx = perm[i : i + 64]
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(net(tx[idx]), ty[idx]).backward()
                    opt.step()

            return epoch

        runs["PyTorch CPU (float64)"] = torch_run(torch.float64)
        runs["PyTorch CPU (float32)"] = torch_run(torch.float32)
    times = _rounds(runs, args.repeats)
    print(
        f"one epoch of LeNet-5 on {args.images} images, batches of 64, Adam, one thread; "
        f"median of {args.repeats} rounds (load average at the end: {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'implementation':55s} {'wall s':>7s} {'CPU s':>7s}  ratio to PyTorch (CPU time)")
    for name, (w, c) in times.items():
        ratios = []
        for dtype in ("float64", "float32"):
            key = f"PyTorch CPU ({dtype})"
            if key in times and key != name and (dtype in name or dtype == "float64"):
                ratios.append(f"{c / times[key][1]:.2f}x PyTorch {dtype}")
        print(f"  {name:55s} {w:7.2f} {c:7.2f}  " + ", ".join(ratios))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("accuracy")
    a.add_argument("--seeds", type=int, default=10)
    a.add_argument("--impl", choices=("solution", "reference"), default="solution")
    a.add_argument("--frozen", action="store_true")
    a.add_argument("--check", action="store_true", help="compare solution and reference on seed 0")
    a.set_defaults(func=accuracy)
    b = sub.add_parser("speed")
    b.add_argument("--images", type=int, default=2000)
    b.add_argument("--repeats", type=int, default=3, help="counted rounds (after one warm-up)")
    b.add_argument("--skip-reference", action="store_true", help="leave the slow reference out")
    b.set_defaults(func=speed)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
