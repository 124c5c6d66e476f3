"""Chapter 10: the output size, im2col and col2im (NCHW; rows (n, oh, ow), columns (c, p, q))."""

from grader.api import StudentError, check_array, check_scalar, fail, np, points, pytest, reference

ref = reference("ch10_convnets")

OFF_BY_ONE = "the output size is off by one: OH = (H + 2 * padding - kernel) // stride + 1"


@points(1)
@pytest.mark.parametrize(
    "size,kernel,stride,padding",
    [(28, 5, 1, 2), (7, 3, 2, 1), (8, 3, 2, 0), (5, 2, 3, 0), (4, 4, 1, 0)],
)
def test_conv_output_size_matches_formula(student, oracle, size, kernel, stride, padding):
    """Odd and even sizes, strides that do not divide evenly (the floor), a window as large as the input."""
    want = oracle.compute("want", lambda: ref.output_size(size, kernel, stride, padding))
    call = f"conv_output_size({size}, {kernel}, stride={stride}, padding={padding})"
    got = student.conv_output_size(size, kernel, stride, padding)
    check_scalar(
        got,
        want,
        call=call,
        known_bugs=[
            (OFF_BY_ONE, (size + 2 * padding - kernel) // stride),
            (
                "the padding is added once; it goes on both ends: size + 2 * padding",
                (size + padding - kernel) // stride + 1,
            ),
            (
                "the division rounds up; positions that do not fill a whole window are dropped (floor division //)",
                -(-(size + 2 * padding - kernel) // stride) + 1,
            ),
        ],
    )
    if want == size:
        # "Same" padding keeps the size: returning the size passed in is right here only, so
        # the case counts together with the same window without padding.
        want0 = oracle.compute("want-unpadded", lambda: ref.output_size(size, kernel, stride, 0))
        check_scalar(
            student.conv_output_size(size, kernel, stride, 0),
            want0,
            call=f"conv_output_size({size}, {kernel}, stride={stride}, padding=0)",
            known_bugs=[(OFF_BY_ONE, (size - kernel) // stride)],
        )
    if not isinstance(got, (int, np.integer)):
        fail(
            f"{call} returned a {type(got).__name__}, expected an int",
            "Use floor division // (an int), not /.",
        )


@points(1)
def test_conv_output_size_window_too_large_raises_value_error(student):
    """ValueError when not even one window fits (and still the right size when one does)."""
    fits = student.conv_output_size(5, 5, 1, 0)
    if fits != 1:
        fail(
            f"conv_output_size(5, 5, stride=1, padding=0) returned {fits!r}, expected 1",
            "A window as large as the input fits exactly once.",
        )
    call = "conv_output_size(3, 5, stride=1, padding=0)"
    try:
        got = student.conv_output_size(3, 5, 1, 0)
    except StudentError as exc:
        if exc.summary.startswith("ValueError"):
            return
        raise
    fail(
        f"{call} returned {got!r} instead of raising ValueError",
        "A window of 5 does not fit in 3 values: raise ValueError when size + 2 * padding < kernel.",
    )


# (N, C, H, W, kernel_h, kernel_w, stride, padding): non-square images, stride 1 and 2,
# padding, a batch of one, a non-square kernel
IM2COL_CASES = [
    (2, 2, 4, 5, 3, 3, 1, 0),
    (2, 2, 4, 5, 3, 3, 2, 1),
    (1, 3, 5, 7, 2, 3, 1, 1),
    (2, 1, 6, 6, 2, 2, 2, 0),
]
IM2COL_IDS = ["4x5-k3-s1", "4x5-k3-s2-p1", "batch-of-one-k2x3-p1", "6x6-k2-s2"]


def _im2col_bugs(x, kh, kw, stride, padding):
    win = ref.windows(x, kh, kw, stride, padding)
    N, oh, ow = win.shape[:3]
    bugs = [
        (
            "the columns are in the order (kernel row, kernel column, channel); they must follow "
            "(channel, kernel row, kernel column), the order of W.reshape(F, -1)",
            ref.im2col(x, kh, kw, stride, padding, bug="kernel_first"),
        ),
        (
            "the rows are in the order (oh, ow, n); row (n * OH + oh) * OW + ow holds window (oh, ow) of image n",
            ref.im2col(x, kh, kw, stride, padding, bug="position_first"),
        ),
    ]
    if padding:
        bugs.append(
            (
                "the padding is not applied: pad the images with `padding` zeros on all four sides first",
                ref.im2col(x, kh, kw, stride, 0),
            )
        )
    if oh > 1 and ow > 1:
        bugs.append(
            (
                OFF_BY_ONE + " (one window too few along each axis)",
                win[:, : oh - 1, : ow - 1].reshape(N * (oh - 1) * (ow - 1), -1),
            )
        )
    return bugs


@points(2)
@pytest.mark.parametrize("N,C,H,W,kh,kw,stride,padding", IM2COL_CASES, ids=IM2COL_IDS)
def test_im2col_matches_reference(student, oracle, N, C, H, W, kh, kw, stride, padding):
    x = oracle.random("x", lambda rng: rng.standard_normal((N, C, H, W)))
    want = oracle.compute("want", lambda: ref.im2col(x, kh, kw, stride, padding))
    bugs = oracle.compute("bugs", lambda: _im2col_bugs(x, kh, kw, stride, padding))
    got = student.im2col(x, kh, kw, stride, padding)
    check_array(
        got,
        want,
        call=f"im2col(x, {kh}, {kw}, stride={stride}, padding={padding})",
        inputs={"x": x},
        known_bugs=[tuple(b) for b in bugs],
    )


# col2im cases: the windows overlap (stride < kernel) in all but the last
COL2IM_CASES = [
    (2, 2, 4, 5, 3, 3, 1, 0),
    (2, 1, 5, 5, 3, 3, 2, 1),
    (1, 2, 4, 6, 2, 3, 1, 1),
    (2, 2, 6, 4, 2, 2, 2, 0),
]
COL2IM_IDS = ["4x5-k3-s1", "5x5-k3-s2-p1", "batch-of-one-k2x3-p1", "6x4-k2-s2-no-overlap"]
ASSIGN = (
    "col2im writes each window over the previous ones instead of adding it: a pixel covered by several "
    "windows must receive the sum of all their entries (+=, or np.add.at)"
)


@points(2)
@pytest.mark.parametrize("N,C,H,W,kh,kw,stride,padding", COL2IM_CASES, ids=COL2IM_IDS)
def test_col2im_matches_reference(student, oracle, N, C, H, W, kh, kw, stride, padding):
    rows = N * ((H + 2 * padding - kh) // stride + 1) * ((W + 2 * padding - kw) // stride + 1)
    cols = oracle.random("cols", lambda rng: rng.standard_normal((rows, C * kh * kw)))
    want = oracle.compute("want", lambda: ref.col2im(cols, (N, C, H, W), kh, kw, stride, padding))
    bugs = oracle.compute(
        "bugs",
        lambda: [
            ref.col2im(cols, (N, C, H, W), kh, kw, stride, padding, bug="assign"),
            ref.col2im(cols, (N, C, H, W), kh, kw, stride, padding, bug="no_crop"),
        ],
    )
    got = student.col2im(cols, (N, C, H, W), kh, kw, stride, padding)
    known = [(ASSIGN, bugs[0])] if (stride < kh or stride < kw) else []
    if padding:
        known.append(
            (
                "the padding is not cropped: return the padded image without its `padding` border, "
                "shape (N, C, H, W)",
                bugs[1],
            )
        )
    check_array(
        got,
        want,
        call=f"col2im(cols, x_shape={(N, C, H, W)}, {kh}, {kw}, stride={stride}, "
        f"padding={padding})",
        inputs={"cols": cols},
        known_bugs=known,
    )


@points(2)
@pytest.mark.parametrize(
    "N,C,H,W,k,stride,padding",
    [(2, 2, 5, 6, 3, 1, 1), (1, 3, 6, 5, 4, 2, 0)],
    ids=["k3-s1-p1", "batch-of-one-k4-s2"],
)
def test_col2im_is_adjoint_of_im2col(student, oracle, N, C, H, W, k, stride, padding):
    """sum(im2col(x) * c) == sum(x * col2im(c, x.shape, ...)) for random x and c: col2im
    is exactly the gradient of im2col (im2col here is the reference's)."""
    rows = N * ((H + 2 * padding - k) // stride + 1) * ((W + 2 * padding - k) // stride + 1)
    x, c = oracle.random(
        "inputs",
        lambda rng: (rng.standard_normal((N, C, H, W)), rng.standard_normal((rows, C * k * k))),
    )
    lhs = oracle.compute("lhs", lambda: float(np.sum(ref.im2col(x, k, k, stride, padding) * c)))
    assign = oracle.compute(
        "assign",
        lambda: float(np.sum(x * ref.col2im(c, x.shape, k, k, stride, padding, bug="assign"))),
    )
    call = f"col2im(c, x.shape, {k}, {k}, stride={stride}, padding={padding})"
    back = check_array(
        student.col2im(c, (N, C, H, W), k, k, stride, padding),
        np.zeros((N, C, H, W)),
        call=call,
        inputs={"c": c},
        atol=np.inf,
    )
    check_scalar(
        float(np.sum(x * np.asarray(back, dtype=np.float64))),
        lhs,
        call=f"sum(x * {call}) against sum(im2col(x) * c)",
        inputs={"x": x, "c": c},
        rtol=1e-9,
        what="inner product",
        known_bugs=[(ASSIGN, assign)],
    )
