"""Chapter 03: the four losses (values, clipping, gradients) and Loss.calculate."""

from hypothesis import example, given
from hypothesis import strategies as st

from grader.api import (
    GradeFailure,
    StudentError,
    check_array,
    check_gradient,
    check_scalar,
    check_true,
    fail,
    keep,
    np,
    numeric_gradient,
    points,
    pytest,
    reference,
)
from grader.suites.common import again_note, check_unchanged
from grader.suites.common import call_with_labels as _call_with_labels
from grader.suites.common import correct_first

ref = reference("ch03_losses")

EPS = 1e-7
LABEL_HINT = (
    "y_true comes either as integer labels, shape (N,), or as one-hot rows, shape (N, C), and both "
    "must work: tell them apart by y_true.ndim (one-hot rows: multiply and sum along axis 1, or "
    "take np.argmax(y_true, axis=1) first)."
)


# ------------------------------------------------------------------------------ inputs


def _softmax_probs(rng, N, C, scale=2.0):
    z = rng.normal(scale=scale, size=(N, C))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _classification(rng, N, C, labels):
    p, y = _softmax_probs(rng, N, C), rng.integers(0, C, size=N)
    return p, (np.eye(C)[y] if labels == "one-hot" else y)


def _binary(rng, N, K):
    return rng.uniform(0.02, 0.98, size=(N, K)), rng.integers(0, 2, size=(N, K)).astype(np.float64)


def _regression(rng, N, K):
    """Predictions and targets at least 0.2 apart (MAE's gradient is a sign: keep away from 0)."""
    p = rng.normal(size=(N, K))
    return p, p + rng.choice([-1.0, 1.0], size=(N, K)) * rng.uniform(0.2, 2.0, size=(N, K))


def _clip(p, eps=EPS):
    return np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)


KEEPDIMS = "keepdims=True leaves a column axis: forward returns one loss per sample, shape (N,)"


def _reduction_bugs(per_output):
    """Wrong reductions of the (N, K) losses of the single outputs (forward of BCE, MSE, MAE)."""
    return [
        (
            "the mean is taken over the batch axis (axis=0): average over the K outputs of each sample (axis=1)",
            per_output.mean(axis=0),
        ),
        (
            "the mean is taken over the whole array: forward returns one loss per sample, shape (N,)",
            per_output.mean(),
        ),
        ("the K outputs of a sample are summed: take their mean (axis=1)", per_output.sum(axis=1)),
        (KEEPDIMS, per_output.mean(axis=1, keepdims=True)),
    ]


def call_with_labels(method, call, *args):
    """common.call_with_labels with this file's hint about the two forms of labels."""
    return _call_with_labels(method, call, *args, hint=LABEL_HINT)


def as_floats(got, call, what="an array of per-sample losses, shape (N,)"):
    """A student's result as a float array, for the property tests that compare it with itself."""
    try:
        arr = None if got is None else np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None:
        fail(
            f"{call} returned {type(got).__name__} instead of {what}",
            "Did you forget a `return` statement?" if got is None else "Return a numpy array.",
        )
    return arr


# ------------------------------------------------------------------ categorical cross-entropy

CCE_SHAPES = [(1, 3), (5, 4), (8, 10)]


@points(1)
@pytest.mark.parametrize("labels", ["sparse", "one-hot"])
@pytest.mark.parametrize("N,C", CCE_SHAPES)
def test_cce_forward_matches_reference(student, oracle, N, C, labels):
    p, y = oracle.random("inputs", lambda rng: _classification(rng, N, C, labels))
    want = oracle.compute("want", lambda: ref.cce_forward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "-log p is summed over all C classes: only the probability of the true class counts",
                -np.log(_clip(p)).sum(axis=1),
            ),
            (
                "the loss is averaged over the C classes (np.mean along axis 1): sum y_true * log p instead",
                want / C,
            ),
            ("log base 10 was used: use the natural logarithm np.log", want / np.log(10)),
            (KEEPDIMS, want[:, None]),
        ],
    )
    call = "CategoricalCrossEntropy.forward(y_pred, y_true)"
    got = call_with_labels(student.CategoricalCrossEntropy().forward, call, p, y)
    check_array(got, want, call=call, inputs={"y_pred": p, "y_true": y}, known_bugs=bugs)


