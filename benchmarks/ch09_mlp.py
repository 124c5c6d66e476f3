"""Chapter 09's multi-layer perceptron: the course's layers against a minimal numpy loop and PyTorch.

    python benchmarks/ch09_mlp.py [--images 8000] [--layers 784 256 128 10] [--batch-size 128]
                                  [--repeats 5] [--dtypes float64 float32]
                                  [--impls course course+dX numpy numpy+dX reference torch]

Times one training epoch (Adam, learning rate 1e-3, shuffled mini-batches, ReLU between the
dense layers, softmax and cross-entropy at the end) of the same network on the same MNIST
images, once per implementation and data type:

``course``     the course's solution: chapter 09's ``Dense``, ``ReLU``, ``Softmax``, loss,
               ``Adam`` and chapter 08's ``Model.train`` (which also measures the loss and
               the accuracy of every batch). ``Model.finalize`` sets ``input_gradient =
               False`` on the first ``Dense``, so its backward skips the gradient with
               respect to the images, as the two below. For float32 the parameters are
               cast to float32 after they are drawn (the layers draw them in float64).
``course+dX``  the same with the first layer's ``input_gradient`` set back to True after
               ``finalize``: what the flag saves, measured in the same run.
``numpy``      a minimal numpy loop: the same arithmetic written as a dozen lines of matrix
               products and in-place Adam updates, with no objects around it. Like PyTorch
               it skips the gradient with respect to the images, which training never uses.
``numpy+dX``   the same loop computing that gradient too, as every layer does when its
               ``input_gradient`` is True (a ``Dense`` used outside a ``Model``, or the
               course before ``finalize`` switched the first layer's off).
``reference``  the grader's functional float64 reference (``reference/ch06_training.train_run``,
               which also evaluates the whole training set after the epoch); float64 only.
``torch``      PyTorch CPU (``nn.Sequential``, ``optim.Adam``), when torch is installed.

One BLAS thread (and one torch thread) throughout. The implementations take turns, round
after round (``--repeats`` rounds), so that a change in the machine's load hits them all;
the figures are the median wall time and the median CPU time of the process per epoch, and
the ratios use CPU time (on a busy machine it stays close to what a free core would take).
The first round is a warm-up and is not counted.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from data.loaders import load_mnist_idx  # noqa: E402

LEARNING_RATE = 1e-3


def data(images, dtype):
    pixels, labels = load_mnist_idx()
    X = ((pixels[:images].reshape(images, -1).astype(np.float64) - 127.5) / 127.5).astype(dtype)
    return X, labels[:images].astype(np.int64)


def course_epoch(X, y, sizes, batch_size, input_gradient=False):
    from solutions.ch09_mnist import (
        AccuracyCategorical,
        Adam,
        CategoricalCrossEntropy,
        Dense,
        Model,
        ReLU,
        Softmax,
    )

    rng = np.random.default_rng(0)
    model = Model()
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        model.add(Dense(n_in, n_out, rng, weight_scale=np.sqrt(2.0 / n_in)))
        model.add(Softmax() if i == len(sizes) - 2 else ReLU())
    model.set(
        loss=CategoricalCrossEntropy(),
        optimizer=Adam(learning_rate=LEARNING_RATE),
        accuracy=AccuracyCategorical(),
    )
    model.finalize()
    if input_gradient:
        model.layers[0].input_gradient = True  # finalize switched it off
    if X.dtype != np.float64:
        for layer in model.trainable_layers:
            for name, value in layer.parameters().items():
                setattr(layer, name, value.astype(X.dtype))

    def run():
        model.train(X, y, epochs=1, batch_size=batch_size, rng=rng, progress=False)

    return run


def numpy_epoch(X, y, sizes, batch_size, input_gradient=False):
    """The minimal loop: forward, softmax cross-entropy, backward, Adam, nothing else.

    With ``input_gradient`` it also computes the gradient with respect to the images (the
    first layer's ``dinputs``), which training does not use and which a ``Dense`` computes
    unless its ``input_gradient`` is False: a quarter more matrix work for this network."""
    rng = np.random.default_rng(0)
    dtype = X.dtype
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = (np.sqrt(2.0 / n_in) * rng.standard_normal((n_in, n_out))).astype(dtype)
        params += [W, np.zeros((1, n_out), dtype)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1, b2, eps = 0.9, 0.999, 1e-7
    step = [0]

    def run():
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            a, yb = X[idx], y[idx]
            acts = [a]
            for i in range(0, len(params), 2):
                a = a @ params[i] + params[i + 1]
                if i + 2 < len(params):
                    a = np.maximum(a, 0)
                acts.append(a)
            a = a - a.max(axis=1, keepdims=True)
            e = np.exp(a)
            p = e / e.sum(axis=1, keepdims=True)
            loss = -np.log(p[np.arange(len(yb)), yb] + 1e-7).mean()  # noqa: F841
            d = p
            d[np.arange(len(yb)), yb] -= 1
            d /= len(yb)
            grads = [None] * len(params)
            for i in range(len(params) - 2, -1, -2):
                grads[i] = acts[i // 2].T @ d
                grads[i + 1] = d.sum(axis=0, keepdims=True)
                if i or input_gradient:
                    d = d @ params[i].T
                    d *= acts[i // 2] > 0
            step[0] += 1
            t = step[0]
            lr = LEARNING_RATE * np.sqrt(1 - b2**t) / (1 - b1**t)
            for p_, g, m_, v_ in zip(params, grads, m, v):
                m_ *= b1
                m_ += (1 - b1) * g
                v_ *= b2
                v_ += (1 - b2) * g * g
                p_ -= lr * m_ / (np.sqrt(v_) + eps)

    return run


def reference_epoch(X, y, sizes, batch_size):
    from reference.ch06_training import train_run
    from reference.ch09_mnist import he_params

    rng = np.random.default_rng(0)
    params = he_params(sizes, rng)
    opt = {"name": "adam", "learning_rate": LEARNING_RATE}

    def run():
        train_run(params, X, y, "multiclass", opt, 1, batch_size, rng)

    return run


def torch_epoch(X, y, sizes, batch_size):
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    dtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[X.dtype]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).to(dtype)
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, eps=1e-7)
    tx, ty = torch.tensor(X), torch.tensor(y)

    def run():
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), batch_size):
            idx = perm[i : i + batch_size]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(tx[idx]), ty[idx]).backward()
            opt.step()

    return run


BUILDERS = {
    "course": course_epoch,
    "course+dX": lambda *a: course_epoch(*a, input_gradient=True),
    "numpy": numpy_epoch,
    "numpy+dX": lambda *a: numpy_epoch(*a, input_gradient=True),
    "reference": reference_epoch,
    "torch": torch_epoch,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8000)
    parser.add_argument("--layers", type=int, nargs="+", default=[784, 256, 128, 10])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5, help="counted rounds (after one warm-up)")
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--impls", nargs="+", default=list(BUILDERS), choices=list(BUILDERS))
    args = parser.parse_args(argv)
    impls = list(args.impls)
    if "torch" in impls:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("(PyTorch is not installed: its rows are left out)")
            impls.remove("torch")
    runs = {}
    for dtype in args.dtypes:
        X, y = data(args.images, np.dtype(dtype))
        for impl in impls:
            if impl == "reference" and dtype != "float64":
                continue
            runs[(impl, dtype)] = BUILDERS[impl](X, y, tuple(args.layers), args.batch_size)
    wall = {key: [] for key in runs}
    cpu = {key: [] for key in runs}
    for round_ in range(args.repeats + 1):
        for key, run in runs.items():
            w, c = time.perf_counter(), time.process_time()
            run()
            if round_:
                wall[key].append(time.perf_counter() - w)
                cpu[key].append(time.process_time() - c)
    print(
        f"one epoch of a {'-'.join(map(str, args.layers))} MLP on {args.images} MNIST images, "
        f"batches of {args.batch_size}, Adam, one thread; median of {args.repeats} rounds "
        f"(load average before the last round: {os.getloadavg()[0]:.1f})"
    )
    med = {key: float(np.median(v)) for key, v in cpu.items()}
    print(f"  {'implementation':12s} {'dtype':8s} {'wall s':>7s} {'CPU s':>7s}  ratios (CPU time)")
    for key in runs:
        impl, dtype = key
        ratios = []
        others = ("numpy", "numpy+dX", "torch") + (("course",) if impl == "course+dX" else ())
        for other in others:
            if (other, dtype) in med and other != impl:
                ratios.append(f"{med[key] / med[(other, dtype)]:.2f}x {other} {dtype}")
        if dtype != "float64" and ("torch", "float64") in med:
            ratios.append(f"{med[key] / med[('torch', 'float64')]:.2f}x torch float64")
        print(
            f"  {impl:12s} {dtype:8s} {float(np.median(wall[key])):7.3f} {med[key]:7.3f}  "
            + ", ".join(ratios)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
