"""What the chapter suites share: targets and labels, optimizer defaults, architectures as
data, the "did not store self.X" wrapper and ``call_with_labels``.

A helper lives here as soon as two chapters' suites need it; a chapter's own helpers stay
in its folder. Nothing here draws randomness of its own: every function that draws takes
the Generator of an ``oracle.random`` call, so the values it makes are recorded in the
fixtures like any other input.
"""

from grader.api import GradeFailure, StudentError, check_array, check_gradient, fail, np

# ----------------------------------------------------------------------------- targets


def softmax(z):
    """Row-wise softmax of (N, C) scores (to build the expected values of wrong variants)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def class_targets(y, C, form):
    """Integer labels y (N,) as they are given to a loss: as they are (``form`` "sparse") or
    as one-hot rows (N, C) (``form`` "one-hot")."""
    return np.eye(C)[y] if form == "one-hot" else y


def draw_targets(rng, task, n, n_out):
    """Targets for a network's task: class labels (N,) for "multiclass", 0/1 (N, n_out) for
    "binary", standard normal values (N, n_out) for "regression"."""
    if task == "multiclass":
        return rng.integers(0, n_out, size=n)
    if task == "binary":
        return rng.integers(0, 2, size=(n, n_out))
    return rng.normal(size=(n, n_out))


def label_form(y):
    """How labels were given, for feedback: one-hot rows or integer labels, with the shape."""
    return (
        f"one-hot rows of shape {tuple(np.shape(y))}"
        if np.ndim(y) == 2
        else f"integer labels of shape ({len(y)},)"
    )


def call_with_labels(method, call, *args, hint=""):
    """Call student code whose y_true (args[1]) may be labels or one-hot rows; an exception
    becomes a failure that says which form of labels the code was given (and ``hint``)."""
    try:
        return method(*args)
    except StudentError as exc:
        if exc.kind != "exception":
            raise
        fail(
            f"{call} raised {exc.summary} when y_true is given as {label_form(args[1])}",
            hint + ("\nTraceback (your code only):\n" + exc.details if exc.details else ""),
        )


# ----------------------------------------------------------------------------- layers


def stored(layer, attr, call):
    """layer.<attr>, or a clear failure when the student's method did not set it."""
    try:
        return getattr(layer, attr)
    except StudentError as exc:
        if exc.summary.startswith("AttributeError"):
            fail(
                f"{call} did not store self.{attr}",
                f"After {call}, self.{attr} must hold the result (later layers and backward read it).",
            )
        raise


def check_training_keyword(layer, x, want, *, name, what):
    """``layer.forward(x, training=True)`` and ``training=False`` both give ``want``: chapter
    08's Model calls every layer with the keyword, and most layers ignore it."""
    for training in (True, False):
        check_array(
            layer.forward(x, training=training),
            want,
            call=f"{name}.forward(inputs, training={training})",
            inputs={"inputs": x},
            what=what,
        )


def check_skipped_dinputs(layer, returned, grads, *, call, inputs, batch, trained, skip):
    """A backward run with ``input_gradient = False``: the parameters' gradients ``grads``
    ({"dweights": array, "dbiases": array}) are set and right (``trained`` says why they are
    still needed), and both ``returned`` and ``layer.dinputs`` are None (``skip`` says why)."""
    for name, want in grads.items():
        try:
            got = getattr(layer, name)
        except StudentError as exc:
            if not exc.summary.startswith("AttributeError"):
                raise
            fail(
                f"{call} did not set self.{name}",
                f"Only dinputs is skipped: {trained}, so backward still sets self.dweights and "
                f"self.dbiases before it stops.\n{exc.summary}",
            )
        check_array(got, want, call=call, what=f"self.{name}", inputs=inputs, batch=batch)
    _expect_none(returned, f"{call} returned", skip)
    try:
        dinputs = layer.dinputs
    except StudentError as exc:
        if not exc.summary.startswith("AttributeError"):
            raise
        fail(f"{call} did not set self.dinputs (to None)", f"{skip}\n{exc.summary}")
    _expect_none(dinputs, f"{call} left self.dinputs as", skip)


def _expect_none(value, what, why):
    if value is not None:
        shape = getattr(value, "shape", None)
        kind = (
            f"an array of shape {tuple(shape)}"
            if shape is not None
            else f"a {type(value).__name__}"
        )
        fail(f"{what} {kind}, expected None", why)


