"""Chapter 03: softmax and cross-entropy fused into one step."""

from grader.api import (
    GradeFailure,
    check_array,
    check_gradient,
    check_scalar,
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
from grader.suites.common import softmax as _softmax

ref = reference("ch03_losses")

LABEL_HINT = (
    "y_true comes either as integer labels, shape (N,), or as one-hot rows, shape (N, C), and both "
    "must work: tell them apart by y_true.ndim (np.eye(C)[labels] turns labels into one-hot rows)."
)


def _inputs(rng, N, C, labels, scale=3.0):
    z, y = rng.normal(scale=scale, size=(N, C)), rng.integers(0, C, size=N)
    return z, (np.eye(C)[y] if labels == "one-hot" else y)


def call_with_labels(method, call, *args):
    """common.call_with_labels with this file's hint about the two forms of labels."""
    return _call_with_labels(method, call, *args, hint=LABEL_HINT)


CASES = [(1, 3, "sparse"), (6, 4, "sparse"), (5, 3, "one-hot")]


@points(1)
@pytest.mark.parametrize("N,C,labels", CASES)
def test_softmax_ce_forward_matches_reference(student, oracle, N, C, labels):
    z, y = oracle.random("inputs", lambda rng: _inputs(rng, N, C, labels))
    want, probs = oracle.compute("want", lambda: ref.softmax_ce_forward(z, y))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "the softmax is skipped: cross-entropy was taken of the raw logits",
                float(ref.cce_forward(z, y).mean()),
            ),
            ("forward returns the sum of the per-sample losses: return their mean", want * N),
        ],
    )
    sce = student.SoftmaxCrossEntropy()
    call = "SoftmaxCrossEntropy.forward(inputs, y_true)"
    got = call_with_labels(sce.forward, call, z, y)
    check_scalar(
        got,
        want,
        call=call,
        inputs={"inputs": z, "y_true": y},
        batch=N,
        known_bugs=bugs,
        what="mean loss",
    )
    check_array(sce.output, probs, call=call, what="stored self.output (the softmax probabilities)")


@pytest.mark.no_warnings(
    "the text asks for a softmax that never overflows: subtract each row's maximum first"
)
@points(2)
def test_softmax_ce_forward_huge_logits_stay_finite(student, oracle):
    """Logits of +-1000 underflow and overflow np.exp: the loss must stay finite (and clipped)."""
    z = np.array(
        [[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0], [500.0, 500.0, -500.0], [0.0, 0.0, 1000.0]]
    )
    y = np.array([0, 0, 1, 2])
    want, probs = oracle.compute("want", lambda: ref.softmax_ce_forward(z, y))
    sce = student.SoftmaxCrossEntropy()
    call = "SoftmaxCrossEntropy.forward(inputs, y_true)"
    got = sce.forward(z, y)
    check_array(
        sce.output,
        probs,
        call=call,
        inputs={"inputs": z},
        what="stored self.output",
        nonfinite_hint="np.exp overflows: subtract each row's maximum before np.exp (Softmax, chapter 02)",
    )
    check_scalar(
        got,
        want,
        call=call,
        inputs={"inputs": z, "y_true": y},
        what="mean loss",
        batch=len(y),
        nonfinite_hint="a probability underflowed to 0: clip the probabilities to [1e-7, 1 - 1e-7] "
        "before the log",
    )


