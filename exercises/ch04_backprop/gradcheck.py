# Generated from solutions/ch04_backprop/gradcheck.py by `nox -s stubs`: fill in the TODOs below.
"""Numerical gradients by central differences, and how to compare them with
analytic ones.

A gradient check is the test every backward pass has to pass: nudge one input a
little each way, watch how the loss moves, and compare that slope with what
backward computed. These functions work on float64 copies, so the array being
checked is never left modified.
"""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    """Gradient of a scalar function by central differences.

    f: callable taking an array shaped like x and returning a float. It must compute
       its value from the array it is given.
    x: array of any shape; the point at which to differentiate (left unchanged)
    h: float, the step
    returns: float64 array of the same shape as x, entry i equal to
             ``(f(x + h e_i) - f(x - h e_i)) / (2 h)``
    """
    # TODO(ch04): implement numerical_gradient (the docstring gives the shapes).
    raise NotImplementedError("ch04: implement numerical_gradient")


def rel_error(a, b):
    """Largest relative error between two arrays of the same shape.

    a, b: arrays (or floats) of the same shape
    returns: float, the max over entries of ``|a - b| / max(1e-8, |a| + |b|)``
             (the denominator is taken entry by entry, then the max of the ratios)
    """
    # TODO(ch04): implement rel_error (the docstring gives the shapes).
    raise NotImplementedError("ch04: implement rel_error")


def sparse_gradient_check(f, x, analytic, num_checks, rng, h=1e-5):
    """Compare an analytic gradient with central differences at a few random
    coordinates only (checking every entry of a big tensor would be too slow).

    f:          callable taking an array shaped like x and returning a float
    x:          array of any shape with ndim >= 1 (left unchanged)
    analytic:   array of the same shape as x, the gradient to check
    num_checks: int, how many coordinates to draw (with replacement)
    rng:        np.random.Generator that draws the coordinates
    h:          float, the step
    returns: (indices, errors)
             indices: int array (num_checks, x.ndim), row k = the coordinate of check k
             errors:  float array (num_checks,), ``|num - ana| / max(1e-8, |num| + |ana|)``
                      at each coordinate
    """
    # TODO(ch04): implement sparse_gradient_check (the docstring gives the shapes).
    raise NotImplementedError("ch04: implement sparse_gradient_check")
