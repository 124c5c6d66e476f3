"""Chapter 01: the Dense layer's initialisation and forward pass."""

from hypothesis import given
from hypothesis import strategies as st

from grader.api import Rng, check_array, check_true, fail, np, points, pytest, reference
from grader.suites.common import check_training_keyword

ref = reference("ch01_neurons")


@points(1)
@pytest.mark.parametrize("n_inputs,n_neurons", [(4, 3), (1, 7)])
def test_dense_init_shapes(student, n_inputs, n_neurons):
    layer = student.Dense(n_inputs, n_neurons, Rng(0))
    W = check_array_shape(layer.weights, (n_inputs, n_neurons), "Dense.weights")
    b = check_array_shape(layer.biases, (1, n_neurons), "Dense.biases")
    check_true(np.all(b == 0), "Dense.biases must start at zero", f"got {b}")
    check_true(np.any(W != 0), "Dense.weights are all zero: draw them from rng")


def check_array_shape(value, shape, name):
    arr = (
        check_array(value, np.zeros(shape), call=name, what="value", atol=np.inf)
        if value is not None
        else fail(f"{name} is None")
    )
    return np.asarray(arr)


@points(2)
@pytest.mark.parametrize("seed,scale", [(3, 0.01), (11, 0.5)])
def test_dense_init_draws_from_passed_generator(student, oracle, seed, scale):
    W_want, b_want = oracle.compute(
        "want", lambda: ref.dense_init(5, 4, np.random.default_rng(seed), scale)
    )
    layer = student.Dense(5, 4, Rng(seed), weight_scale=scale)
    check_array(
        layer.weights,
        W_want,
        call=f"Dense(5, 4, rng=default_rng({seed}), weight_scale={scale}).weights",
        what="value",
        known_bugs=[
            (
                "weights drawn in the shape (n_neurons, n_inputs) and transposed",
                W_want.reshape(4, 5).T,
            ),
            ("weight_scale is not applied", W_want / scale),
            ("weight_scale is not applied (a fixed scale of 0.01 is used)", W_want / scale * 0.01),
        ],
    )
    check_array(layer.biases, b_want, call="Dense(...).biases", what="value")


@points(2)
def test_dense_init_statistics(student):
    """Weights look like weight_scale * N(0, 1): mean about 0, standard deviation about weight_scale."""
    W = np.asarray(student.Dense(200, 100, Rng(5), weight_scale=0.01).weights, dtype=np.float64)
    mean, std = W.mean(), W.std()
    # 20,000 samples: the standard error of the mean is 7e-5, of the std about 5e-5.
    if np.all(W >= 0):
        fail(
            "Dense weights are all non-negative: use a standard normal (rng.standard_normal), not rng.random"
        )
    check_true(abs(mean) < 5e-4, f"Dense weights have mean {mean:.2g}, expected about 0")
    check_true(
        abs(std - 0.01) < 5e-4,
        f"Dense weights have standard deviation {std:.3g}, expected 0.01",
        "Multiply standard normal samples by weight_scale.",
    )


@points(3)
@pytest.mark.parametrize("N,n_inputs,n_neurons", [(1, 3, 2), (5, 4, 3), (16, 10, 7), (6, 4, 4)])
def test_dense_forward_matches_reference(student, oracle, N, n_inputs, n_neurons):
    X, W, b = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(size=(N, n_inputs)),
            rng.normal(size=(n_inputs, n_neurons)),
            rng.normal(size=(1, n_neurons)),
        ),
    )
    want = oracle.compute("want", lambda: ref.dense_forward(X, W, b))
    layer = student.Dense(n_inputs, n_neurons, Rng(0))
    layer.weights, layer.biases = W, b
    got = layer.forward(X)
    bugs = [("the biases are not added", X @ W)]
    if n_inputs == n_neurons:
        bugs.append(("the weights are transposed: use inputs @ weights", X @ W.T + b))
    check_array(
        got, want, call="Dense.forward(inputs)", inputs={"inputs": X, "weights": W}, known_bugs=bugs
    )
    check_array(layer.output, want, call="Dense.forward(inputs)", what="stored self.output")
    check_array(layer.inputs, X, call="Dense.forward(inputs)", what="stored self.inputs")


@points(1)
def test_dense_forward_accepts_training_keyword(student, oracle):
    """forward(inputs, training=True) and training=False compute inputs @ weights + biases,
    as the docstring says (chapter 08's Model calls every layer with the keyword)."""
    X, W, b = oracle.random(
        "inputs",
        lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=(1, 2))),
    )
    want = oracle.compute("want", lambda: ref.dense_forward(X, W, b))
    layer = student.Dense(3, 2, Rng(0))
    layer.weights, layer.biases = W, b
    check_training_keyword(
        layer,
        X,
        want,
        name="Dense",
        what="output (a dense layer computes inputs @ weights + biases in both modes)",
    )


@points(2)
@given(st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_dense_forward_batch_permutation_property(student, N, seed):
    """Shuffling the samples of a batch shuffles the outputs the same way."""
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(N, 3)), rng.normal(size=(3, 2)), rng.normal(size=(1, 2))
    perm = rng.permutation(N)
    layer = student.Dense(3, 2, Rng(0))
    layer.weights, layer.biases = W, b
    # The right values first: a permutation-equivariant output earns nothing on its own
    # (inputs @ weights + biases is the formula the text gives).
    out = check_array(
        layer.forward(X),
        X @ W + b,
        call="Dense.forward(inputs)",
        inputs={"inputs": X, "weights": W, "biases": b},
    )
    check_array(
        layer.forward(X[perm]),
        out[perm],
        call="Dense.forward(inputs[perm])",
        inputs={"inputs": X},
        what="output (should be the rows of forward(inputs), permuted)",
    )
