"""Chapter 07, hidden tests: held-back batch-norm constants, dropout rates and penalty strengths,
run only in hidden (instructor) mode."""

from grader.api import Rng, check_array, check_scalar, hidden, np, points, pytest, reference

ref = reference("ch07_generalization")
pytestmark = hidden

# The public tests always use epsilon = 1e-5 and momentum 0.9 or 0.7.
EPSILON, MOMENTUM = 0.05, 0.6


def _bn_inputs(rng, N, D):
    """Features of different scales (some variances near epsilon, so that it shows)."""
    x = rng.normal(size=(N, D)) * rng.uniform(0.1, 2.0, size=(1, D)) + rng.normal(size=(1, D))
    gamma = rng.uniform(0.5, 2.0, size=(1, D)) * rng.choice([-1.0, 1.0], size=(1, D))
    return x, gamma, rng.normal(size=(1, D)), rng.normal(size=(N, D))


@points(2)
def test_hidden_batchnorm_other_epsilon_and_momentum(student, oracle):
    """BatchNorm(5, momentum=0.6, epsilon=0.05) on a batch of 7: the training output, the running
    statistics after two batches, the backward pass, and an inference forward."""
    N, D = 7, 5
    (x1, gamma, beta, dv), x2, x_eval = oracle.random(
        "inputs",
        lambda rng: (
            _bn_inputs(rng, N, D),
            3.0 * rng.normal(size=(N, D)) - 1.0,
            rng.normal(size=(3, D)),
        ),
    )

    def expected(eps=EPSILON, momentum=MOMENTUM):
        mean, var = np.zeros((1, D)), np.ones((1, D))
        out1, mean, var, _ = ref.batchnorm_forward_train(x1, gamma, beta, mean, var, momentum, eps)
        out2, mean, var, cache = ref.batchnorm_forward_train(
            x2, gamma, beta, mean, var, momentum, eps
        )
        dx, dgamma, dbeta = ref.batchnorm_backward(dv, cache)
        out_eval = ref.batchnorm_forward_eval(x_eval, gamma, beta, mean, var, eps)
        return {
            "out1": out1,
            "mean": mean,
            "var": var,
            "dx": dx,
            "dgamma": dgamma,
            "dbeta": dbeta,
            "eval": out_eval,
        }

    want = oracle.compute("want", expected)
    fixed_eps = oracle.compute("bug_epsilon", lambda: expected(eps=1e-5))
    fixed_momentum = oracle.compute("bug_momentum", lambda: expected(momentum=0.9))

    def bugs(key):
        return [
            (
                "epsilon is fixed at 1e-5: use self.epsilon, the value passed to the constructor",
                fixed_eps[key],
            ),
            (
                "momentum is fixed at 0.9: use self.momentum, the value passed to the constructor",
                fixed_momentum[key],
            ),
        ]

    bn = student.BatchNorm(D, momentum=MOMENTUM, epsilon=EPSILON)
    bn.gamma, bn.beta = gamma, beta
    sig = f"BatchNorm({D}, momentum={MOMENTUM}, epsilon={EPSILON})"
    call = f"{sig}.forward(inputs, training=True)"
    check_array(
        bn.forward(x1, training=True),
        want["out1"],
        call=call,
        inputs={"inputs": x1, "gamma": gamma},
        known_bugs=bugs("out1"),
    )
    bn.forward(x2, training=True)
    call = f"{sig} after two calls of forward(batch, training=True)"
    check_array(
        bn.running_mean, want["mean"], call=call, what="running_mean", known_bugs=bugs("mean")
    )
    check_array(bn.running_var, want["var"], call=call, what="running_var", known_bugs=bugs("var"))
    call = f"{sig}.backward(dvalues) after forward(inputs, training=True)"
    got = bn.backward(dv)
    check_array(bn.dgamma, want["dgamma"], call=call, what="dgamma", known_bugs=bugs("dgamma"))
    check_array(bn.dbeta, want["dbeta"], call=call, what="dbeta")
    check_array(
        got,
        want["dx"],
        call=call,
        inputs={"inputs": x2, "dvalues": dv},
        what="returned dinputs",
        known_bugs=bugs("dx"),
    )
    check_array(
        bn.forward(x_eval, training=False),
        want["eval"],
        call=f"{sig}.forward(inputs, training=False)",
        inputs={"inputs": x_eval},
        known_bugs=bugs("eval"),
    )


