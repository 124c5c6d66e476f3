"""Chapter 09: the confusion matrix, per-class precision and recall, and reading a digit
drawn in a PNG file (the grader writes the PNG into your worker's scratch directory)."""

from hypothesis import given
from hypothesis import strategies as st

from grader.api import StudentError, check_array, check_true, fail, np, points, pytest, reference
from grader.suites.ch09_mnist.files import as_read, png_bytes, scratch_path
from grader.suites.common import correct_first

ref = reference("ch09_mnist")


def _labels(rng, n, classes, error_rate=0.3):
    """(y_true, y_pred): predictions right except for about error_rate of the samples."""
    y_true = rng.integers(0, classes, size=n)
    wrong = rng.random(n) < error_rate
    y_pred = np.where(wrong, rng.integers(0, classes, size=n), y_true)
    return y_true, y_pred


def _pair(got, call):
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(
            f"{call} must return a pair (precision, recall), got {type(got).__name__}"
            + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        )
    return got


# -------------------------------------------------------------------- confusion matrix


@points(1)
@pytest.mark.parametrize("n,classes,used", [(60, 10, 10), (1, 10, 10), (25, 3, 3), (12, 5, 3)])
def test_confusion_matrix_matches_reference(student, oracle, n, classes, used):
    """``used`` < ``classes``: some classes never occur, their rows and columns stay 0."""
    y_true, y_pred = oracle.random("labels", lambda rng: _labels(rng, n, used))
    want = oracle.compute("want", lambda: ref.confusion_matrix(y_true, y_pred, classes))
    call = f"confusion_matrix(y_true, y_pred, num_classes={classes})"
    got = student.confusion_matrix(y_true, y_pred, num_classes=classes)
    got = check_array(
        got,
        want,
        call=call,
        inputs={"y_true": y_true, "y_pred": y_pred},
        what="matrix",
        known_bugs=[
            (
                "the matrix is transposed: rows are true classes, columns predictions "
                "(cm[true, predicted])",
                want.T,
            )
        ],
    )
    check_true(
        np.asarray(got).dtype.kind in "iu",
        f"{call} returned dtype {np.asarray(got).dtype}: a confusion "
        "matrix holds counts, use an integer array (np.zeros((C, C), dtype=np.int64))",
    )


OUT_OF_RANGE = {
    # name: (y_true, y_pred) with num_classes=4
    "y_true-equal-to-C": ([0, 4, 1], [0, 1, 1]),
    "y_pred-negative": ([0, 2, 1], [0, -1, 1]),
    "y_true-negative": ([-1, 2, 1], [0, 2, 1]),
    "y_pred-above-C": ([0, 2, 3], [0, 2, 7]),
}


@points(1)
@pytest.mark.parametrize("case", sorted(OUT_OF_RANGE))
def test_confusion_matrix_out_of_range_labels_raise_value_error(student, oracle, case):
    """The docstring: a label outside [0, num_classes), in y_true or in y_pred, raises
    ValueError (np.add.at would wrap a negative label to the last class silently)."""
    y_true, y_pred = (np.array(v) for v in OUT_OF_RANGE[case])
    valid = np.array([0, 2, 3, 1, 2]), np.array([0, 2, 1, 1, 3])
    want = oracle.compute("valid", lambda: ref.confusion_matrix(*valid, 4))
    correct_first(
        oracle,
        lambda: check_array(
            student.confusion_matrix(*valid, num_classes=4),
            want,
            call="confusion_matrix(y_true, y_pred, num_classes=4)",
            inputs={"y_true": valid[0], "y_pred": valid[1]},
        ),
        fix="test_confusion_matrix_matches_reference",
    )
    call = f"confusion_matrix(y_true={y_true.tolist()}, y_pred={y_pred.tolist()}, num_classes=4)"
    try:
        got = student.confusion_matrix(y_true, y_pred, num_classes=4)
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            return
        if exc.kind == "not_implemented":
            raise
        fail(
            f"{call} raised {exc.summary}, expected a ValueError",
            "Check that every label of y_true and y_pred is in [0, num_classes) first, and raise "
            f"ValueError saying which is not.\n\n{exc.details}",
        )
    fail(
        f"{call} returned {type(got).__name__} instead of raising ValueError",
        "A label outside [0, num_classes) must be refused: a negative index would count the "
        "sample in the last class without any error.",
    )


