"""Regenerate the shipped pretrained network of chapter 14 from its recipe:

    python -m reference.ch14_transfer.pretrain            # writes data/pretrained/
    python -m reference.ch14_transfer.pretrain --check    # recomputes, compares, writes nothing

LeNet-5 (chapter 10's ``build_lenet``, as chapter 10's reference computes it) trained with
fixed seeds on the digits 0-4 of chapter 09's training part (see ``pretrain_lenet``).
It writes two files in the course's model format (numpy arrays only, no pickle):

- ``lenet-digits04.npz``: a whole-model file (``Model.load`` reads it): ``layer{i}.{name}``
  arrays and the ``architecture`` JSON;
- ``lenet-digits04-check.npz``: ``inputs`` (8 held-out images, (8, 1, 28, 28)) and the
  network's ``outputs`` (8, 10), to check a loaded copy against.

and prints their fingerprints (``fingerprint``: sha256 over the arrays' names, dtypes,
shapes and bytes), which ``tests/test_pretrained.py`` holds. Takes about half a minute of
CPU with one BLAS thread.
"""

import argparse
import sys
import time

import numpy as np

from . import (
    CHECK_FILE,
    MODEL_FILE,
    PRETRAINED_DIR,
    accuracy,
    check_arrays,
    fingerprint,
    model_file_arrays,
    pretrain_lenet,
    read_npz,
)


def build():
    """{file name: arrays} as the recipe makes them, and the source-task test accuracy."""
    params, X, y, parts = pretrain_lenet()
    test = parts["source_test"]
    files = {MODEL_FILE: model_file_arrays(params), CHECK_FILE: check_arrays(params, X, parts)}
    return files, accuracy(params, X[test], y[test])


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
    args = parser.parse_args(argv)
    start = time.process_time()
    files, acc = build()
    print(
        f"pretrained on digits 0-4: test accuracy {acc:.4f} ({time.process_time() - start:.1f} s CPU)"
    )
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
