"""Chapter 07: the regularized Dense layer and regularization_loss."""

from grader.api import (
    Rng,
    check_array,
    check_gradient,
    check_scalar,
    check_true,
    np,
    points,
    pytest,
    reference,
)

ref = reference("ch07_generalization")

# (N, n_inputs, n_neurons, l1_w, l2_w, l1_b, l2_b)
BACKWARD_CASES = [
    pytest.param(5, 4, 3, 0.0, 0.1, 0.0, 0.0, id="l2-weights"),
    pytest.param(6, 3, 4, 0.05, 0.0, 0.0, 0.0, id="l1-weights"),
    pytest.param(4, 3, 2, 0.0, 0.0, 0.03, 0.2, id="biases-only"),
    pytest.param(1, 4, 4, 0.02, 0.3, 0.01, 0.05, id="all-four-batch-of-one"),
]


def _layer(student, W, b, **strengths):
    layer = student.Dense(W.shape[0], W.shape[1], Rng(0), **strengths)
    layer.weights, layer.biases = W, b
    return layer


def _strengths(l1_w, l2_w, l1_b, l2_b):
    return {
        "weight_regularizer_l1": l1_w,
        "weight_regularizer_l2": l2_w,
        "bias_regularizer_l1": l1_b,
        "bias_regularizer_l2": l2_b,
    }


def _params(rng, N, n_in, n_out):
    # Biases away from zero, so that a penalty on them shows.
    return (
        rng.normal(size=(N, n_in)),
        rng.normal(size=(n_in, n_out)),
        rng.normal(size=(1, n_out)),
        rng.normal(size=(N, n_out)),
    )


@points(2)
@pytest.mark.parametrize("N,n_in,n_out,l1_w,l2_w,l1_b,l2_b", BACKWARD_CASES)
def test_dense_backward_regularized_matches_reference(
    student, oracle, N, n_in, n_out, l1_w, l2_w, l1_b, l2_b
):
    X, W, b, dv = oracle.random("inputs", lambda rng: _params(rng, N, n_in, n_out))
    dX, dW, db = oracle.compute(
        "want", lambda: ref.dense_backward_regularized(X, W, b, dv, l1_w, l2_w, l1_b, l2_b)
    )
    bugs_w, bugs_b = oracle.compute(
        "bugs", lambda: _backward_bugs(X, W, b, dv, l1_w, l2_w, l1_b, l2_b)
    )
    layer = _layer(student, W, b, **_strengths(l1_w, l2_w, l1_b, l2_b))
    layer.forward(X, training=True)
    got = layer.backward(dv)
    call = f"Dense(l1_w={l1_w}, l2_w={l2_w}, l1_b={l1_b}, l2_b={l2_b}).backward(dvalues)"
    shapes = {"inputs": X, "weights": W, "dvalues": dv}
    check_array(layer.dweights, dW, call=call, inputs=shapes, what="dweights", known_bugs=bugs_w)
    check_array(layer.dbiases, db, call=call, inputs=shapes, what="dbiases", known_bugs=bugs_b)
    check_array(
        got, dX, call=call, inputs=shapes, what="returned dinputs (the penalties do not change it)"
    )


def _backward_bugs(X, W, b, dv, l1_w, l2_w, l1_b, l2_b):
    """(known bugs of dweights, of dbiases): the wrong gradients of common mistakes."""
    _, dW, db = ref.dense_backward(X, W, dv)
    pg = ref.penalty_gradient
    bugs_w = [
        (
            "the L2 term of dweights misses the factor 2: the derivative of l2 * sum(W**2), the penalty "
            "regularization_loss adds, is 2 * l2 * W",
            dW + pg(W, l1_w, l2_w / 2),
        ),
        (
            "the L1 term of dweights uses the weights instead of their sign: the derivative of "
            "l1 * sum(|W|) is l1 * sign(W)",
            dW + l1_w * W + pg(W, 0.0, l2_w),
        ),
        ("dweights has no penalty term: add l1 * sign(W) + 2 * l2 * W", dW),
        ("dweights uses the bias regularizer strengths", dW + pg(W, l1_b, l2_b)),
    ]
    bugs_b = [
        (
            "the L2 term of dbiases misses the factor 2: the derivative of l2 * sum(b**2) is 2 * l2 * b",
            db + pg(b, l1_b, l2_b / 2),
        ),
        (
            "the L1 term of dbiases uses the biases instead of their sign: use l1 * sign(b)",
            db + l1_b * b + pg(b, 0.0, l2_b),
        ),
        (
            "dbiases has no penalty term: add bias_regularizer_l1 * sign(b) + 2 * bias_regularizer_l2 * b",
            db,
        ),
        ("dbiases uses the weight regularizer strengths", db + pg(b, l1_w, l2_w)),
    ]
    return bugs_w, bugs_b


