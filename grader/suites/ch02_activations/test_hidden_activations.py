"""Chapter 02, hidden tests: held-back alphas and shapes, run only in hidden (instructor) mode."""

from grader.api import check_array, hidden, np, points, pytest, reference

ref = reference("ch02_activations")
pytestmark = hidden

ALPHA = 0.3  # the public tests use 0.01 (the default), 0.1, 0.2 and 0.5


def _forward_backward(layer, name, x, dv, want, dwant, forward_bugs=(), backward_bugs=()):
    """forward(x) and backward(dv) of one layer, each against the reference."""
    check_array(
        layer.forward(x),
        want,
        call=f"{name}.forward(inputs)",
        inputs={"inputs": x},
        known_bugs=forward_bugs,
    )
    check_array(
        layer.backward(dv),
        dwant,
        call=f"{name}.backward(dvalues) after forward(inputs)",
        inputs={"inputs": x, "dvalues": dv},
        known_bugs=backward_bugs,
    )


def _leaky_bugs(x, dv, alpha):
    """(forward bugs, backward bugs) of Leaky ReLU: values of common mistakes."""
    forward = [
        (
            f"a fixed slope of 0.01 is used instead of self.alpha (= {alpha})",
            np.where(x > 0, x, 0.01 * x),
        ),
        (
            "alpha multiplies the positive side: it should be x where x > 0 and alpha * x elsewhere",
            np.where(x > 0, alpha * x, x),
        ),
        ("the negative side is 0 as in ReLU: Leaky ReLU keeps alpha * x there", np.maximum(0.0, x)),
    ]
    backward = [
        (
            f"a fixed slope of 0.01 is used instead of self.alpha (= {alpha})",
            np.where(x > 0, dv, 0.01 * dv),
        ),
        (
            "the slope at exactly 0 is taken as 1: inputs <= 0 get alpha * dvalues",
            np.where(x >= 0, dv, alpha * dv),
        ),
        (
            "the mask is taken from dvalues instead of the stored self.inputs",
            np.where(dv > 0, dv, alpha * dv),
        ),
        (
            "the local derivative (1 or alpha) is returned without multiplying by dvalues",
            np.where(x > 0, 1.0, alpha),
        ),
    ]
    return forward, backward


@points(2)
def test_hidden_leaky_relu_other_alpha(student, oracle):
    """LeakyReLU(alpha=0.3) on an odd (5, 7) batch with exact zeros (the slope at 0 is alpha)."""
    x, dv = oracle.random(
        "inputs", lambda rng: (2.0 * rng.normal(size=(5, 7)), rng.normal(size=(5, 7)))
    )
    x[::2, 3] = 0.0
    want = oracle.compute("want", lambda: ref.leaky_relu_forward(x, ALPHA))
    dwant = oracle.compute("dwant", lambda: ref.leaky_relu_backward(x, dv, ALPHA))
    forward_bugs, backward_bugs = oracle.compute("bugs", lambda: _leaky_bugs(x, dv, ALPHA))
    _forward_backward(
        student.LeakyReLU(alpha=ALPHA),
        f"LeakyReLU(alpha={ALPHA})",
        x,
        dv,
        want,
        dwant,
        forward_bugs,
        backward_bugs,
    )


def _softmax_bugs(x, dv):
    """(forward bugs, backward bugs) of Softmax."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    s = e / e.sum(axis=1, keepdims=True)
    forward = [
        (
            "normalised over axis 0 (down each column, across samples) instead of axis=1 (along each row)",
            e / e.sum(axis=0, keepdims=True),
        ),
        ("the exponentials are not divided by their row sum", e),
        (
            "divided by the sum over the whole batch instead of each row's sum (axis=1, keepdims=True)",
            e / e.sum(),
        ),
    ]
    backward = [
        (
            "the Jacobian is treated as diagonal: s * (1 - s) * dvalues drops the off-diagonal terms -s_i * s_j",
            s * (1 - s) * dv,
        ),
        (
            "the factor s in front is missing: dinputs = s * (dvalues - np.sum(dvalues * s, axis=1, keepdims=True))",
            dv - np.sum(dv * s, axis=1, keepdims=True),
        ),
        (
            "the sum runs over the whole batch: each row needs its own sum (axis=1, keepdims=True)",
            s * (dv - np.sum(dv * s)),
        ),
    ]
    return forward, backward


@points(1)
@pytest.mark.parametrize(
    "N,D", [(64, 10), (1, 2)], ids=["wide-batch-64x10", "one-sample-two-classes"]
)
def test_hidden_softmax_other_shapes(student, oracle, N, D):
    x, dv = oracle.random(
        "inputs", lambda rng: (5.0 * rng.normal(size=(N, D)), rng.normal(size=(N, D)))
    )
    want = oracle.compute("want", lambda: ref.softmax_forward(x))
    dwant = oracle.compute("dwant", lambda: ref.softmax_backward(x, dv))
    forward_bugs, backward_bugs = oracle.compute("bugs", lambda: _softmax_bugs(x, dv))
    _forward_backward(student.Softmax(), "Softmax", x, dv, want, dwant, forward_bugs, backward_bugs)


@points(1)
@pytest.mark.parametrize("cls", ["Sigmoid", "Tanh"])
def test_hidden_sigmoid_and_tanh_on_a_column(student, oracle, cls):
    """A (9, 1) column of inputs up to about +-12, where the derivatives are tiny."""
    x, dv = oracle.random(
        "inputs", lambda rng: (4.0 * rng.normal(size=(9, 1)), rng.normal(size=(9, 1)))
    )
    name = cls.lower()
    want = oracle.compute("want", lambda: getattr(ref, f"{name}_forward")(x))
    dwant = oracle.compute("dwant", lambda: getattr(ref, f"{name}_backward")(x, dv))

    def bugs():
        out = getattr(ref, f"{name}_forward")(x)
        if cls == "Sigmoid":
            return [
                (
                    "the derivative is computed from the input: x * (1 - x) is not sigmoid'(x); use the stored "
                    "output s, s * (1 - s)",
                    dv * x * (1 - x),
                ),
                ("the local derivative s * (1 - s) is not multiplied by dvalues", out * (1 - out)),
            ]
        return [
            (
                "the derivative is computed from the input: 1 - x**2 is not tanh'(x); use the stored output t, "
                "1 - t**2",
                dv * (1 - x**2),
            ),
            ("1 - t is not tanh'(x): square the output, 1 - t**2", dv * (1 - out)),
        ]

    _forward_backward(
        getattr(student, cls)(), cls, x, dv, want, dwant, backward_bugs=oracle.compute("bugs", bugs)
    )
