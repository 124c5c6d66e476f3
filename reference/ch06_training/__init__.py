"""Reference for chapter 06: data sets, mini-batches, the split, and whole training runs.

Plain float64 functions, no classes. A network is a list of (W, b) pairs, one per dense
layer, with a ReLU between consecutive dense layers and, after the last one, the task's
ending: "multiclass" (logits, fused softmax + cross-entropy), "binary" (sigmoid, binary
cross-entropy) or "regression" (identity, mean squared error). Optimizers are given as
dicts, e.g. ``{"name": "sgd", "learning_rate": 0.5, "decay": 0.01}`` or
``{"name": "adam", "learning_rate": 0.02, "decay": 1e-3}``.

``train_run`` reproduces a training run step for step (same Generator draws as the
chapter's contract); its ``bug`` argument replays a known wrong loop, so that the
grader can recognise it.
"""

import numpy as np

from ..ch02_activations import relu_backward, relu_forward, sigmoid_backward, sigmoid_forward
from ..ch03_losses import (
    bce_backward,
    bce_forward,
    mse_backward,
    mse_forward,
    softmax_ce_backward,
    softmax_ce_forward,
)
from ..ch04_backprop import dense_backward

EPS = 1e-7

# ----------------------------------------------------------------------------- data sets


def spiral_data(samples, classes, rng):
    """X (samples*classes, 2), y (samples*classes,) int64: class k's arm has radius
    linspace(0, 1) and angle 2 pi k / classes + 8 r + 0.3 * normal noise (one
    standard_normal(samples) draw per class, in class order)."""
    radius = np.linspace(0.0, 1.0, samples)
    xs, ys = [], []
    for k in range(classes):
        noise = rng.standard_normal(samples)
        angle = 2.0 * np.pi * k / classes + 8.0 * radius + 0.3 * noise
        xs.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
        ys.append(np.full(samples, k, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def vertical_data(samples, classes, rng):
    """X (samples*classes, 2), y int64: class k centred at ((k + 0.5) / classes, 0.5),
    standard deviation 0.1 (one standard_normal((samples, 2)) draw per class)."""
    xs, ys = [], []
    for k in range(classes):
        z = rng.standard_normal((samples, 2))
        centre = np.array([(k + 0.5) / classes, 0.5])
        xs.append(centre + 0.1 * z)
        ys.append(np.full(samples, k, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


def sine_data(samples, rng=None):
    """X (samples, 1) evenly spaced from 0 to 1, y = sin(2 pi X); no randomness."""
    x = np.linspace(0.0, 1.0, samples)[:, None]
    return x, np.sin(2.0 * np.pi * x)


def xor_data(samples, rng, noise=0.1):
    """X (samples, 2) = corners (integers 0/1 drawn first) + noise * standard normal
    (drawn second); y (samples, 1) int64 = corner_0 XOR corner_1."""
    corners = rng.integers(0, 2, size=(samples, 2))
    jitter = rng.standard_normal((samples, 2))
    X = corners.astype(np.float64) + noise * jitter
    y = np.bitwise_xor(corners[:, 0], corners[:, 1]).astype(np.int64)[:, None]
    return X, y


# ----------------------------------------------------------------------- batches, splits


def minibatch_indices(n_samples, batch_size, rng, shuffle=True):
    """List of int arrays: one permutation (or 0..n-1) cut into consecutive batches."""
    order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    n_batches = -(-n_samples // batch_size)
    return [order[i * batch_size : min((i + 1) * batch_size, n_samples)] for i in range(n_batches)]


def validation_count(n_samples, validation_fraction):
    """int: round(n * fraction), Python's round (halves to even)."""
    return int(round(n_samples * validation_fraction))


def train_validation_split(X, y, validation_fraction, rng):
    """(X_train, y_train, X_val, y_val): perm = rng.permutation(N); validation is
    perm[:n_val], training perm[n_val:], both in the order of perm."""
    X, y = np.asarray(X), np.asarray(y)
    perm = rng.permutation(len(X))
    n_val = validation_count(len(X), validation_fraction)
    return X[perm[n_val:]], y[perm[n_val:]], X[perm[:n_val]], y[perm[:n_val]]


def fit_standardizer(X):
    """(mean (1, D), std (1, D)): per-feature mean and population std, 0 replaced by 1."""
    X = np.asarray(X, dtype=np.float64)
    mean = np.mean(X, axis=0)[None, :]
    std = np.sqrt(np.mean((X - mean) ** 2, axis=0))[None, :]
    return mean, np.where(std > 0, std, 1.0)


def standardize(X, mean, std):
    """(N, D): (X - mean) / std."""
    return (np.asarray(X, dtype=np.float64) - mean) / std


# ------------------------------------------------------------------------------ networks


def init_params(layer_sizes, rng, weight_scale=0.1):
    """[(W, b), ...]: one dense layer per consecutive pair of sizes, drawn in order,
    W = weight_scale * standard_normal((n_in, n_out)), b zeros (1, n_out)."""
    params = []
    for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]):
        params.append((weight_scale * rng.standard_normal((n_in, n_out)), np.zeros((1, n_out))))
    return params


def network_forward(params, X, task):
    """(output, cache): output (N, n_out) is logits, sigmoid probabilities or values."""
    a = np.asarray(X, dtype=np.float64)
    cache = []
    for i, (W, b) in enumerate(params):
        z = a @ W + b
        cache.append((a, z))
        a = relu_forward(z) if i < len(params) - 1 else z
    if task == "binary":
        a = sigmoid_forward(a)
    return a, cache


def loss_and_logit_gradient(output, z_last, y, task):
    """(mean loss, gradient of the mean loss w.r.t. z_last, the last dense layer's output).

    output is what network_forward returned (logits, probabilities or values)."""
    if task == "multiclass":
        loss, probs = softmax_ce_forward(output, y)
        return loss, softmax_ce_backward(probs, y)
    if task == "binary":
        return float(bce_forward(output, y).mean()), sigmoid_backward(
            z_last, bce_backward(output, y)
        )
    return float(mse_forward(output, y).mean()), mse_backward(output, y)


def network_backward(params, cache, dz_last):
    """[(dW, db), ...] for every dense layer, from the gradient at the last layer's z."""
    grads = [None] * len(params)
    dz = dz_last
    for i in range(len(params) - 1, -1, -1):
        a_in, _ = cache[i]
        da, dW, db = dense_backward(a_in, params[i][0], dz)
        grads[i] = (dW, db)
        if i > 0:
            dz = relu_backward(cache[i - 1][1], da)
    return grads


def task_metric(output, y, task):
    """float: accuracy (argmax; or threshold 0.5 for binary), or the mean absolute error."""
    if task == "multiclass":
        return float(np.mean(np.argmax(output, axis=1) == np.asarray(y)))
    if task == "binary":
        return float(np.mean((np.asarray(output) > 0.5) == (np.asarray(y) == 1)))
    return float(
        np.mean(np.abs(np.asarray(output, dtype=np.float64) - np.asarray(y, dtype=np.float64)))
    )


def evaluate(params, X, y, task):
    """(mean loss, metric) of the network on the whole of X, y."""
    output, cache = network_forward(params, X, task)
    loss, _ = loss_and_logit_gradient(output, cache[-1][1], y, task)
    return loss, task_metric(output, y, task)


# ---------------------------------------------------------------------------- optimizers


def _new_state(params):
    zeros = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    return {"t": 0, "m": zeros, "v": [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]}


def optimizer_step(params, grads, state, opt, update=None):
    """New params after one step of ``opt`` (sgd with decay and momentum, or adam).
    ``update`` (a set of layer indices, default all) limits which layers change;
    ``state["t"]`` counts the steps and only goes up when ``opt["count"]`` is not False."""
    update = range(len(params)) if update is None else update
    t = state["t"]
    lr = opt["learning_rate"] / (1.0 + opt.get("decay", 0.0) * t)
    out = list(params)
    for i in update:
        new = []
        for j, (p, g) in enumerate(zip(params[i], grads[i])):
            if opt["name"] == "sgd":
                mom = opt.get("momentum", 0.0)
                step = mom * state["m"][i][j] - lr * g
                state["m"][i] = tuple(step if k == j else state["m"][i][k] for k in range(2))
                new.append(p + step)
            else:
                b1, b2, eps = (
                    opt.get("beta_1", 0.9),
                    opt.get("beta_2", 0.999),
                    opt.get("epsilon", 1e-7),
                )
                m = b1 * state["m"][i][j] + (1 - b1) * g
                v = b2 * state["v"][i][j] + (1 - b2) * g * g
                state["m"][i] = tuple(m if k == j else state["m"][i][k] for k in range(2))
                state["v"][i] = tuple(v if k == j else state["v"][i][k] for k in range(2))
                m_hat, v_hat = m / (1 - b1 ** (t + 1)), v / (1 - b2 ** (t + 1))
                new.append(p - lr * m_hat / (np.sqrt(v_hat) + eps))
        out[i] = tuple(new)
    if opt.get("count", True):
        state["t"] = t + 1
    return out


# ------------------------------------------------------------------------------ training

BUGS = (
    "drop_last_batch",
    "no_shuffle",
    "shuffle_once",
    "independent_shuffle",
    "no_post_update",
    "first_layer_frozen",
)


def train_run(
    params, X, y, task, opt, epochs, batch_size, rng, validation=None, shuffle=True, bug=None
):
    """(params after training, history) of the chapter's loop, replayed exactly.

    Each epoch draws one permutation (``minibatch_indices``), takes one optimizer step per
    batch, then evaluates on the whole training set (and on ``validation``). history has
    "loss", "accuracy" or "mae", and the "val_" versions (empty without validation).
    ``bug`` (one of BUGS) replays a wrong loop instead:
      drop_last_batch      the last, smaller batch of each epoch is skipped
      no_shuffle           batches are always 0..N-1 in order
      shuffle_once         one permutation drawn before the first epoch, reused
      independent_shuffle  X and y are each reordered by a permutation of their own
      no_post_update       the optimizer's step counter never advances (no decay, no
                           Adam bias-correction progress)
      first_layer_frozen   the first dense layer is never updated
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    n = len(X)
    state = _new_state(params)
    opt = dict(opt, count=bug != "no_post_update")
    update = range(1, len(params)) if bug == "first_layer_frozen" else None
    name = "mae" if task == "regression" else "accuracy"
    history = {"loss": [], name: [], "val_loss": [], "val_" + name: []}
    fixed = rng.permutation(n) if bug == "shuffle_once" else None
    for _ in range(epochs):
        if bug == "independent_shuffle":
            px, py = rng.permutation(n), rng.permutation(n)
            batches = [
                (X[px[i : i + batch_size]], y[py[i : i + batch_size]])
                for i in range(0, n, batch_size)
            ]
        else:
            if bug == "shuffle_once":
                order = fixed
            else:
                order = np.concatenate(
                    minibatch_indices(n, batch_size, rng, shuffle and bug != "no_shuffle")
                )
            starts = range(0, n, batch_size)
            if bug == "drop_last_batch":
                starts = [s for s in starts if s + batch_size <= n]
            batches = [(X[order[s : s + batch_size]], y[order[s : s + batch_size]]) for s in starts]
        for Xb, yb in batches:
            output, cache = network_forward(params, Xb, task)
            _, dz = loss_and_logit_gradient(output, cache[-1][1], yb, task)
            grads = network_backward(params, cache, dz)
            params = optimizer_step(params, grads, state, opt, update)
        loss, score = evaluate(params, X, y, task)
        history["loss"].append(loss)
        history[name].append(score)
        if validation is not None:
            loss, score = evaluate(params, validation[0], validation[1], task)
            history["val_loss"].append(loss)
            history["val_" + name].append(score)
    return params, history


def train_steps(params, batches, task, opt, count=True):
    """[params after each step] for a list of (X_batch, y_batch): one optimizer step each.
    ``count=False`` replays a loop that never calls post_update_params."""
    state = _new_state(params)
    opt = dict(opt, count=count)
    out = []
    for Xb, yb in batches:
        output, cache = network_forward(params, Xb, task)
        _, dz = loss_and_logit_gradient(output, cache[-1][1], yb, task)
        grads = network_backward(params, cache, dz)
        params = optimizer_step(params, grads, state, opt)
        out.append(params)
    return out


def batch_losses(params_list, batches, task):
    """[mean loss of batch k under the params before step k] for the steps above."""
    return [evaluate(p, Xb, yb, task)[0] for p, (Xb, yb) in zip(params_list, batches)]


# ---------------------------------------------------------------- the graded training tasks
# Each task is a dict of arrays: X_train, y_train (what training sees), X_val, y_val (the
# validation part, split off the training data), X_test, y_test (held out: only the grader
# ever sees y_test).


def _finish(X_pool, y_pool, X_test, y_test, validation_fraction, rng, standardise):
    X_train, y_train, X_val, y_val = train_validation_split(
        X_pool, y_pool, validation_fraction, rng
    )
    if standardise:  # statistics of the training part only, applied to all three parts
        mean, std = fit_standardizer(X_train)
        X_train, X_val, X_test = (standardize(a, mean, std) for a in (X_train, X_val, X_test))
    return {
        "X_train": X_train,
        "y_train": y_train,
        "X_val": X_val,
        "y_val": y_val,
        "X_test": np.asarray(X_test, dtype=np.float64),
        "y_test": y_test,
    }


def spiral_task(data_seed, samples=100, classes=3, validation_fraction=0.2):
    """Spiral data from default_rng(data_seed), a validation part split off it (the same
    Generator), and a test set drawn independently from default_rng(data_seed + 1)."""
    rng = np.random.default_rng(data_seed)
    X, y = spiral_data(samples, classes, rng)
    X_test, y_test = spiral_data(samples, classes, np.random.default_rng(data_seed + 1))
    return _finish(X, y, X_test, y_test, validation_fraction, rng, standardise=False)


def sine_task(data_seed, samples=500, validation_fraction=0.2):
    """sine_data(samples) split into training and validation parts (default_rng(data_seed));
    the test inputs are the midpoints between the grid points, which no part contains."""
    X, y = sine_data(samples)
    X_test = (X[:-1] + X[1:]) / 2.0
    return _finish(
        X,
        y,
        X_test,
        np.sin(2.0 * np.pi * X_test),
        validation_fraction,
        np.random.default_rng(data_seed),
        standardise=False,
    )


def held_out_task(
    X, y, data_seed, test_fraction, validation_fraction, binary=False, standardise=True
):
    """A real data set: a test part held out at random, a validation part split off the
    rest (both with default_rng(data_seed), in this order), features standardised with the
    training part's statistics. Binary labels become a column (N, 1)."""
    y = np.asarray(y).reshape(-1, 1) if binary else np.asarray(y)
    rng = np.random.default_rng(data_seed)
    X_pool, y_pool, X_test, y_test = train_validation_split(X, y, test_fraction, rng)
    return _finish(X_pool, y_pool, X_test, y_test, validation_fraction, rng, standardise)


def fit_predict(data, layer_sizes, task, seed, opt, epochs, batch_size, weight_scale=0.1):
    """(test outputs, history) of the network trained on ``data`` the way the grader trains
    yours: one Generator default_rng(seed) draws the weights (init_params), then the
    shuffles (train_run), with (X_val, y_val) as the validation set."""
    rng = np.random.default_rng(seed)
    params = init_params(layer_sizes, rng, weight_scale)
    params, history = train_run(
        params,
        data["X_train"],
        data["y_train"],
        task,
        opt,
        epochs,
        batch_size,
        rng,
        validation=(data["X_val"], data["y_val"]),
    )
    return network_forward(params, data["X_test"], task)[0], history


def score_predictions(outputs, y_test, task):
    """The graded number: test accuracy (classification) or mean absolute error (regression)."""
    return task_metric(outputs, y_test, task)
