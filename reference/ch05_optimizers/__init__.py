"""Reference for chapter 05: optimizers as plain functions, and random search.

An optimizer here is a function ``step(p, g, state, lr, t, **hyper) -> new p`` for one
parameter array ``p`` with gradient ``g``: ``state`` is a dict that the function fills
on the first call (t = 1) and updates in place afterwards, ``lr`` is the learning rate of
this step and ``t`` the step number counted from 1. ``*_steps`` functions run a whole
sequence of gradients through a step function and return the parameters after every step.

A few keyword options reproduce common wrong implementations (``rates``,
``epsilon_inside_sqrt``, ``bias_correction``, ``velocity_of``, ``key_order``,
``around``). They exist so that the grader can recognise those mistakes; their defaults
are the course's rules.
"""

import numpy as np


def _f64(a):
    return np.array(a, dtype=np.float64, copy=True)


def learning_rates(learning_rate, decay, steps):
    """(steps,) float64: the learning rate of step t = 0, 1, ...: lr / (1 + decay * t)."""
    t = np.arange(steps, dtype=np.float64)
    return learning_rate / (1.0 + decay * t)


# ------------------------------------------------------------------ one-parameter steps


def sgd_step(p, g, state, lr, t, momentum=0.0, velocity_of="updates"):
    """Plain SGD, or SGD with momentum where the velocity is the previous update.

    velocity_of="gradients" is the other common form (velocity = momentum * velocity + g,
    p -= lr * velocity): the same trajectory while lr is constant, not once it decays.
    """
    if momentum == 0.0:
        return p - lr * g
    if t == 1:
        state["velocity"] = np.zeros_like(p)
    if velocity_of == "updates":
        state["velocity"] = momentum * state["velocity"] - lr * g
        return p + state["velocity"]
    state["velocity"] = momentum * state["velocity"] + g
    return p - lr * state["velocity"]


def _scaled_step(g, cache, lr, epsilon, epsilon_inside_sqrt):
    if epsilon_inside_sqrt:
        return lr * g / np.sqrt(cache + epsilon)
    return lr * g / (np.sqrt(cache) + epsilon)


def adagrad_step(p, g, state, lr, t, epsilon=1e-7, epsilon_inside_sqrt=False):
    """Adagrad: the cache is the sum of all squared gradients so far."""
    if t == 1:
        state["cache"] = np.zeros_like(p)
    state["cache"] = state["cache"] + np.square(g)
    return p - _scaled_step(g, state["cache"], lr, epsilon, epsilon_inside_sqrt)


def rmsprop_step(p, g, state, lr, t, epsilon=1e-7, rho=0.9, epsilon_inside_sqrt=False):
    """RMSprop: the cache is an exponential moving average of squared gradients."""
    if t == 1:
        state["cache"] = np.zeros_like(p)
    state["cache"] = rho * state["cache"] + (1.0 - rho) * np.square(g)
    return p - _scaled_step(g, state["cache"], lr, epsilon, epsilon_inside_sqrt)


def adam_step(
    p,
    g,
    state,
    lr,
    t,
    epsilon=1e-7,
    beta_1=0.9,
    beta_2=0.999,
    bias_correction=True,
    epsilon_inside_sqrt=False,
):
    """Adam: moving averages of g and g**2, each divided by 1 - beta**t (bias correction)."""
    if t == 1:
        state["m"] = np.zeros_like(p)
        state["v"] = np.zeros_like(p)
    state["m"] = beta_1 * state["m"] + (1.0 - beta_1) * g
    state["v"] = beta_2 * state["v"] + (1.0 - beta_2) * np.square(g)
    m_hat, v_hat = state["m"], state["v"]
    if bias_correction:
        m_hat = m_hat / (1.0 - beta_1**t)
        v_hat = v_hat / (1.0 - beta_2**t)
    return p - _scaled_step(m_hat, v_hat, lr, epsilon, epsilon_inside_sqrt)


STEPS = {"sgd": sgd_step, "adagrad": adagrad_step, "rmsprop": rmsprop_step, "adam": adam_step}
DEFAULT_LEARNING_RATES = {"sgd": 1.0, "adagrad": 1.0, "rmsprop": 0.001, "adam": 0.001}


# ------------------------------------------------------------------ sequences of steps


