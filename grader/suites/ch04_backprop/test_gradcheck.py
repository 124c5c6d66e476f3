"""Chapter 04: numerical_gradient, rel_error and sparse_gradient_check."""

from hypothesis import example, given
from hypothesis import strategies as st

from grader.api import (
    Fn,
    Rng,
    check_array,
    check_scalar,
    check_true,
    fail,
    keep,
    np,
    points,
    pytest,
    reference,
)
from grader.check import as_array
from grader.suites.common import again_note, check_unchanged

ref = reference("ch04_backprop")

# The worker's named test functions (grader/worker.py, _make_function), the same formulas
# here so that the grader can differentiate them, and their derivatives in closed form.
FUNCTIONS = {
    "weighted_tanh": (
        lambda w: lambda x: float(np.sum(w * np.tanh(x))),
        lambda w, x: w * (1.0 - np.tanh(x) ** 2),
    ),
    "weighted_cube": (lambda w: lambda x: float(np.sum(w * x**3)), lambda w, x: 3.0 * w * x**2),
    "exp_sin": (
        lambda w: lambda x: float(np.sum(w * np.exp(np.sin(x)))),
        lambda w, x: w * np.cos(x) * np.exp(np.sin(x)),
    ),
}


def _draw(rng, name, shape):
    """x and w for a named function, away from points where the derivative is near 0
    (where a relative error measures rounding noise, not the code)."""
    w = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    if name == "weighted_cube":
        x = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.4, 1.5, size=shape)
    elif name == "exp_sin":
        x = rng.uniform(-1.2, 1.2, size=shape)
    else:
        x = rng.uniform(-2.0, 2.0, size=shape)
    return x, w


def _forward_differences(f, x, h):
    """The known bug (f(x + h e_i) - f(x)) / h."""
    xp = np.array(x, dtype=np.float64)
    f0 = f(xp)
    grad = np.zeros_like(xp)
    for idx in np.ndindex(xp.shape):
        old = xp[idx]
        xp[idx] = old + h
        grad[idx] = (f(xp) - f0) / h
        xp[idx] = old
    return grad


