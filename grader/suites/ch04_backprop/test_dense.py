"""Chapter 04: Dense.backward (dweights, dbiases, dinputs)."""

from hypothesis import example, given
from hypothesis import strategies as st

from grader.api import (
    Rng,
    StudentError,
    check_array,
    check_gradient,
    fail,
    np,
    numeric_gradient,
    points,
    pytest,
    reference,
)
from grader.suites.common import check_forward_first, check_skipped_dinputs

ref = reference("ch04_backprop")

# (N, n_inputs, n_neurons): a batch of one, rectangular shapes (a misplaced transpose
# changes the shape) and a square one (a misplaced transpose keeps the shape, and the
# known-bug diagnosis has to recognise the values).
SHAPES = [(1, 3, 2), (6, 4, 3), (5, 2, 7), (4, 4, 4)]

# Dense is linear in its inputs, weights and biases: central differences have no
# truncation error, and a large step keeps the rounding error near 1e-12.
H_LINEAR = 1e-3


def _draw(rng, N, n_inputs, n_neurons):
    return (
        rng.normal(size=(N, n_inputs)),
        rng.normal(size=(n_inputs, n_neurons)),
        rng.normal(size=(1, n_neurons)),
        rng.normal(size=(N, n_neurons)),
    )


def _shape_hint(X, W):
    N, n_in = X.shape
    n_out = W.shape[1]
    return (
        f"inputs ({N}, {n_in}), weights ({n_in}, {n_out}), dvalues ({N}, {n_out}).\n"
        f"A gradient has the shape of what it differentiates: dweights ({n_in}, {n_out}) is built from "
        f"inputs and dvalues, which share only N = {N};\ndinputs ({N}, {n_in}) from dvalues and weights, "
        f"which share only n_neurons = {n_out}. Check which operand needs a .T."
    )


def _layer(student, X, W, b):
    layer = student.Dense(W.shape[0], W.shape[1], Rng(0))
    layer.weights, layer.biases = W, b
    layer.forward(X)
    return layer


def _backward(layer, dvalues, X, W):
    """layer.backward(dvalues), with a shape explanation when a matrix product does not fit."""
    try:
        return layer.backward(dvalues)
    except StudentError as exc:
        text = exc.summary.lower()
        if exc.summary.startswith("ValueError") and any(
            w in text for w in ("matmul", "shapes", "align", "broadcast")
        ):
            fail(
                "Dense.backward(dvalues) raised ValueError: it multiplies two matrices whose shapes do not fit",
                f"{exc.summary}\n{_shape_hint(X, W)}\n\nTraceback (your code only):\n{exc.details}",
            )
        raise


def _attr(layer, name):
    try:
        return getattr(layer, name)
    except StudentError as exc:
        if exc.summary.startswith("AttributeError"):
            fail(
                f"Dense.backward(dvalues) did not set self.{name}",
                f"backward must store self.dweights, self.dbiases and self.dinputs.\n{exc.summary}",
            )
        raise


@points(1)
@pytest.mark.parametrize("N,n_inputs,n_neurons", SHAPES)
def test_dense_backward_dweights_matches_reference(student, oracle, N, n_inputs, n_neurons):
    X, W, b, dv = oracle.random("inputs", lambda rng: _draw(rng, N, n_inputs, n_neurons))
    want = oracle.compute("want", lambda: ref.dense_backward(X, W, dv)[1])
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "dweights is transposed: dvalues.T @ inputs has shape (n_neurons, n_inputs); use inputs.T @ dvalues",
                ref.dense_backward(X, W, dv)[1].T,
            ),
            (
                "dweights uses the layer's output instead of dvalues (the gradient arriving from above)",
                ref.dense_backward(X, W, ref.dense_forward(X, W, b))[1],
            ),
            (
                "dweights is divided by the batch size: inputs.T @ dvalues already sums over the batch, and the "
                "loss's backward already divided by N",
                ref.dense_backward(X, W, dv)[1] / N,
            ),
        ],
    )
    layer = _layer(student, X, W, b)
    _backward(layer, dv, X, W)
    check_array(
        _attr(layer, "dweights"),
        want,
        call="Dense.backward(dvalues)",
        what="self.dweights",
        inputs={"inputs": X, "weights": W, "dvalues": dv},
        known_bugs=[tuple(x) for x in bugs],
    )


