"""Reference for chapter 08: a model as plain data, run by plain functions.

A network is described the way a model file describes it (``architecture`` below): a
list of layer entries ``{"class": name, "args": {...}}``. Its parameters are a dict
``{"layer{i}.{name}": array}`` (``weights``/``biases`` of a Dense, ``gamma``/``beta``/
``running_mean``/``running_var`` of a BatchNorm). ``train_run`` replays a whole training
run of the chapter's ``Model.train`` from given starting parameters and seeds; a few
``bug`` options replay common wrong loops, so that the grader can recognise them.
Everything is float64 and stateless: the functions return new arrays.
"""

import json

import numpy as np

from ..ch02_activations import (
    leaky_relu_backward,
    leaky_relu_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from ..ch03_losses import (
    bce_backward,
    bce_forward,
    cce_backward,
    cce_forward,
    mae_backward,
    mae_forward,
    mse_backward,
    mse_forward,
    softmax_ce_backward,
)
from ..ch04_backprop import dense_backward
from ..ch06_training import spiral_task  # noqa: F401  (the graded data set, re-exported)
from ..ch07_generalization import (
    batchnorm_backward,
    batchnorm_forward_eval,
    batchnorm_forward_train,
)

FORMAT = "nn-from-scratch-model"
VERSION = 1
HISTORY_KEYS = ("loss", "data_loss", "regularization_loss", "accuracy", "val_loss", "val_accuracy")


def _f64(a):
    return np.array(a, dtype=np.float64, copy=True)


def key(i, name):
    """'layer{i}.{name}'."""
    return f"layer{i}.{name}"


# ----------------------------------------------------------------------- layer kinds
#
# Each kind of layer a model file can name, described once: the arrays it trains (in
# saving order), the untrained arrays saved with them, its penalty strengths per trained
# array (argument names), how its arrays start, and its forward and backward passes.
# Everything below (parameters, penalties, the passes) goes through this table only.


def _dense_init(a, rng, weight_scale):
    return {
        "weights": weight_scale * rng.standard_normal((a["n_inputs"], a["n_neurons"])),
        "biases": np.zeros((1, a["n_neurons"])),
    }


def _batchnorm_init(a, rng, weight_scale):
    d = a["n_features"]
    return {
        "gamma": np.ones((1, d)),
        "beta": np.zeros((1, d)),
        "running_mean": np.zeros((1, d)),
        "running_var": np.ones((1, d)),
    }


def _dense_forward(x, p, a, cache, ctx):
    return x @ p["weights"] + p["biases"], {}


def _batchnorm_forward(x, p, a, cache, ctx):
    momentum, eps = a.get("momentum", 0.9), a.get("epsilon", 1e-5)
    g, b, rm, rv = p["gamma"], p["beta"], p["running_mean"], p["running_var"]
    if ctx["training"]:
        out, new_mean, new_var, cache["bn"] = batchnorm_forward_train(
            x, g, b, rm, rv, momentum, eps
        )
        return out, {"running_mean": new_mean, "running_var": new_var}
    return batchnorm_forward_eval(x, g, b, rm, rv, eps), {}


def _dropout_forward(x, p, a, cache, ctx):
    if ctx["training"]:
        keep = 1.0 - a["rate"]
        mask = (
            ctx["dropout_rngs"][ctx["dropouts"]].binomial(1, keep, size=x.shape).astype(np.float64)
            / keep
        )
        cache["mask"] = mask
        x = x * mask
    ctx["dropouts"] += 1
    return x, {}


def _dense_backward(d, x, p, a, cache):
    d, dW, db = dense_backward(x, p["weights"], d)
    return d, {"weights": dW, "biases": db}


def _batchnorm_backward(d, x, p, a, cache):
    d, dg, dbeta = batchnorm_backward(d, cache["bn"])
    return d, {"gamma": dg, "beta": dbeta}


def _stateless(forward, backward):
    return {
        "trained": (),
        "buffers": (),
        "penalties": {},
        "init": None,
        "forward": lambda x, p, a, cache, ctx: (forward(x, a), {}),
        "backward": lambda d, x, p, a, cache: (backward(d, x, a, cache), {}),
    }


LAYER_KINDS = {
    "Dense": {
        "trained": ("weights", "biases"),
        "buffers": (),
        "penalties": {
            "weights": ("weight_regularizer_l1", "weight_regularizer_l2"),
            "biases": ("bias_regularizer_l1", "bias_regularizer_l2"),
        },
        "init": _dense_init,
        "forward": _dense_forward,
        "backward": _dense_backward,
    },
    "BatchNorm": {
        "trained": ("gamma", "beta"),
        "buffers": ("running_mean", "running_var"),
        "penalties": {},
        "init": _batchnorm_init,
        "forward": _batchnorm_forward,
        "backward": _batchnorm_backward,
    },
    "Dropout": {
        **_stateless(None, lambda d, x, a, cache: d * cache["mask"]),
        "forward": _dropout_forward,
    },
    "ReLU": _stateless(lambda x, a: relu_forward(x), lambda d, x, a, cache: relu_backward(x, d)),
    "LeakyReLU": _stateless(
        lambda x, a: leaky_relu_forward(x, a.get("alpha", 0.01)),
        lambda d, x, a, cache: leaky_relu_backward(x, d, a.get("alpha", 0.01)),
    ),
    "Tanh": _stateless(lambda x, a: tanh_forward(x), lambda d, x, a, cache: tanh_backward(x, d)),
    "Sigmoid": _stateless(
        lambda x, a: sigmoid_forward(x), lambda d, x, a, cache: sigmoid_backward(x, d)
    ),
    "Softmax": _stateless(
        lambda x, a: softmax_forward(x), lambda d, x, a, cache: softmax_backward(x, d)
    ),
    "Linear": _stateless(lambda x, a: _f64(x), lambda d, x, a, cache: _f64(d)),
}


def _kind(entry):
    try:
        return LAYER_KINDS[entry["class"]]
    except KeyError:
        raise ValueError(f"unknown layer {entry['class']}") from None


def state_names(entry):
    """The saved arrays of a layer entry: its trained arrays, then its buffers."""
    kind = _kind(entry)
    return tuple(kind["trained"]) + tuple(kind["buffers"])


def trained_names(entry):
    """The arrays an optimizer updates (and their gradient names' order)."""
    return tuple(_kind(entry)["trained"])


def init_params(arch, rng, weight_scale=0.1):
    """Starting parameters as the course's constructors make them, in layer order: a
    Dense draws weight_scale * standard_normal((n_in, n_out)) from rng, biases zero; a
    BatchNorm starts at gamma 1, beta 0, running mean 0, running variance 1."""
    params = {}
    for i, entry in enumerate(arch):
        init = _kind(entry)["init"]
        if init is not None:
            for name, value in init(entry.get("args", {}), rng, weight_scale).items():
                params[key(i, name)] = value
    return params


# ----------------------------------------------------------------------- forward/backward


def _layer_params(i, entry, params):
    return {name: params[key(i, name)] for name in state_names(entry)}


def forward(arch, params, X, training=False, dropout_rngs=None):
    """(output, caches, running) for X (N, n_in) through the network.

    training: dropout draws rng.binomial(1, 1 - rate, size) / (1 - rate) from
    dropout_rngs[j] for the j-th Dropout layer (in order); batch norm uses the batch
    statistics. running: {key: new running statistic} of the BatchNorm layers (empty at
    inference)."""
    a = _f64(X)
    caches, running = [], {}
    ctx = {"training": training, "dropout_rngs": dropout_rngs, "dropouts": 0}
    for i, entry in enumerate(arch):
        cache = {"x": a}
        a, new_buffers = _kind(entry)["forward"](
            a, _layer_params(i, entry, params), entry.get("args", {}), cache, ctx
        )
        for name, value in new_buffers.items():
            running[key(i, name)] = value
        caches.append(cache)
    return a, caches, running


def fused(arch, loss):
    """True when the last layer is a Softmax and the loss categorical cross-entropy."""
    return arch[-1]["class"] == "Softmax" and loss == "CategoricalCrossEntropy"


LOSSES = {
    "CategoricalCrossEntropy": (cce_forward, cce_backward),
    "BinaryCrossEntropy": (bce_forward, bce_backward),
    "MeanSquaredError": (mse_forward, mse_backward),
    "MeanAbsoluteError": (mae_forward, mae_backward),
}


def data_loss(loss, output, y):
    """float: the mean per-sample loss."""
    return float(np.mean(LOSSES[loss][0](output, y)))


def backward(arch, params, caches, output, y, loss, skip=(), unfused=False):
    """{key: gradient} of the mean loss (plus the penalties) for every trained array.

    With Softmax + CCE (and not ``unfused``) the gradient at the softmax's inputs is
    (p - onehot) / N and the softmax layer is skipped. Layers in ``skip`` pass their
    gradient through unchanged (a loop that never calls their backward)."""
    last = len(arch)
    if fused(arch, loss) and not unfused:
        d = softmax_ce_backward(output, y)
        last -= 1
    else:
        d = LOSSES[loss][1](output, y)
    grads = {}
    for i in range(last - 1, -1, -1):
        entry, cache = arch[i], caches[i]
        if i in skip:
            continue
        kind, args = _kind(entry), entry.get("args", {})
        p = _layer_params(i, entry, params)
        d, layer_grads = kind["backward"](d, cache["x"], p, args, cache)
        for name, g in layer_grads.items():
            l1_name, l2_name = kind["penalties"].get(name, (None, None))
            if l1_name is not None:
                g = (
                    g
                    + args.get(l1_name, 0.0) * np.sign(p[name])
                    + 2.0 * args.get(l2_name, 0.0) * p[name]
                )
            grads[key(i, name)] = g
    return grads


def regularization_loss(arch, params):
    """float: the L1/L2 penalties of every layer that declares some (a Dense)."""
    total = 0.0
    for i, entry in enumerate(arch):
        a = entry.get("args", {})
        for name, (l1_name, l2_name) in _kind(entry)["penalties"].items():
            P = params[key(i, name)]
            total += a.get(l1_name, 0.0) * np.sum(np.abs(P))
            total += a.get(l2_name, 0.0) * np.sum(P * P)
    return float(total)


# ------------------------------------------------------------------------ predictions


def predictions(arch, output):
    """Class indices (Softmax), 0/1 (Sigmoid, threshold 0.5) or the values (otherwise)."""
    last = arch[-1]["class"]
    output = np.asarray(output, dtype=np.float64)
    if last == "Softmax":
        return np.argmax(output, axis=1)
    if last == "Sigmoid":
        return (output > 0.5).astype(np.int64)
    return output


def regression_precision(y):
    """float: std(y) / 250, the default precision of the regression accuracy."""
    return float(np.std(np.asarray(y, dtype=np.float64)) / 250.0)


def accuracy_value(kind, preds, y, precision=None):
    """float: the fraction of right predictions for an accuracy class name."""
    preds, y = np.asarray(preds), np.asarray(y)
    if kind == "AccuracyCategorical":
        labels = np.argmax(y, axis=1) if y.ndim == 2 else y
        return float(np.mean(preds == labels))
    if kind == "AccuracyBinary":
        return float(np.mean(preds == y))
    return float(np.mean(np.abs(preds.astype(np.float64) - y) < precision))


def predict(arch, params, X):
    """(N, n_out): the inference-mode output."""
    return forward(arch, params, X, training=False)[0]


def _slices(n, batch_size):
    if batch_size is None or batch_size >= n:
        return [slice(0, n)]
    return [slice(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def evaluate(arch, params, X, y, loss, accuracy, precision=None, batch_size=None, weighted=True):
    """(mean data loss, accuracy) over all samples at inference. ``weighted=False``
    replays the mistake of averaging the batch means as if every batch were as large."""
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if accuracy == "AccuracyRegression" and precision is None:
        precision = regression_precision(y)
    losses, scores, sizes = [], [], []
    for part in _slices(len(X), batch_size):
        out = predict(arch, params, X[part])
        losses.append(data_loss(loss, out, y[part]))
        scores.append(accuracy_value(accuracy, predictions(arch, out), y[part], precision))
        sizes.append(len(X[part]))
    w = np.asarray(sizes, dtype=np.float64) if weighted else np.ones(len(sizes))
    return float(np.dot(losses, w) / w.sum()), float(np.dot(scores, w) / w.sum())


# ------------------------------------------------------------------------ optimizers


def optimizer_step(params, grads, state, opt, count=True):
    """New params after one step of the optimizer ``opt`` = {"class": name, "args": {...}}
    (SGD with momentum, Adagrad, RMSprop, Adam; decay lr / (1 + decay * iterations)).
    ``state`` holds the step count and the per-array momentums and caches; with
    ``count=False`` the step count never advances (post_update_params never called)."""
    name, a = opt["class"], opt.get("args", {})
    defaults = {"SGD": 1.0, "Adagrad": 1.0, "RMSprop": 0.001, "Adam": 0.001}
    t = state.setdefault("iterations", 0)
    lr = a.get("learning_rate", defaults[name]) / (1.0 + a.get("decay", 0.0) * t)
    eps = a.get("epsilon", 1e-7)
    new = dict(params)
    for k, g in grads.items():
        p = params[k]
        if name == "SGD":
            mom = a.get("momentum", 0.0)
            if mom:
                u = mom * state.get(("m", k), np.zeros_like(p)) - lr * g
                state[("m", k)] = u
                new[k] = p + u
            else:
                new[k] = p - lr * g
        elif name == "Adagrad":
            c = state.get(("c", k), np.zeros_like(p)) + g * g
            state[("c", k)] = c
            new[k] = p - lr * g / (np.sqrt(c) + eps)
        elif name == "RMSprop":
            rho = a.get("rho", 0.9)
            c = rho * state.get(("c", k), np.zeros_like(p)) + (1 - rho) * g * g
            state[("c", k)] = c
            new[k] = p - lr * g / (np.sqrt(c) + eps)
        else:
            b1, b2 = a.get("beta_1", 0.9), a.get("beta_2", 0.999)
            m = b1 * state.get(("m", k), np.zeros_like(p)) + (1 - b1) * g
            v = b2 * state.get(("c", k), np.zeros_like(p)) + (1 - b2) * g * g
            state[("m", k)], state[("c", k)] = m, v
            new[k] = p - lr * (m / (1 - b1 ** (t + 1))) / (np.sqrt(v / (1 - b2 ** (t + 1))) + eps)
    if count:
        state["iterations"] = t + 1
    return new


# --------------------------------------------------------------------------- training

BUGS = (
    "no_shuffle",
    "no_post_update",
    "unweighted_epoch_means",
    "last_batch_only",
    "unfused",
    "history_after_epoch",
    "no_validation",
)


def train_run(
    arch,
    params,
    X,
    y,
    loss,
    accuracy,
    optimizer,
    epochs,
    batch_size,
    shuffle_seed,
    dropout_seeds=(),
    validation=None,
    precision=None,
    bug=None,
):
    """(params, history, optimizer iterations) of ``Model.train`` replayed.

    arch: list of layer entries; params: starting parameters; loss, accuracy: class
    names; optimizer: {"class", "args"}; shuffle_seed: seed of the Generator passed as
    ``rng``, or that Generator itself (None: no shuffling); dropout_seeds: the seeds of the Dropout layers'
    Generators, in layer order; validation: None or (X_val, y_val).

    Each epoch draws one permutation, takes one step per batch (the last one may be
    smaller) and records the batch-size-weighted means of the batch values measured
    before each update, then evaluates the validation data. ``bug`` replays a wrong loop:
    one of BUGS, ("skip_backward", i) for a loop that never calls layer i's backward (i
    may be a list of layers),
    or ("frozen", i) for a layer i that the optimizer never updates.
    """
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    n = len(X)
    params = {k: _f64(v) for k, v in params.items()}
    rng = (
        shuffle_seed
        if isinstance(shuffle_seed, np.random.Generator) or shuffle_seed is None
        else np.random.default_rng(shuffle_seed)
    )
    drop = [np.random.default_rng(s) for s in dropout_seeds]
    if accuracy == "AccuracyRegression" and precision is None:
        precision = regression_precision(y)
    kind = bug[0] if isinstance(bug, tuple) else bug
    skip = set(np.atleast_1d(bug[1]).tolist()) if kind == "skip_backward" else set()
    frozen = bug[1] if kind == "frozen" else None
    state = {}
    history = {k: [] for k in HISTORY_KEYS}
    for _ in range(epochs):
        shuffle = rng is not None and kind != "no_shuffle"
        order = rng.permutation(n) if shuffle else np.arange(n)
        rows = []
        for part in _slices(n, batch_size):
            idx = order[part]
            Xb, yb = X[idx], y[idx]
            out, caches, running = forward(arch, params, Xb, training=True, dropout_rngs=drop)
            values = (
                data_loss(loss, out, yb),
                regularization_loss(arch, params),
                accuracy_value(accuracy, predictions(arch, out), yb, precision),
            )
            rows.append((len(idx), values))
            params.update(running)
            grads = backward(
                arch, params, caches, out, yb, loss, skip=skip, unfused=kind == "unfused"
            )
            if frozen is not None:
                grads = {k: g for k, g in grads.items() if not k.startswith(f"layer{frozen}.")}
            params = optimizer_step(params, grads, state, optimizer, count=kind != "no_post_update")
        if kind == "history_after_epoch":
            full = evaluate(arch, params, X, y, loss, accuracy, precision)
            epoch_values = (full[0], regularization_loss(arch, params), full[1])
        elif kind == "last_batch_only":
            epoch_values = rows[-1][1]
        else:
            w = np.array([r[0] for r in rows], dtype=np.float64)
            if kind == "unweighted_epoch_means":
                w = np.ones_like(w)
            epoch_values = tuple(
                float(np.dot([r[1][c] for r in rows], w) / w.sum()) for c in range(3)
            )
        history["data_loss"].append(float(epoch_values[0]))
        history["regularization_loss"].append(float(epoch_values[1]))
        history["accuracy"].append(float(epoch_values[2]))
        history["loss"].append(float(epoch_values[0]) + float(epoch_values[1]))
        if validation is not None and kind != "no_validation":
            vl, va = evaluate(
                arch, params, validation[0], validation[1], loss, accuracy, precision, batch_size
            )
            history["val_loss"].append(vl)
            history["val_accuracy"].append(va)
    return params, history, state.get("iterations", 0)


# ------------------------------------------------------------------------ model files


def architecture_json(arch, loss, accuracy, optimizer=None, precision=None):
    """The JSON text of a model file's architecture entry, as the chapter defines it."""
    spec = {
        "format": FORMAT,
        "version": VERSION,
        "layers": arch,
        "loss": {"class": loss, "args": {}},
        "accuracy": {
            "class": accuracy,
            "args": {"precision": precision} if accuracy == "AccuracyRegression" else {},
        },
        "optimizer": optimizer,
    }
    return json.dumps(spec)


def model_file_arrays(arch, params, loss, accuracy, optimizer=None, precision=None):
    """{name: array} of a model file: the parameters plus the architecture as uint8."""
    arrays = {k: _f64(v) for k, v in params.items()}
    text = architecture_json(arch, loss, accuracy, optimizer, precision)
    arrays["architecture"] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()
    return arrays


# ------------------------------------------------------------------- the graded run


def spiral_run(seed, arch, optimizer, epochs, batch_size, weight_scale=0.1, dropout_offset=1000):
    """(test outputs, history, data) of the spiral run the grader asks of your Model: the
    data of ch06's spiral_task(seed); one Generator default_rng(seed) draws the Dense
    weights (in order) and then shuffles every epoch; Dropout layer j draws its masks
    from default_rng(seed + dropout_offset + j)."""
    data = spiral_task(seed)
    rng = np.random.default_rng(seed)
    params = init_params(arch, rng, weight_scale)
    n_drop = sum(entry["class"] == "Dropout" for entry in arch)
    params, history, _ = train_run(
        arch,
        params,
        data["X_train"],
        data["y_train"],
        "CategoricalCrossEntropy",
        "AccuracyCategorical",
        optimizer,
        epochs,
        batch_size,
        rng,
        [seed + dropout_offset + j for j in range(n_drop)],
        validation=(data["X_val"], data["y_val"]),
    )
    return predict(arch, params, data["X_test"]), history, data
