"""Chapter 04, hidden tests: held-back layer shapes, network sizes and step sizes, run only in
hidden (instructor) mode."""

from grader.api import (
    Fn,
    Rng,
    check_array,
    check_scalar,
    fail,
    hidden,
    np,
    points,
    pytest,
    reference,
)

ref = reference("ch04_backprop")
pytestmark = hidden


@points(1)
@pytest.mark.parametrize(
    "N,n_inputs,n_neurons",
    [(64, 10, 7), (1, 9, 1)],
    ids=["wide-batch-64x10x7", "one-sample-one-neuron"],
)
def test_hidden_dense_backward_other_shapes(student, oracle, N, n_inputs, n_neurons):
    """dweights, dbiases and dinputs of Dense.backward on a wide batch and on a single sample."""
    X, W, b, dv = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(size=(N, n_inputs)),
            rng.normal(size=(n_inputs, n_neurons)),
            rng.normal(size=(1, n_neurons)),
            rng.normal(size=(N, n_neurons)),
        ),
    )
    dX, dW, db = oracle.compute("want", lambda: ref.dense_backward(X, W, dv))
    layer = student.Dense(n_inputs, n_neurons, Rng(0))
    layer.weights, layer.biases = W, b
    layer.forward(X)
    got = layer.backward(dv)
    call = "Dense.backward(dvalues)"
    inputs = {"inputs": X, "weights": W, "dvalues": dv}
    check_array(
        layer.dweights,
        dW,
        call=call,
        what="self.dweights",
        inputs=inputs,
        batch=N,
        known_bugs=[
            (
                "dweights is divided by the batch size: inputs.T @ dvalues already sums over the batch, and the loss's "
                "backward already divided by N",
                dW / N,
            )
        ]
        if N > 1
        else [],
    )
    check_array(
        layer.dbiases,
        db,
        call=call,
        what="self.dbiases",
        inputs={"dvalues": dv},
        batch=N,
        known_bugs=[
            (
                "dbiases is the mean over the batch instead of the sum: the loss's backward already divided by N, so "
                "Dense sums (axis=0, keepdims=True)",
                db / N,
            )
        ]
        if N > 1
        else [],
    )
    check_array(got, dX, call=call, what="return value (dinputs)", inputs=inputs)


def _draw_net(rng, N, D, H, C):
    """Moderate weights; no hidden pre-activation within 1e-3 of the ReLU's kink."""
    while True:
        X = rng.normal(size=(N, D))
        W1, b1 = rng.normal(size=(D, H)) / np.sqrt(D), 0.1 * rng.normal(size=(1, H))
        W2, b2 = rng.normal(size=(H, C)) / np.sqrt(H), 0.1 * rng.normal(size=(1, C))
        y = rng.integers(0, C, size=N)
        z1 = X @ W1 + b1
        if np.min(np.abs(z1)) > 1e-3 and np.any(z1 > 0):
            return X, y, W1, b1, W2, b2


def _no_mask_grads(X, y, W1, b1, W2, b2):
    """The gradients of W1 and b1 when the ReLU's backward is forgotten."""
    z1 = ref.dense_forward(X, W1, b1)
    hidden_out = np.maximum(z1, 0.0)
    _, probs = ref.softmax_ce_forward(ref.dense_forward(hidden_out, W2, b2), y)
    dhidden, _, _ = ref.dense_backward(hidden_out, W2, ref.softmax_ce_backward(probs, y))
    _, dW1, db1 = ref.dense_backward(X, W1, dhidden)
    return {"W1": dW1, "b1": db1}


