"""Chapter 03, hidden tests: held-back batch sizes, class counts and output widths, run only
in hidden (instructor) mode."""

from grader.api import check_array, check_scalar, hidden, np, points, pytest, reference
from grader.suites.common import class_targets, softmax as _softmax

ref = reference("ch03_losses")
pytestmark = hidden


def _labels(rng, N, C, form):
    return class_targets(rng.integers(0, C, size=N), C, form)


@points(1)
@pytest.mark.parametrize(
    "N,C,form",
    [(64, 10, "sparse"), (1, 2, "one-hot")],
    ids=["wide-batch-64x10-labels", "one-sample-two-classes-one-hot"],
)
def test_hidden_cce_other_shapes(student, oracle, N, C, form):
    """CategoricalCrossEntropy forward and backward on a wide batch and on a batch of one."""
    p, y = oracle.random(
        "inputs", lambda rng: (_softmax(2.0 * rng.normal(size=(N, C))), _labels(rng, N, C, form))
    )
    want = oracle.compute("want", lambda: ref.cce_forward(p, y))
    dwant = oracle.compute("dwant", lambda: ref.cce_backward(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: (
            [
                (
                    "-log p is summed over all C classes: only the probability of the true class counts",
                    -np.log(np.clip(p, 1e-7, 1 - 1e-7)).sum(axis=1),
                )
            ],
            [
                (
                    "the gradient must be zero outside the true class: multiply -1 / p by the one-hot labels",
                    -1.0 / np.clip(p, 1e-7, 1 - 1e-7) / N,
                ),
                (
                    "the gradient is divided by the number of classes C, not by the batch size N",
                    dwant * N / C,
                ),
            ],
        ),
    )
    loss = student.CategoricalCrossEntropy()
    inputs = {"y_pred": p, "y_true": y}
    check_array(
        loss.forward(p, y),
        want,
        call="CategoricalCrossEntropy.forward(y_pred, y_true)",
        inputs=inputs,
        known_bugs=bugs[0],
    )
    check_array(
        loss.backward(p, y),
        dwant,
        call="CategoricalCrossEntropy.backward(dvalues, y_true)",
        inputs=inputs,
        batch=N,
        known_bugs=bugs[1],
    )


@points(1)
@pytest.mark.parametrize(
    "N,C,form",
    [(40, 3, "sparse"), (1, 7, "one-hot")],
    ids=["wide-batch-40x3-labels", "one-sample-seven-classes-one-hot"],
)
def test_hidden_softmax_ce_other_shapes(student, oracle, N, C, form):
    """SoftmaxCrossEntropy: the mean loss, the stored probabilities and the fused gradient."""
    z, y = oracle.random(
        "inputs", lambda rng: (3.0 * rng.normal(size=(N, C)), _labels(rng, N, C, form))
    )
    want, probs = oracle.compute("want", lambda: ref.softmax_ce_forward(z, y))
    dwant = oracle.compute("dwant", lambda: ref.softmax_ce_backward(probs, y))
    backward_bugs = oracle.compute(
        "bugs",
        lambda: (
            [
                ("the one-hot labels are not subtracted: the gradient is (p - y) / N", probs / N),
                (
                    "1 is subtracted from every entry: subtract it only in the column of the true class",
                    (probs - 1) / N,
                ),
            ]
            + (
                [("the gradient is not divided by the batch size N: it is (p - y) / N", dwant * N)]
                if N > 1
                else []
            )
        ),
    )
    sce = student.SoftmaxCrossEntropy()
    call = "SoftmaxCrossEntropy.forward(inputs, y_true)"
    check_scalar(
        sce.forward(z, y),
        want,
        call=call,
        inputs={"inputs": z, "y_true": y},
        batch=N,
        what="mean loss",
        known_bugs=[
            ("forward returns the sum of the per-sample losses: return their mean", want * N)
        ]
        if N > 1
        else [],
    )
    check_array(sce.output, probs, call=call, what="stored self.output (the softmax probabilities)")
    check_array(
        sce.backward(probs, y),
        dwant,
        call="SoftmaxCrossEntropy.backward(dvalues, y_true)",
        inputs={"dvalues": probs, "y_true": y},
        batch=N,
        known_bugs=backward_bugs,
    )


@points(1)
@pytest.mark.parametrize("N,K", [(1, 6), (9, 5)], ids=["one-sample-six-outputs", "9x5"])
def test_hidden_bce_mse_mae_backward_wide_outputs(student, oracle, N, K):
    """The gradients of the mean over N samples and K outputs: every one divides by N * K."""
    p, t_bin, t_reg = oracle.random(
        "inputs",
        lambda rng: (
            rng.uniform(0.05, 0.95, size=(N, K)),
            rng.integers(0, 2, size=(N, K)).astype(np.float64),
            rng.normal(size=(N, K)),
        ),
    )
    cases = [
        ("BinaryCrossEntropy", "bce", t_bin),
        ("MeanSquaredError", "mse", t_reg),
        ("MeanAbsoluteError", "mae", t_reg),
    ]
    wants = oracle.compute(
        "want", lambda: {short: getattr(ref, f"{short}_backward")(p, t) for _, short, t in cases}
    )
    for name, short, t in cases:
        want = wants[short]
        bugs = [
            (
                "the gradient is not divided by the number of outputs K (forward averages over K)",
                want * K,
            ),
            ("the gradient is divided by neither N nor K", want * N * K),
        ]
        if short == "mse":
            bugs.append(("the factor 2 from the derivative of the square is missing", want / 2))
        check_array(
            getattr(student, name)().backward(p, t),
            want,
            call=f"{name}.backward(dvalues, y_true)",
            inputs={"dvalues": p, "y_true": t},
            batch=N,
            known_bugs=bugs,
        )
