"""Chapter 07: batch normalization, training and inference."""

from hypothesis import given
from hypothesis import strategies as st

from grader.api import (
    check_array,
    check_gradient,
    check_true,
    np,
    numeric_gradient,
    points,
    pytest,
    reference,
)
from grader.suites.common import check_forward_first

ref = reference("ch07_generalization")

EPS = 1e-5


def _gradient_check(got, num, **kwargs):
    """check_gradient, but first accept a gradient whose error is tiny relative to the
    norm of the whole gradient. Batch norm's dinputs columns sum to zero, so some entries
    are close to 0, and there the per-entry relative error of check_gradient measures
    only the rounding noise of the central differences (about 1e-9 absolute)."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        g = None
    if g is not None and g.shape == num.shape and np.all(np.isfinite(g)):
        scale = max(1e-12, float(np.linalg.norm(g) + np.linalg.norm(num)))
        if np.linalg.norm(g - num) / scale < 1e-7:
            return
    check_gradient(got, num, threshold=1e-6, **kwargs)


def _inputs(rng, N, D):
    """x with features of different scales and offsets; gamma, beta; upstream gradient."""
    x = rng.normal(size=(N, D)) * rng.uniform(0.5, 3.0, size=(1, D)) + rng.normal(size=(1, D))
    gamma = rng.uniform(0.5, 2.0, size=(1, D)) * rng.choice([-1.0, 1.0], size=(1, D))
    beta = rng.normal(size=(1, D))
    dv = rng.normal(size=(N, D))
    return x, gamma, beta, dv


def _layer(student, gamma, beta, momentum=0.9):
    bn = student.BatchNorm(gamma.shape[1], momentum=momentum, epsilon=EPS)
    bn.gamma, bn.beta = gamma, beta
    return bn


def _train_forward_bugs(x, gamma, beta):
    D = x.shape[1]
    zeros, ones = np.zeros((1, D)), np.ones((1, D))
    mu, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    bugs = [
        (
            "the variance must be the biased one (divide by N, np.var's default), not ddof=1",
            ref.batchnorm_forward_eval(
                x, gamma, beta, mu, x.var(axis=0, ddof=1, keepdims=True) if len(x) > 1 else var, EPS
            ),
        ),
        (
            "epsilon goes inside the square root: (inputs - mean) / sqrt(var + epsilon)",
            gamma * (x - mu) / (np.sqrt(var) + EPS) + beta,
        ),
        (
            "gamma and beta are not applied: output = gamma * x_hat + beta",
            ref.batchnorm_forward_eval(x, ones, zeros, mu, var, EPS),
        ),
        (
            "in training, normalise with the batch's own mean and variance, not the running statistics",
            ref.batchnorm_forward_eval(x, gamma, beta, zeros, ones, EPS),
        ),
        (
            "the statistics are taken over the features of each sample (axis=1): batch norm takes them over "
            "the batch (axis=0), one mean and variance per feature",
            gamma
            * (x - x.mean(axis=1, keepdims=True))
            / np.sqrt(x.var(axis=1, keepdims=True) + EPS)
            + beta,
        ),
    ]
    return bugs


@points(2)
@pytest.mark.parametrize("N,D", [(8, 3), (4, 4), (1, 3), (32, 6)])
def test_batchnorm_forward_train_matches_reference(student, oracle, N, D):
    x, gamma, beta, _ = oracle.random("inputs", lambda rng: _inputs(rng, N, D))
    want = oracle.compute(
        "want",
        lambda: ref.batchnorm_forward_train(
            x, gamma, beta, np.zeros((1, D)), np.ones((1, D)), 0.9, EPS
        )[0],
    )
    bugs = oracle.compute("bugs", lambda: _train_forward_bugs(x, gamma, beta))
    bn = _layer(student, gamma, beta)
    got = bn.forward(x, training=True)
    call = "BatchNorm.forward(inputs, training=True)"
    hint = (
        (
            "with a batch of one sample the unbiased variance (ddof=1) divides by N - 1 = 0: use the biased "
            "variance, and epsilon inside the square root"
        )
        if N == 1
        else None
    )
    check_array(
        got,
        want,
        call=call,
        inputs={"inputs": x, "gamma": gamma},
        known_bugs=bugs,
        nonfinite_hint=hint,
    )
    check_array(bn.output, want, call=call, what="stored self.output")


def _running_chain(batches, D, momentum):
    """(running_mean, running_var) after training forwards on the batches; and the
    values of common mistakes."""

    def run(update):
        mean, var = np.zeros((1, D)), np.ones((1, D))
        for x in batches:
            mean, var = update(x, mean, var)
        return mean, var

    m = momentum
    want = run(
        lambda x, mean, var: ref.batchnorm_forward_train(
            x, np.ones((1, D)), np.zeros((1, D)), mean, var, m, EPS
        )[1:3]
    )
    swapped = run(
        lambda x, mean, var: (
            (1 - m) * mean + m * x.mean(0, keepdims=True),
            (1 - m) * var + m * x.var(0, keepdims=True),
        )
    )
    unbiased = run(
        lambda x, mean, var: (
            m * mean + (1 - m) * x.mean(0, keepdims=True),
            m * var + (1 - m) * x.var(0, ddof=1, keepdims=True),
        )
    )
    std = run(
        lambda x, mean, var: (
            m * mean + (1 - m) * x.mean(0, keepdims=True),
            m * var + (1 - m) * x.std(0, keepdims=True),
        )
    )
    last = (batches[-1].mean(0, keepdims=True), batches[-1].var(0, keepdims=True))
    swap_desc = (
        "the momentum is swapped: running = momentum * running + (1 - momentum) * batch "
        f"(momentum = {m} is the weight of the old running value)"
    )
    mean_bugs = [
        (swap_desc, swapped[0]),
        ("running_mean is replaced by the last batch's mean instead of a moving average", last[0]),
        ("running_mean is not updated by a training forward", np.zeros((1, D))),
    ]
    var_bugs = [
        (swap_desc, swapped[1]),
        (
            "running_var must move towards the biased batch variance (divide by N), not the unbiased one "
            "(ddof=1)",
            unbiased[1],
        ),
        ("running_var must move towards the batch variance, not the standard deviation", std[1]),
        (
            "running_var is replaced by the last batch's variance instead of a moving average",
            last[1],
        ),
        ("running_var is not updated by a training forward", np.ones((1, D))),
    ]
    return want, mean_bugs, var_bugs


@points(3)
@pytest.mark.parametrize("momentum,N,D", [(0.9, 6, 3), (0.7, 10, 2)])
def test_batchnorm_running_statistics_after_several_batches(student, oracle, momentum, N, D):
    batches = oracle.random(
        "batches", lambda rng: [_inputs(rng, N, D)[0] * (1 + k) for k in range(4)]
    )
    (want_mean, want_var), mean_bugs, var_bugs = oracle.compute(
        "want", lambda: _running_chain(batches, D, momentum)
    )
    bn = student.BatchNorm(D, momentum=momentum, epsilon=EPS)
    for x in batches:
        bn.forward(x, training=True)
    call = f"BatchNorm({D}, momentum={momentum}) after 4 calls of forward(batch, training=True)"
    shapes = {"batch": batches[0]}
    check_array(
        bn.running_mean,
        want_mean,
        call=call,
        inputs=shapes,
        what="running_mean",
        known_bugs=mean_bugs,
    )
    check_array(
        bn.running_var, want_var, call=call, inputs=shapes, what="running_var", known_bugs=var_bugs
    )


@points(2)
@pytest.mark.parametrize("N,D", [(5, 3), (1, 4)])
def test_batchnorm_forward_eval_uses_running_statistics(student, oracle, N, D):
    x, gamma, beta, _ = oracle.random("inputs", lambda rng: _inputs(rng, N, D))
    r_mean, r_var = oracle.random(
        "running", lambda rng: (rng.normal(size=(1, D)), rng.uniform(0.2, 3.0, size=(1, D)))
    )
    want = oracle.compute(
        "want", lambda: ref.batchnorm_forward_eval(x, gamma, beta, r_mean, r_var, EPS)
    )
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "batch statistics are used at inference: with training=False (the default) normalise with "
                "running_mean and running_var",
                ref.batchnorm_forward_train(x, gamma, beta, r_mean, r_var, 0.9, EPS)[0],
            ),
            (
                "epsilon goes inside the square root: sqrt(running_var + epsilon)",
                gamma * (x - r_mean) / (np.sqrt(r_var) + EPS) + beta,
            ),
            (
                "running_var is a variance: divide by its square root, sqrt(running_var + epsilon)",
                gamma * (x - r_mean) / (r_var + EPS) + beta,
            ),
        ],
    )
    for kwargs, label in (
        ({}, "forward(inputs)"),
        ({"training": False}, "forward(inputs, training=False)"),
    ):
        bn = _layer(student, gamma, beta)
        bn.running_mean, bn.running_var = r_mean, r_var
        got = bn.forward(x, **kwargs)
        call = f"BatchNorm.{label}"
        check_array(got, want, call=call, inputs={"inputs": x}, known_bugs=bugs)
        check_array(
            bn.running_mean, r_mean, call=call, what="running_mean (inference must not change it)"
        )
        check_array(
            bn.running_var, r_var, call=call, what="running_var (inference must not change it)"
        )


def _backward_expected(x, gamma, beta, dv):
    D = x.shape[1]
    _, _, _, cache = ref.batchnorm_forward_train(
        x, gamma, beta, np.zeros((1, D)), np.ones((1, D)), 0.9, EPS
    )
    dx, dgamma, dbeta = ref.batchnorm_backward(dv, cache)
    constant_stats = ref.batchnorm_backward_eval(dv, gamma, x.var(axis=0, keepdims=True), EPS)
    return dx, dgamma, dbeta, constant_stats


CONSTANT_STATS = (
    "dinputs treats the batch mean and variance as constants: in training they depend on "
    "every input, which adds two terms (the sums over the batch)"
)


@points(3)
@pytest.mark.parametrize("N,D", [(5, 3), (10, 4)])
def test_batchnorm_backward_train_gradient_check(student, oracle, N, D):
    """dinputs against central differences of your own forward(inputs, training=True)."""
    x, gamma, beta, dv = oracle.random("inputs", lambda rng: _inputs(rng, N, D))
    _, _, _, constant_stats = oracle.compute("want", lambda: _backward_expected(x, gamma, beta, dv))
    D = x.shape[1]
    forward_want = oracle.compute(
        "forward",
        lambda: ref.batchnorm_forward_train(
            x, gamma, beta, np.zeros((1, D)), np.ones((1, D)), 0.9, EPS
        )[0],
    )
    # The check differentiates your own forward: it counts only when that forward is right.
    check_forward_first(
        _layer(student, gamma, beta).forward(x, training=True),
        forward_want,
        "BatchNorm.forward(inputs, training=True)",
        "test_batchnorm_forward_train_matches_reference",
    )
    bn = _layer(student, gamma, beta)
    # Each evaluation is a training forward, so the running statistics move; the output
    # (and so the gradient) does not depend on them.
    num = numeric_gradient(bn.forward, x, True, dout=dv)
    bn.forward(x, training=True)
    got = bn.backward(dv)
    _gradient_check(
        got,
        num,
        call="BatchNorm.backward(dvalues) after forward(inputs, training=True)",
        inputs={"inputs": x},
        known_bugs=[(CONSTANT_STATS, constant_stats)],
    )


@points(2)
@pytest.mark.parametrize("N,D", [(6, 3), (3, 5)])
def test_batchnorm_backward_train_matches_reference(student, oracle, N, D):
    x, gamma, beta, dv = oracle.random("inputs", lambda rng: _inputs(rng, N, D))
    dx, dgamma, dbeta, constant_stats = oracle.compute(
        "want", lambda: _backward_expected(x, gamma, beta, dv)
    )
    bn = _layer(student, gamma, beta)
    bn.forward(x, training=True)
    got = bn.backward(dv)
    call = "BatchNorm.backward(dvalues) after forward(inputs, training=True)"
    shapes = {"inputs": x, "dvalues": dv}
    check_array(
        bn.dgamma,
        dgamma,
        call=call,
        inputs=shapes,
        what="dgamma",
        known_bugs=[
            ("dgamma is the sum over the batch of dvalues * x_hat (the normalised inputs)", dbeta),
            (
                "dgamma must use the normalised inputs x_hat, not the raw inputs",
                (dv * x).sum(axis=0, keepdims=True),
            ),
        ],
    )
    check_array(bn.dbeta, dbeta, call=call, inputs=shapes, what="dbeta")
    check_array(
        got,
        dx,
        call=call,
        inputs=shapes,
        what="returned dinputs",
        known_bugs=[(CONSTANT_STATS, constant_stats)],
    )


def _training_formula_with(x, gamma, dv, r_mean, r_var):
    """The training-mode dinputs formula, wrongly applied with the running statistics."""
    std_inv = 1.0 / np.sqrt(r_var + EPS)
    x_hat = (x - r_mean) * std_inv
    g = dv * gamma
    n = len(x)
    return (
        std_inv / n * (n * g - g.sum(0, keepdims=True) - x_hat * (g * x_hat).sum(0, keepdims=True))
    )


@points(2)
def test_batchnorm_backward_eval_treats_statistics_as_constants(student, oracle):
    x, gamma, beta, dv = oracle.random("inputs", lambda rng: _inputs(rng, 6, 3))
    r_mean, r_var = oracle.random(
        "running", lambda rng: (rng.normal(size=(1, 3)), rng.uniform(0.2, 3.0, size=(1, 3)))
    )
    want = oracle.compute("want", lambda: ref.batchnorm_backward_eval(dv, gamma, r_var, EPS))
    training_formula = oracle.compute(
        "bug", lambda: _training_formula_with(x, gamma, dv, r_mean, r_var)
    )
    bn = _layer(student, gamma, beta)
    bn.running_mean, bn.running_var = r_mean, r_var
    num = numeric_gradient(bn.forward, x, False, dout=dv)
    bn.forward(x, training=False)
    got = bn.backward(dv)
    call = "BatchNorm.backward(dvalues) after forward(inputs, training=False)"
    _gradient_check(
        got,
        num,
        call=call,
        inputs={"inputs": x},
        known_bugs=[
            (
                "after an inference forward the statistics are constants: dinputs = dvalues * gamma / "
                "sqrt(running_var + epsilon), not the training formula",
                training_formula,
            )
        ],
    )
    check_array(got, want, call=call, inputs={"inputs": x})


@points(1)
def test_batchnorm_optimizer_names_alias_gamma_and_beta(student, oracle):
    """The parameter interface: parameters() is {"gamma", "beta"} (the layer's own arrays) and
    gradients() {"gamma": dgamma, "beta": dbeta}, so an optimizer trains a BatchNorm."""
    x, gamma, beta, dv = oracle.random("inputs", lambda rng: _inputs(rng, 5, 2))
    bn = _layer(student, gamma, beta)
    call = "BatchNorm(2).parameters()"
    params = bn.parameters()
    check_true(
        isinstance(params, dict) and set(params) == {"gamma", "beta"},
        f"{call} must be a dict with the keys 'gamma' and 'beta', got "
        f"{sorted(params) if isinstance(params, dict) else type(params).__name__}",
    )
    check_array(params["gamma"], gamma, call=call, what="parameters()['gamma'] (must be gamma)")
    check_array(params["beta"], beta, call=call, what="parameters()['beta'] (must be beta)")
    bn.forward(x, training=True)
    bn.backward(dv)
    grads = bn.gradients()
    call = "BatchNorm.gradients() after backward(dvalues)"
    check_true(
        isinstance(grads, dict) and set(grads) == {"gamma", "beta"},
        f"{call} must be a dict with the keys 'gamma' and 'beta', got "
        f"{sorted(grads) if isinstance(grads, dict) else type(grads).__name__}",
    )
    check_array(grads["gamma"], bn.dgamma, call=call, what="gradients()['gamma'] (must be dgamma)")
    check_array(grads["beta"], bn.dbeta, call=call, what="gradients()['beta'] (must be dbeta)")
    # An optimizer updates the arrays parameters() returns, in place: they must be the layer's own.
    dgamma, dbeta = np.asarray(bn.dgamma, dtype=np.float64), np.asarray(bn.dbeta, dtype=np.float64)
    student.SGD(learning_rate=1.0).update_params(bn)
    call = "SGD(learning_rate=1.0).update_params(batchnorm)"
    hint = "parameters() must return the layer's own gamma and beta arrays, not copies"
    check_array(bn.gamma, gamma - dgamma, call=call, what=f"gamma ({hint})")
    check_array(bn.beta, beta - dbeta, call=call, what=f"beta ({hint})")


@points(2)
@given(st.integers(2, 12), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_batchnorm_train_output_is_standardised_property(student, N, D, seed):
    """With gamma = 1 and beta = 0 every feature of a training output has mean 0 and
    variance var / (var + epsilon)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)) * rng.uniform(0.1, 10.0, size=(1, D)) + rng.normal(
        scale=5.0, size=(1, D)
    )
    out = np.asarray(student.BatchNorm(D, epsilon=EPS).forward(x, training=True), dtype=np.float64)
    var = x.var(axis=0)
    call = "BatchNorm(D).forward(inputs, training=True)"
    check_true(out.shape == x.shape, f"{call}: output has shape {out.shape}, expected {x.shape}")
    check_true(
        np.allclose(out.mean(axis=0), 0.0, atol=1e-9),
        f"{call}: a feature of the output does not have mean 0 over the batch",
        f"inputs of shape {x.shape}; output means {out.mean(axis=0)}",
    )
    check_true(
        np.allclose(out.var(axis=0), var / (var + EPS), rtol=1e-7, atol=1e-12),
        f"{call}: a feature of the output does not have variance var / (var + epsilon) over the batch",
        f"inputs of shape {x.shape}; output variances {out.var(axis=0)}",
    )