@points(1)
@pytest.mark.parametrize(
    "N,D,H,C", [(1, 6, 2, 7), (32, 5, 9, 3)], ids=["one-sample-7-classes", "batch-32"]
)
def test_hidden_two_layer_other_sizes(student, oracle, N, D, H, C):
    """The loss and all four gradients of the two-layer network for held-back sizes."""
    X, y, W1, b1, W2, b2 = oracle.random("inputs", lambda rng: _draw_net(rng, N, D, H, C))
    loss_want, want = oracle.compute(
        "want", lambda: ref.two_layer_loss_and_grads(X, y, W1, b1, W2, b2)
    )
    no_mask = oracle.compute("bugs", lambda: _no_mask_grads(X, y, W1, b1, W2, b2))
    call = "two_layer_loss_and_grads(X, y, W1, b1, W2, b2)"
    got = student.two_layer_loss_and_grads(X, y, W1, b1, W2, b2)
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not isinstance(got[1], dict):
        fail(f"{call} must return a pair (loss, grads) with grads a dict")
    loss, grads = got
    missing = [k for k in ("W1", "b1", "W2", "b2") if k not in grads]
    if missing:
        fail(f"{call}: grads has no key {', '.join(repr(k) for k in missing)}")
    inputs = {"X": X, "W1": W1, "W2": W2}
    check_scalar(loss, loss_want, call=call, what="loss", inputs=inputs, batch=N)
    for key in ("W2", "b2", "W1", "b1"):
        bugs = []
        if key in no_mask:
            bugs.append(
                (
                    "the ReLU's backward is missing: multiply dhidden by (z1 > 0), where z1 = X @ W1 + b1",
                    no_mask[key],
                )
            )
        if key.startswith("b") and N > 1:
            bugs.append(
                (
                    f"d{key} is the mean over the batch instead of the sum (dscores was already divided by N)",
                    want[key] / N,
                )
            )
        check_array(
            grads[key],
            want[key],
            call=call,
            what=f"grads['{key}']",
            inputs=inputs,
            batch=N,
            known_bugs=bugs,
        )


def _weighted_tanh(w):
    """The worker's named function "weighted_tanh" (grader/worker.py), here for the reference."""
    return lambda x: float(np.sum(w * np.tanh(x)))


def _draw_tanh(rng, shape):
    x = rng.uniform(-2.0, 2.0, size=shape)
    w = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    return x, w


@points(1)
def test_hidden_numerical_gradient_large_step_and_3d_input(student, oracle):
    """numerical_gradient with h = 0.05 (its truncation error shows: the h passed in must be used) on a
    (2, 3, 2) array, then rel_error of that gradient against the exact derivative."""
    x, w = oracle.random("inputs", lambda rng: _draw_tanh(rng, (2, 3, 2)))
    h = 0.05
    want = oracle.compute("want", lambda: ref.numerical_gradient(_weighted_tanh(w), x, h))
    fixed_h = oracle.compute("fixed_h", lambda: ref.numerical_gradient(_weighted_tanh(w), x, 1e-5))
    call = f"numerical_gradient(f, x, h={h:g}) with f = weighted_tanh"
    got = student.numerical_gradient(Fn("weighted_tanh", w=w), x, h)
    check_array(
        got,
        want,
        call=call,
        inputs={"x": x},
        known_bugs=[
            (
                f"the h argument is ignored: the step must be the h passed in (here h = {h:g})",
                fixed_h,
            ),
            (
                "every value is 2 times too large: the central difference spans 2h, divide by 2 * h, not h",
                2.0 * want,
            ),
        ],
    )
    exact = w * (1.0 - np.tanh(x) ** 2)
    err_want = oracle.compute("rel_error", lambda: ref.rel_error(want, exact))
    one_denominator = float(
        np.max(np.abs(want - exact)) / max(1e-8, np.max(np.abs(want) + np.abs(exact)))
    )
    check_scalar(
        student.rel_error(want, exact),
        err_want,
        call="rel_error(a, b) of two (2, 3, 2) gradients",
        inputs={"a": want, "b": exact},
        known_bugs=[
            ("one global denominator: divide entry by entry, then take the max", one_denominator)
        ],
    )