@points(2)
@given(st.integers(1, 30), st.integers(2, 6), st.integers(0, 2**31 - 1))
def test_confusion_matrix_counts_property(student, n, classes, seed):
    """Sums to N; the diagonal counts the correct predictions of each class; row t sums to
    the number of samples of class t, column p to the number of predictions p."""
    y_true, y_pred = _labels(np.random.default_rng(seed), n, classes, error_rate=0.5)
    call = f"confusion_matrix(y_true, y_pred, num_classes={classes})"
    cm = check_array(
        student.confusion_matrix(y_true, y_pred, num_classes=classes),
        np.zeros((classes, classes)),
        call=call,
        what="matrix",
        atol=np.inf,
        inputs={"y_true": y_true},
    )
    cm = np.asarray(cm)
    details = f"y_true = {y_true.tolist()}\ny_pred = {y_pred.tolist()}\ngot:\n{cm}"
    check_true(cm.sum() == n, f"{call}: the counts sum to {cm.sum()}, expected N = {n}", details)
    correct = np.bincount(y_true[y_true == y_pred], minlength=classes)
    check_true(
        np.array_equal(np.diag(cm), correct),
        f"{call}: the diagonal must count the correct predictions of each class",
        details,
    )
    rows = np.bincount(y_true, minlength=classes)
    if not np.array_equal(cm.sum(axis=1), rows):
        transposed = np.array_equal(cm.sum(axis=0), rows)
        fail(
            f"{call}: row t must sum to the number of samples of true class t"
            + (
                " (the matrix is transposed: rows are true classes, columns predictions)"
                if transposed
                else ""
            ),
            details,
        )
    check_true(
        np.array_equal(cm.sum(axis=0), np.bincount(y_pred, minlength=classes)),
        f"{call}: column p must sum to the number of predictions of class p",
        details,
    )


# ------------------------------------------------------------------ precision, recall


def _random_cm(rng, classes):
    cm = rng.integers(0, 6, size=(classes, classes))
    return cm + np.diag(rng.integers(5, 40, size=classes))


@points(2)
@pytest.mark.parametrize("classes", [10, 3])
def test_precision_recall_match_reference(student, oracle, classes):
    cm = oracle.random("cm", lambda rng: _random_cm(rng, classes))
    precision, recall = oracle.compute("want", lambda: ref.precision_recall(cm))
    call = "precision_recall(cm)"
    got_p, got_r = _pair(student.precision_recall(cm), call)
    swapped = "precision and recall are swapped: precision divides by the column sum (all predictions of k)"
    check_array(
        got_p,
        precision,
        call=call,
        inputs={"cm": cm},
        what="precision",
        known_bugs=[
            (swapped, recall),
            ("precision is the diagonal over the row sums (that is recall)", recall),
        ],
    )
    check_array(
        got_r,
        recall,
        call=call,
        inputs={"cm": cm},
        what="recall",
        known_bugs=[("recall is the diagonal over the column sums (that is precision)", precision)],
    )


@points(1)
def test_precision_recall_zero_over_zero_is_zero(student, oracle):
    """Class 2 never occurs and is never predicted; class 1 is never predicted."""
    cm = np.array([[5, 0, 0], [3, 0, 0], [0, 0, 0]])
    precision, recall = oracle.compute("want", lambda: ref.precision_recall(cm))
    call = "precision_recall([[5, 0, 0], [3, 0, 0], [0, 0, 0]])"
    got_p, got_r = _pair(student.precision_recall(cm), call)
    hint = "a class with no predictions (or no samples) gets 0: divide only where the sum is > 0"
    swapped = "precision and recall are swapped: precision divides by the column sum (all predictions of k)"
    check_array(
        got_p,
        precision,
        call=call,
        what="precision",
        nonfinite_hint=hint,
        known_bugs=[(swapped, recall)],
    )
    check_array(
        got_r,
        recall,
        call=call,
        what="recall",
        nonfinite_hint=hint,
        known_bugs=[(swapped, precision)],
    )


# ----------------------------------------------------------------------- PNG digits


def _strokes(rng):
    """A 28x28 uint8 'digit': a few thick bright strokes on black, like MNIST."""
    img = np.zeros((28, 28))
    for _ in range(3):
        (r0, c0), (r1, c1) = rng.integers(5, 23, size=(2, 2))
        for t in np.linspace(0.0, 1.0, 40):
            r, c = r0 + t * (r1 - r0), c0 + t * (c1 - c0)
            rr, cc = np.mgrid[0:28, 0:28]
            img = np.maximum(img, np.clip(1.6 - np.hypot(rr - r, cc - c), 0, 1))
    return np.round(255 * img).astype(np.uint8)