@points(1)
def test_dense_backward_without_penalties_is_chapter_04s(student, oracle):
    X, W, b, dv = oracle.random("inputs", lambda rng: _params(rng, 5, 3, 4))
    dX, dW, db = oracle.compute("want", lambda: ref.dense_backward_regularized(X, W, b, dv))
    layer = _layer(student, W, b)
    layer.forward(X)
    got = layer.backward(dv)
    call = "Dense(n_inputs, n_neurons, rng).backward(dvalues) with all strengths 0"
    check_array(layer.dweights, dW, call=call, inputs={"inputs": X, "dvalues": dv}, what="dweights")
    check_array(layer.dbiases, db, call=call, inputs={"inputs": X, "dvalues": dv}, what="dbiases")
    check_array(got, dX, call=call, inputs={"inputs": X, "dvalues": dv}, what="returned dinputs")


@points(1)
def test_dense_backward_regularized_first_layer_skips_dinputs(student, oracle):
    """With input_gradient = False (the first layer of a Model), the penalties are still
    added to dweights and dbiases, and backward returns None, as chapter 04's does."""
    l1_w, l2_w, l1_b, l2_b = 0.02, 0.3, 0.01, 0.05
    X, W, b, dv = oracle.random("inputs", lambda rng: _params(rng, 4, 3, 2))
    _, dW, db = oracle.compute(
        "want", lambda: ref.dense_backward_regularized(X, W, b, dv, l1_w, l2_w, l1_b, l2_b)
    )
    layer = _layer(student, W, b, **_strengths(l1_w, l2_w, l1_b, l2_b))
    layer.input_gradient = False
    layer.forward(X, training=True)
    got = layer.backward(dv)
    call = (
        f"Dense(l1_w={l1_w}, l2_w={l2_w}, l1_b={l1_b}, l2_b={l2_b}).backward(dvalues) "
        "with self.input_gradient = False"
    )
    shapes = {"inputs": X, "weights": W, "dvalues": dv}
    check_array(layer.dweights, dW, call=call, inputs=shapes, what="dweights (with the penalties)")
    check_array(layer.dbiases, db, call=call, inputs=shapes, what="dbiases (with the penalties)")
    check_true(
        got is None,
        f"{call} returned an array of shape {np.shape(got)}, expected None",
        "Return self.dinputs as chapter 04's backward set it: None when input_gradient is False (nothing "
        "reads the first layer's dinputs), so do not compute dvalues @ weights.T here.",
    )


LOSS_CASES = [
    pytest.param(3, 4, 0.01, 0.0, 0.0, 0.0, id="l1-weights"),
    pytest.param(5, 2, 0.0, 0.5, 0.0, 0.0, id="l2-weights"),
    pytest.param(4, 4, 0.02, 0.1, 0.03, 0.4, id="all-four"),
]


