"""Chapter 01, hidden tests: held-back shapes, run only in hidden (instructor) mode."""

from grader.api import Rng, check_array, hidden, points, pytest, reference

ref = reference("ch01_neurons")
pytestmark = hidden


@points(2)
@pytest.mark.parametrize("n,k,m", [(7, 5, 9), (1, 12, 1)])
def test_hidden_matmul_other_shapes(student, oracle, n, k, m):
    a, b = oracle.random(
        "inputs", lambda rng: (rng.uniform(-3, 3, size=(n, k)), rng.uniform(-3, 3, size=(k, m)))
    )
    want = oracle.compute("want", lambda: ref.matmul(a, b))
    check_array(
        student.matmul(a.tolist(), b.tolist()), want, call="matmul(a, b)", inputs={"a": a, "b": b}
    )


@points(2)
def test_hidden_dense_forward_large_batch(student, oracle):
    X, W, b = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(size=(64, 32)),
            rng.normal(size=(32, 10)),
            rng.normal(size=(1, 10)),
        ),
    )
    want = oracle.compute("want", lambda: ref.dense_forward(X, W, b))
    layer = student.Dense(32, 10, Rng(1))
    layer.weights, layer.biases = W, b
    check_array(layer.forward(X), want, call="Dense.forward(inputs)", inputs={"inputs": X})
