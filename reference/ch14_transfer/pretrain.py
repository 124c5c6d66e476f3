"""Regenerate the shipped pretrained networks of chapter 14 from their recipes:

    python -m reference.ch14_transfer.pretrain            # writes data/pretrained/
    python -m reference.ch14_transfer.pretrain --check    # recomputes, compares, writes nothing

LeNet-5 (chapter 10's ``build_lenet``, as chapter 10's reference computes it) trained with
fixed seeds on the digits 0-4 of chapter 09's training part (see ``pretrain_lenet``), and a
two-block encoder pretrained by masked-token prediction (see ``pretrain_encoder``). It
writes four files in the course's model format (numpy arrays only, no pickle):

- ``lenet-digits04.npz``: a whole-model file (``Model.load`` reads it): ``layer{i}.{name}``
  arrays and the ``architecture`` JSON;
- ``lenet-digits04-check.npz``: ``inputs`` (8 held-out images, (8, 1, 28, 28)) and the
  network's ``outputs`` (8, 10), to check a loaded copy against;
- ``encoder-mlm.npz``: chapter 12's ``build_transformer(25, rng, n_layers=2)`` pretrained by
  masked-token prediction on sequences of two Markov chains (``pretrain_encoder``);
- ``encoder-mlm-check.npz``: four masked sequences and the encoder's logits.

and prints their fingerprints (``fingerprint``: sha256 over the arrays' names, dtypes,
shapes and bytes), which ``tests/test_pretrained.py`` holds. Takes a few minutes of CPU with
one BLAS thread (``--only lenet`` or ``--only encoder`` makes one network).
"""

import argparse
import sys
import time

import numpy as np

from . import (
    CHECK_FILE,
    ENCODER_CHECK_FILE,
    ENCODER_FILE,
    MODEL_FILE,
    PRETRAINED_DIR,
    accuracy,
    check_arrays,
    encoder_check_arrays,
    encoder_file_arrays,
    fingerprint,
    masked_accuracy,
    model_file_arrays,
    pretrain_encoder,
    pretrain_lenet,
    read_npz,
)


def build(which=("lenet", "encoder")):
    """{file name: arrays} as the recipe makes them, and {network: its held-out accuracy}
    (digits 0-4 for LeNet-5, masked tokens for the encoder)."""
    files, scores = {}, {}
    if "lenet" in which:
        params, X, y, parts = pretrain_lenet()
        test = parts["source_test"]
        files[MODEL_FILE] = model_file_arrays(params)
        files[CHECK_FILE] = check_arrays(params, X, parts)
        scores["lenet"] = accuracy(params, X[test], y[test])
    if "encoder" in which:
        params, _ = pretrain_encoder()
        files[ENCODER_FILE] = encoder_file_arrays(params)
        files[ENCODER_CHECK_FILE] = encoder_check_arrays(params)
        scores["encoder"] = masked_accuracy(params)
    return files, scores


def same_arrays(a, b, rtol=1e-7, atol=1e-9):
    """Do two files hold the same names, and arrays equal to float rounding? (Another BLAS
    may round the last bits of a long training run differently.)"""
    if a.keys() != b.keys():
        return False
    for k in a:
        if a[k].shape != b[k].shape or a[k].dtype != b[k].dtype:
            return False
        if a[k].dtype.kind == "f":
            if not np.allclose(a[k], b[k], rtol=rtol, atol=atol):
                return False
        elif not np.array_equal(a[k], b[k]):
            return False
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the shipped files, write nothing"
    )
    parser.add_argument(
        "--only", nargs="+", choices=("lenet", "encoder"), default=("lenet", "encoder")
    )
    args = parser.parse_args(argv)
    start = time.process_time()
    files, scores = build(args.only)
    for name, score in scores.items():
        print(f"{name}: held-out accuracy {score:.4f}")
    print(f"({time.process_time() - start:.1f} s CPU)")
    ok = True
    for name, arrays in files.items():
        path = PRETRAINED_DIR / name
        if args.check:
            same = path.is_file() and same_arrays(read_npz(path), arrays)
            ok &= same
            print(f"{name}: {'matches' if same else 'DIFFERS FROM'} the shipped file")
        else:
            PRETRAINED_DIR.mkdir(parents=True, exist_ok=True)
            np.savez(path, **arrays)
            print(f"wrote {path.relative_to(PRETRAINED_DIR.parent.parent)}")
        print(f"  fingerprint {fingerprint(arrays)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
