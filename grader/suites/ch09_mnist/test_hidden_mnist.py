"""Chapter 09, hidden tests: held-back file shapes, class counts and split sizes, run only in
hidden (instructor) mode. No training run here."""

from grader.api import Rng, StudentError, check_array, fail, hidden, np, points, pytest, reference
from grader.suites.ch09_mnist.files import idx_bytes

ref = reference("ch09_mnist")
pytestmark = hidden


@points(1)
@pytest.mark.parametrize("shape", [(5, 7, 2), (0, 28, 28)], ids=["5x7x2", "no-images"])
def test_hidden_parse_idx_other_image_shapes(student, oracle, shape):
    """Images that are not square, and a file with a header but no image."""
    images = oracle.random("images", lambda rng: rng.integers(0, 256, size=shape).astype(np.uint8))
    data = idx_bytes(images)
    want = oracle.compute("want", lambda: ref.parse_idx(data))
    call = f"parse_idx(<images file {shape[0]} x {shape[1]} x {shape[2]}>)"
    try:
        got = student.parse_idx(np.frombuffer(data, dtype=np.uint8).copy())
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            fail(
                f"{call} raised {exc.summary} on a valid IDX file",
                f"header bytes: {data[:16].hex(' ')}\n"
                "The header gives count, rows and columns (big-endian uint32 each); 0 images is a valid count.",
            )
        raise
    bugs = []
    if shape[1] != shape[2]:
        bugs.append(
            (
                "rows and columns are swapped: the header gives count, then rows, then columns",
                want.reshape(shape[0], shape[2], shape[1]),
            )
        )
    check_array(
        got, want, call=call, inputs={"data": np.frombuffer(data, dtype=np.uint8)}, known_bugs=bugs
    )
    dtype = np.asarray(got).dtype
    if dtype != np.uint8:
        fail(f"{call} returned dtype {dtype}, expected uint8", "IDX values are unsigned bytes.")


def _labels(rng, n, used, error_rate=0.4):
    """(y_true, y_pred) over the classes 0..used-1: about error_rate of the predictions random."""
    y_true = rng.integers(0, used, size=n)
    return y_true, np.where(rng.random(n) < error_rate, rng.integers(0, used, size=n), y_true)


@points(2)
def test_hidden_confusion_matrix_and_precision_recall_many_classes(student, oracle):
    """500 predictions over 13 classes, two of which never occur: the counts, then precision and
    recall of that matrix (0 for the classes without samples or predictions)."""
    y_true, y_pred = oracle.random("labels", lambda rng: _labels(rng, 500, 11))
    want = oracle.compute("want", lambda: ref.confusion_matrix(y_true, y_pred, 13))
    call = "confusion_matrix(y_true, y_pred, num_classes=13) for 500 samples"
    got = student.confusion_matrix(y_true, y_pred, num_classes=13)
    presence = np.zeros((13, 13), dtype=np.int64)
    presence[y_true, y_pred] = 1  # what cm[y_true, y_pred] += 1 gives: repeated pairs count once
    check_array(
        got,
        want,
        call=call,
        inputs={"y_true": y_true, "y_pred": y_pred},
        what="matrix",
        known_bugs=[
            (
                "every (true, predicted) pair is counted once however often it occurs: cm[y_true, y_pred] += 1 does not "
                "add up repeated index pairs; use np.add.at(cm, (y_true, y_pred), 1) or a loop",
                presence,
            ),
            (
                "the matrix is transposed: rows are true classes, columns predictions (cm[true, predicted])",
                want.T,
            ),
        ],
    )
    precision, recall = oracle.compute("precision_recall", lambda: ref.precision_recall(want))
    call = "precision_recall(cm) of a 13-class matrix whose classes 11 and 12 never occur"
    got = student.precision_recall(want)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return a pair (precision, recall)")
    hint = "a class with no predictions (or no samples) gets 0: divide only where the sum is > 0"
    swapped = "precision and recall are swapped: precision divides by the column sum (all predictions of k)"
    check_array(
        got[0],
        precision,
        call=call,
        inputs={"cm": want},
        what="precision",
        nonfinite_hint=hint,
        known_bugs=[(swapped, recall)],
    )
    check_array(
        got[1],
        recall,
        call=call,
        inputs={"cm": want},
        what="recall",
        nonfinite_hint=hint,
        known_bugs=[(swapped, precision)],
    )


@points(1)
@pytest.mark.parametrize(
    "n,sizes", [(37, (20, 9, 8)), (50, (3, 0, 40))], ids=["37-all-used", "50-no-validation"]
)
def test_hidden_split_indices_other_sizes(student, oracle, n, sizes):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute("want", lambda: ref.split_indices(n, np.random.default_rng(seed), sizes))
    call = f"split_indices({n}, rng=default_rng({seed}), sizes={sizes})"
    got = student.split_indices(n, Rng(seed), sizes=sizes)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        fail(f"{call} must return three index arrays (train, val, test)")
    perm = np.random.default_rng(seed).permutation(n)
    a, b, c = sizes
    swapped = (
        "validation and test are swapped: val = perm[n_train:n_train + n_val], then test after it",
        (perm[:a], perm[a + c : a + c + b], perm[a : a + c]),
    )
    for k, name in enumerate(("train", "val", "test")):
        check_array(
            got[k],
            want[k],
            call=call,
            what=f"{name} part",
            rtol=0,
            atol=0,
            known_bugs=[(swapped[0], swapped[1][k])],
        )
