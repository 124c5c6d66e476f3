"""Chapter 13: the three quality bars (autoencoder, VAE, U-Net), each against a broken variant.

    python benchmarks/ch13_generative.py [--seeds 10] [--tasks ae vae unet] [--check]

Replays each graded training run (sizes and seeds read from the suite,
grader/suites/ch13_generative/) with the course's solution for training seeds 0..N-1, and
the same run with a known broken variant that the bar must reject:

* autoencoder: the encoder never learns (only the decoder's layers are updated);
* VAE: trained without its KL term (the gradient of the reconstruction only), scored by
  the grader's negative ELBO;
* U-Net: the skip connection carries nothing (zeros in forward, no gradient back).

Prints each seed's score, then worst / mean / best. ``--check`` also trains the
functional reference (``reference/ch13_generative``) on seed 0 of each task and prints its
result next to the solution's: they agree (the same draws in the same order). The
reference's U-Net is slow (its convolutions scatter with ``np.add.at``): half a minute.
One BLAS thread throughout.
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
from reference import ch13_generative as ref  # noqa: E402
from reference.ch09_mnist import split_indices  # noqa: E402
from solutions import ch13_generative as sol  # noqa: E402
from solutions.ch13_generative import unet as sol_unet  # noqa: E402


def suite(name):
    path = ROOT / "grader" / "suites" / "ch13_generative" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ch13_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mnist(n_train, n_test, split_seed):
    images, _ = load_mnist_idx()
    X = images.reshape(len(images), -1).astype(np.float64) / 255.0
    train, _, test = split_indices(10000, np.random.default_rng(split_seed))
    return X[train[:n_train]], X[test[:n_test]]


def ae_score(seed, broken, data):
    Xtr, Xte = data
    model = (
        _ae_frozen_encoder(Xtr, seed)
        if broken
        else sol.train_autoencoder(Xtr, np.random.default_rng(seed))
    )
    return float(np.mean((model.reconstruct(Xte) - Xte) ** 2))


def _ae_frozen_encoder(Xtr, seed):
    """train_autoencoder, except that only the decoder's layers are updated."""
    rng = np.random.default_rng(seed)
    model = sol.Autoencoder(Xtr.shape[1], sol.AE_HIDDEN, sol.AE_LATENT, rng)
    loss, optimizer = (
        sol.BinaryCrossEntropyWithLogits(),
        sol.Adam(learning_rate=sol.AE_LEARNING_RATE),
    )
    for _ in range(sol.AE_EPOCHS):
        order = rng.permutation(len(Xtr))
        for start in range(0, len(Xtr), sol.AE_BATCH):
            batch = Xtr[order[start : start + sol.AE_BATCH]]
            logits = model.forward(batch, training=True)
            model.backward(loss.backward(logits, batch))
            optimizer.pre_update_params()
            for layer in model.decoder:
                optimizer.update_params(layer)
            optimizer.post_update_params()
    return model


def vae_score(seed, broken, data, elbo, eps_seed):
    Xtr, Xte = data
    original = sol.kl_divergence_backward
    if broken:
        from solutions.ch13_generative import vae as sol_vae

        sol_vae.kl_divergence_backward = lambda mu, logvar: (
            np.zeros_like(mu),
            np.zeros_like(logvar),
        )
    try:
        model = sol.train_vae(Xtr, np.random.default_rng(seed))
    finally:
        from solutions.ch13_generative import vae as sol_vae

        sol_vae.kl_divergence_backward = original
    mu, logvar = model.encode(Xte)
    eps = np.random.default_rng(eps_seed).standard_normal(mu.shape)
    logits = model.decode(mu + np.exp(0.5 * logvar) * eps)
    return float(np.mean(elbo(mu, logvar, logits, Xte)))


def unet_score(seed, broken, data, iou):
    (X, Y), (Xt, Yt) = data
    concat, split = sol_unet.concat_channels, sol_unet.split_channels
    if broken:
        sol_unet.concat_channels = lambda skip, up: np.concatenate(
            [np.zeros_like(skip), up], axis=1
        )
        sol_unet.split_channels = lambda d, n: (np.zeros_like(d[:, :n]), d[:, n:])
    try:
        model = sol.train_unet(X, Y, np.random.default_rng(seed))
    finally:
        sol_unet.concat_channels, sol_unet.split_channels = concat, split
    return iou(model.predict(Xt), Yt)