@points(1)
@pytest.mark.parametrize("labels", ["sparse", "one-hot"])
@pytest.mark.parametrize("N,C", CCE_SHAPES)
def test_cce_backward_matches_reference(student, oracle, N, C, labels):
    p, y = oracle.random("inputs", lambda rng: _classification(rng, N, C, labels))
    want = oracle.compute("want", lambda: ref.cce_backward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            [
                (
                    "the gradient must be zero outside the true class: multiply -1 / p by the one-hot labels",
                    -1.0 / _clip(p) / N,
                ),
                (
                    "the gradient is divided by the number of classes C, not by the batch size N",
                    want * N / C,
                ),
            ]
            + (
                [
                    (
                        "the one-hot rows were one-hot encoded again (np.eye(C)[y_true] has shape (N, C, C)): convert y_true "
                        "only when it holds integer labels (y_true.ndim == 1)",
                        -np.eye(C)[y.astype(int)] / _clip(p) / N,
                    )
                ]
                if labels == "one-hot" and N in (1, C)
                else []
            )
        ),
    )  # other shapes do not broadcast: an exception
    loss = student.CategoricalCrossEntropy()
    call = "CategoricalCrossEntropy.backward(dvalues, y_true)"
    got = call_with_labels(loss.backward, call, p, y)
    check_array(got, want, call=call, inputs={"dvalues": p, "y_true": y}, batch=N, known_bugs=bugs)
    check_array(loss.dinputs, want, call=call, what="stored self.dinputs", batch=N)


# Rows whose true class has probability exactly 0 (a softmax that underflowed).
P_ZERO = np.array([[0.0, 1.0, 0.0], [0.0, 0.3, 0.7], [0.25, 0.75, 0.0], [0.5, 0.5, 0.0]])
Y_ZERO = np.array([0, 0, 2, 1])
# Rows whose true class has probability exactly 1.
P_ONE = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]])
Y_ONE = np.array([0, 1, 2])
CLIP_LOG = "clip the probabilities to [1e-7, 1 - 1e-7] with np.clip before the log: -log(0) is inf"
CLIP_DIV = "clip dvalues to [1e-7, 1 - 1e-7] with np.clip before dividing by them: -1 / 0 is inf"


@pytest.mark.no_warnings("clip the probabilities before the log, as the text says")
@points(2)
def test_cce_forward_probability_zero_is_clipped(student, oracle):
    want = oracle.compute("want", lambda: ref.cce_forward(P_ZERO, Y_ZERO))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                f"the probabilities are clipped at {e:g} instead of EPSILON = 1e-7: a probability of 0 must cost "
                f"-log(1e-7) = {-np.log(EPS):.4f}",
                -np.log(_clip(P_ZERO, e)[np.arange(4), Y_ZERO]),
            )
            for e in (1e-15, 1e-12, 1e-10, 1e-8)
        ],
    )
    got = student.CategoricalCrossEntropy().forward(P_ZERO, Y_ZERO)
    check_array(
        got,
        want,
        call="CategoricalCrossEntropy.forward(y_pred, y_true)",
        inputs={"y_pred": P_ZERO, "y_true": Y_ZERO},
        known_bugs=bugs,
        nonfinite_hint=CLIP_LOG,
    )


@pytest.mark.no_warnings("clip the probabilities before the log, as the text says")
@points(1)
def test_cce_forward_probability_one_is_clipped(student, oracle):
    want = oracle.compute("want", lambda: ref.cce_forward(P_ONE, Y_ONE))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "the probabilities are not clipped from above: clip to [1e-7, 1 - 1e-7], so that p = 1 costs "
                "-log(1 - 1e-7), about 1e-7, not 0",
                -np.log(np.maximum(P_ONE[np.arange(3), Y_ONE], EPS)),
            ),
        ],
    )
    got = student.CategoricalCrossEntropy().forward(P_ONE, Y_ONE)
    check_array(
        got,
        want,
        call="CategoricalCrossEntropy.forward(y_pred, y_true)",
        inputs={"y_pred": P_ONE, "y_true": Y_ONE},
        known_bugs=bugs,
        nonfinite_hint=CLIP_LOG,
    )


