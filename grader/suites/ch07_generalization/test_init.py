"""Chapter 07: weight initialisation (zeros, small random, Xavier/Glorot, He)."""

from grader.api import (
    Rng,
    StudentError,
    check_array,
    check_true,
    fail,
    keep,
    np,
    points,
    pytest,
    reference,
)

ref = reference("ch07_generalization")

FAN_IN, FAN_OUT = 500, 400  # fan_in != fan_out, so that every formula gives a different variance

EXPECTED_VARIANCE = {
    "random": 0.01**2,
    "xavier": 2.0 / (FAN_IN + FAN_OUT),
    "he": 2.0 / FAN_IN,
}


def _candidates(fan_in, fan_out):
    """Variances of formulas a student may have used instead, with what they are."""
    return [
        ("2 / (fan_in + fan_out), the Xavier variance", 2.0 / (fan_in + fan_out)),
        ("2 / fan_in, the He variance", 2.0 / fan_in),
        ("1 / fan_in (fan_in alone, without the 2)", 1.0 / fan_in),
        ("2 / fan_out (the wrong fan: fan_out = n_neurons)", 2.0 / fan_out),
        ("1 / fan_out", 1.0 / fan_out),
        ("1 / (fan_in + fan_out) (the 2 is missing)", 1.0 / (fan_in + fan_out)),
        (
            "(2 / (fan_in + fan_out))**2: the formula was used as the standard deviation, not the variance "
            "(take its square root)",
            (2.0 / (fan_in + fan_out)) ** 2,
        ),
        (
            "(2 / fan_in)**2: the formula was used as the standard deviation, not the variance (take its "
            "square root)",
            (2.0 / fan_in) ** 2,
        ),
        ("0.01 (0.01 used as the variance, not the standard deviation)", 0.01),
        ("1, a plain standard normal (no scaling)", 1.0),
    ]


@points(2)
@pytest.mark.parametrize("kind", ["zeros", "random", "xavier", "he"])
def test_init_weights_variance(student, oracle, kind):
    """The variance of 200,000 weights, within 5 standard errors of the kind's variance."""
    seed = oracle.random("seed", lambda rng: int(rng.integers(0, 2**31 - 1)))
    call = f'init_weights("{kind}", {FAN_IN}, {FAN_OUT}, rng)'
    W = check_array(
        student.init_weights(kind, FAN_IN, FAN_OUT, Rng(seed)),
        np.zeros((FAN_IN, FAN_OUT)),
        call=call,
        atol=np.inf,
        what="weights",
    )
    W = np.asarray(W, dtype=np.float64)
    if kind == "zeros":
        check_true(
            np.all(W == 0), f"{call}: the weights must all be 0", f"{int(np.sum(W != 0))} are not"
        )
        return
    n = W.size
    want = EXPECTED_VARIANCE[kind]
    var, mean = W.var(), W.mean()
    # For normal samples the variance estimate has standard error var * sqrt(2 / (n - 1)).
    se_var = want * np.sqrt(2.0 / (n - 1))
    check_true(
        abs(mean) < 5 * np.sqrt(want / n),
        f"{call}: the weights have mean {mean:.3g}, expected about 0 (a zero-mean normal)",
        "Draw with rng.standard_normal and scale it; do not use rng.random (uniform on [0, 1)).",
    )
    if abs(var - want) <= 5 * se_var:
        return
    matches = [
        desc
        for desc, v in _candidates(FAN_IN, FAN_OUT)
        if abs(var - v) <= 5 * v * np.sqrt(2.0 / (n - 1))
    ]
    hint = f" (it matches {matches[0]})" if matches else ""
    fail(
        f"{call}: the weights have variance {var:.4g}, expected {want:.4g}{hint}",
        f"fan_in = n_inputs = {FAN_IN}, fan_out = n_neurons = {FAN_OUT}; tolerance 5 standard errors "
        f"({5 * se_var:.2g}) of a variance estimate on {n} samples.",
    )


