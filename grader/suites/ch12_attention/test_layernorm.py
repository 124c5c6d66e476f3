"""Chapter 12: LayerNorm over the last axis: values, the per-row statistics, gradients."""

from grader.api import check_array, check_gradient, check_true, np, points, pytest
from grader.suites.ch12_attention.common import (
    H_STEP,
    check_forward_first,
    gradients_of,
    ref,
    variants,
)

LN_BUGS = [
    (
        "over_positions",
        "the statistics are taken over the positions (axis 1): layer norm normalizes each position's "
        "features, the last axis: mean(axis=-1, keepdims=True)",
    ),
    (
        "over_all_but_batch",
        "the statistics are taken over every axis but the batch: layer norm normalizes each "
        "position's features on their own, over the last axis only",
    ),
    (
        "over_batch",
        "the statistics are taken over the batch (axis 0), as batch normalization does: layer norm "
        "normalizes over the last axis",
    ),
    (
        "unbiased_variance",
        "the variance is divided by D - 1: layer norm uses the mean of the squared deviations "
        "(divide by D)",
    ),
    (
        "epsilon_outside_sqrt",
        "epsilon is added after the square root: xhat = (x - mean) / sqrt(var + epsilon)",
    ),
]


def _draw(rng, shape):
    D = shape[-1]
    return (
        rng.normal(loc=1.5, scale=2.0, size=shape),
        1.0 + 0.3 * rng.standard_normal((1, D)),
        0.2 * rng.standard_normal((1, D)),
    )


def _layer(student, D, gamma, beta):
    layer = student.LayerNorm(D)
    layer.gamma, layer.beta = gamma, beta
    return layer


@points(2)
@pytest.mark.parametrize(
    "shape",
    [(2, 5, 8), (3, 4, 6), (4, 3), (1, 2, 6)],
    ids=["2x5x8", "3x4x6", "2-d", "batch-of-one"],
)
def test_layernorm_forward_matches_reference(student, oracle, shape):
    x, gamma, beta = oracle.random("inputs", lambda rng: _draw(rng, shape))
    x[..., 0, :] *= 0.05  # rows of very different scales: small variance, where epsilon matters
    want = oracle.compute("want", lambda: ref.layernorm_forward(x, gamma, beta)[0])
    bugs = [b for b in LN_BUGS if not (b[0] == "over_positions" and len(shape) < 3)]
    known = oracle.compute(
        "bugs", lambda: [(d, variants.layernorm_variant(x, gamma, beta, b)) for b, d in bugs]
    )
    got = _layer(student, shape[-1], gamma, beta).forward(x)
    check_array(
        got,
        want,
        call=f"LayerNorm({shape[-1]}).forward(inputs)",
        inputs={"inputs": x},
        what=f"output {shape}",
        known_bugs=known,
    )


@points(1)
@pytest.mark.parametrize("shape", [(3, 4, 10), (2, 7)], ids=["3x4x10", "2-d"])
def test_layernorm_rows_have_mean_zero_variance_one(student, oracle, shape):
    """With gamma = 1 and beta = 0 every row (last axis) has mean 0 and variance close to 1."""
    x = oracle.random("inputs", lambda rng: rng.normal(loc=-3.0, scale=5.0, size=shape))
    D = shape[-1]
    call = f"LayerNorm({D}).forward(inputs) with gamma = 1, beta = 0"
    out = check_array(
        student.LayerNorm(D).forward(x), np.zeros(shape), call=call, what="output", atol=np.inf
    )
    mean, var = out.mean(axis=-1), out.var(axis=-1)
    check_true(
        np.allclose(mean, 0, atol=1e-9),
        f"{call}: a row's mean is not 0 (up to {np.max(np.abs(mean)):.3g})",
        "LayerNorm normalizes over the last axis: every row of D features gets mean 0.",
    )
    check_true(
        np.allclose(var, 1, atol=1e-3),
        f"{call}: a row's variance is not 1 (between {var.min():.4g} and {var.max():.4g})",
        "Every row of D features gets variance 1 (up to epsilon).",
    )


@points(3)
@pytest.mark.parametrize("shape", [(2, 3, 5), (4, 6)], ids=["2x3x5", "2-d"])
def test_layernorm_backward_gradient_check(student, oracle, shape):
    x, gamma, beta = oracle.random("inputs", lambda rng: _draw(rng, shape))
    dout = oracle.random("dout", lambda rng: rng.standard_normal(shape))

    def numeric():
        f = lambda **c: float(
            np.sum(
                ref.layernorm_forward(
                    c.get("x", x),
                    c.get("g", gamma),  # noqa: E731
                    c.get("b", beta),
                )[0]
                * dout
            )
        )
        return {
            "inputs": ref.numerical_gradient(lambda v: f(x=v), x, H_STEP),
            "gamma": ref.numerical_gradient(lambda v: f(g=v), gamma, H_STEP),
            "beta": ref.numerical_gradient(lambda v: f(b=v), beta, H_STEP),
        }

    want = oracle.compute("forward", lambda: ref.layernorm_forward(x, gamma, beta)[0])
    num = oracle.compute("numeric", numeric)
    D = shape[-1]

    def bugs():
        _, cache = ref.layernorm_forward(x, gamma, beta)
        xhat, var, _, eps = cache
        g = dout * gamma
        return [
            (
                "dinputs treats the mean and the variance as constants: they depend on every input of the row, "
                "dinputs = inv_std * (g - mean(g) - xhat * mean(g * xhat)) with g = dvalues * gamma",
                g / np.sqrt(var + eps),
            ),
            (
                "dinputs misses gamma: the gradient reaching xhat is dvalues * gamma",
                ref.layernorm_backward(dout, (xhat, var, np.ones_like(gamma), eps))[0],
            ),
        ]

    known = oracle.compute("bugs", bugs)
    layer = _layer(student, D, gamma, beta)
    check_forward_first(
        layer.forward(x),
        want,
        f"LayerNorm({D}).forward(inputs)",
        "test_layernorm_forward_matches_reference",
    )
    call = f"LayerNorm({D}).backward(dvalues)"
    inputs = {"inputs": x, "dvalues": dout}
    check_gradient(
        layer.backward(dout),
        num["inputs"],
        call=call,
        what="dinputs (the returned value)",
        inputs=inputs,
        known_bugs=known,
    )
    got = gradients_of(layer, ("gamma", "beta"), call)
    for name in ("gamma", "beta"):
        check_gradient(
            got[name],
            num[name],
            call=call,
            what=f"gradient of {name} (1, D), summed over every row",
            inputs=inputs,
        )