@pytest.mark.no_warnings("clip dvalues before dividing by them, as the text says")
@points(1)
def test_cce_backward_probability_zero_is_clipped(student, oracle):
    want = oracle.compute("want", lambda: ref.cce_backward(P_ZERO, Y_ZERO))
    got = student.CategoricalCrossEntropy().backward(P_ZERO, Y_ZERO)
    check_array(
        got,
        want,
        call="CategoricalCrossEntropy.backward(dvalues, y_true)",
        inputs={"dvalues": P_ZERO, "y_true": Y_ZERO},
        batch=len(Y_ZERO),
        nonfinite_hint=CLIP_DIV,
    )


# ------------------------------------------------------------------------ binary cross-entropy

BIN_SHAPES = [(1, 3), (6, 2), (5, 1)]


def _bce_per_output(p, y):
    """(N, K) binary cross-entropy of every output, before the mean over K."""
    return -(y * np.log(_clip(p)) + (1 - y) * np.log(1 - _clip(p)))


@points(1)
@pytest.mark.parametrize("N,K", BIN_SHAPES)
def test_bce_forward_matches_reference(student, oracle, N, K):
    p, y = oracle.random("inputs", lambda rng: _binary(rng, N, K))
    want = oracle.compute("want", lambda: ref.bce_forward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            _reduction_bugs(_bce_per_output(p, y))
            + [
                (
                    "the terms are swapped: y log p goes with y = 1, (1 - y) log(1 - p) with y = 0",
                    ref.bce_forward(p, 1 - y),
                ),
            ]
        ),
    )
    got = student.BinaryCrossEntropy().forward(p, y)
    check_array(
        got,
        want,
        call="BinaryCrossEntropy.forward(y_pred, y_true)",
        inputs={"y_pred": p, "y_true": y},
        known_bugs=bugs,
    )


@points(1)
@pytest.mark.parametrize("N,K", BIN_SHAPES)
def test_bce_backward_matches_reference(student, oracle, N, K):
    p, y = oracle.random("inputs", lambda rng: _binary(rng, N, K))
    want = oracle.compute("want", lambda: ref.bce_backward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            [
                (
                    "the gradient is not divided by the number of outputs K (forward averages over K)",
                    want * K,
                ),
                ("the gradient is divided by neither N nor K", want * N * K),
            ]
            if K > 1
            else []
        ),
    )
    loss = student.BinaryCrossEntropy()
    got = loss.backward(p, y)
    call = "BinaryCrossEntropy.backward(dvalues, y_true)"
    check_array(got, want, call=call, inputs={"dvalues": p, "y_true": y}, batch=N, known_bugs=bugs)
    check_array(loss.dinputs, want, call=call, what="stored self.dinputs")


# Exact 0 and 1 with both targets: log(0) and log(1 - 1) without clipping.
P_EDGE = np.array([[0.0, 1.0, 0.3], [1.0, 0.0, 0.5]])
Y_EDGE = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 0.0]])
BCE_CLIP = "clip the probabilities to [1e-7, 1 - 1e-7] with np.clip before log(p) and log(1 - p)"


@pytest.mark.no_warnings("clip the probabilities before the logs, as the text says")
@points(1)
def test_bce_forward_probabilities_zero_and_one_are_clipped(student, oracle):
    want = oracle.compute("want", lambda: ref.bce_forward(P_EDGE, Y_EDGE))
    bugs = oracle.compute("bugs", lambda: _reduction_bugs(_bce_per_output(P_EDGE, Y_EDGE)))
    got = student.BinaryCrossEntropy().forward(P_EDGE, Y_EDGE)
    check_array(
        got,
        want,
        call="BinaryCrossEntropy.forward(y_pred, y_true)",
        inputs={"y_pred": P_EDGE, "y_true": Y_EDGE},
        known_bugs=bugs,
        nonfinite_hint=BCE_CLIP,
    )


@pytest.mark.no_warnings("clip dvalues before dividing by them, as the text says")
@points(1)
def test_bce_backward_probabilities_zero_and_one_are_clipped(student, oracle):
    want = oracle.compute("want", lambda: ref.bce_backward(P_EDGE, Y_EDGE))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "the gradient is not divided by the number of outputs K (forward averages over K)",
                want * 3,
            )
        ],
    )
    got = student.BinaryCrossEntropy().backward(P_EDGE, Y_EDGE)
    check_array(
        got,
        want,
        call="BinaryCrossEntropy.backward(dvalues, y_true)",
        inputs={"dvalues": P_EDGE, "y_true": Y_EDGE},
        batch=2,
        known_bugs=bugs,
        nonfinite_hint="clip dvalues to [1e-7, 1 - 1e-7] with np.clip before dividing by p and 1 - p",
    )


