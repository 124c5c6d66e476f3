"""Chapter 10: the loop convolution of the timing lab (the slow form, checked on tiny inputs)."""

from grader.api import check_array, points, pytest, reference

ref = reference("ch10_convnets")


@points(2)
@pytest.mark.parametrize(
    "N,C,H,W,F,K,stride,padding",
    [(2, 2, 5, 6, 3, 3, 2, 1), (1, 1, 4, 4, 2, 2, 1, 0)],
    ids=["5x6-k3-s2-p1", "batch-of-one-k2"],
)
def test_conv2d_loops_matches_reference(student, oracle, N, C, H, W, F, K, stride, padding):
    x, Wt, b = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, C, H, W)),
            rng.standard_normal((F, C, K, K)),
            rng.standard_normal(F),
        ),
    )
    want = oracle.compute("want", lambda: ref.conv_loops(x, Wt, b, stride, padding))
    flipped = oracle.compute(
        "bug", lambda: ref.conv_forward(x, Wt, b, stride, padding, bug="flipped")
    )
    got = student.conv2d_loops(x, Wt, b, stride, padding)
    check_array(
        got,
        want,
        call=f"conv2d_loops(x, weights, biases, stride={stride}, padding={padding})",
        inputs={"x": x, "weights": Wt},
        known_bugs=[
            (
                "the kernel is flipped (a true convolution); compute the cross-correlation, as Conv2D does",
                flipped,
            )
        ],
    )
