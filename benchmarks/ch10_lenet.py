"""Chapter 10: LeNet-5's accuracy bar and its speed.

    python benchmarks/ch10_lenet.py accuracy [--seeds 10] [--impl solution|reference] [--frozen]
    python benchmarks/ch10_lenet.py speed [--images 2000]

``accuracy`` replays the graded training run (its sizes, epochs and learning rate are read
from the suite, grader/suites/ch10_convnets/test_lenet.py) for training seeds 0..N-1 and
prints the test accuracy of each, then worst / mean / best. ``--frozen`` trains the broken
variant the bar must reject: LeNet-5 whose convolution weights and biases never change
from their random initial values. ``--impl reference`` uses the functional reference
(``reference/ch10_convnets.lenet_fit_predict``), ``solution`` (default, two to four times
faster) the course's solution with chapter 08's ``Model``; the two give the same
accuracies (checked on the graded seed by ``--check``).

``speed`` times one training epoch of LeNet-5 (batches of 64, Adam) on the same images:
the reference, the solution, and PyTorch CPU in float64 and float32 when torch is
installed (a dev-only dependency). One BLAS thread (and one torch thread) throughout; the
figures are CPU times of this process (best of ``--repeats``).
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


def _best(fn, repeats):
    """Best CPU time of ``repeats`` calls: on a busy machine CPU time stays close to what one
    free core would take, where wall time grows with the load."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def speed(args):
    s = suite()
    X, y, train, _, _ = data(args.images, 0)
    Xt, yt = X[train], y[train]
    rows = []

    def reference_epoch():
        ref.lenet_fit_predict(Xt, yt, Xt[:1], 0, 1, lr=s.LEARNING_RATE)

    def solution_epoch():
        from solutions.ch10_convnets import build_lenet

        rng = np.random.default_rng(0)
        build_lenet(rng).train(Xt, yt, epochs=1, batch_size=64, rng=rng, progress=False)

    rows.append(("reference (numpy, float64)", _best(reference_epoch, args.repeats)))
    rows.append(
        ("solution with the course's Model (numpy, float64)", _best(solution_epoch, args.repeats))
    )
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        for dtype in (torch.float64, torch.float32):
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
            tx, ty = torch.tensor(Xt, dtype=dtype), torch.tensor(yt)

            def torch_epoch():
                perm = torch.randperm(len(tx))
                for i in range(0, len(tx), 64):
                    idx = perm[i : i + 64]
                    opt.zero_grad()
                    torch.nn.functional.cross_entropy(net(tx[idx]), ty[idx]).backward()
                    opt.step()

            rows.append(
                (f"PyTorch CPU ({str(dtype).split('.')[-1]})", _best(torch_epoch, args.repeats))
            )
    print(
        f"one epoch of LeNet-5 on {args.images} images, batches of 64, one thread, CPU time, best of "
        f"{args.repeats}:"
    )
    torch64 = next((t for name, t in rows if "float64" in name and "PyTorch" in name), None)
    for name, t in rows:
        ratio = f"  ({t / torch64:.2f}x PyTorch float64)" if torch64 else ""
        print(f"  {name:55s} {t:6.2f} s  {1e3 * t / args.images:.2f} ms/image{ratio}")


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
    b.add_argument("--repeats", type=int, default=2)
    b.set_defaults(func=speed)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