# ------------------------------------------------------------------- regression losses

REG_SHAPES = [(1, 3), (7, 2)]


@points(1)
@pytest.mark.parametrize("N,K", REG_SHAPES)
def test_mse_forward_matches_reference(student, oracle, N, K):
    p, y = oracle.random("inputs", lambda rng: _regression(rng, N, K))
    want = oracle.compute("want", lambda: ref.mse_forward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            _reduction_bugs((y - p) ** 2)
            + [
                (
                    "the differences are not squared (that is the mean absolute error)",
                    ref.mae_forward(p, y),
                ),
                ("the root of the mean square was taken: MSE has no square root", np.sqrt(want)),
            ]
        ),
    )
    got = student.MeanSquaredError().forward(p, y)
    check_array(
        got,
        want,
        call="MeanSquaredError.forward(y_pred, y_true)",
        inputs={"y_pred": p, "y_true": y},
        known_bugs=bugs,
    )


@points(1)
@pytest.mark.parametrize("N,K", REG_SHAPES)
def test_mse_backward_matches_reference(student, oracle, N, K):
    p, y = oracle.random("inputs", lambda rng: _regression(rng, N, K))
    want = oracle.compute("want", lambda: ref.mse_backward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            [
                ("the factor 2 from the derivative of the square is missing", want / 2),
                (
                    "the sign is flipped: the derivative of (y_true - y_pred)^2 with respect to y_pred is "
                    "-2 (y_true - y_pred)",
                    -want,
                ),
            ]
            + (
                [
                    (
                        "the gradient is not divided by the number of outputs K (forward averages over K)",
                        want * K,
                    ),
                    ("the factor 2 is missing and the gradient is not divided by K", want * K / 2),
                ]
                if K > 1
                else []
            )
        ),
    )
    loss = student.MeanSquaredError()
    got = loss.backward(p, y)
    check_array(
        got,
        want,
        call="MeanSquaredError.backward(dvalues, y_true)",
        inputs={"dvalues": p, "y_true": y},
        batch=N,
        known_bugs=bugs,
    )
    check_array(
        loss.dinputs,
        want,
        call="MeanSquaredError.backward(dvalues, y_true)",
        what="stored self.dinputs",
    )


@points(1)
@pytest.mark.parametrize("N,K", REG_SHAPES)
def test_mae_forward_matches_reference(student, oracle, N, K):
    p, y = oracle.random("inputs", lambda rng: _regression(rng, N, K))
    want = oracle.compute("want", lambda: ref.mae_forward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            _reduction_bugs(np.abs(y - p))
            + [
                (
                    "the absolute value is missing: |y_true - y_pred| (np.abs)",
                    (np.asarray(y) - p).mean(axis=1),
                ),
            ]
        ),
    )
    got = student.MeanAbsoluteError().forward(p, y)
    check_array(
        got,
        want,
        call="MeanAbsoluteError.forward(y_pred, y_true)",
        inputs={"y_pred": p, "y_true": y},
        known_bugs=bugs,
    )


@points(1)
@pytest.mark.parametrize("N,K", REG_SHAPES)
def test_mae_backward_matches_reference(student, oracle, N, K):
    p, y = oracle.random("inputs", lambda rng: _regression(rng, N, K))
    want = oracle.compute("want", lambda: ref.mae_backward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            [
                (
                    "the sign is flipped: the gradient is sign(y_pred - y_true) / (N K), positive where the prediction "
                    "is too large",
                    -want,
                ),
            ]
            + (
                [
                    (
                        "the gradient is not divided by the number of outputs K (forward averages over K)",
                        want * K,
                    )
                ]
                if K > 1
                else []
            )
        ),
    )
    loss = student.MeanAbsoluteError()
    got = loss.backward(p, y)
    check_array(
        got,
        want,
        call="MeanAbsoluteError.backward(dvalues, y_true)",
        inputs={"dvalues": p, "y_true": y},
        batch=N,
        known_bugs=bugs,
    )
    check_array(
        loss.dinputs,
        want,
        call="MeanAbsoluteError.backward(dvalues, y_true)",
        what="stored self.dinputs",
    )


