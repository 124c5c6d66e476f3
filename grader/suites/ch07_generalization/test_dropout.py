"""Chapter 07: inverted dropout."""

from grader.api import Rng, check_array, check_true, fail, keep, np, points, pytest, reference
from grader.suites.common import again_note, check_unchanged

ref = reference("ch07_generalization")


def _seed(oracle):
    return oracle.random("seed", lambda rng: int(rng.integers(0, 2**31 - 1)))


def _forward_bugs(x, rate, seed):
    """Wrong training outputs of common mistakes, all drawn from default_rng(seed)."""
    keep_p = 1.0 - rate
    draw = lambda p: np.random.default_rng(seed).binomial(1, p, size=x.shape).astype(np.float64)  # noqa: E731
    return [
        (
            "the kept values are not rescaled: inverted dropout divides the mask by 1 - rate",
            x * draw(keep_p),
        ),
        (
            "the mask is divided by rate instead of 1 - rate",
            x * draw(keep_p) / rate if rate > 0 else x * np.nan,
        ),
        (
            "rng.binomial(1, p) gives 1 (keep) with probability p: p must be the keep probability 1 - rate, "
            "not rate",
            x * draw(rate) / keep_p,
        ),
        (
            "the mask must be drawn with rng.binomial(1, 1 - rate, size=inputs.shape) (one call), not "
            "rng.random() < 1 - rate",
            x * (np.random.default_rng(seed).random(x.shape) < keep_p) / keep_p,
        ),
    ]


@points(2)
@pytest.mark.parametrize("shape,rate", [((4, 6), 0.3), ((7, 5), 0.6), ((1, 8), 0.1)])
def test_dropout_forward_matches_reference(student, oracle, shape, rate):
    x = oracle.random("x", lambda rng: rng.normal(size=shape))
    seed = _seed(oracle)
    want = oracle.compute(
        "want", lambda: ref.dropout_forward(x, rate, np.random.default_rng(seed))[0]
    )
    bugs = oracle.compute("bugs", lambda: _forward_bugs(x, rate, seed))
    layer = student.Dropout(rate, Rng(seed))
    got = layer.forward(x, training=True)
    call = f"Dropout({rate}, rng=default_rng({seed})).forward(inputs, training=True)"
    _other_mask(got, x, want, rate, call, bugs)
    check_array(got, want, call=call, inputs={"inputs": x}, known_bugs=bugs)
    check_array(layer.output, want, call=call, what="stored self.output")