def summary(name, scores):
    arr = np.array(scores)
    return (
        f"{name}: worst/mean/best {arr.max() if name.startswith(('ae', 'vae')) else arr.min():.4f} / "
        f"{arr.mean():.4f} / {arr.min() if name.startswith(('ae', 'vae')) else arr.max():.4f}"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tasks", nargs="+", default=["ae", "vae", "unet"])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    t_ae, t_vae, t_unet, cases = (
        suite("test_autoencoder"),
        suite("test_vae"),
        suite("test_unet"),
        suite("cases"),
    )
    for task in args.tasks:
        if task == "ae":
            data = mnist(t_ae.N_TRAIN, t_ae.N_TEST, cases.SPLIT_SEED)
            run = lambda seed, broken: ae_score(seed, broken, data)  # noqa: E731
            bar = f"<= {t_ae.AE_BAR}"
        elif task == "vae":
            data = mnist(t_vae.N_TRAIN, t_vae.N_TEST, cases.SPLIT_SEED)
            run = lambda seed, broken: vae_score(
                seed, broken, data, t_vae.negative_elbo, t_vae.EPS_SEED
            )  # noqa
            bar = f"<= {t_vae.ELBO_BAR}"
        else:
            data = (
                cases.shapes_data(t_unet.N_TRAIN, t_unet.SIZE, t_unet.DATA_SEED),
                cases.shapes_data(t_unet.N_TEST, t_unet.SIZE, t_unet.TEST_SEED),
            )
            run = lambda seed, broken: unet_score(seed, broken, data, t_unet.ref_free_iou)  # noqa: E731
            bar = f">= {t_unet.IOU_BAR}"
        for broken in (False, True):
            scores, start = [], time.perf_counter()
            for seed in range(args.seeds):
                scores.append(run(seed, broken))
                print(
                    f"{task} {'broken' if broken else 'correct'} seed {seed}: {scores[-1]:.4f}",
                    flush=True,
                )
            label = f"{task} {'broken' if broken else 'correct'}"
            print(
                f"{summary(label, scores)}  (bar {bar}; {(time.perf_counter() - start) / args.seeds:.1f} s per run)",
                flush=True,
            )
    if args.check:
        Xtr, Xte = mnist(t_ae.N_TRAIN, t_ae.N_TEST, cases.SPLIT_SEED)
        p = ref.ae_fit(
            Xtr, 0, sol.AE_HIDDEN, sol.AE_LATENT, sol.AE_EPOCHS, sol.AE_BATCH, sol.AE_LEARNING_RATE
        )
        print(
            "reference ae seed 0:",
            float(np.mean((ref.sigmoid(ref.ae_forward(p, Xte)[1]) - Xte) ** 2)),
            "solution:",
            ae_score(0, False, (Xtr, Xte)),
        )
        Xtr, Xte = mnist(t_vae.N_TRAIN, t_vae.N_TEST, cases.SPLIT_SEED)
        p = ref.vae_fit(
            Xtr,
            0,
            sol.VAE_HIDDEN,
            sol.VAE_LATENT,
            sol.VAE_EPOCHS,
            sol.VAE_BATCH,
            sol.VAE_LEARNING_RATE,
        )
        mu, logvar, _ = ref.vae_encode(p, Xte)
        eps = np.random.default_rng(t_vae.EPS_SEED).standard_normal(mu.shape)
        logits = ref.vae_decode(p, ref.reparameterize(mu, logvar, eps))[0]
        print(
            "reference vae seed 0:",
            float(np.mean(ref.negative_elbo(mu, logvar, logits, Xte))),
            "solution:",
            vae_score(0, False, (Xtr, Xte), t_vae.negative_elbo, t_vae.EPS_SEED),
        )
        (X, Y), (Xt, Yt) = (
            cases.shapes_data(t_unet.N_TRAIN, t_unet.SIZE, t_unet.DATA_SEED),
            cases.shapes_data(t_unet.N_TEST, t_unet.SIZE, t_unet.TEST_SEED),
        )
        p = ref.unet_fit(
            X, Y, 0, sol.UNET_CHANNELS, sol.UNET_EPOCHS, sol.UNET_BATCH, sol.UNET_LEARNING_RATE
        )
        print(
            "reference unet seed 0 (slow):",
            ref.foreground_iou(ref.unet_predict(p, Xt), Yt),
            "solution:",
            unet_score(0, False, ((X, Y), (Xt, Yt)), t_unet.ref_free_iou),
        )


if __name__ == "__main__":
    main()