@points(1)
def test_mae_backward_is_zero_where_prediction_equals_target(student, oracle):
    """The docstring: sign(dvalues - y_true) / K / N, 0 where a prediction equals its target
    (a tie), not +1 or -1."""
    p, y = oracle.random("inputs", lambda rng: _regression(rng, 3, 4))
    y = y.copy()
    y[0, 1], y[1, 3], y[2, 0] = p[0, 1], p[1, 3], p[2, 0]  # three exact ties
    want = oracle.compute("want", lambda: ref.mae_backward(p, y))
    diff = p - y
    bugs = [
        (
            "a prediction equal to its target gets gradient +1/(N K): np.sign gives 0 there "
            "(the absolute value has no slope at its minimum; the course takes 0)",
            np.where(diff >= 0, 1.0, -1.0) / 4 / 3,
        ),
        (
            "a prediction equal to its target gets gradient -1/(N K): np.sign gives 0 there",
            np.where(diff > 0, 1.0, -1.0) / 4 / 3,
        ),
    ]
    check_array(
        student.MeanAbsoluteError().backward(p, y),
        want,
        call="MeanAbsoluteError.backward(dvalues, y_true) with three predictions equal to "
        "their targets",
        inputs={"dvalues": p, "y_true": y},
        batch=3,
        known_bugs=bugs,
    )


# ----------------------------------------------------------------------- gradient checks

GRADIENT_CASES = {  # id: (class, form of the labels, reference prefix)
    "CategoricalCrossEntropy-sparse": ("CategoricalCrossEntropy", "sparse", "cce"),
    "CategoricalCrossEntropy-one-hot": ("CategoricalCrossEntropy", "one-hot", "cce"),
    "BinaryCrossEntropy": ("BinaryCrossEntropy", None, "bce"),
    "MeanSquaredError": ("MeanSquaredError", None, "mse"),
    "MeanAbsoluteError": ("MeanAbsoluteError", None, "mae"),
}


def _gradient_inputs(rng, name, labels, N, K):
    """Inputs away from the clip bounds and from MAE's kink."""
    if name == "CategoricalCrossEntropy":
        u = rng.uniform(
            1.0, 3.0, size=(N, K)
        )  # rows normalised: every entry in [1/7, 3/5] for K = 3
        y = rng.integers(0, K, size=N)
        return u / u.sum(axis=1, keepdims=True), (np.eye(K)[y] if labels == "one-hot" else y)
    if name == "BinaryCrossEntropy":
        return rng.uniform(0.05, 0.95, size=(N, K)), rng.integers(0, 2, size=(N, K)).astype(
            np.float64
        )
    return _regression(rng, N, K)


def numeric_mean_loss_gradient(loss, p, y, per_sample_losses):
    """Central differences of the student's mean loss: of ``calculate`` when it is the mean of
    ``forward``; otherwise (a calculate bug is graded elsewhere) of the mean of ``forward``."""
    try:
        mean = float(np.asarray(loss.calculate(p, y), dtype=np.float64).reshape(()))
    except (StudentError, TypeError, ValueError):
        mean = None
    if mean is not None and np.isclose(mean, per_sample_losses.mean(), rtol=1e-9, atol=1e-12):
        return numeric_gradient(loss.calculate, p, y, wrt=0, dout=1.0)
    return numeric_gradient(
        loss.forward, p, y, wrt=0, dout=np.full(per_sample_losses.shape, 1.0 / len(y))
    )


