"""Chapter 08, hidden tests: held-back batch sizes, architectures and targets for the Model's
inference methods and the accuracy objects, run only in hidden (instructor) mode. Nothing is
trained here."""

from grader.api import Rng, check_array, check_scalar, fail, hidden, np, points, pytest, reference
from grader.suites.common import dense, describe, draw_params, layer, saved_names

ref = reference("ch08_model")
pytestmark = hidden


def build(student, arch, params, loss, accuracy):
    """Your Model with arch's layers (your classes) holding params; no optimizer (nothing is trained)."""
    model = student.Model()
    for i, entry in enumerate(arch):
        cls, a = entry["class"], dict(entry.get("args", {}))
        if cls == "Dense":  # kind: its constructor takes the sizes and a Generator
            h = student.Dense(a.pop("n_inputs"), a.pop("n_neurons"), Rng(0), **a)
        elif cls == "Dropout":
            h = student.Dropout(a["rate"], Rng(5))
        else:
            h = getattr(student, cls)(**a)
        for name in saved_names(entry):
            setattr(h, name, params[f"layer{i}.{name}"])
        model.add(h)
    model.set(loss=getattr(student, loss)(), accuracy=getattr(student, accuracy)())
    model.finalize()
    return model


# ------------------------------------------------------------------------------ evaluate

EVAL_ARCH = [
    dense(4, 6, weight_regularizer_l1=0.01, bias_regularizer_l2=0.1),
    layer("LeakyReLU", alpha=0.2),
    dense(6, 3),
    layer("Sigmoid"),
]


@points(1)
@pytest.mark.parametrize("batch_size", [3, 1])
def test_hidden_evaluate_other_batch_sizes(student, oracle, batch_size):
    """evaluate(X, y, batch_size) on 10 samples of a binary model with penalties: batches of 3, 3, 3
    and 1 (or ten of one) weighted by their sizes, the data loss only."""
    X, y, params = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(size=(10, 4)),
            rng.integers(0, 2, size=(10, 3)),
            draw_params(rng, EVAL_ARCH),
        ),
    )
    args = (EVAL_ARCH, params, X, y, "BinaryCrossEntropy", "AccuracyBinary")
    want = oracle.compute("want", lambda: ref.evaluate(*args, batch_size=batch_size))
    unweighted = oracle.compute(
        "unweighted", lambda: ref.evaluate(*args, batch_size=batch_size, weighted=False)
    )
    penalty = oracle.compute("penalty", lambda: ref.regularization_loss(EVAL_ARCH, params))
    model = build(student, EVAL_ARCH, params, "BinaryCrossEntropy", "AccuracyBinary")
    call = f"Model [{describe(EVAL_ARCH)}].evaluate(X, y, batch_size={batch_size}) on 10 samples"
    got = model.evaluate(X, y, batch_size=batch_size)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return a pair (loss, accuracy)")
    unequal = batch_size == 3  # batches of 3, 3, 3, 1: an unweighted mean differs
    check_scalar(
        got[0],
        want[0],
        call=call,
        what="loss",
        known_bugs=(
            [
                (
                    "the batches' mean losses are averaged as if every batch had the same size: weight each batch by its "
                    "number of samples (sizes 3, 3, 3, 1)",
                    unweighted[0],
                )
            ]
            if unequal
            else []
        )
        + [
            (
                "evaluate adds the regularization penalty: it reports the data loss only",
                want[0] + penalty,
            )
        ],
    )
    check_scalar(
        got[1],
        want[1],
        call=call,
        what="accuracy",
        known_bugs=[
            (
                "the batches' accuracies are averaged as if every batch had the same size: weight each batch by its "
                "number of samples (sizes 3, 3, 3, 1)",
                unweighted[1],
            )
        ]
        if unequal
        else [],
    )


# ------------------------------------------------------------------------------- predict

PREDICT_ARCH = [
    dense(5, 7),
    layer("BatchNorm", n_features=7, epsilon=0.01),
    layer("Tanh"),
    layer("Dropout", rate=0.3),
    dense(7, 4),
    layer("Softmax"),
]


@points(1)
@pytest.mark.parametrize(
    "n,batch_size", [(1, None), (23, 5)], ids=["one-sample", "23-samples-batches-of-5"]
)
def test_hidden_predict_other_batch_sizes(student, oracle, n, batch_size):
    """Inference on one sample, and on 23 samples in batches of 5 (the last one of 3): batch norm with
    its running statistics (and epsilon=0.01), dropout off."""
    X, params = oracle.random(
        "inputs", lambda rng: (rng.normal(size=(n, 5)), draw_params(rng, PREDICT_ARCH))
    )
    want = oracle.compute("want", lambda: ref.predict(PREDICT_ARCH, params, X))
    model = build(student, PREDICT_ARCH, params, "CategoricalCrossEntropy", "AccuracyCategorical")
    call = f"Model [{describe(PREDICT_ARCH)}].predict(X{f', batch_size={batch_size}' if batch_size else ''})"
    got = model.predict(X, batch_size=batch_size) if batch_size else model.predict(X)
    bugs = (
        [
            (
                "only the outputs of the full batches are returned: keep the last, smaller batch",
                want[: n - n % batch_size],
            )
        ]
        if batch_size and n % batch_size
        else []
    )
    check_array(got, want, call=call, inputs={"X": X}, known_bugs=bugs)


# ------------------------------------------------------------------------------ accuracy


@points(1)
def test_hidden_accuracy_other_targets(student, oracle):
    """AccuracyRegression on (30, 3) targets of a large scale (precision from init), and
    AccuracyCategorical with one-hot targets of 7 classes for a single sample."""
    y, noise, label = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(-40.0, 25.0, size=(30, 3)),
            rng.normal(size=(30, 3)),
            int(rng.integers(0, 7)),
        ),
    )
    precision = oracle.compute("precision", lambda: ref.regression_precision(y))
    preds = y + 1.2 * precision * noise
    want = oracle.compute(
        "want", lambda: ref.accuracy_value("AccuracyRegression", preds, y, precision)
    )
    acc = student.AccuracyRegression()
    acc.init(y)
    check_scalar(
        acc.precision,
        precision,
        call="AccuracyRegression().init(y)",
        what="precision",
        inputs={"y": y},
        known_bugs=[
            (
                "precision uses the standard deviation of each column: use np.std(y) of all entries",
                float(np.std(y, axis=0)[0] / 250),
            ),
            ("precision is std(y) without dividing by 250", float(np.std(y))),
        ],
    )
    check_scalar(
        acc.calculate(preds, y),
        want,
        call="AccuracyRegression.calculate(predictions, y)",
        inputs={"predictions": preds, "y": y},
    )
    onehot = np.eye(7, dtype=np.int64)[[label]]
    for pred, right in ((label, 1.0), ((label + 3) % 7, 0.0)):
        check_scalar(
            student.AccuracyCategorical().calculate(np.array([pred]), onehot),
            right,
            call=f"AccuracyCategorical().calculate([{pred}], one-hot y of class {label} out of 7)",
            known_bugs=[
                (
                    "one-hot targets are compared as they are: turn (N, C) one-hot rows into labels "
                    "with argmax first",
                    float(np.mean(np.array([pred])[:, None] == onehot)),
                )
            ],
        )