@points(1)
@pytest.mark.parametrize("N,n_inputs,n_neurons", SHAPES)
def test_dense_backward_dbiases_summed_over_batch(student, oracle, N, n_inputs, n_neurons):
    X, W, b, dv = oracle.random("inputs", lambda rng: _draw(rng, N, n_inputs, n_neurons))
    want = oracle.compute("want", lambda: ref.dense_backward(X, W, dv)[2])
    bugs = [
        (
            "dbiases is the mean over the batch instead of the sum: the loss's backward already divided by N, "
            "so Dense sums (axis=0, keepdims=True)",
            want / N,
        ),
        (
            "dbiases is summed over the neurons (axis=1) instead of over the batch (axis=0)",
            dv.sum(axis=1, keepdims=True),
        ),
        ("dbiases is dvalues itself: sum it over the batch (axis=0, keepdims=True)", dv),
    ]
    layer = _layer(student, X, W, b)
    _backward(layer, dv, X, W)
    check_array(
        _attr(layer, "dbiases"),
        want,
        call="Dense.backward(dvalues)",
        what="self.dbiases",
        inputs={"dvalues": dv},
        known_bugs=bugs,
        batch=N,
    )


@points(1)
@pytest.mark.parametrize("N,n_inputs,n_neurons", SHAPES)
def test_dense_backward_dinputs_matches_reference(student, oracle, N, n_inputs, n_neurons):
    X, W, b, dv = oracle.random("inputs", lambda rng: _draw(rng, N, n_inputs, n_neurons))
    want = oracle.compute("want", lambda: ref.dense_backward(X, W, dv)[0])
    bugs = []
    if n_inputs == n_neurons:
        bugs = oracle.compute(
            "bugs",
            lambda: [
                (
                    "dinputs uses the weights without the transpose: use dvalues @ weights.T",
                    ref.dense_backward(X, W.T, dv)[0],
                ),
            ],
        )
    layer = _layer(student, X, W, b)
    got = _backward(layer, dv, X, W)
    inputs = {"inputs": X, "weights": W, "dvalues": dv}
    check_array(
        got,
        want,
        call="Dense.backward(dvalues)",
        what="return value",
        inputs=inputs,
        known_bugs=[tuple(x) for x in bugs],
    )
    check_array(
        _attr(layer, "dinputs"),
        want,
        call="Dense.backward(dvalues)",
        what="self.dinputs",
        inputs=inputs,
        known_bugs=[tuple(x) for x in bugs],
    )


@points(2)
@pytest.mark.parametrize("N,n_inputs,n_neurons", [(5, 3, 4), (1, 4, 2)])
def test_dense_backward_skips_dinputs_when_input_gradient_is_false(
    student, oracle, N, n_inputs, n_neurons
):
    """With ``input_gradient = False`` (the first layer of a network: nothing reads its
    dinputs) backward still sets dweights and dbiases, sets self.dinputs to None and returns
    None."""
    X, W, b, dv = oracle.random("inputs", lambda rng: _draw(rng, N, n_inputs, n_neurons))
    _, dW, db = oracle.compute("want", lambda: ref.dense_backward(X, W, dv))
    layer = student.Dense(n_inputs, n_neurons, Rng(0))
    layer.weights, layer.biases = W, b
    layer.input_gradient = False
    layer.forward(X)
    returned = _backward(layer, dv, X, W)
    check_skipped_dinputs(
        layer,
        returned,
        {"dweights": dW, "dbiases": db},
        call="Dense.backward(dvalues) with self.input_gradient = False",
        inputs={"inputs": X, "weights": W, "dvalues": dv},
        batch=N,
        trained="the weights and biases of the first layer are trained",
        skip="When self.input_gradient is False nothing reads this layer's dinputs (its inputs are the "
        "data): set self.dinputs = None and return None instead of computing dvalues @ weights.T.",
    )


@points(2)
@pytest.mark.parametrize("N,n_inputs,n_neurons", [(3, 4, 2), (4, 3, 3)])
def test_dense_backward_dinputs_gradient_check(student, oracle, N, n_inputs, n_neurons):
    """dinputs against central differences of sum(forward(inputs) * dvalues) on your own forward."""
    X, W, b, dv = oracle.random("inputs", lambda rng: _draw(rng, N, n_inputs, n_neurons))
    layer = student.Dense(n_inputs, n_neurons, Rng(0))
    layer.weights, layer.biases = W, b
    # The check differentiates your own forward: it counts only when that forward is right
    # (a forward returning its input and a backward returning dvalues agree with each other).
    want = oracle.compute("forward", lambda: ref.dense_forward(X, W, b))
    check_forward_first(
        layer.forward(X),
        want,
        "Dense.forward(inputs)",
        "chapter 01's test_dense_forward_matches_reference",
    )
    numeric = numeric_gradient(layer.forward, X, dout=dv, h=H_LINEAR)
    layer.forward(X)  # the numerical gradient left perturbed copies in self.inputs
    got = _backward(layer, dv, X, W)
    bugs = (
        [("dinputs uses the weights without the transpose: use dvalues @ weights.T", dv @ W)]
        if n_inputs == n_neurons
        else []
    )
    check_gradient(
        got,
        numeric,
        call="Dense.backward(dvalues)",
        what="dinputs",
        inputs={"inputs": X, "weights": W, "dvalues": dv},
        known_bugs=bugs,
    )