@points(1)
@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_loss_backward_passes_gradient_check(student, oracle, case):
    """backward(y_pred, y_true) is the gradient of the mean loss: compare it with central
    differences of your own forward pass, (L(p + h) - L(p - h)) / 2h one entry at a time."""
    name, labels, short = GRADIENT_CASES[case]
    N, K = 4, 3
    p, y = oracle.random("inputs", lambda rng: _gradient_inputs(rng, name, labels, N, K))
    want_losses = oracle.compute("forward", lambda: getattr(ref, f"{short}_forward")(p, y))
    loss = getattr(student, name)()
    call, fcall = f"{name}.backward(dvalues, y_true)", f"{name}.forward(y_pred, y_true)"
    per = call_with_labels(loss.forward, fcall, p, y) if labels else loss.forward(p, y)
    flat = per
    try:  # a column (N, 1) of right values still has the right mean: the gradient check can run
        if np.size(per) == N:
            flat = np.asarray(per, dtype=np.float64).reshape(N)
    except (TypeError, ValueError):
        pass
    try:
        check_array(flat, want_losses, call=fcall, inputs={"y_pred": p, "y_true": y})
    except GradeFailure as exc:
        fail(
            f"the gradient check of {call} differentiates your forward, which is wrong: fix it first "
            f"(test_{short}_forward_matches_reference)",
            exc.summary,
        )
    numeric = numeric_mean_loss_gradient(loss, p, y, np.asarray(per, dtype=np.float64))
    got = call_with_labels(loss.backward, call, p, y) if labels else loss.backward(p, y)
    bugs = {
        "MeanSquaredError": [
            ("the factor 2 from the derivative of the square is missing", numeric / 2)
        ],
        "MeanAbsoluteError": [
            ("the sign is flipped: the gradient is sign(y_pred - y_true) / (N K)", -numeric)
        ],
    }.get(name, [])
    if name != "CategoricalCrossEntropy":
        bugs.append(
            (
                "the gradient is not divided by the number of outputs K (forward averages over K)",
                numeric * K,
            )
        )
    check_gradient(
        got, numeric, call=call, inputs={"dvalues": p, "y_true": y}, batch=N, known_bugs=bugs
    )


# ------------------------------------------------------------------------ properties

LOSSES = ["CategoricalCrossEntropy", "BinaryCrossEntropy", "MeanSquaredError", "MeanAbsoluteError"]


def _any_inputs(rng, name, N, K):
    if name == "CategoricalCrossEntropy":
        return _softmax_probs(rng, N, K + 1), rng.integers(0, K + 1, size=N)
    if name == "BinaryCrossEntropy":
        return rng.uniform(0, 1, size=(N, K)), rng.integers(0, 2, size=(N, K)).astype(np.float64)
    return rng.normal(size=(N, K)), rng.normal(size=(N, K))


SHORT = {
    "CategoricalCrossEntropy": "cce",
    "BinaryCrossEntropy": "bce",
    "MeanSquaredError": "mse",
    "MeanAbsoluteError": "mae",
}


def _values_first(student, oracle, name, methods=("forward",)):
    """The properties below count only when the loss's values are right (a loss returning a
    constant has them all): its forward (and backward) on one batch against the reference."""
    short = SHORT[name]
    for method in methods:

        def check(method=method):
            p, y = oracle.random(f"{short}-inputs", lambda rng: _any_inputs(rng, name, 4, 3))
            want = oracle.compute(
                f"{short}-{method}", lambda: getattr(ref, f"{short}_{method}")(p, y)
            )
            check_array(
                getattr(getattr(student, name)(), method)(p, y),
                want,
                call=f"{name}.{method}(y_pred, y_true)",
                inputs={"y_pred": p, "y_true": y},
            )

        correct_first(oracle, check, fix=f"test_{short}_{method}_matches_reference")


@points(1)
@pytest.mark.parametrize("name", LOSSES)
@example(N=3, K=2, seed=1)  # the grader does not shrink: a small typical batch (N > 1) first
@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_loss_calculate_is_mean_of_forward(student, oracle, name, N, K, seed):
    """calculate(y_pred, y_true) is the mean of forward(y_pred, y_true): the loss of a batch is
    the average of the losses of its samples."""
    _values_first(student, oracle, name)
    p, y = _any_inputs(np.random.default_rng(seed), name, N, K)
    loss = getattr(student, name)()
    per = as_floats(loss.forward(p, y), f"{name}.forward(y_pred, y_true)")
    check_scalar(
        loss.calculate(p, y),
        per.mean(),
        call=f"{name}.calculate(y_pred, y_true)",
        inputs={"y_pred": p, "y_true": y},
        batch=N,
        what="value (should be the mean of your forward)",
        known_bugs=[
            ("calculate returns the sum of the per-sample losses: return their mean", per.sum())
        ],
    )


