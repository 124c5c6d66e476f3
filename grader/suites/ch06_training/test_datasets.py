"""Chapter 06: the synthetic data sets, exactly as their docstrings define them.

Every generator is called with ``Rng(seed)`` and compared with the reference run on
``np.random.default_rng(seed)``: the order of the draws is part of the contract, so a
correct implementation matches bit for bit (up to rounding).
"""

from grader.api import Rng, check_array, check_true, fail, np, points, pytest, reference

ref = reference("ch06_training")


def _pair(got, call):
    """The (X, y) pair a generator returned, or a failure saying what came back instead."""
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(
            f"{call} must return a pair (X, y), got {type(got).__name__}"
            + (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
        )
    return got


def _check_labels(y, want, call, bugs=()):
    y_arr = check_array(y, want, call=call, what="y", known_bugs=bugs)
    check_true(
        np.asarray(y_arr).dtype.kind in "iu",
        f"{call}: y has dtype {np.asarray(y_arr).dtype}, expected integer class labels",
        "Labels index classes: build y as an integer array (dtype=np.int64, or .astype(np.int64)).",
    )


# ------------------------------------------------------------------------------ spiral


def _spiral_variant(
    samples, classes, seed, *, offset=True, swap=False, noise=0.3, wind=8.0, shared_noise=False
):
    """The spiral with one detail changed: the values of a known wrong implementation."""
    rng = np.random.default_rng(seed)
    r = np.linspace(0.0, 1.0, samples)
    shared = rng.standard_normal(samples) if shared_noise else None
    out = []
    for k in range(classes):
        eps = shared if shared_noise else rng.standard_normal(samples)
        theta = (2 * np.pi * k / classes if offset else 0.0) + wind * r + noise * eps
        a, b = r * np.cos(theta), r * np.sin(theta)
        out.append(np.stack([b, a] if swap else [a, b], axis=1))
    return np.concatenate(out)


@points(1)
@pytest.mark.parametrize("samples,classes", [(5, 3), (1, 2), (12, 4)])
def test_spiral_data_matches_reference(student, oracle, samples, classes):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    X_want, y_want = oracle.compute(
        "want", lambda: ref.spiral_data(samples, classes, np.random.default_rng(seed))
    )
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "the arms are not rotated apart: the angle must start at 2 * pi * k / classes for class k",
                _spiral_variant(samples, classes, seed, offset=False),
            ),
            (
                "the two columns are swapped: column 0 is r * cos(theta), column 1 is r * sin(theta)",
                _spiral_variant(samples, classes, seed, swap=True),
            ),
            (
                "the noise is not scaled by 0.3 (or not added to the angle)",
                _spiral_variant(samples, classes, seed, noise=1.0),
            ),
            (
                "every class reuses the same noise: draw rng.standard_normal(samples) once per class, inside the loop",
                _spiral_variant(samples, classes, seed, shared_noise=True),
            ),
            (
                "the arm winds the wrong amount: the angle grows by 8.0 * r along the arm",
                _spiral_variant(samples, classes, seed, wind=8.0 * 2 * np.pi),
            ),
        ],
    )
    call = f"spiral_data({samples}, {classes}, rng=default_rng({seed}))"
    X, y = _pair(student.spiral_data(samples, classes, Rng(seed)), call)
    check_array(
        X, X_want, call=call, what="X", known_bugs=[tuple(b) for b in bugs], rtol=1e-9, atol=1e-12
    )
    _check_labels(
        y, y_want, call, bugs=[("y is a column: labels have shape (N,)", y_want.reshape(-1, 1))]
    )


@points(1)
def test_spiral_data_is_a_spiral(student):
    """Structure, whatever the seed: radii from 0 to 1 along each arm, labels in blocks."""
    X, y = _pair(student.spiral_data(50, 3, Rng(4)), "spiral_data(50, 3, rng)")
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    check_true(
        X.shape == (150, 2) and y.shape == (150,),
        f"spiral_data(50, 3, rng) returned X {X.shape} and y {y.shape}, expected (150, 2) and (150,)",
    )
    radius = np.hypot(X[:, 0], X[:, 1]).reshape(3, 50)
    check_true(
        np.allclose(radius, np.linspace(0, 1, 50)[None, :]),
        "spiral_data: the distance of point i of each arm from the origin must be linspace(0, 1)[i]",
        "r = np.linspace(0.0, 1.0, samples); the point is (r cos(theta), r sin(theta)).",
    )
    check_true(
        np.array_equal(y, np.repeat(np.arange(3), 50)),
        "spiral_data: y must be samples zeros, then samples ones, then samples twos, ...",
    )


@points(1)
def test_spiral_data_uses_the_passed_generator(student):
    a = np.asarray(_pair(student.spiral_data(10, 2, Rng(1)), "spiral_data")[0])
    b = np.asarray(_pair(student.spiral_data(10, 2, Rng(1)), "spiral_data")[0])
    c = np.asarray(_pair(student.spiral_data(10, 2, Rng(2)), "spiral_data")[0])
    check_true(
        np.array_equal(a, b),
        "spiral_data gives different data for the same seed",
        "Draw only from the rng argument, never from np.random's global functions.",
    )
    check_true(
        not np.array_equal(a, c),
        "spiral_data gives the same data for different seeds",
        "The angle noise must come from rng.standard_normal.",
    )