@points(2)
@pytest.mark.parametrize("N,n_inputs,n_neurons", [(3, 4, 2), (5, 3, 3)])
def test_dense_backward_parameter_gradient_check(student, oracle, N, n_inputs, n_neurons):
    """dweights and dbiases against central differences of sum(inputs @ W + b) * dvalues."""
    X, W, b, dv = oracle.random("inputs", lambda rng: _draw(rng, N, n_inputs, n_neurons))

    def loss_of(W_, b_):
        return float(np.sum(ref.dense_forward(X, W_, b_) * dv))

    num_W = oracle.compute(
        "numeric_W", lambda: ref.numerical_gradient(lambda v: loss_of(v, b), W, h=H_LINEAR)
    )
    num_b = oracle.compute(
        "numeric_b", lambda: ref.numerical_gradient(lambda v: loss_of(W, v), b, h=H_LINEAR)
    )
    layer = _layer(student, X, W, b)
    _backward(layer, dv, X, W)
    inputs = {"inputs": X, "weights": W, "dvalues": dv}
    check_gradient(
        _attr(layer, "dweights"),
        num_W,
        call="Dense.backward(dvalues)",
        what="dweights",
        inputs=inputs,
        known_bugs=[
            ("dweights is transposed: use inputs.T @ dvalues", num_W.T),
            (
                "dweights uses the layer's output instead of dvalues (the gradient arriving from above)",
                X.T @ (X @ W + b),
            ),
        ],
    )
    check_gradient(
        _attr(layer, "dbiases"),
        num_b,
        call="Dense.backward(dvalues)",
        what="dbiases",
        inputs=inputs,
        batch=N,
        known_bugs=[("dbiases is the mean over the batch instead of the sum", num_b / N)],
    )


@points(2)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31 - 1))
@example(
    3, 2, 4, 0
)  # tried first: most bugs fail here at once, without a search for a smaller example
def test_dense_backward_batch_is_sum_of_samples_property(student, N, n_inputs, n_neurons, seed):
    """Backward on a batch: dweights and dbiases are the sums of the per-sample gradients,
    and dinputs stacks the per-sample rows."""
    rng = np.random.default_rng(seed)
    X, W, b, dv = _draw(rng, N, n_inputs, n_neurons)
    layer = _layer(student, X, W, b)
    dX = np.asarray(_backward(layer, dv, X, W), dtype=np.float64)
    dW = np.asarray(_attr(layer, "dweights"), dtype=np.float64)
    db = np.asarray(_attr(layer, "dbiases"), dtype=np.float64)
    sum_W, sum_b, rows = 0.0, 0.0, []
    for n in range(N):
        layer.forward(X[n : n + 1])
        rows.append(np.asarray(_backward(layer, dv[n : n + 1], X, W), dtype=np.float64))
        sum_W = sum_W + np.asarray(_attr(layer, "dweights"), dtype=np.float64)
        sum_b = sum_b + np.asarray(_attr(layer, "dbiases"), dtype=np.float64)
    call = "Dense.backward on a batch vs. sample by sample"
    inputs = {"inputs": X, "dvalues": dv}
    mean = "is the mean of the per-sample {0}, not their sum: Dense must not divide by N (the loss did)"
    check_array(
        dW,
        sum_W,
        call=call,
        inputs=inputs,
        what="dweights (the sum of the per-sample dweights)",
        rtol=1e-9,
        known_bugs=[(f"the batch's dweights {mean.format('dweights')}", sum_W / N)],
    )
    check_array(
        db,
        sum_b,
        call=call,
        inputs=inputs,
        what="dbiases (the sum of the per-sample dbiases)",
        rtol=1e-9,
        known_bugs=[(f"the batch's dbiases {mean.format('dbiases')}", sum_b / N)],
    )
    check_array(
        dX,
        np.concatenate(rows, axis=0),
        call=call,
        inputs=inputs,
        what="dinputs (row n: the dinputs of sample n alone)",
        rtol=1e-9,
    )