@points(2)
@pytest.mark.parametrize("n_in,n_out,l1_w,l2_w,l1_b,l2_b", LOSS_CASES)
def test_regularization_loss_matches_reference(
    student, oracle, n_in, n_out, l1_w, l2_w, l1_b, l2_b
):
    W, b = oracle.random(
        "params", lambda rng: (rng.normal(size=(n_in, n_out)), rng.normal(size=(1, n_out)))
    )
    want = oracle.compute("want", lambda: ref.regularization_loss(W, b, l1_w, l2_w, l1_b, l2_b))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "the L2 penalty is l2 * sum(W**2), not l2 times the norm sqrt(sum(W**2))",
                l1_w * np.abs(W).sum()
                + l2_w * np.sqrt((W**2).sum())
                + l1_b * np.abs(b).sum()
                + l2_b * np.sqrt((b**2).sum()),
            ),
            (
                "the L1 penalty sums the absolute values: l1 * sum(|W|), not l1 * sum(W)",
                l1_w * W.sum() + l2_w * (W**2).sum() + l1_b * b.sum() + l2_b * (b**2).sum(),
            ),
            (
                "the L2 penalty has a factor 1/2 the course does not use: it is l2 * sum(W**2)",
                ref.regularization_loss(W, b, l1_w, l2_w / 2, l1_b, l2_b / 2),
            ),
            ("the biases' penalty is missing", ref.regularization_loss(W, b, l1_w, l2_w)),
            (
                "the biases' penalty uses the weight strengths",
                ref.regularization_loss(W, b, l1_w, l2_w, l1_w, l2_w),
            ),
        ],
    )
    layer = _layer(student, W, b, **_strengths(l1_w, l2_w, l1_b, l2_b))
    got = student.regularization_loss(layer)
    check_scalar(
        got,
        want,
        call=f"regularization_loss(Dense(l1_w={l1_w}, l2_w={l2_w}, l1_b={l1_b}, l2_b={l2_b}))",
        inputs={"weights": W, "biases": b},
        known_bugs=bugs,
    )


@points(1)
def test_regularization_loss_is_zero_without_regularizers(student, oracle):
    W, b = oracle.random("params", lambda rng: (rng.normal(size=(3, 2)), rng.normal(size=(1, 2))))
    got = student.regularization_loss(_layer(student, W, b))
    check_scalar(got, 0.0, call="regularization_loss(Dense(...)) with all strengths 0")
    got = student.regularization_loss(student.BatchNorm(3))
    check_scalar(
        got,
        0.0,
        call="regularization_loss(BatchNorm(3))",
        what="value (a layer without "
        "regularizer attributes adds no penalty: read them with getattr(layer, name, 0.0))",
    )


@points(2)
def test_dense_backward_consistent_with_regularization_loss(student, oracle):
    """What backward adds to dweights and dbiases is the gradient of the penalty that
    regularization_loss computes (central differences on your own function)."""
    W, b = oracle.random("params", lambda rng: (rng.normal(size=(3, 2)), rng.normal(size=(1, 2))))
    X, dv = oracle.random("data", lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=(4, 2))))
    strengths = _strengths(0.03, 0.2, 0.02, 0.5)
    plain = _layer(student, W, b)
    plain.forward(X)
    plain.backward(dv)
    reg = _layer(student, W, b, **strengths)
    reg.forward(X)
    reg.backward(dv)
    added_w = np.asarray(reg.dweights, dtype=np.float64) - np.asarray(
        plain.dweights, dtype=np.float64
    )
    added_b = np.asarray(reg.dbiases, dtype=np.float64) - np.asarray(
        plain.dbiases, dtype=np.float64
    )

    probe = _layer(student, W, b, **strengths)
    h = 1e-6

    def numeric(name, P, other):
        grad = np.zeros_like(P)
        for idx in np.ndindex(*P.shape):
            values = []
            for step in (h, -h):
                Q = P.copy()
                Q[idx] += step
                setattr(probe, name, Q)
                values.append(float(student.regularization_loss(probe)))
            grad[idx] = (values[0] - values[1]) / (2 * h)
        setattr(probe, name, P)
        return grad

    num_w, num_b = numeric("weights", W, b), numeric("biases", b, W)
    check_true(
        np.any(num_w != 0),
        "regularization_loss does not change when the weights change",
        "With non-zero strengths the penalty depends on the weights.",
    )
    half = (
        "the L2 term of backward misses the factor 2 that the derivative of l2 * sum(W**2) (the penalty "
        "regularization_loss adds) has"
    )
    bug_w = [(half, num_w - 0.2 * W)]
    bug_b = [(half, num_b - 0.5 * b)]
    call = "Dense.backward (with penalties) minus Dense.backward (without)"
    check_gradient(
        added_w, num_w, call=call, what="penalty part of dweights", threshold=1e-6, known_bugs=bug_w
    )
    check_gradient(
        added_b, num_b, call=call, what="penalty part of dbiases", threshold=1e-6, known_bugs=bug_b
    )
