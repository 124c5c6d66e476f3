"""Chapter 04: the loss and gradients of a two-layer network, by hand."""

from grader.api import (
    check_array,
    check_gradient,
    check_scalar,
    fail,
    np,
    points,
    pytest,
    reference,
)

ref = reference("ch04_backprop")

# (N, D, H, C): a batch of one, rectangular shapes (a transposed gradient has the wrong
# shape), and a square one (D = H = C: a transposed gradient keeps its shape and has to be
# recognised by its values).
SHAPES = [(1, 3, 4, 2), (5, 4, 6, 3), (8, 2, 5, 4), (6, 4, 4, 4)]
KEYS = ("W2", "b2", "W1", "b1")  # in the order backpropagation computes them


def _draw(rng, N, D, H, C):
    """Moderate values: weights scaled by 1 / sqrt(fan-in), so no probability comes near the
    clip at 1e-7, and no hidden pre-activation within 1e-3 of the ReLU's kink (a central
    difference straddling the kink measures neither slope)."""
    while True:
        X = rng.normal(size=(N, D))
        W1, b1 = rng.normal(size=(D, H)) / np.sqrt(D), 0.1 * rng.normal(size=(1, H))
        W2, b2 = rng.normal(size=(H, C)) / np.sqrt(H), 0.1 * rng.normal(size=(1, C))
        y = rng.integers(0, C, size=N)
        z1 = X @ W1 + b1
        scores = np.maximum(z1, 0.0) @ W2 + b2
        if np.min(np.abs(z1)) > 1e-3 and np.ptp(scores, axis=1).max() < 10 and np.any(z1 > 0):
            return X, y, W1, b1, W2, b2


def _buggy_grads(X, y, W1, b1, W2, b2, bug):
    """The gradients with one known bug, assembled from the reference's pieces."""
    z1 = ref.dense_forward(X, W1, b1)
    hidden = np.maximum(z1, 0.0)
    scores = ref.dense_forward(hidden, W2, b2)
    _, probs = ref.softmax_ce_forward(scores, y)
    dscores = ref.softmax_ce_backward(probs, y)
    if bug == "mask_from_scores":
        dscores = dscores * (scores > 0)
    dhidden, dW2, db2 = ref.dense_backward(hidden, W2, dscores)
    if bug == "relu_on_gradient":
        dz1 = np.maximum(dhidden, 0.0)
    elif bug in ("no_mask", "mask_from_scores"):
        dz1 = dhidden
    else:
        raise ValueError(bug)
    _, dW1, db1 = ref.dense_backward(X, W1, dz1)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


BUGS = {
    "no_mask": "the ReLU's backward is missing: multiply dhidden by (z1 > 0), where z1 = X @ W1 + b1",
    "relu_on_gradient": "the ReLU was applied to the gradient (a mask from dhidden > 0): the mask comes from the "
    "forward pre-activations, (z1 > 0)",
    "mask_from_scores": "the ReLU mask was taken from the output layer (scores > 0): mask the hidden layer's "
    "gradient with (z1 > 0), and leave dscores as (probs - onehot) / N",
}


def _call(student, X, y, W1, b1, W2, b2):
    """Call the student's function; check it returns (float, dict with the four keys)."""
    got = student.two_layer_loss_and_grads(X, y, W1, b1, W2, b2)
    call = "two_layer_loss_and_grads(X, y, W1, b1, W2, b2)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(
            f"{call} must return a pair (loss, grads), got {type(got).__name__}"
            + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        )
    loss, grads = got
    if not isinstance(grads, dict):
        fail(
            f"{call}: grads must be a dict with keys 'W1', 'b1', 'W2', 'b2', got {type(grads).__name__}"
        )
    missing = [k for k in ("W1", "b1", "W2", "b2") if k not in grads]
    if missing:
        fail(
            f"{call}: grads has no key {', '.join(repr(k) for k in missing)}",
            f"Keys found: {sorted(grads)}; expected 'W1', 'b1', 'W2', 'b2'.",
        )
    return loss, grads


def _inputs(X, W1, W2):
    return {"X": X, "W1": W1, "W2": W2}