def _drawing(kind, rng):
    ink = _strokes(rng)  # 0 paper, 255 full ink
    if kind == "gray_on_white":  # dark pencil on white paper
        return 255 - ink
    if kind == "gray_on_black":  # already MNIST-like
        return ink
    if kind == "rgb_blue_ink":  # blue ink on slightly yellow paper
        paper, pen = np.array([250, 245, 225]), np.array([20, 40, 160])
        mix = ink[:, :, None] / 255.0
        return np.round(paper * (1 - mix) + pen * mix).astype(np.uint8)
    if kind == "rgba_transparent":  # black strokes, transparent background (alpha 0)
        rgba = np.zeros((28, 28, 4), dtype=np.uint8)
        rgba[:, :, 3] = ink
        return rgba
    if kind == "gray_alpha":  # gray + alpha PNG, transparent background
        return np.stack([np.zeros_like(ink), ink], axis=2)
    if kind == "gray_mean_exactly_half":  # half black, half white: the mean is exactly 0.5
        half = np.zeros((28, 28), dtype=np.uint8)
        half[:, 14:] = 255
        return half
    raise ValueError(kind)


def _composed(read):
    """The image laid over white paper when it has an alpha channel."""
    if read.ndim == 3 and read.shape[2] == 4:
        return read[:, :, :3] * read[:, :, 3:] + (1 - read[:, :, 3:])
    return read


def _png_bugs_from_reference(pixels):
    """Known wrong readings that need the reference: alpha ignored, luminance weights."""
    read = as_read(pixels).astype(np.float64)
    if read.ndim != 3:
        return []
    return [
        (
            "the alpha channel is ignored: lay the image onto white first, rgb * alpha + (1 - alpha)",
            ref.png_digit(read[:, :, :3]),
        ),
        (
            "gray is the plain mean of the three colour channels, not a weighted luminance",
            ref.png_digit(_composed(read) @ np.array([0.299, 0.587, 0.114])),
        ),
    ]


def _png_bugs(pixels, want):
    """Known wrong readings computed from the expected row (numpy only)."""
    mean = _composed(as_read(pixels).astype(np.float64)).mean()
    if mean == 0.5:
        inverted = (
            "the image was inverted at a mean of exactly 0.5: invert only when the mean is "
            "above 0.5 (>, not >=)"
        )
    elif mean > 0.5:
        inverted = (
            "the image is not inverted: MNIST digits are white on black, so an image whose mean is above "
            "0.5 (a white background) must become 1 - gray"
        )
    else:
        inverted = (
            "the image was inverted although its background is already black: invert only when the "
            "mean is above 0.5"
        )
    return [
        (inverted, -want),
        (
            "the values are not scaled to [-1, 1]: after inverting, 255 * gray goes through preprocess",
            (want + 1) / 2,
        ),
        ("the values are 0-255: preprocess them, (pixel - 127.5) / 127.5", 255 * (want + 1) / 2),
    ]


@points(1)
@pytest.mark.parametrize(
    "kind",
    [
        "gray_on_white",
        "gray_on_black",
        "rgb_blue_ink",
        "rgba_transparent",
        "gray_alpha",
        "gray_mean_exactly_half",
    ],
)
def test_read_png_digit_matches_reference(student, oracle, kind):
    pixels = oracle.random("pixels", lambda rng: _drawing(kind, rng))
    want = oracle.compute("want", lambda: ref.png_digit(as_read(pixels)))
    from_reference = oracle.compute("bugs", lambda: _png_bugs_from_reference(pixels))
    bugs = _png_bugs(pixels, want) + [tuple(b) for b in from_reference]
    name = f"digit-{kind.replace('_', '-')}.png"
    call = f'read_png_digit("{name}")'
    got = student.read_png_digit(scratch_path(student, name, png_bytes(pixels)))
    check_array(got, want, call=call, what="input row", known_bugs=bugs, rtol=1e-5, atol=1e-6)
    check_true(
        np.asarray(got).dtype == np.float64,
        f"{call} returned dtype {np.asarray(got).dtype}, expected float64",
    )


@points(1)
@pytest.mark.parametrize("height,width", [(32, 32), (28, 27)])
def test_read_png_digit_wrong_size_raises_value_error(student, height, width):
    pixels = np.full((height, width), 255, dtype=np.uint8)
    pixels[8:20, 12:15] = 0
    name = f"digit-{height}x{width}.png"
    call = f'read_png_digit("{name}")'
    try:
        got = student.read_png_digit(scratch_path(student, name, png_bytes(pixels)))
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            return
        if exc.kind == "not_implemented":
            raise
        fail(
            f"{call} raised {exc.summary} for a {height}x{width} image, expected a ValueError",
            f"Check the shape of the image first and raise ValueError saying it must be 28x28.\n\n{exc.details}",
        )
    fail(
        f"{call} returned {type(got).__name__} for a {height}x{width} image instead of raising ValueError",
        "The network takes 28x28 = 784 inputs: any other size must be refused with a ValueError.",
    )