def run_steps(
    optimizer, params, grads_sequence, learning_rate=None, decay=0.0, rates=None, **hyper
):
    """Apply ``optimizer`` ("sgd", "adagrad", "rmsprop", "adam") for len(grads_sequence) steps.

    params:         dict {name: array}, the starting values (not modified)
    grads_sequence: list of dicts {name: array of the parameter's shape}, one per step
    learning_rate, decay: the schedule lr_t = learning_rate / (1 + decay * t)
    rates:          optional (steps,) learning rates that replace the schedule
    hyper:          the optimizer's other hyperparameters (momentum, epsilon, rho, ...)
    returns: list (one per step) of dicts {name: float64 array}, the parameters after it
    """
    step = STEPS[optimizer]
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATES[optimizer]
    if rates is None:
        rates = learning_rates(learning_rate, decay, len(grads_sequence))
    current = {name: _f64(value) for name, value in params.items()}
    states = {name: {} for name in current}
    trajectory = []
    for t, (grads, lr) in enumerate(zip(grads_sequence, rates), start=1):
        for name in current:
            g = np.asarray(grads[name], dtype=np.float64)
            current[name] = step(current[name], g, states[name], float(lr), t, **hyper)
        trajectory.append({name: value.copy() for name, value in current.items()})
    return trajectory


def sgd_steps(params, grads_sequence, learning_rate=1.0, decay=0.0, momentum=0.0, **options):
    """Parameters after each SGD step (see run_steps)."""
    return run_steps(
        "sgd", params, grads_sequence, learning_rate, decay, momentum=momentum, **options
    )


def adagrad_steps(params, grads_sequence, learning_rate=1.0, decay=0.0, epsilon=1e-7, **options):
    """Parameters after each Adagrad step (see run_steps)."""
    return run_steps(
        "adagrad", params, grads_sequence, learning_rate, decay, epsilon=epsilon, **options
    )


def rmsprop_steps(
    params, grads_sequence, learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9, **options
):
    """Parameters after each RMSprop step (see run_steps)."""
    return run_steps(
        "rmsprop", params, grads_sequence, learning_rate, decay, epsilon=epsilon, rho=rho, **options
    )


def adam_steps(
    params,
    grads_sequence,
    learning_rate=0.001,
    decay=0.0,
    epsilon=1e-7,
    beta_1=0.9,
    beta_2=0.999,
    **options,
):
    """Parameters after each Adam step (see run_steps)."""
    return run_steps(
        "adam",
        params,
        grads_sequence,
        learning_rate,
        decay,
        epsilon=epsilon,
        beta_1=beta_1,
        beta_2=beta_2,
        **options,
    )


# ------------------------------------------------------------------ a small training problem


def mse_linear(X, y, W, b):
    """(loss, dW, db) of the mean squared error of X @ W + b against y.

    X (N, n_in), y (N, n_out), W (n_in, n_out), b (1, n_out);
    loss = mean over samples and outputs of (X @ W + b - y)**2, a float.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    residual = X @ W + b - y
    scale = 2.0 / residual.size
    return (
        float(np.mean(residual**2)),
        scale * (X.T @ residual),
        scale * residual.sum(axis=0, keepdims=True),
    )


def fit_linear(optimizer, X, y, W0, b0, steps, learning_rate=None, decay=0.0, **hyper):
    """Train W, b by ``optimizer`` on the mean squared error, full batch.

    returns (steps + 1,) float64 array: the loss before the first step and after each step.
    """
    step = STEPS[optimizer]
    if learning_rate is None:
        learning_rate = DEFAULT_LEARNING_RATES[optimizer]
    rates = learning_rates(learning_rate, decay, steps)
    W, b = _f64(W0), _f64(b0)
    state_W, state_b = {}, {}
    losses = np.empty(steps + 1)
    for t in range(1, steps + 1):
        losses[t - 1], dW, db = mse_linear(X, y, W, b)
        W = step(W, dW, state_W, float(rates[t - 1]), t, **hyper)
        b = step(b, db, state_b, float(rates[t - 1]), t, **hyper)
    losses[steps] = mse_linear(X, y, W, b)[0]
    return losses


# ------------------------------------------------------------------ random search


def dict_quadratic(params, targets, w=1.0):
    """float: sum over names of sum(w * (params[name] - targets[name])**2)."""
    return float(
        sum(
            np.sum(w * (np.asarray(params[k], dtype=np.float64) - t) ** 2)
            for k, t in targets.items()
        )
    )


def random_search(loss_fn, params, iterations, rng, scale=0.05, key_order="sorted", around="best"):
    """Keep the best of ``iterations`` random candidates.

    Each candidate is centre[k] + scale * standard normal noise of centre[k]'s shape, drawn
    key by key in sorted order; centre is the best so far (around="start": always the
    starting point). A candidate replaces the best when its loss is strictly lower.
    key_order="given" draws in the dict's own order instead of sorted order.

    returns (best params dict, history (iterations,) float64 of the best loss after each).
    """
    start = {k: _f64(v) for k, v in params.items()}
    keys = sorted(start) if key_order == "sorted" else list(start)
    best, best_loss = start, float(loss_fn(start))
    history = np.zeros(iterations)
    for i in range(iterations):
        centre = best if around == "best" else start
        candidate = {}
        for k in keys:
            candidate[k] = centre[k] + scale * rng.standard_normal(centre[k].shape)
        loss = float(loss_fn(candidate))
        if loss < best_loss:
            best, best_loss = candidate, loss
        history[i] = best_loss
    return best, history
