# Generated from solutions/ch06_training/datasets.py by `nox -s stubs`: fill in the TODOs below.
"""Small synthetic data sets for trying out training loops.

Each generator takes its randomness from a Generator ``rng`` passed in, and the order of
the draws is part of its contract (stated in each docstring): the same seed gives the
same data, bit for bit, in every correct implementation. Coordinates are float64;
class labels are int64.
"""

import numpy as np


def spiral_data(samples, classes, rng):
    """``classes`` interleaved spiral arms in the plane, ``samples`` points per arm.

    For each class k = 0, 1, ..., classes - 1, in this order, with n = samples:
        r     = np.linspace(0.0, 1.0, n)                       # radius, centre to rim
        theta = 2 * pi * k / classes + 8.0 * r + 0.3 * rng.standard_normal(n)
        rows k*n ... (k+1)*n - 1 of X are (r * cos(theta), r * sin(theta)); of y, k.
    So the only draws are one ``rng.standard_normal(samples)`` per class, class 0 first.
    Each arm starts at the centre at angle 2*pi*k/classes and winds counter-clockwise
    through 8 radians (about 1.3 turns); the noise is in the angle, in radians.

    samples: int, points per class; classes: int; rng: np.random.Generator
    returns: X (samples * classes, 2) float64, y (samples * classes,) int64
    """
    # TODO(ch06): implement spiral_data (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement spiral_data")


def vertical_data(samples, classes, rng):
    """``classes`` blobs side by side along the first axis: an easy, linearly separable set.

    For each class k = 0, 1, ..., classes - 1, in this order, with n = samples:
        Z = rng.standard_normal((n, 2))
        rows k*n ... (k+1)*n - 1 of X are
            (0.1 * Z[:, 0] + (k + 0.5) / classes,  0.1 * Z[:, 1] + 0.5);  of y, k.
    So the only draws are one ``rng.standard_normal((samples, 2))`` per class.

    samples: int, points per class; classes: int; rng: np.random.Generator
    returns: X (samples * classes, 2) float64, y (samples * classes,) int64
    """
    # TODO(ch06): implement vertical_data (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement vertical_data")


def sine_data(samples, rng=None):
    """One period of a sine wave, sampled on an even grid: a regression target.

    X = np.linspace(0.0, 1.0, samples) as a column, y = sin(2 * pi * X). No randomness:
    ``rng`` is accepted (and ignored) so that every generator can be called the same way.

    samples: int
    returns: X (samples, 1) float64 in [0, 1] (first 0.0, last 1.0, evenly spaced),
             y (samples, 1) float64 in [-1, 1]
    """
    # TODO(ch06): implement sine_data (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement sine_data")


def xor_data(samples, rng, noise=0.1):
    """Noisy copies of the four corners of the unit square, labelled by XOR.

    Draws, in this order:
        corners = rng.integers(0, 2, size=(samples, 2))       # each entry 0 or 1
        X = corners + noise * rng.standard_normal((samples, 2))
        y = 1 where the two corner coordinates differ, else 0, as a column
    No single straight line separates the classes: a network needs a hidden layer.

    samples: int; rng: np.random.Generator; noise: float, the standard deviation
    returns: X (samples, 2) float64, y (samples, 1) int64 with entries 0 or 1
    """
    # TODO(ch06): implement xor_data (the docstring gives the shapes).
    raise NotImplementedError("ch06: implement xor_data")
