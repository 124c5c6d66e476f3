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
    ### BEGIN SOLUTION
    best = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    best_loss = float(loss_fn(best))
    history = np.empty(iterations, dtype=np.float64)
    for i in range(iterations):
        candidate = {k: best[k] + scale * rng.standard_normal(best[k].shape) for k in sorted(best)}
        loss = float(loss_fn(candidate))
        if loss < best_loss:
            best, best_loss = candidate, loss
        history[i] = best_loss
    return best, history
    ### END SOLUTION