def type_name(handle):
    """The class name of a student object (a worker handle or a plain value)."""
    return getattr(handle, "type_name", type(handle).__name__).rsplit(".", 1)[-1]


# ----------------------------------------------------------------------------- optimizers

# The reference's name of each optimizer, and the documented defaults of its constructor.
OPTIMIZER_KEYS = {"SGD": "sgd", "Adagrad": "adagrad", "RMSprop": "rmsprop", "Adam": "adam"}
OPTIMIZER_DEFAULTS = {
    "SGD": {"learning_rate": 1.0, "decay": 0.0, "momentum": 0.0},
    "Adagrad": {"learning_rate": 1.0, "decay": 0.0, "epsilon": 1e-7},
    "RMSprop": {"learning_rate": 0.001, "decay": 0.0, "epsilon": 1e-7, "rho": 0.9},
    "Adam": {"learning_rate": 0.001, "decay": 0.0, "epsilon": 1e-7, "beta_1": 0.9, "beta_2": 0.999},
}


# ----------------------------------------------------------------------------- architectures
#
# An architecture is a list of ``{"class": name, "args": {...}}`` entries, the description
# the course's model files store; the tests build it in the worker with the student's own
# classes. Parameters are a dict {"layer{i}.{name}": array}, the keys of a model file.
#
# LAYER_ARRAYS describes, once, the arrays each kind of layer keeps under the course's
# parameter interface: the names of its ``parameters()`` (trained) and of its ``buffers()``
# (saved, not trained), and how the tests draw random values for them. A chapter that adds
# a layer kind to its architectures adds it here.


def _dense_arrays(rng, a, scale):
    return {
        "weights": scale * rng.standard_normal((a["n_inputs"], a["n_neurons"])),
        "biases": 0.1 * rng.standard_normal((1, a["n_neurons"])),
    }


def _batchnorm_arrays(rng, a, scale):
    d = a["n_features"]
    return {
        "gamma": 1.0 + 0.2 * rng.standard_normal((1, d)),
        "beta": 0.1 * rng.standard_normal((1, d)),
        "running_mean": 0.3 * rng.standard_normal((1, d)),
        "running_var": 0.5 + rng.random((1, d)),
    }


LAYER_ARRAYS = {
    "Dense": {"parameters": ("weights", "biases"), "buffers": (), "draw": _dense_arrays},
    "BatchNorm": {
        "parameters": ("gamma", "beta"),
        "buffers": ("running_mean", "running_var"),
        "draw": _batchnorm_arrays,
    },
}
_NO_ARRAYS = {"parameters": (), "buffers": (), "draw": None}


def trained_names(entry):
    """The names of the arrays an optimizer updates in a layer entry (its parameters())."""
    return LAYER_ARRAYS.get(entry["class"], _NO_ARRAYS)["parameters"]


def saved_names(entry):
    """The names of the arrays a model file keeps for a layer entry: parameters, then buffers."""
    kind = LAYER_ARRAYS.get(entry["class"], _NO_ARRAYS)
    return kind["parameters"] + kind["buffers"]


def dense(n_in, n_out, **penalties):
    args = {"n_inputs": n_in, "n_neurons": n_out}
    args.update(penalties)
    return {"class": "Dense", "args": args}


def layer(name, **args):
    return {"class": name, "args": args}


def describe(arch):
    """'Dense(2, 8) -> ReLU -> Dropout(0.2) -> ...' for feedback."""
    parts = []
    for entry in arch:
        a = entry.get("args", {})
        sizes = [v for k, v in a.items() if k in ("n_inputs", "n_neurons")]
        extra = [f"{k}={v}" for k, v in a.items() if k not in ("n_inputs", "n_neurons") and v]
        if sizes:
            parts.append(f"{entry['class']}({', '.join(str(v) for v in sizes + extra)})")
        elif a:
            parts.append(f"{entry['class']}({', '.join(str(v) for v in a.values())})")
        else:
            parts.append(entry["class"])
    return " -> ".join(parts)