def _seeded_bugs(kind, n_in, n_out, seed):
    z = np.random.default_rng(seed).standard_normal((n_in, n_out))
    z_t = np.random.default_rng(seed).standard_normal((n_out, n_in)).T
    u = np.random.default_rng(seed).random((n_in, n_out))
    std = ref.init_std(kind, n_in, n_out)
    bugs = [
        (
            "the weights were drawn in the shape (n_neurons, n_inputs) and transposed: draw "
            "rng.standard_normal((n_inputs, n_neurons))",
            std * z_t,
        ),
        ("the weights come from rng.random (uniform on [0, 1)): use rng.standard_normal", std * u),
        ("the standard normal draw is not scaled", z),
    ]
    if kind == "xavier":
        bugs += [
            (
                "Xavier uses both fans: variance 2 / (fan_in + fan_out); you used 2 / fan_in",
                np.sqrt(2.0 / n_in) * z,
            ),
            (
                "Xavier uses both fans: variance 2 / (fan_in + fan_out); you used 1 / fan_in",
                np.sqrt(1.0 / n_in) * z,
            ),
            (
                "Xavier uses both fans: variance 2 / (fan_in + fan_out); you used 2 / fan_out",
                np.sqrt(2.0 / n_out) * z,
            ),
            (
                "Xavier's variance is 2 / (fan_in + fan_out); you used 1 / (fan_in + fan_out)",
                np.sqrt(1.0 / (n_in + n_out)) * z,
            ),
            (
                "2 / (fan_in + fan_out) is the variance: scale by its square root",
                2.0 / (n_in + n_out) * z,
            ),
        ]
    if kind == "he":
        bugs += [
            ("He's variance is 2 / fan_in; you used 1 / fan_in", np.sqrt(1.0 / n_in) * z),
            ("He uses fan_in = n_inputs; you used 2 / fan_out", np.sqrt(2.0 / n_out) * z),
            ("2 / fan_in is the variance: scale by its square root", 2.0 / n_in * z),
        ]
    return bugs


@points(2)
@pytest.mark.parametrize(
    "kind,n_in,n_out", [("random", 4, 3), ("xavier", 6, 3), ("he", 5, 2), ("zeros", 3, 4)]
)
def test_init_weights_matches_reference_for_seed(student, oracle, kind, n_in, n_out):
    seed = oracle.random("seed", lambda rng: int(rng.integers(0, 2**31 - 1)))
    want = oracle.compute(
        "want", lambda: ref.init_weights(kind, n_in, n_out, np.random.default_rng(seed))
    )
    bugs = oracle.compute("bugs", lambda: _seeded_bugs(kind, n_in, n_out, seed))
    got = student.init_weights(kind, n_in, n_out, Rng(seed))
    check_array(
        got,
        want,
        call=f'init_weights("{kind}", {n_in}, {n_out}, rng=default_rng({seed}))',
        what="weights",
        known_bugs=bugs,
    )


@points(1)
@pytest.mark.parametrize("kind", ["glorot", "He"])
def test_init_weights_unknown_kind_raises_value_error(student, kind):
    try:
        got = student.init_weights(kind, 3, 2, Rng(0))
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            return
        if exc.kind == "not_implemented":
            raise
        fail(
            f'init_weights("{kind}", ...) raised {exc.summary}, expected a ValueError',
            'The kinds are "zeros", "random", "xavier" and "he" (lower case); raise ValueError for any other.',
        )
    fail(
        f'init_weights("{kind}", 3, 2, rng) returned {np.asarray(got).shape if got is not None else None} '
        "instead of raising ValueError",
        'The kinds are "zeros", "random", "xavier" and "he" (lower case); raise ValueError for any other.',
    )


@points(1)
@pytest.mark.parametrize("kind", ["zeros", "xavier-upper-case"])
def test_init_weights_draws_nothing_when_no_draw_is_due(student, oracle, kind):
    """The docstring: "zeros" does not use rng, and an unknown kind raises ValueError before
    drawing anything: the Generator passed in is where it was, its next draw the same."""
    seed = 11
    fresh = oracle.compute("fresh", lambda: np.random.default_rng(seed).standard_normal(4))
    rng = keep(student, Rng(seed))
    if kind == "zeros":
        call = 'init_weights("zeros", 3, 2, rng)'
        want = oracle.compute(
            "zeros", lambda: ref.init_weights("zeros", 3, 2, np.random.default_rng(0))
        )
        check_array(student.init_weights("zeros", 3, 2, rng), want, call=call)
    else:
        call = 'init_weights("Xavier", 3, 2, rng)'
        try:
            got = student.init_weights("Xavier", 3, 2, rng)
        except StudentError as exc:
            if exc.kind == "not_implemented":
                raise
            if not exc.summary.startswith("ValueError"):
                fail(f"{call} raised {exc.summary}, expected a ValueError", exc.details)
        else:
            fail(f"{call} returned {type(got).__name__} instead of raising ValueError")
    check_array(
        rng.standard_normal(4),
        fresh,
        call=f"rng.standard_normal(4) after {call}",
        what="next draw of the Generator (it must not have been used: draw only for the "
        "random kinds, after checking the kind)",
    )