@points(1)
@pytest.mark.parametrize("N,D,H,C", SHAPES)
def test_two_layer_loss_matches_reference(student, oracle, N, D, H, C):
    X, y, W1, b1, W2, b2 = oracle.random("inputs", lambda rng: _draw(rng, N, D, H, C))
    want = oracle.compute("want", lambda: ref.two_layer_loss_and_grads(X, y, W1, b1, W2, b2)[0])
    loss, _ = _call(student, X, y, W1, b1, W2, b2)
    check_scalar(
        loss,
        want,
        call="two_layer_loss_and_grads(...)",
        what="loss",
        inputs=_inputs(X, W1, W2),
        batch=N,
        nonfinite_hint="log(0)? subtract each row's max before exp, and clip the probabilities",
    )


def _known_bugs(key, right, buggy, N):
    """(description, wrong value) pairs for grads[key]; right is the correct gradient."""
    bugs = [(BUGS[bug], buggy[bug][key]) for bug in BUGS]
    if key.startswith("W"):
        op = "hidden.T @ dscores" if key == "W2" else "X.T @ dz1"
        bugs.append((f"d{key} is transposed: it must be {op}, of the shape of {key}", right.T))
    else:
        bugs.append(
            (
                f"d{key} is the mean over the batch instead of the sum (dscores was already divided by N)",
                right / N,
            )
        )
    return bugs


def _check_grads(student, oracle, shape, keys):
    N, D, H, C = shape
    X, y, W1, b1, W2, b2 = oracle.random("inputs", lambda rng: _draw(rng, N, D, H, C))
    want = oracle.compute("want", lambda: ref.two_layer_loss_and_grads(X, y, W1, b1, W2, b2)[1])
    buggy = oracle.compute(
        "bugs", lambda: {bug: _buggy_grads(X, y, W1, b1, W2, b2, bug) for bug in BUGS}
    )
    _, grads = _call(student, X, y, W1, b1, W2, b2)
    for key in keys:
        check_array(
            grads[key],
            want[key],
            call="two_layer_loss_and_grads(...)",
            what=f"grads['{key}']",
            inputs=_inputs(X, W1, W2),
            batch=N,
            known_bugs=_known_bugs(key, want[key], buggy, N),
        )


@points(2)
@pytest.mark.parametrize("N,D,H,C", SHAPES)
def test_two_layer_output_layer_grads_match_reference(student, oracle, N, D, H, C):
    """grads['W2'] and grads['b2']: the softmax + cross-entropy gradient through the second layer."""
    _check_grads(student, oracle, (N, D, H, C), ("W2", "b2"))


@points(2)
@pytest.mark.parametrize("N,D,H,C", SHAPES)
def test_two_layer_hidden_layer_grads_match_reference(student, oracle, N, D, H, C):
    """grads['W1'] and grads['b1']: through the second layer and the ReLU to the first layer."""
    _check_grads(student, oracle, (N, D, H, C), ("W1", "b1"))


@points(2)
@pytest.mark.parametrize("N,D,H,C", [(4, 3, 5, 3), (7, 5, 4, 6)])
def test_two_layer_gradient_check(student, oracle, N, D, H, C):
    """Every gradient against central differences of the loss (h = 1e-5, float64)."""
    X, y, W1, b1, W2, b2 = oracle.random("inputs", lambda rng: _draw(rng, N, D, H, C))
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}

    def numeric(key):
        def loss_at(value):
            return ref.two_layer_loss_and_grads(X, y, **{**params, key: value})[0]

        return ref.numerical_gradient(loss_at, params[key], h=1e-5)

    num = oracle.compute("numeric", lambda: {key: numeric(key) for key in KEYS})
    buggy = oracle.compute(
        "bugs", lambda: {bug: _buggy_grads(X, y, W1, b1, W2, b2, bug) for bug in BUGS}
    )
    _, grads = _call(student, X, y, W1, b1, W2, b2)
    for key in KEYS:
        # Rounding in the loss (about 1e-16 / h = 1e-11 per entry) limits the agreement on
        # entries of size 1e-6 to about 1e-5; real bugs give 1e-2 and more.
        check_gradient(
            grads[key],
            num[key],
            call="two_layer_loss_and_grads(...)",
            what=f"grads['{key}']",
            inputs=_inputs(X, W1, W2),
            batch=N,
            threshold=1e-4,
            known_bugs=_known_bugs(key, num[key], buggy, N),
        )