def _central_differences(f, xp, h):
    """Central differences on xp in its own dtype (the known bug of perturbing a float32 x)."""
    grad = np.zeros(xp.shape)
    for idx in np.ndindex(xp.shape):
        old = xp[idx]
        xp[idx] = old + h
        up = f(xp)
        xp[idx] = old - h
        down = f(xp)
        xp[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def _gradient_bugs(oracle, name, x, w, h, want):
    f = FUNCTIONS[name][0](w)
    bugs = [
        (
            "forward differences (f(x + h) - f(x)) / h: use central differences (f(x + h) - f(x - h)) / (2h)",
            oracle.compute("forward_differences", lambda: _forward_differences(f, x, h)),
        ),
        (
            "every value is 2 times too large: the central difference spans 2h, divide by 2 * h, not h",
            2.0 * want,
        ),
        (
            "every value is half the expected one: divide f(x + h) - f(x - h) by 2 * h, not by 4 * h",
            0.5 * want,
        ),
    ]
    if h != 1e-5:
        bugs.append(
            (
                f"the h argument is ignored: the step must be the h passed in (here h = {h:g})",
                oracle.compute("fixed_h", lambda: ref.numerical_gradient(f, x, 1e-5)),
            )
        )
    return bugs


def _grad_call(name, h):
    return f"numerical_gradient(f, x, h={h:g}) with f = {name}"


@points(2)
@pytest.mark.parametrize(
    "name,shape",
    [("weighted_tanh", (6,)), ("weighted_cube", (3, 4)), ("exp_sin", (2, 3, 2))],
    ids=["weighted_tanh-1d", "weighted_cube-2d", "exp_sin-3d"],
)
def test_numerical_gradient_matches_reference_and_analytic(student, oracle, name, shape):
    x, w = oracle.random("inputs", lambda rng: _draw(rng, name, shape))
    h = 1e-5
    want = oracle.compute("want", lambda: ref.numerical_gradient(FUNCTIONS[name][0](w), x, h))
    got = student.numerical_gradient(Fn(name, w=w), x, h)
    call = _grad_call(name, h)
    check_array(
        got,
        want,
        call=call,
        inputs={"x": x},
        known_bugs=_gradient_bugs(oracle, name, x, w, h, want),
    )
    check_array(
        got,
        FUNCTIONS[name][1](w, x),
        call=call,
        inputs={"x": x},
        what="output (compared with the exact derivative)",
    )


@points(1)
@pytest.mark.parametrize("name,h", [("weighted_cube", 1e-2), ("exp_sin", 2e-2)])
def test_numerical_gradient_uses_given_h(student, oracle, name, h):
    """With a large step the central difference of a cubic is off by w h^2: the h passed
    in must be the one used."""
    x, w = oracle.random("inputs", lambda rng: _draw(rng, name, (2, 3)))
    want = oracle.compute("want", lambda: ref.numerical_gradient(FUNCTIONS[name][0](w), x, h))
    got = student.numerical_gradient(Fn(name, w=w), x, h)
    check_array(
        got,
        want,
        call=_grad_call(name, h),
        inputs={"x": x},
        known_bugs=_gradient_bugs(oracle, name, x, w, h, want),
    )


@points(1)
@pytest.mark.parametrize("shape", [(5,), (3, 4)], ids=["1d", "2d"])
def test_numerical_gradient_leaves_x_unchanged(student, oracle, shape):
    x, w = oracle.random("inputs", lambda rng: _draw(rng, "weighted_tanh", shape))
    h = 1e-5
    want = oracle.compute(
        "want", lambda: ref.numerical_gradient(FUNCTIONS["weighted_tanh"][0](w), x, h)
    )
    call, inputs = _grad_call("weighted_tanh", h), {"x": x}
    handle = keep(student, x)
    # The right gradient first: leaving x alone earns nothing on its own.
    got = student.numerical_gradient(Fn("weighted_tanh", w=w), handle, h)
    check_array(got, want, call=call, inputs=inputs)
    _check_x_restored(handle, x, h)
    # The grader's own evidence: a second call on the same array gives the same gradient.
    got = student.numerical_gradient(Fn("weighted_tanh", w=w), handle, h)
    check_array(got, want, call=again_note(call), inputs=inputs)


def _check_x_restored(handle, x, h):
    after = as_array(handle.fetch(), "numerical_gradient(f, x)", x.shape, what="x")
    if after.shape != x.shape:
        fail(f"numerical_gradient(f, x) changed the shape of x from {x.shape} to {after.shape}")
    after = after.astype(np.float64)
    if np.allclose(after, x, rtol=1e-12, atol=0):
        return
    diff = after - x
    changed = int(np.sum(~np.isclose(after, x, rtol=1e-12, atol=0)))
    if np.allclose(diff, -h, rtol=1e-3, atol=0):
        why = "every entry was left at x - h: restore each entry after its two evaluations"
    elif np.allclose(diff, h, rtol=1e-3, atol=0):
        why = "every entry was left at x + h: restore each entry after its two evaluations"
    else:
        why = f"{changed} of {x.size} entries differ afterwards"
    fail(
        f"numerical_gradient(f, x) modified the caller's x ({why})",
        f"x of shape {x.shape}, h = {h:g}\n  x[0] before: {x.flat[0]:.10g}, after: {after.flat[0]:.10g}\n"
        "Work on a float64 copy of x (np.array(x, dtype=np.float64)) and put each entry back after "
        "perturbing it: a gradient check must not edit the weights it checks.",
    )


@points(1)
def test_numerical_gradient_float32_input_uses_float64(student, oracle):
    """A float32 x: a step of 1e-5 is rounded in float32 (the spacing of floats near 1 is
    1.2e-7), so the function must work on a float64 copy and return float64."""
    x, w = oracle.random("inputs", lambda rng: _draw(rng, "weighted_cube", (2, 4)))
    x32 = x.astype(np.float32)
    want = oracle.compute(
        "want",
        lambda: ref.numerical_gradient(
            FUNCTIONS["weighted_cube"][0](w), x32.astype(np.float64), 1e-5
        ),
    )
    call = "numerical_gradient(f, x, h=1e-5) with f = weighted_cube and a float32 x"
    got = as_array(student.numerical_gradient(Fn("weighted_cube", w=w), x32, 1e-5), call, x.shape)
    if got.dtype != np.float64:
        fail(
            f"{call} returned {got.dtype} values: work on a float64 copy of x and return float64",
            "np.array(x, dtype=np.float64) makes the copy. In float32 the step h = 1e-5 is rounded to a "
            "multiple of the spacing of the floats near x (1.2e-7 near 1), which spoils the difference quotient.",
        )
    bug = oracle.compute(
        "float32_copy",
        lambda: _central_differences(FUNCTIONS["weighted_cube"][0](w), x32.copy(), 1e-5),
    )
    check_array(
        got,
        want,
        call=call,
        inputs={"x": x32},
        known_bugs=[
            (
                "x was perturbed in float32, where the step h = 1e-5 is rounded: work on a float64 copy of x",
                bug,
            ),
            *_gradient_bugs(oracle, "weighted_cube", x32.astype(np.float64), w, 1e-5, want),
        ],
    )


# --------------------------------------------------------------------------- rel_error


def _rel_error_bugs(a, b):
    """Wrong versions of rel_error, computed in the grader."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    diff, total = np.abs(a - b), np.abs(a) + np.abs(b)
    with np.errstate(divide="ignore", invalid="ignore"):
        return [
            (
                "one global denominator (max |a - b| / max(|a| + |b|)): divide entry by entry, then take the max",
                float(diff.max() / max(1e-8, total.max())),
            ),
            (
                "one global denominator (max |a - b| / (max |a| + max |b|)): divide entry by entry, then take the max",
                float(diff.max() / max(1e-8, np.abs(a).max() + np.abs(b).max())),
            ),
            (
                "the mean of the entrywise ratios instead of their max",
                float(np.mean(diff / np.maximum(1e-8, total))),
            ),
            (
                "the floor is added to the denominator (|a| + |b| + 1e-8): take max(1e-8, |a| + |b|)",
                float(np.max(diff / (total + 1e-8))),
            ),
            (
                "no floor in the denominator: take max(1e-8, |a| + |b|)",
                float(np.nanmax(diff / total)) if np.any(total > 0) else float("nan"),
            ),
            (
                "the denominator uses max(|a|, |b|) instead of |a| + |b|",
                float(np.max(diff / np.maximum(1e-8, np.maximum(np.abs(a), np.abs(b))))),
            ),
        ]


@points(1)
@pytest.mark.parametrize("shape", [(), (7,), (3, 5)], ids=["floats", "vectors", "matrices"])
def test_rel_error_matches_reference(student, oracle, shape):
    # b near a, as in a gradient check (a and b of opposite signs would give exactly 1)
    a, b = oracle.random(
        "inputs",
        lambda rng: (lambda a: (a, a * rng.uniform(0.5, 1.5, size=shape)))(rng.normal(size=shape)),
    )
    if shape == ():
        a, b = float(a), float(b)
    want = oracle.compute("want", lambda: ref.rel_error(a, b))
    got = student.rel_error(a, b)
    check_scalar(
        got, want, call="rel_error(a, b)", inputs={"a": a, "b": b}, known_bugs=_rel_error_bugs(a, b)
    )


@points(1)
@pytest.mark.parametrize("case", ["both_zero", "tiny"])
def test_rel_error_floor_of_1e_8(student, oracle, case):
    """Entries that are both 0 count as equal (error 0, not 0/0); tiny entries are measured
    against the floor 1e-8: |1e-10 - 0| / 1e-8 = 0.01."""
    if case == "both_zero":
        a, b = np.zeros((2, 3)), np.zeros((2, 3))
        call = "rel_error(zeros((2, 3)), zeros((2, 3)))"
    else:
        a, b = np.array([0.0, 1e-10, 3.0]), np.array([0.0, 0.0, 3.0])
        call = "rel_error([0, 1e-10, 3], [0, 0, 3])"
    want = oracle.compute("want", lambda: ref.rel_error(a, b))
    got = student.rel_error(a, b)
    check_scalar(
        got,
        want,
        call=call,
        known_bugs=_rel_error_bugs(a, b),
        nonfinite_hint="0 / 0 where both entries are 0: the denominator is max(1e-8, |a| + |b|)",
    )


@points(2)
def test_rel_error_uses_entrywise_denominators(student, oracle):
    """One large entry must not hide a wrong small one: [1000, 0.1] vs [1000, 0.2]
    has the error 0.1 / 0.3 = 1/3, not 0.1 / 2000."""
    a, b = np.array([[1000.0, 0.1], [-5.0, 0.25]]), np.array([[1000.0, 0.2], [-5.0, 0.25]])
    want = oracle.compute("want", lambda: ref.rel_error(a, b))
    got = student.rel_error(a, b)
    check_scalar(
        got,
        want,
        call="rel_error([[1000, 0.1], [-5, 0.25]], [[1000, 0.2], [-5, 0.25]])",
        known_bugs=_rel_error_bugs(a, b),
    )


@points(1)
@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
@example(3, 0)  # tried first: most bugs fail here at once, without a search for a smaller example
def test_rel_error_properties(student, n, seed):
    """rel_error(a, a) == 0, rel_error(a, -a) == 1 and rel_error(a, b) == rel_error(b, a),
    always between 0 and 1."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    inputs = {"a": a, "b": b}
    check_scalar(student.rel_error(a, a), 0.0, call="rel_error(a, a)", inputs=inputs, atol=1e-12)
    check_scalar(student.rel_error(a, -a), 1.0, call="rel_error(a, -a)", inputs=inputs, rtol=1e-9)
    ab = check_scalar(
        student.rel_error(a, b),
        student.rel_error(b, a),
        call="rel_error(a, b) vs rel_error(b, a)",
        inputs=inputs,
        rtol=1e-9,
    )
    check_true(
        0.0 <= ab <= 1.0,
        f"rel_error(a, b) = {ab:.6g} is outside [0, 1]",
        "Each ratio |a - b| / max(1e-8, |a| + |b|) is between 0 and 1, and so is their max.",
    )


# ------------------------------------------------------------------ sparse gradient check


def _sparse_result(got, call, num_checks, shape):
    """Validate (indices, errors): types, shapes, integer indices inside the array."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(
            f"{call} must return a pair (indices, errors), got {type(got).__name__}"
            + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        )
    ndim = len(shape)
    indices = as_array(got[0], call, (num_checks, ndim), what="indices")
    errors = as_array(got[1], call, (num_checks,), what="errors")
    if indices.shape != (num_checks, ndim):
        fail(
            f"{call}: indices has shape {indices.shape}, expected ({num_checks}, {ndim})",
            f"x has shape {shape}: one row per check, one column per axis of x (x.ndim = {ndim}).",
        )
    if indices.dtype.kind not in "iu":
        fail(
            f"{call}: indices has dtype {indices.dtype}, expected integers",
            "Draw them with rng.integers (and do not convert them to floats).",
        )
    if errors.shape != (num_checks,):
        fail(
            f"{call}: errors has shape {errors.shape}, expected ({num_checks},)",
            "One relative error per check.",
        )
    bad = (indices < 0) | (indices >= np.array(shape))
    if bad.any():
        row, axis = (int(i) for i in np.argwhere(bad)[0])
        fail(
            f"{call}: index {indices[row].tolist()} is outside x of shape {shape}",
            f"Column {axis} of indices must lie in [0, {shape[axis]}): draw each axis below its own size.",
        )
    return indices, errors.astype(np.float64)


@points(1)
@pytest.mark.parametrize("shape", [(7,), (4, 3), (2, 3, 4)], ids=["1d", "2d", "3d"])
def test_sparse_gradient_check_returns_valid_indices(student, oracle, shape):
    """Distinct valid indices, each with its right error, and x left as it was (a second call
    on the same array returns the same again)."""
    x, w = oracle.random("inputs", lambda rng: _draw(rng, "weighted_tanh", shape))
    f, analytic = FUNCTIONS["weighted_tanh"][0](w), FUNCTIONS["weighted_tanh"][1](w, x)
    everywhere = oracle.compute(
        "errors",
        lambda: ref.relative_errors_at(f, x, analytic, _all_indices(shape)).reshape(shape),
    )
    num_checks = 20
    call = f"sparse_gradient_check(f, x, analytic, num_checks={num_checks}, rng)"
    handle = keep(student, x)

    def run(call):
        got = student.sparse_gradient_check(
            Fn("weighted_tanh", w=w), handle, analytic, num_checks, Rng(3)
        )
        indices, errors = _sparse_result(got, call, num_checks, shape)
        check_array(
            errors,
            everywhere[tuple(indices.T)],
            call=call,
            what="errors at your indices",
            rtol=1e-6,
            atol=1e-7,
            inputs={"x": x},
        )
        return indices

    indices = run(call)
    check_true(
        len({tuple(r) for r in indices.tolist()}) > 1,
        f"{call} checked the same coordinate {num_checks} times: draw random indices with rng",
        f"x has shape {shape}; got indices[0] = {indices[0].tolist()} in every row.",
    )
    check_unchanged(
        handle,
        x,
        call=call,
        name="x",
        rtol=1e-12,
        advice="A gradient check must not edit the array it checks: work on a float64 copy "
        "and restore each entry.",
    )
    run(again_note(call))


SPARSE_CASES = {
    # name: (function, shape, h or None for the default, analytic gradient "right" or "wrong")
    "correct_gradient": ("weighted_tanh", (4, 3), None, "right"),
    "wrong_gradient": ("weighted_cube", (2, 3, 4), None, "wrong"),
    "correct_gradient_large_h": ("weighted_cube", (6,), 1e-2, "right"),
}


def _sparse_analytic(rng, name, shape, kind):
    x, w = _draw(rng, name, shape)
    analytic = FUNCTIONS[name][1](w, x)
    if kind == "wrong":
        # a mix of the usual mistakes: a factor 2, a sign flip, a small offset; some entries right
        pick = rng.integers(0, 4, size=shape)
        analytic = np.choose(pick, [analytic, 2.0 * analytic, -analytic, analytic + 0.05])
    return x, w, analytic


def _all_indices(shape):
    return np.stack([i.ravel() for i in np.indices(shape)], axis=1)


@points(1)
@pytest.mark.parametrize("case", list(SPARSE_CASES))
def test_sparse_gradient_check_errors_match_reference(student, oracle, case):
    """At the indices you return, the errors must be the reference's relative errors:
    tiny for a correct analytic gradient, large for a wrong one."""
    name, shape, h, kind = SPARSE_CASES[case]
    x, w, analytic = oracle.random("inputs", lambda rng: _sparse_analytic(rng, name, shape, kind))
    f = FUNCTIONS[name][0](w)
    step = 1e-5 if h is None else h
    # Every coordinate's error, so that the student's own indices can be looked up (also in
    # public mode, where these are recorded values).
    everywhere = oracle.compute(
        "errors",
        lambda: ref.relative_errors_at(f, x, analytic, _all_indices(shape), step).reshape(shape),
    )
    numeric = oracle.compute("numeric", lambda: ref.numerical_gradient(f, x, step))
    num_checks = 15
    args = [Fn(name, w=w), x, analytic, num_checks, Rng(11)] + ([] if h is None else [h])
    call = (
        f"sparse_gradient_check(f, x, analytic, num_checks={num_checks}, rng"
        + ("" if h is None else f", h={h:g}")
        + f") with f = {name}"
    )
    indices, errors = _sparse_result(student.sparse_gradient_check(*args), call, num_checks, shape)
    at = tuple(indices.T)
    want = everywhere[at]
    num, ana = numeric[at], analytic[at]
    bugs = [
        (
            "the errors are absolute differences |num - ana|: divide by max(1e-8, |num| + |ana|)",
            np.abs(num - ana),
        ),
        (
            "the errors are signed: take the absolute value of num - ana",
            (num - ana) / np.maximum(1e-8, np.abs(num) + np.abs(ana)),
        ),
        (
            "the errors are signed: take the absolute value of num - ana",
            (ana - num) / np.maximum(1e-8, np.abs(num) + np.abs(ana)),
        ),
    ]
    if h is not None:
        default = oracle.compute(
            "errors_default_h",
            lambda: ref.relative_errors_at(f, x, analytic, _all_indices(shape)).reshape(shape),
        )
        bugs.insert(
            0,
            (
                f"the h argument is ignored: the step must be the h passed in (here h = {h:g})",
                default[at],
            ),
        )
    check_array(
        errors,
        want,
        call=call,
        what="errors at your indices",
        rtol=1e-6,
        atol=1e-7,
        inputs={"x": x},
        known_bugs=bugs,
    )
    if kind == "right" and h is None:
        check_true(
            np.all(errors < 1e-7),
            f"{call}: errors of a correct gradient should be below 1e-7, "
            f"got up to {errors.max():.2g}",
        )


@points(1)
def test_sparse_gradient_check_same_seed_same_indices(student, oracle):
    shape = (5, 6)
    x, w = oracle.random("inputs", lambda rng: _draw(rng, "exp_sin", shape))
    analytic = FUNCTIONS["exp_sin"][1](w, x)
    num_checks = 12
    call = f"sparse_gradient_check(f, x, analytic, num_checks={num_checks}, rng)"
    runs = [
        _sparse_result(
            student.sparse_gradient_check(Fn("exp_sin", w=w), x, analytic, num_checks, Rng(seed)),
            call,
            num_checks,
            shape,
        )
        for seed in (21, 21, 22)
    ]
    check_true(
        np.array_equal(runs[0][0], runs[1][0]),
        f"{call}: two calls with default_rng(21) drew different indices: draw them only from rng",
        f"first: {runs[0][0][:3].tolist()}..., second: {runs[1][0][:3].tolist()}...\n"
        "Use the Generator passed in (rng.integers), not np.random or a Generator of your own.",
    )
    check_true(
        not np.array_equal(runs[0][0], runs[2][0]),
        f"{call}: default_rng(21) and default_rng(22) drew the same indices: draw them from the rng passed in",
        "A Generator made inside the function (or a fixed seed) ignores the caller's rng.",
    )
