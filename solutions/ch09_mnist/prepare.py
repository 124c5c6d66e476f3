"""From raw MNIST bytes to the arrays a network trains on: a fixed split, and scaling."""

import numpy as np

# The chapter's split of the 10,000 shipped images: np.random.default_rng(SPLIT_SEED).
SPLIT_SEED = 9
SPLIT_SIZES = (8000, 1000, 1000)


def split_indices(n, rng, sizes=SPLIT_SIZES):
    """Three disjoint sets of sample indices: training, validation and test.

    Draw exactly one ``perm = rng.permutation(n)`` (and nothing else). With
    ``sizes = (n_train, n_val, n_test)``:

        train = perm[:n_train]
        val   = perm[n_train:n_train + n_val]
        test  = perm[n_train + n_val:n_train + n_val + n_test]

    each in the order of ``perm``. Indices beyond ``sum(sizes)`` are left out.

    n:       int, the number of samples
    rng:     np.random.Generator
    sizes:   tuple of three ints >= 0
    returns: (train (n_train,), val (n_val,), test (n_test,)) integer arrays
    raises:  ValueError if ``sum(sizes) > n`` (before drawing anything)
    """
    ### BEGIN SOLUTION
    n_train, n_val, n_test = (int(s) for s in sizes)
    if n_train + n_val + n_test > n:
        raise ValueError(f"the parts {sizes} need {n_train + n_val + n_test} samples, there are only {n}")
    perm = rng.permutation(n)
    train = perm[:n_train]
    val = perm[n_train:n_train + n_val]
    test = perm[n_train + n_val:n_train + n_val + n_test]
    return train, val, test
    ### END SOLUTION


def preprocess(images):
    """Images as network inputs: one flat row of 784 values in [-1, 1] per image.

    images:  (N, 28, 28) or (N, 784) array of pixel values 0-255 (uint8, as read from
             the IDX file); left unchanged
    returns: (N, 784) float64 array, ``(pixel - 127.5) / 127.5``: 0 (black) becomes -1,
             255 (white) becomes 1
    """
    ### BEGIN SOLUTION
    flat = np.asarray(images).reshape(len(images), -1).astype(np.float64)
    return (flat - 127.5) / 127.5
    ### END SOLUTION
