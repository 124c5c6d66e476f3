# Generated from solutions/ch05_optimizers/random_search.py by `nox -s stubs`: fill in the TODOs below.
"""Random search: optimisation without gradients, the baseline that gradient descent beats."""

import numpy as np


def random_search(loss_fn, params, iterations, rng, scale=0.05):
    """Improve ``params`` by trying random nudges and keeping the ones that help.

    loss_fn:    function of a dict of arrays (same keys and shapes as ``params``) -> float
    params:     dict {name: float array}, the starting point (left unchanged)
    iterations: int, the number of candidates to try
    rng:        np.random.Generator, the only source of randomness
    scale:      float, the standard deviation of each nudge

    Each iteration draws a candidate around the best parameters so far,

        candidate = {k: best[k] + scale * rng.standard_normal(best[k].shape) for k in sorted(best)}

    (one draw per key, keys in sorted order), and keeps it as the new best if
    ``loss_fn(candidate)`` is strictly lower than the best loss so far.

    returns: (best_params, history): best_params a dict of arrays (new arrays, same keys
             and shapes as ``params``); history a float array of shape (iterations,),
             entry i the best loss after iteration i (never increasing).
    """
    # TODO(ch05): implement random_search (the docstring gives the shapes).
    raise NotImplementedError("ch05: implement random_search")