def _other_mask(got, x, want, rate, call, bugs):
    """A valid inverted-dropout output (every entry 0 or x / (1 - rate)) with another mask
    than the Generator's draw: the mask came from elsewhere, or from another call."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return
    if g.shape != x.shape or np.allclose(g, want, rtol=1e-6, atol=1e-8):
        return
    if any(np.shape(b) == g.shape and np.allclose(g, b, rtol=1e-6, atol=1e-8) for _, b in bugs):
        return  # a known bug: check_array names it
    kept = np.isclose(g, x / (1 - rate), rtol=1e-6, atol=1e-12)
    dropped = g == 0
    if np.all(kept | dropped) and not np.array_equal(kept, ~np.isclose(want, 0)):
        fail(
            f"{call}: a valid dropout output, but not with the mask the passed Generator draws",
            f"{call}\n  {int(dropped.sum())} of {g.size} values dropped, the right ones in "
            f"{int(np.sum(kept == ~np.isclose(want, 0)))} places\n  diagnosis: draw the mask "
            "from the layer's own Generator (self.rng, the rng passed in; never np.random) with "
            "exactly one call, self.rng.binomial(1, 1 - rate, size=inputs.shape): the same "
            "seed must give the same mask",
        )


@points(2)
@pytest.mark.parametrize("rate", [0.2, 0.7])
def test_dropout_statistics_keep_rate_and_scale(student, oracle, rate):
    """On 100,000 ones: about 1 - rate of them kept, each equal to 1 / (1 - rate)."""
    seed = _seed(oracle)
    x = np.ones((400, 250))
    out = np.asarray(student.Dropout(rate, Rng(seed)).forward(x, training=True), dtype=np.float64)
    call = f"Dropout({rate}, rng).forward(ones((400, 250)), training=True)"
    check_true(out.shape == x.shape, f"{call}: output has shape {out.shape}, expected (400, 250)")
    keep_p = 1.0 - rate
    kept = out != 0
    values = out[kept]
    scale = 1.0 / keep_p
    if values.size and not np.allclose(values, scale, rtol=1e-9):
        if np.allclose(values, 1.0):
            fail(
                f"{call}: the kept values are 1, not 1 / (1 - rate) = {scale:.4g} (not rescaled)",
                "Inverted dropout divides the kept values by 1 - rate, so that the expected output equals "
                "the input and inference needs no change.",
            )
        if np.allclose(values, 1.0 / rate):
            fail(
                f"{call}: the kept values are 1 / rate = {1 / rate:.4g}, expected 1 / (1 - rate) = {scale:.4g}"
            )
        fail(
            f"{call}: the kept values should all be 1 / (1 - rate) = {scale:.4g}",
            f"found values between {values.min():.4g} and {values.max():.4g}",
        )
    frac = kept.mean()
    se = np.sqrt(keep_p * rate / x.size)
    if abs(frac - keep_p) > 5 * se:
        hint = ""
        if abs(frac - rate) < 5 * se:
            hint = (
                " rng.binomial(1, p) gives 1 (keep) with probability p: p must be the keep "
                "probability 1 - rate, not rate"
            )
        fail(
            f"{call}: kept {frac:.2%} of the values, expected {keep_p:.0%} (1 - rate)"
            + (f";{hint}" if hint else ""),
            f"the standard error of the kept fraction is {se:.2g}; the tolerance is 5 standard errors",
        )
    mean = out.mean()
    check_true(
        abs(mean - 1.0) < 5 * np.sqrt(rate / keep_p / x.size),
        f"{call}: the output mean is {mean:.4f}, expected about 1 (inverted dropout keeps the mean)",
    )


@points(2)
def test_dropout_inference_is_identity(student, oracle):
    x, dv = oracle.random("x", lambda rng: (rng.normal(size=(6, 5)), rng.normal(size=(6, 5))))
    seed, rate = _seed(oracle), 0.4

    def wrong():
        out, mask = ref.dropout_forward(x, rate, np.random.default_rng(seed))
        forward_bugs = [
            (
                "dropout is applied at inference: with training=False (the default) forward must return the "
                "inputs unchanged",
                out,
            ),
            (
                "the inputs are scaled by 1 - rate at inference: that is non-inverted dropout; with inverted "
                "dropout inference is the identity",
                x * (1 - rate),
            ),
        ]
        backward_bugs = [("backward applies a dropout mask after an inference forward", dv * mask)]
        return forward_bugs, backward_bugs

    forward_bugs, backward_bugs = oracle.compute("bugs", wrong)
    # Returning the inputs is right at inference only: the test counts together with the
    # right training output (a layer that returns its inputs in every mode earns nothing).
    train_want = oracle.compute(
        "train", lambda: ref.dropout_forward(x, rate, np.random.default_rng(seed))[0]
    )
    check_array(
        student.Dropout(rate, Rng(seed)).forward(x, training=True),
        train_want,
        call=f"Dropout({rate}, rng).forward(inputs, training=True)",
        inputs={"inputs": x},
        what="output (this test counts only with the right training output too)",
    )
    for kwargs, label in (
        ({}, "forward(inputs)"),
        ({"training": False}, "forward(inputs, training=False)"),
    ):
        layer = student.Dropout(rate, Rng(seed))
        got = layer.forward(x, **kwargs)
        check_array(
            got,
            x,
            call=f"Dropout({rate}, rng).{label}",
            inputs={"inputs": x},
            known_bugs=forward_bugs,
        )
        check_array(
            layer.backward(dv),
            dv,
            call=f"Dropout.backward(dvalues) after {label}",
            inputs={"dvalues": dv},
            what="dinputs (the identity at inference)",
            known_bugs=backward_bugs,
        )


@points(1)
def test_dropout_inference_returns_copies(student, oracle):
    """The docstrings: at inference forward returns a copy of inputs and backward a copy of
    dvalues, so that a caller who reuses its array does not change what the layer returned."""
    x, dv = oracle.random("x", lambda rng: (rng.normal(size=(4, 3)), rng.normal(size=(4, 3))))
    layer = student.Dropout(0.3, Rng(0))
    for method, arg, attr, name in (
        ("forward", x, "output", "inputs"),
        ("backward", dv, "dinputs", "dvalues"),
    ):
        call = f"Dropout.{method}({name})" + (" at inference" if method == "forward" else "")
        kept = keep(student, arg)
        check_array(getattr(layer, method)(kept), arg, call=call, inputs={name: arg})
        kept.fill(0.0)  # the caller reuses its array
        check_array(
            getattr(layer, attr),
            arg,
            call=call,
            inputs={name: arg},
            what=f"self.{attr} after the caller filled its {name} with zeros (self.{attr} is the "
            f"very array {name}, not a copy: return {name}.copy())",
        )


@points(2)
@pytest.mark.parametrize("shape,rate", [((5, 4), 0.5), ((3, 9), 0.25)])
def test_dropout_backward_uses_forward_mask(student, oracle, shape, rate):
    x, dv = oracle.random("x", lambda rng: (rng.normal(size=shape), rng.normal(size=shape)))
    seed = _seed(oracle)

    def expected():
        rng = np.random.default_rng(seed)
        _, mask = ref.dropout_forward(x, rate, rng)
        want = ref.dropout_backward(dv, mask)
        fresh = ref.dropout_mask(x.shape, rate, rng)  # what a second draw would give
        bugs = [
            ("backward draws a new mask: it must reuse the mask of the forward pass", dv * fresh),
            (
                "backward forgets the 1 / (1 - rate) scaling: multiply by the same (scaled) mask as forward",
                dv * (mask > 0),
            ),
            ("backward ignores the mask: dropped values pass no gradient", dv),
        ]
        return want, bugs

    want, bugs = oracle.compute("want", expected)
    layer = student.Dropout(rate, Rng(seed))
    layer.forward(x, training=True)
    got = layer.backward(dv)
    check_array(
        got,
        want,
        call=f"Dropout({rate}, rng).backward(dvalues) after forward(inputs, training=True)",
        inputs={"dvalues": dv},
        known_bugs=bugs,
    )


@points(1)
def test_dropout_forward_leaves_inputs_unchanged(student, oracle):
    """The right output first (leaving inputs alone earns nothing on its own), then inputs as
    they were, and a second layer with the same seed must give the same output again."""
    x = oracle.random("x", lambda rng: rng.normal(size=(4, 5)))
    want = oracle.compute("want", lambda: ref.dropout_forward(x, 0.5, np.random.default_rng(3))[0])
    call = "Dropout(0.5, rng=default_rng(3)).forward(inputs, training=True)"
    handle = keep(student, x)
    got = student.Dropout(0.5, Rng(3)).forward(handle, training=True)
    check_array(got, want, call=call, inputs={"inputs": x})
    check_unchanged(
        handle,
        x,
        call=call,
        name="inputs",
        advice="Compute inputs * mask into a new array (no *=).",
    )
    got = student.Dropout(0.5, Rng(3)).forward(handle, training=True)
    check_array(got, want, call=again_note(call), inputs={"inputs": x})
