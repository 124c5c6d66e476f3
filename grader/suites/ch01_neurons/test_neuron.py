"""Chapter 01: one neuron, one layer and matmul in pure Python."""

from hypothesis import given
from hypothesis import strategies as st

from grader.api import (
    StudentError,
    check_array,
    check_scalar,
    check_true,
    fail,
    np,
    points,
    pytest,
    reference,
)

ref = reference("ch01_neurons")


def _lists(a):
    return np.asarray(a).tolist()


def _kind(value):
    """What a student's return value is, in words."""
    return getattr(value, "type_name", None) or type(value).__name__


@points(1)
@pytest.mark.parametrize("n", [1, 3, 8])
def test_neuron_output_matches_reference(student, oracle, n):
    x, w, b = oracle.random(
        "inputs", lambda rng: (rng.normal(size=n), rng.normal(size=n), float(rng.normal()))
    )
    want = oracle.compute("want", lambda: ref.neuron_output(x, w, b))
    got = student.neuron_output(_lists(x), _lists(w), b)
    check_scalar(
        got,
        want,
        call="neuron_output(inputs, weights, bias)",
        inputs={"inputs": _lists(x)},
        known_bugs=[("the bias is missing from the sum", want - b)],
    )


@points(2)
@pytest.mark.parametrize("n_inputs,n_neurons", [(1, 1), (4, 3), (3, 3), (2, 5)])
def test_layer_output_matches_reference(student, oracle, n_inputs, n_neurons):
    x, W, b = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(size=n_inputs),
            rng.normal(size=(n_neurons, n_inputs)),
            rng.normal(size=n_neurons),
        ),
    )
    want = oracle.compute("want", lambda: ref.layer_output(x, W, b))
    got = student.layer_output(_lists(x), _lists(W), _lists(b))
    check_true(
        isinstance(got, list), f"layer_output must return a list of floats, got {_kind(got)}"
    )
    bugs = [("the biases are missing", want - b)]
    if n_inputs == n_neurons:
        bugs.append(("neuron j must use row j of weights; you used column j", W.T @ x + b))
    check_array(
        got,
        want,
        call="layer_output(inputs, weights, biases)",
        inputs={"inputs": _lists(x), "weights": _lists(W)},
        known_bugs=bugs,
    )


@points(3)
@pytest.mark.parametrize("n,k,m", [(1, 1, 1), (2, 3, 4), (5, 1, 3), (4, 4, 4), (3, 6, 1)])
def test_matmul_matches_numpy(student, oracle, n, k, m):
    a, b = oracle.random("inputs", lambda rng: (rng.normal(size=(n, k)), rng.normal(size=(k, m))))
    want = oracle.compute("want", lambda: ref.matmul(a, b))
    got = student.matmul(_lists(a), _lists(b))
    check_true(
        isinstance(got, list) and all(isinstance(row, list) for row in got),
        f"matmul must return a list of rows (lists), got {_kind(got)}",
        "Chapter 01's matmul is pure Python: build the result from lists.",
    )
    bugs = (
        [
            (
                "you multiplied by b transposed: entry [i][j] pairs row i of a with column j of b",
                a @ b.T,
            )
        ]
        if k == m
        else []
    )
    check_array(got, want, call="matmul(a, b)", inputs={"a": a, "b": b}, known_bugs=bugs)


@points(1)
def test_matmul_inner_dimension_mismatch_raises_value_error(student):
    try:
        got = student.matmul([[1.0, 2.0, 3.0]], [[1.0], [2.0]])
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            return
        fail(
            f"matmul with a (1, 3) and b (2, 1) raised {exc.summary}, expected a ValueError",
            "Check len(a[0]) == len(b) first and raise ValueError with a message saying what differs.",
        )
    fail(
        f"matmul of a (1, 3) and b (2, 1) returned {got!r} instead of raising ValueError",
        "The inner dimensions differ (3 != 2): the product is not defined, so raise ValueError.",
    )


@points(2)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_matmul_property_identity_and_transpose(student, n, k, m, seed):
    """A @ I == A, and (A B)^T == B^T A^T, for random small shapes."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, k)), rng.normal(size=(k, m))
    check_array(
        student.matmul(_lists(a), np.eye(k).tolist()),
        a,
        call="matmul(a, identity)",
        inputs={"a": a},
    )
    ab_t = np.asarray(student.matmul(_lists(b.T), _lists(a.T)))
    check_array(ab_t.T, a @ b, call="matmul(b.T, a.T).T", inputs={"a": a, "b": b}, rtol=1e-9)