# ---------------------------------------------------------------------------- vertical


@points(1)
@pytest.mark.parametrize("samples,classes", [(6, 3), (4, 2)])
def test_vertical_data_matches_reference(student, oracle, samples, classes):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    X_want, y_want = oracle.compute(
        "want", lambda: ref.vertical_data(samples, classes, np.random.default_rng(seed))
    )

    def columns_drawn_separately():
        rng = np.random.default_rng(seed)
        out = []
        for k in range(classes):
            a, b = rng.standard_normal(samples), rng.standard_normal(samples)
            out.append(np.stack([0.1 * a + (k + 0.5) / classes, 0.1 * b + 0.5], axis=1))
        return np.concatenate(out)

    bugs = oracle.compute(
        "bugs",
        lambda: [
            (
                "the two coordinates are drawn separately: draw Z = rng.standard_normal((samples, 2)) once per class",
                columns_drawn_separately(),
            ),
            (
                "the class centres are wrong: class k sits at x = (k + 0.5) / classes",
                X_want - np.array([[0.5 / classes, 0.0]]),
            ),
        ],
    )
    call = f"vertical_data({samples}, {classes}, rng=default_rng({seed}))"
    X, y = _pair(student.vertical_data(samples, classes, Rng(seed)), call)
    check_array(
        X, X_want, call=call, what="X", known_bugs=[tuple(b) for b in bugs], rtol=1e-9, atol=1e-12
    )
    _check_labels(y, y_want, call)


# -------------------------------------------------------------------------------- sine


@points(1)
@pytest.mark.parametrize("samples", [50, 2])
def test_sine_data_matches_reference(student, oracle, samples):
    X_want, y_want = oracle.compute("want", lambda: ref.sine_data(samples))
    call = f"sine_data({samples})"
    X, y = _pair(student.sine_data(samples), call)
    grid = np.linspace(0.0, 2 * np.pi, samples).reshape(-1, 1)
    X = check_array(
        X,
        X_want,
        call=call,
        what="X",
        rtol=1e-12,
        atol=1e-12,
        known_bugs=[
            (
                "X must be in [0, 1]: use np.linspace(0.0, 1.0, samples) (the 2 pi belongs inside the sine)",
                grid,
            ),
            (
                "X must run from 0 to 1 inclusive: np.linspace(0.0, 1.0, samples), not np.arange",
                (np.arange(samples) / samples).reshape(-1, 1),
            ),
        ],
    )
    check_array(
        y,
        y_want,
        call=call,
        what="y",
        rtol=1e-9,
        atol=1e-12,
        known_bugs=[
            ("y must be sin(2 * pi * X): one full period over [0, 1]", np.sin(X_want)),
        ],
    )


@points(1)
def test_sine_data_is_deterministic(student):
    a = _pair(student.sine_data(20), "sine_data(20)")
    b = _pair(student.sine_data(20, Rng(3)), "sine_data(20, rng)")
    for u, v, name in ((a[0], b[0], "X"), (a[1], b[1], "y")):
        check_true(
            np.array_equal(np.asarray(u), np.asarray(v)),
            f"sine_data(20) and sine_data(20, rng) give different {name}: sine data has no randomness",
            "sine_data accepts rng only so that every generator can be called the same way; ignore it.",
        )


# --------------------------------------------------------------------------------- xor


@points(1)
@pytest.mark.parametrize("samples,noise", [(8, 0.1), (40, 0.3)])
def test_xor_data_matches_reference(student, oracle, samples, noise):
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    X_want, y_want = oracle.compute(
        "want", lambda: ref.xor_data(samples, np.random.default_rng(seed), noise)
    )

    def variants():
        rng = np.random.default_rng(seed)
        jitter = rng.standard_normal((samples, 2))
        corners = rng.integers(0, 2, size=(samples, 2))
        rng = np.random.default_rng(seed)
        corners_right = rng.integers(0, 2, size=(samples, 2))
        jitter_right = rng.standard_normal((samples, 2))
        return [
            (
                "the draws are in the wrong order: first the corners (rng.integers), then the noise",
                corners + noise * jitter,
            ),
            (
                "the noise is not scaled: multiply the standard normal draws by noise",
                corners_right + jitter_right,
            ),
        ]

    bugs = oracle.compute("bugs", variants)
    call = f"xor_data({samples}, rng=default_rng({seed}), noise={noise})"
    X, y = _pair(student.xor_data(samples, Rng(seed), noise=noise), call)
    check_array(
        X, X_want, call=call, what="X", known_bugs=[tuple(b) for b in bugs], rtol=1e-9, atol=1e-12
    )
    _check_labels(
        y,
        y_want,
        call,
        bugs=[
            ("y must be a column (samples, 1), not (samples,)", y_want.ravel()),
            (
                "y is XNOR instead of XOR: the label is 1 where the two corner coordinates differ",
                1 - y_want,
            ),
        ],
    )