def _dropout_bugs(x, dv, rate, seed):
    """(forward bugs, backward bugs), the values of common mistakes drawn from default_rng(seed)."""
    keep_p = 1.0 - rate
    draw = lambda p: np.random.default_rng(seed).binomial(1, p, size=x.shape).astype(np.float64)  # noqa: E731
    forward = [
        (
            "the kept values are not rescaled: inverted dropout divides the mask by 1 - rate",
            x * draw(keep_p),
        ),
        ("the mask is divided by rate instead of 1 - rate", x * draw(keep_p) / rate),
        (
            "rng.binomial(1, p) gives 1 (keep) with probability p: p must be the keep probability 1 - rate, not rate",
            x * draw(rate) / keep_p,
        ),
    ]
    backward = [
        (
            "backward forgets the 1 / (1 - rate) scaling: multiply by the same (scaled) mask as forward",
            dv * draw(keep_p),
        )
    ]
    return forward, backward


@points(1)
@pytest.mark.parametrize(
    "shape,rate", [((1, 13), 0.05), ((9, 4), 0.85)], ids=["1x13-rate-0.05", "9x4-rate-0.85"]
)
def test_hidden_dropout_other_rates(student, oracle, shape, rate):
    x, dv = oracle.random("x", lambda rng: (rng.normal(size=shape), rng.normal(size=shape)))
    seed = oracle.random("seed", lambda rng: int(rng.integers(0, 2**31 - 1)))

    def expected():
        out, mask = ref.dropout_forward(x, rate, np.random.default_rng(seed))
        return out, ref.dropout_backward(dv, mask)

    want, dwant = oracle.compute("want", expected)
    forward_bugs, backward_bugs = oracle.compute("bugs", lambda: _dropout_bugs(x, dv, rate, seed))
    layer = student.Dropout(rate, Rng(seed))
    call = f"Dropout({rate}, rng=default_rng({seed}))"
    check_array(
        layer.forward(x, training=True),
        want,
        call=f"{call}.forward(inputs, training=True)",
        inputs={"inputs": x},
        known_bugs=forward_bugs,
    )
    check_array(
        layer.backward(dv),
        dwant,
        call=f"{call}.backward(dvalues) after forward(inputs, training=True)",
        inputs={"dvalues": dv},
        known_bugs=backward_bugs,
    )


@points(1)
def test_hidden_regularized_dense_wide_batch(student, oracle):
    """Dense(7, 5) with all four penalties on a batch of 32: the gradients and regularization_loss."""
    l1_w, l2_w, l1_b, l2_b = 0.004, 0.07, 0.3, 0.015
    X, W, b, dv = oracle.random(
        "inputs",
        lambda rng: (
            rng.normal(size=(32, 7)),
            rng.normal(size=(7, 5)),
            rng.normal(size=(1, 5)),
            rng.normal(size=(32, 5)),
        ),
    )
    dX, dW, db = oracle.compute(
        "want", lambda: ref.dense_backward_regularized(X, W, b, dv, l1_w, l2_w, l1_b, l2_b)
    )
    penalty = oracle.compute(
        "penalty", lambda: ref.regularization_loss(W, b, l1_w, l2_w, l1_b, l2_b)
    )
    plain = oracle.compute("plain", lambda: ref.dense_backward(X, W, dv))
    layer = student.Dense(
        7,
        5,
        Rng(0),
        weight_regularizer_l1=l1_w,
        weight_regularizer_l2=l2_w,
        bias_regularizer_l1=l1_b,
        bias_regularizer_l2=l2_b,
    )
    layer.weights, layer.biases = W, b
    layer.forward(X, training=True)
    got = layer.backward(dv)
    sig = f"Dense(7, 5, l1_w={l1_w}, l2_w={l2_w}, l1_b={l1_b}, l2_b={l2_b})"
    call = f"{sig}.backward(dvalues)"
    shapes = {"inputs": X, "weights": W, "dvalues": dv}
    check_array(
        layer.dweights,
        dW,
        call=call,
        inputs=shapes,
        what="dweights",
        known_bugs=[
            ("dweights has no penalty term: add l1 * sign(W) + 2 * l2 * W", plain[1]),
            (
                "the L2 term of dweights misses the factor 2",
                plain[1] + l1_w * np.sign(W) + l2_w * W,
            ),
        ],
    )
    check_array(
        layer.dbiases,
        db,
        call=call,
        inputs=shapes,
        what="dbiases",
        known_bugs=[
            (
                "dbiases has no penalty term: add bias_regularizer_l1 * sign(b) + 2 * bias_regularizer_l2 * b",
                plain[2],
            ),
            (
                "dbiases uses the weight regularizer strengths",
                plain[2] + l1_w * np.sign(b) + 2 * l2_w * b,
            ),
        ],
    )
    check_array(
        got, dX, call=call, inputs=shapes, what="returned dinputs (the penalties do not change it)"
    )
    check_scalar(
        student.regularization_loss(layer),
        penalty,
        call=f"regularization_loss({sig})",
        inputs={"weights": W, "biases": b},
    )