@points(1)
@pytest.mark.parametrize("N,C,labels", CASES)
def test_softmax_ce_backward_matches_reference(student, oracle, N, C, labels):
    z, y = oracle.random("inputs", lambda rng: _inputs(rng, N, C, labels))
    probs = _softmax(z)
    want = oracle.compute("want", lambda: ref.softmax_ce_backward(probs, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            [
                ("the one-hot labels are not subtracted: the gradient is (p - y) / N", probs / N),
                (
                    "1 is subtracted from every entry: subtract it only in the column of the true class",
                    (probs - 1) / N,
                ),
                (
                    "that is the gradient with respect to the probabilities, -y / p / N; the fused gradient with respect "
                    "to the logits is (p - y) / N",
                    ref.cce_backward(probs, y),
                ),
            ]
            + (
                [("the gradient is not divided by the batch size N: it is (p - y) / N", want * N)]
                if N > 1
                else []
            )
        ),
    )
    sce = student.SoftmaxCrossEntropy()
    call = "SoftmaxCrossEntropy.backward(dvalues, y_true)"
    got = call_with_labels(sce.backward, call, probs, y)
    check_array(
        got, want, call=call, inputs={"dvalues": probs, "y_true": y}, batch=N, known_bugs=bugs
    )
    check_array(sce.dinputs, want, call=call, what="stored self.dinputs", batch=N)


@points(1)
@pytest.mark.parametrize("N,C,labels", [(4, 3, "sparse"), (4, 3, "one-hot")])
def test_softmax_ce_backward_passes_gradient_check(student, oracle, N, C, labels):
    """backward(self.output, y_true) is the gradient of forward's mean loss with respect to the
    logits: compare it with central differences of your own forward."""
    z, y = oracle.random("inputs", lambda rng: _inputs(rng, N, C, labels, scale=1.0))
    want, _ = oracle.compute("want", lambda: ref.softmax_ce_forward(z, y))
    sce = student.SoftmaxCrossEntropy()
    call = "SoftmaxCrossEntropy.forward(inputs, y_true)"
    value = call_with_labels(sce.forward, call, z, y)
    # The mean of whatever forward returns (one number, as specified), so that a forward
    # returning per-sample losses still gives the gradient of the mean loss.
    try:
        check_scalar(
            np.mean(np.asarray(value, dtype=np.float64)), want, call=call, batch=N, what="mean loss"
        )
    except (GradeFailure, TypeError, ValueError) as exc:
        fail(
            "the gradient check differentiates SoftmaxCrossEntropy.forward, whose value is wrong: fix it first "
            "(test_softmax_ce_forward_matches_reference)",
            getattr(exc, "summary", ""),
        )
    dout = np.full(np.shape(value), 1.0 / max(1, np.size(value)))
    numeric = numeric_gradient(sce.forward, z, y, wrt=0, dout=dout)
    sce.forward(z, y)
    call = "SoftmaxCrossEntropy.backward(self.output, y_true)"
    got = call_with_labels(sce.backward, call, sce.output, y)
    check_gradient(
        got,
        numeric,
        call=call,
        inputs={"logits": z, "y_true": y},
        batch=N,
        known_bugs=[
            (
                "the one-hot labels are not subtracted: the gradient is (p - y) / N",
                numeric + np.eye(C)[np.asarray(y).astype(int)] / N
                if labels == "sparse"
                else numeric + np.asarray(y) / N,
            )
        ],
    )


@points(1)
def test_softmax_ce_backward_leaves_dvalues_unchanged(student, oracle):
    """dvalues is normally self.output: backward must not subtract the labels from it in place.
    The right gradient comes first, and a second call on the same arrays must return it again."""
    z, y = oracle.random("inputs", lambda rng: _inputs(rng, 5, 3, "sparse"))
    probs = _softmax(z)
    want = oracle.compute("want", lambda: ref.softmax_ce_backward(probs, y))
    call = "SoftmaxCrossEntropy.backward(dvalues, y_true)"
    inputs = {"dvalues": probs, "y_true": y}
    kept = keep(student, probs)
    loss = student.SoftmaxCrossEntropy()
    check_array(loss.backward(kept, y), want, call=call, inputs=inputs)
    check_unchanged(
        kept,
        probs,
        call=call,
        name="dvalues",
        advice="dvalues is normally self.output, the probabilities of the forward pass: compute "
        "the gradient in a new array, e.g. dinputs = dvalues.copy() before subtracting, or "
        "(dvalues - onehot) / N.",
    )
    check_array(loss.backward(kept, y), want, call=again_note(call), inputs=inputs)
