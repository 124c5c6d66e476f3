"""Chapter 03: accuracy and binary accuracy."""

from grader.api import StudentError, check_scalar, fail, np, points, pytest, reference

ref = reference("ch03_losses")

ACCURACY_HINT = (
    "accuracy compares np.argmax(y_pred, axis=1), one predicted class per sample (shape (N,)), with "
    "the labels; one-hot rows (N, C) become labels by np.argmax(y_true, axis=1)."
)


def _accuracy_inputs(rng, N, C, labels):
    """Probabilities of a confident classifier: the first rows are exactly one-hot (hard
    predictions), the others a softmax; about a third of the labels are wrong."""
    z = rng.normal(scale=2.0, size=(N, C))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    hard = min(N, 4)
    p[:hard] = np.eye(C)[rng.integers(0, C, size=hard)]
    y = p.argmax(axis=1)
    wrong = rng.choice(N, size=N // 3 if N > 1 else rng.integers(0, 2), replace=False)
    y[wrong] = (y[wrong] + rng.integers(1, C, size=len(wrong))) % C
    return p, (np.eye(C)[y] if labels == "one-hot" else y)


def call_accuracy(fn, call, p, y):
    try:
        return fn(p, y)
    except StudentError as exc:
        if exc.kind != "exception":
            raise
        form = (
            f"one-hot rows of shape {y.shape}"
            if y.ndim == 2
            else f"integer labels of shape {y.shape}"
        )
        fail(
            f"{call} raised {exc.summary} when y_true is given as {form}",
            ACCURACY_HINT
            + ("\nTraceback (your code only):\n" + exc.details if exc.details else ""),
        )


@points(1)
@pytest.mark.parametrize("N,C,labels", [(1, 3, "sparse"), (12, 4, "sparse"), (12, 4, "one-hot")])
def test_accuracy_matches_reference(student, oracle, N, C, labels):
    p, y = oracle.random("inputs", lambda rng: _accuracy_inputs(rng, N, C, labels))
    want = oracle.compute("want", lambda: ref.accuracy(p, y))

    def wrong():
        t = y.argmax(axis=1) if y.ndim == 2 else y
        bugs = [
            (
                "np.argmax without axis=1 gives one index for the whole array: use np.argmax(y_pred, axis=1)",
                float(np.mean(np.argmax(p) == t)),
            )
        ]
        if y.ndim == 2:
            bugs.append(
                (
                    "the probabilities were compared with the one-hot labels directly: compare "
                    "np.argmax(y_pred, axis=1) with np.argmax(y_true, axis=1)",
                    float(np.mean(p == y)),
                )
            )
        if N > 1:
            bugs.append(
                (
                    "accuracy returns the number of correct samples: return the fraction (the mean)",
                    want * N,
                )
            )
        return bugs

    bugs = oracle.compute("bugs", wrong)
    call = "accuracy(y_pred, y_true)"
    got = call_accuracy(student.accuracy, call, p, y)
    check_scalar(got, want, call=call, inputs={"y_pred": p, "y_true": y}, known_bugs=bugs, batch=N)
    if N == 1:
        # One sample's accuracy is 0 or 1, which a constant can match: the same sample with
        # its label changed must give the other value.
        t = int(p.argmax(axis=1)[0])
        y2 = np.array([(t + 1) % C if want == 1.0 else t])
        y2 = np.eye(C)[y2] if labels == "one-hot" else y2
        want2 = oracle.compute("want2", lambda: ref.accuracy(p, y2))
        got2 = call_accuracy(student.accuracy, call, p, y2)
        check_scalar(got2, want2, call=call, inputs={"y_pred": p, "y_true": y2}, batch=N)


@points(1)
def test_accuracy_ties_go_to_the_first_maximum(student, oracle):
    """Like np.argmax, a row with tied maxima predicts the first of them."""
    p = np.array(
        [
            [0.4, 0.4, 0.2],
            [0.1, 0.45, 0.45],
            [1 / 3, 1 / 3, 1 / 3],
            [0.2, 0.3, 0.5],
            [0.0, 0.5, 0.5],
            [0.3, 0.3, 0.4],
        ]
    )
    y = np.array([0, 1, 0, 2, 1, 0])
    want = oracle.compute("want", lambda: ref.accuracy(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "a tie is given to the last maximum: np.argmax picks the first",
                float(np.mean((p.shape[1] - 1 - np.argmax(p[:, ::-1], axis=1)) == y)),
            ),
        ],
    )
    check_scalar(
        student.accuracy(p, y),
        want,
        call="accuracy(y_pred, y_true)",
        inputs={"y_pred": p, "y_true": y},
        known_bugs=bugs,
    )


def _binary_inputs(rng, N, K):
    """Probabilities with some exactly 0.5 (target 0 for the first, so > 0.5 and >= 0.5 differ)."""
    p = rng.uniform(0, 1, size=(N, K))
    y = rng.integers(0, 2, size=(N, K)).astype(np.float64)
    p.flat[0], y.flat[0] = 0.5, 0.0
    if p.size > 3:
        p.flat[3] = 0.5
    return p, y


@points(1)
@pytest.mark.parametrize("N,K", [(1, 3), (8, 2)])
def test_binary_accuracy_matches_reference(student, oracle, N, K):
    p, y = oracle.random("inputs", lambda rng: _binary_inputs(rng, N, K))
    want = oracle.compute("want", lambda: ref.binary_accuracy(p, y))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "a probability of exactly 0.5 is counted as 1: the prediction is 1 only when p > 0.5",
                float(np.mean((p >= 0.5) == y)),
            ),
            (
                "binary_accuracy returns the number of right answers: return the fraction (the mean over all N * K)",
                float(np.sum((p > 0.5) == y)),
            ),
            (
                "np.argmax was used: binary_accuracy thresholds every output at 0.5 instead",
                float(np.mean(np.argmax(p, axis=1)[:, None] == y)),
            ),
        ],
    )
    check_scalar(
        student.binary_accuracy(p, y),
        want,
        call="binary_accuracy(y_pred, y_true)",
        inputs={"y_pred": p, "y_true": y},
        known_bugs=bugs,
    )
