"""Chapter 13 suite helpers: setting a network's parameters by name in the worker, the
MNIST images the quality tests use, and the gradient check of a whole network."""

from functools import lru_cache

from data.loaders import load_mnist_idx
from grader.api import Rng, StudentError, check_array, fail, np, reference, set_attributes
from grader.suites.common import returned_model

ref = reference("ch13_generative")
ref09 = reference("ch09_mnist")

SPLIT_SEED = 9  # chapter 09's split of the 10,000 shipped images


def set_params(net, params):
    """Write {name: array} into the student's network: "encoder2.weights" is
    ``net.encoder[2].weights``, "down.weights" is ``net.down.weights``."""
    lists, holders = {}, {}  # each holder's attributes are set in one round trip
    for name, value in params.items():
        holder, key = name.split(".")
        holders.setdefault(holder, {})[key] = np.array(value, dtype=np.float64)
    for holder, values in holders.items():
        group = holder.rstrip("0123456789")
        if group == holder:
            set_attributes(getattr(net, holder), values)
        else:
            if group not in lists:
                lists[group] = getattr(net, group)
            set_attributes(lists[group][int(holder[len(group) :])], values)


def perturbed(rng, params, scale=0.3):
    """The parameters plus noise (biases not zero, so a bias bug shows)."""
    return {k: v + scale * rng.standard_normal(np.shape(v)) for k, v in params.items()}


def gradients_dict(net, call):
    grads = net.gradients()
    if not isinstance(grads, dict):
        fail(f"{call}: gradients() must return a dict name -> array", f"got {type(grads).__name__}")
    return grads


def check_named_gradients(grads, want, *, call, inputs, known_bugs=()):
    """Every parameter's gradient against the reference's backward pass (exact gradients:
    the reference is checked against central differences and against PyTorch's autograd;
    central differences of a whole ReLU network on random inputs cross a kink often enough
    to fail a correct submission now and then). known_bugs: (description, {name: wrong
    gradient}) pairs."""
    missing = sorted(set(want) - set(grads))
    if missing:
        fail(
            f"{call}: gradients() has no entry {missing[0]!r}",
            f"expected the keys {sorted(want)}, got {sorted(grads)}",
        )
    for name, value in want.items():
        check_exact_gradient(
            grads[name],
            value,
            call=call,
            what=f"gradient of {name!r}",
            inputs=inputs,
            known_bugs=[(text, wrong[name]) for text, wrong in known_bugs],
        )


def check_exact_gradient(got, want, *, call, what, inputs, known_bugs=()):
    """A gradient against the reference's exact one: rtol 1e-6, and an absolute tolerance of
    1e-9 of the largest entry (rounding differences of the summation order)."""
    want = np.asarray(want, dtype=np.float64)
    atol = 1e-9 * max(1e-12, float(np.max(np.abs(want)))) if want.size else 1e-12
    check_array(
        got, want, call=call, what=what, inputs=inputs, rtol=1e-6, atol=atol, known_bugs=known_bugs
    )


def check_keys(got, want, call, what):
    if not isinstance(got, dict) or sorted(got) != sorted(want):
        fail(
            f"{call}: {what} must return a dict with the keys {sorted(want)}",
            f"got {type(got).__name__}"
            + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""),
        )


@lru_cache(maxsize=1)
def mnist_pixels():
    """(10000, 784) float64 pixel values in [0, 1] (the shipped images divided by 255)."""
    images, _ = load_mnist_idx()
    return images.reshape(len(images), -1).astype(np.float64) / 255.0


def mnist_split(oracle, n_train, n_test):
    """The first n_train training and n_test test indices of chapter 09's split."""

    def first():
        train, _, test = ref09.split_indices(10000, np.random.default_rng(SPLIT_SEED))
        return np.asarray(train[:n_train], dtype=np.int32), np.asarray(
            test[:n_test], dtype=np.int32
        )

    train, test = oracle.compute("split", first)
    return np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64)


@lru_cache(maxsize=4)
def shapes_data(n, size, seed):
    """(images, masks) of the chapter's shapes rule (``make_shapes``) from default_rng(seed):
    the grader's own copy, so that public mode needs neither the reference nor a fixture."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    images = np.empty((n, 1, size, size))
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        for _ in range(int(rng.integers(1, 4))):
            kind = int(rng.integers(0, 2))
            r0, c0 = rng.integers(0, size, size=2)
            radius = int(rng.integers(2, size // 4 + 1))
            if kind == 0:
                inside = (rows - r0) ** 2 + (cols - c0) ** 2 <= radius**2
            else:
                inside = (np.abs(rows - r0) <= radius) & (np.abs(cols - c0) <= radius)
            masks[i][inside] = 1
        images[i, 0] = masks[i] + 0.3 * rng.standard_normal((size, size))
    return images, masks


def train_or_fail(fn, name, reference_time):
    """Call a student's training function; a time-out becomes a clear failure."""
    try:
        return fn()
    except StudentError as exc:
        if exc.kind == "timeout":
            fail(
                f"{name} did not finish in time (the reference takes about {reference_time})",
                "Are the layers vectorised (no Python loops over samples or pixels)?",
            )
        raise


def check_history(model, epochs, call):
    """model.history: one finite mean training loss per epoch, the last below the first."""
    try:
        history = model.history
    except StudentError as exc:
        if exc.summary.startswith("AttributeError"):
            fail(
                f"{call} did not keep model.history",
                "Append each epoch's mean training loss to a list "
                "model.history (the docstring promises it; the figures script prints it).",
            )
        raise
    values = (
        np.asarray(history, dtype=np.float64).ravel()
        if isinstance(history, (list, np.ndarray))
        else None
    )
    if values is None or len(values) != epochs or not np.all(np.isfinite(values)):
        fail(
            f"{call}: model.history must hold {epochs} finite numbers, one mean training loss per epoch",
            f"got {history!r:.200}",
        )
    if not values[-1] < values[0]:
        fail(
            f"{call}: model.history does not go down ({values[0]:.4g} after the first epoch, {values[-1]:.4g} "
            "after the last)",
            "Each entry is the mean training loss of one epoch.",
        )


__all__ = [
    "Rng",
    "ref",
    "set_params",
    "perturbed",
    "gradients_dict",
    "check_named_gradients",
    "check_exact_gradient",
    "check_keys",
    "mnist_pixels",
    "mnist_split",
    "shapes_data",
    "train_or_fail",
    "returned_model",
    "check_history",
]