@points(1)
@pytest.mark.parametrize("name", LOSSES)
@example(N=4, K=2, seed=1)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_loss_forward_nonnegative_and_permutes_with_batch(student, oracle, name, N, K, seed):
    """One non-negative loss per sample: shuffling the batch shuffles the losses the same way."""
    _values_first(student, oracle, name)
    rng = np.random.default_rng(seed)
    p, y = _any_inputs(rng, name, N, K)
    perm = rng.permutation(N)
    loss = getattr(student, name)()
    call = f"{name}.forward(y_pred, y_true)"
    out = as_floats(loss.forward(p, y), call)
    check_true(
        out.shape == (N,),
        f"{call} returned shape {out.shape}, expected ({N},): one loss per sample",
        f"y_pred of shape {p.shape}. Reduce over the outputs of each sample (axis=1), not over the batch.",
    )
    check_true(
        np.all(np.isfinite(out)),
        f"{call} returned NaN or inf for ordinary inputs",
        f"y_pred of shape {p.shape}, losses {out}.",
    )
    check_true(
        np.all(out >= 0),
        f"{call} returned a negative loss ({out.min():.4g}): losses are never negative",
        f"y_pred of shape {p.shape}, losses {out}. Check the sign of your formula.",
    )
    check_array(
        loss.forward(p[perm], y[perm]),
        out[perm],
        call=f"{name}.forward(y_pred[perm], y_true[perm])",
        inputs={"y_pred": p},
        what="output (should be the losses of forward(y_pred, y_true), permuted)",
    )


@points(1)
@example(N=3, C=4, seed=1)
@given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2**31 - 1))
def test_cce_one_hot_labels_equal_sparse_labels(student, oracle, N, C, seed):
    """The same labels as integers (N,) or as one-hot rows (N, C) give the same losses and gradient."""
    _values_first(student, oracle, "CategoricalCrossEntropy", ("forward", "backward"))
    rng = np.random.default_rng(seed)
    p, y = _softmax_probs(rng, N, C), rng.integers(0, C, size=N)
    onehot = np.eye(C)[y]
    loss = student.CategoricalCrossEntropy()
    for method in ("forward", "backward"):
        call = f"CategoricalCrossEntropy.{method}"
        sparse = call_with_labels(getattr(loss, method), call + "(y_pred, labels)", p, y)
        dense = call_with_labels(getattr(loss, method), call + "(y_pred, one-hot rows)", p, onehot)
        want = as_floats(sparse, call + "(y_pred, labels)", "an array")
        check_array(
            dense,
            want,
            call=call + "(y_pred, one_hot(labels))",
            inputs={"y_pred": p, "labels": y},
            what="output (should equal the output with the same labels as integers)",
        )


# ------------------------------------------------------------------------ side effects


@points(1)
def test_losses_leave_their_inputs_unchanged(student, oracle):
    """forward and backward must not clip or modify the caller's arrays in place. The right
    values come first (leaving the arguments alone earns nothing on its own), and a second
    call on the same arrays must return them again."""
    cases = [
        ("CategoricalCrossEntropy", "cce_forward", "cce_backward", P_ZERO, Y_ZERO),
        ("BinaryCrossEntropy", "bce_forward", "bce_backward", P_EDGE, Y_EDGE),
        ("MeanSquaredError", "mse_forward", "mse_backward", P_EDGE, Y_EDGE),
        ("MeanAbsoluteError", "mae_forward", "mae_backward", P_EDGE, Y_EDGE),
    ]  # the reference's names: it is looked up only in hidden mode (public mode has fixtures)
    advice = (
        "Work on a new array (np.clip(p, ...) returns one; avoid out=..., -=, /= on the "
        "arguments): the caller still needs the predictions and targets it passed."
    )
    for name, ref_forward, ref_backward, p, y in cases:
        for method, ref_fn in (("forward", ref_forward), ("backward", ref_backward)):
            want = oracle.compute(f"{name}.{method}", lambda: getattr(ref, ref_fn)(p, y))
            call = f"{name}.{method}({'y_pred' if method == 'forward' else 'dvalues'}, y_true)"
            inputs = {"y_pred": p, "y_true": y}
            kept_p, kept_y = keep(student, p), keep(student, y)
            fn = getattr(getattr(student, name)(), method)
            check_array(fn(kept_p, kept_y), want, call=call, inputs=inputs)
            for arg, kept, value in (("y_pred", kept_p, p), ("y_true", kept_y, y)):
                check_unchanged(kept, value, call=call, name=arg, advice=advice)
            check_array(fn(kept_p, kept_y), want, call=again_note(call), inputs=inputs)
