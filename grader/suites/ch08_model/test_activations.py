"""Chapter 08: the output activations' predictions(outputs)."""

from grader.api import check_array, check_true, np, points, reference

ref = reference("ch08_model")


@points(1)
def test_softmax_predictions_are_the_argmax(student, oracle):
    x = oracle.random("x", lambda rng: rng.normal(size=(7, 4)))
    layer = student.Softmax()
    probs = np.asarray(layer.forward(x), dtype=np.float64)
    want = oracle.compute(
        "want",
        lambda: ref.predictions(
            [{"class": "Softmax"}], ref.forward([{"class": "Softmax"}], {}, x)[0]
        ),
    )
    got = layer.predictions(probs)
    check_array(
        got,
        want,
        call="Softmax.predictions(outputs)",
        inputs={"outputs": probs},
        dtype_kind="iu",
        known_bugs=[
            (
                "the argmax is taken over the samples (axis 0): take it over the classes, axis=1",
                np.argmax(probs, axis=0),
            ),
            ("returned the largest probability instead of its class index", np.max(probs, axis=1)),
        ],
    )


@points(1)
def test_sigmoid_predictions_threshold_at_one_half(student):
    outputs = np.array([[0.1, 0.5], [0.50001, 0.9], [0.49999, 0.0], [1.0, 0.7]])
    got = student.Sigmoid().predictions(outputs)
    want = np.array([[0, 0], [1, 1], [0, 0], [1, 1]])
    check_array(
        got,
        want,
        call="Sigmoid.predictions(outputs)",
        inputs={"outputs": outputs},
        known_bugs=[
            ("0.5 itself counts as 1: use outputs > 0.5", (outputs >= 0.5).astype(int)),
            (
                "the threshold is 0 (that is for logits): the outputs are probabilities, use > 0.5",
                (outputs > 0).astype(int),
            ),
        ],
    )
    check_true(
        np.asarray(got).dtype.kind in "iub",
        f"Sigmoid.predictions returned {np.asarray(got).dtype} values",
        "Return 0/1 as integers (or booleans), so that they compare equal to 0/1 targets.",
    )


@points(1)
def test_linear_predictions_are_the_outputs(student, oracle):
    x = oracle.random("x", lambda rng: rng.normal(size=(5, 2)))
    check_array(
        student.Linear().predictions(x),
        x,
        call="Linear.predictions(outputs)",
        inputs={"outputs": x},
        rtol=0,
        atol=0,
    )