def draw_params(rng, arch, scale=0.5):
    """Random starting values of every saved array of arch (BatchNorm statistics included)."""
    params = {}
    for i, entry in enumerate(arch):
        draw = LAYER_ARRAYS.get(entry["class"], _NO_ARRAYS)["draw"]
        if draw is not None:
            for name, value in draw(rng, entry.get("args", {}), scale).items():
                params[f"layer{i}.{name}"] = value
    return params


def check_forward_first(got, want, call, test):
    """The gradient tests need a correct forward: otherwise say which test to fix first."""
    arr = (
        np.asarray(got, dtype=np.float64)
        if got is not None and not hasattr(got, "type_name")
        else None
    )
    if (
        arr is None
        or arr.shape != np.shape(want)
        or not np.allclose(arr, want, rtol=1e-6, atol=1e-8)
    ):
        fail(
            f"{call}: the forward pass is wrong, so its gradients cannot be checked (fix {test} first)",
            "Gradient checks compare your backward with central differences of the correct forward pass.",
        )


def correct_first(oracle, check, *, fix):
    """A property, an invariance or a shape earns points only together with correct values
    (code that computes nothing has most properties): run ``check()``, a value check against
    the reference through ``oracle``, once per test (a hypothesis test calls this in every
    example); when it fails, the test fails and names the value test ``fix`` to fix first."""
    done = oracle.__dict__.setdefault("_correct_first", set())
    if fix in done:
        return
    try:
        check()
    except GradeFailure as exc:
        fail(
            f"{exc.summary} (this test counts only together with correct values: fix {fix} first)",
            exc.details,
        )
    done.add(fix)


def check_named_gradients(got, numeric, names, call, inputs, bugs=()):
    """check_gradient for each name; ``bugs`` are (description, {name: wrong value})."""
    for name in names:
        check_gradient(
            got[name],
            numeric[name],
            call=call,
            what=f"gradient of {name}",
            inputs=inputs,
            known_bugs=[(desc, vals[name]) for desc, vals in bugs if name in vals],
        )


# ------------------------------------------------------------- arguments left unchanged
# A kept argument (``keep(student, x)``) lives in the worker; ``fetch()`` is the worker's own
# report of it after the call, so a forged report is possible. A test of "arguments left
# unchanged" therefore never stands alone: it first requires the call's correct result,
# then the report, then (where it is cheap) a second call on the very same kept arrays,
# whose correct result is the grader's own evidence that the first call left them alone.


def check_unchanged(kept, before, *, call, name, advice, rtol=0.0):
    """Fail when the kept argument ``kept`` (or its value, already fetched) no longer equals
    ``before``, its value when it was passed; ``rtol`` > 0 tolerates rounding (a float copy
    put back entry by entry)."""
    after = np.asarray(kept.fetch() if callable(getattr(type(kept), "fetch", None)) else kept)
    before = np.asarray(before)
    if after.shape != before.shape:
        fail(
            f"{call} changed the shape of the array passed as {name}",
            f"{name} had shape {before.shape}, after the call {after.shape}.\n{advice}",
        )
    if after.dtype.kind in "biuf" and before.dtype.kind in "biuf":
        a, b = after.astype(np.float64), before.astype(np.float64)
        same = np.isclose(a, b, rtol=rtol, atol=0) | (np.isnan(a) & np.isnan(b))
    else:
        same = after == before
    if np.all(same):
        return
    lines = [f"{call} changed the array passed as {name}."]
    for idx in np.argwhere(~np.asarray(same))[:3]:
        idx = tuple(int(i) for i in idx)
        was, now = (_entry(v[idx]) for v in (before, after))
        lines.append(f"  {name}{list(idx)}: was {was}, is now {now} after the call")
    lines.append(advice)
    fail(f"{call} modified {name} in place", "\n".join(lines))


def _entry(value):
    return f"{float(value):.6g}" if np.asarray(value).dtype.kind in "biuf" else repr(value)


def again_note(call):
    """The ``call=`` text of a second call on the same kept arguments."""
    return (
        f"{call}, called a second time on the same arrays (the first call returned the right "
        "values: the second differs, so the first call changed its arguments or kept state "
        "that it should not)"
    )


def returned_model(got, call):
    """The model handle a training function returned, or a failure saying what came back."""
    if got is None:
        fail(f"{call} returned None instead of the model", "Did you forget `return model`?")
    if not hasattr(got, "type_name"):
        fail(f"{call} returned a {type(got).__name__} instead of the model")
    return got
