"""Chapter 08: the accuracy objects (categorical, binary, regression)."""

from grader.api import StudentError, check_scalar, fail, np, points, pytest, reference

ref = reference("ch08_model")


@points(1)
@pytest.mark.parametrize("targets", ["labels", "one-hot"])
def test_accuracy_categorical_matches_reference(student, oracle, targets):
    preds, labels = oracle.random(
        "inputs", lambda rng: (rng.integers(0, 4, size=12), rng.integers(0, 4, size=12))
    )
    y = np.eye(4, dtype=np.int64)[labels] if targets == "one-hot" else labels
    want = oracle.compute("want", lambda: ref.accuracy_value("AccuracyCategorical", preds, y))
    advice = "one-hot targets are compared as they are: turn (N, C) one-hot rows into labels with argmax first"
    try:
        got = student.AccuracyCategorical().calculate(preds, y)
    except StudentError as exc:
        if targets == "one-hot" and "broadcast" in exc.summary:
            # Both a missing argmax and one over the wrong axis (axis=0 gives one index per
            # class, shape (C,)) end here: say what is needed, not which of the two it was.
            fail(
                "AccuracyCategorical().calculate(predictions, y) with one-hot y: the targets did not "
                "become one label per sample: np.argmax(y, axis=1) turns each (N, C) one-hot row "
                "into its label",
                f"{exc.summary}\npredictions have shape (12,), y (12, 4).",
            )
        raise
    hint = (
        [
            (advice, float(np.mean(preds[:, None] == y))),
            (
                "np.argmax(y) without axis=1 gives one index for the whole array: use "
                "np.argmax(y, axis=1), one label per row",
                float(np.mean(preds == np.argmax(y))),
            ),
        ]
        if targets == "one-hot"
        else []
    )
    check_scalar(
        got,
        want,
        call=f"AccuracyCategorical().calculate(predictions, y) with {targets} y",
        inputs={"predictions": preds, "y": y},
        known_bugs=hint,
    )


@points(1)
def test_accuracy_binary_matches_reference(student, oracle):
    preds, y = oracle.random(
        "inputs", lambda rng: (rng.integers(0, 2, size=(9, 3)), rng.integers(0, 2, size=(9, 3)))
    )
    want = oracle.compute("want", lambda: ref.accuracy_value("AccuracyBinary", preds, y))
    check_scalar(
        student.AccuracyBinary().calculate(preds, y),
        want,
        call="AccuracyBinary().calculate(predictions, y)",
        inputs={"predictions": preds, "y": y},
        known_bugs=[
            (
                "only whole rows that are entirely right are counted: every output counts "
                "on its own",
                float(np.mean(np.all(preds == y, axis=1))),
            )
        ],
    )


@points(2)
def test_accuracy_regression_precision_from_targets(student, oracle):
    """init(y) sets precision = std(y) / 250; calculate counts |prediction - y| < precision."""
    y, noise = oracle.random(
        "inputs", lambda rng: (rng.normal(2.0, 3.0, size=(40, 2)), rng.normal(size=(40, 2)))
    )
    precision = oracle.compute("precision", lambda: ref.regression_precision(y))
    preds = y + 1.5 * precision * noise  # about two thirds within the precision
    want = oracle.compute(
        "want", lambda: ref.accuracy_value("AccuracyRegression", preds, y, precision)
    )
    acc = student.AccuracyRegression()
    acc.init(y)
    got_precision = acc.precision
    check_scalar(
        got_precision,
        precision,
        call="AccuracyRegression().init(y)",
        what="precision",
        inputs={"y": y},
        known_bugs=[
            ("precision is std(y) without dividing by 250", float(np.std(y))),
            (
                "precision uses the variance instead of the standard deviation",
                float(np.var(y) / 250),
            ),
            (
                "precision uses the standard deviation of each column: use np.std(y) of all entries",
                float(np.std(y, axis=0)[0] / 250),
            ),
        ],
    )
    check_scalar(
        acc.calculate(preds, y),
        want,
        call="AccuracyRegression.calculate(predictions, y)",
        inputs={"predictions": preds, "y": y},
    )


@points(1)
def test_accuracy_regression_keeps_a_given_precision(student):
    y = np.linspace(0.0, 10.0, 8).reshape(-1, 1)
    acc = student.AccuracyRegression(precision=0.5)
    acc.init(y)
    got = acc.precision
    if got is None:
        fail(
            "AccuracyRegression(precision=0.5).init(y) set the precision to None",
            "init may only choose a precision when none was given (precision is None) or reinit=True.",
        )
    check_scalar(
        got,
        0.5,
        call="AccuracyRegression(precision=0.5).init(y)",
        what="precision (init changed the precision: a given one is kept, init chooses one "
        "only when none was given or reinit=True)",
        rtol=0,
        atol=1e-12,
    )
    acc.init(y, reinit=True)
    got = acc.precision
    want = float(np.std(y) / 250)
    if got is None:
        fail("AccuracyRegression.init(y, reinit=True) set the precision to None")
    check_scalar(
        got,
        want,
        call="AccuracyRegression.init(y, reinit=True)",
        what="precision (reinit=True chooses std(y) / 250 again)",
        inputs={"y": y},
        rtol=0,
        atol=1e-12,
    )
    preds = y + np.array([[0.0], [0.01], [0.02], [0.5], [-0.01], [0.0], [1.0], [-0.5]])
    check_scalar(
        acc.calculate(preds, y),
        float(np.mean(np.abs(preds - y) < want)),
        call="AccuracyRegression.calculate(predictions, y)",
        inputs={"predictions": preds},
    )


@points(1)
def test_accuracy_regression_is_strict_at_the_precision(student, oracle):
    """The docstring: a prediction is right when |prediction - y| < precision, strictly: a
    difference of exactly the precision is wrong."""
    y = np.array([[1.0], [2.0], [-1.0], [0.5]])
    preds = y + np.array([[0.5], [-0.5], [0.25], [0.75]])  # exact differences 0.5, 0.5, 0.25, 0.75
    want = oracle.compute("want", lambda: ref.accuracy_value("AccuracyRegression", preds, y, 0.5))
    acc = student.AccuracyRegression(precision=0.5)
    check_scalar(
        acc.calculate(preds, y),
        want,
        call="AccuracyRegression(precision=0.5).calculate(predictions, y), two predictions "
        "exactly 0.5 away",
        inputs={"predictions": preds, "y": y},
        known_bugs=[
            (
                "a difference of exactly the precision counts as right: the rule is "
                "|prediction - y| < precision (strictly)",
                0.75,
            )
        ],
    )
