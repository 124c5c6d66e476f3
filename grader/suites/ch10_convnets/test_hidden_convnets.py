"""Chapter 10, hidden tests: held-back shapes, strides and paddings (instructor mode only).
No training run here."""

from grader.api import (
    check_array,
    check_gradient,
    hidden,
    numeric_gradient,
    points,
    pytest,
    reference,
)

ref = reference("ch10_convnets")
pytestmark = hidden


@points(1)
@pytest.mark.parametrize(
    "N,C,H,W,F,K,stride,padding",
    [(2, 3, 7, 9, 2, 1, 1, 0), (3, 2, 9, 6, 3, 3, 3, 2)],
    ids=["k1", "k3-s3-p2"],
)
def test_hidden_conv2d_forward_and_dinputs_other_shapes(
    student, oracle, N, C, H, W, F, K, stride, padding
):
    """A 1x1 kernel, and a stride equal to the kernel with a wide padding."""
    x, Wt, b, dv = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, C, H, W)),
            rng.standard_normal((F, C, K, K)),
            rng.standard_normal(F),
            rng.standard_normal(
                (N, F, (H + 2 * padding - K) // stride + 1, (W + 2 * padding - K) // stride + 1)
            ),
        ),
    )
    want = oracle.compute("want", lambda: ref.conv_forward(x, Wt, b, stride, padding))
    layer = student.Conv2D(C, F, K, stride, padding)
    layer.weights, layer.biases = Wt, b
    call = f"Conv2D({C}, {F}, {K}, stride={stride}, padding={padding})"
    check_array(layer.forward(x), want, call=f"{call}.forward(inputs)", inputs={"inputs": x})
    numeric = numeric_gradient(layer.forward, x, dout=dv, h=1e-5)
    layer.forward(x)
    check_gradient(
        layer.backward(dv),
        numeric,
        call=f"{call}.backward(dvalues)",
        what="dinputs",
        inputs={"inputs": x, "dvalues": dv},
    )


@points(1)
def test_hidden_maxpool_large_window_small_stride(student, oracle):
    """A 3x3 window moving by 1: each entry can be the maximum of up to nine windows."""
    x = oracle.random("x", lambda rng: ref.tie_free(rng, (2, 2, 6, 7)))
    dv = oracle.random("dvalues", lambda rng: rng.standard_normal((2, 2, 4, 5)))
    want, dx = oracle.compute(
        "want", lambda: (ref.maxpool_forward(x, 3, 1), ref.maxpool_backward(dv, x, 3, 1))
    )
    layer = student.MaxPool2D(3, 1)
    check_array(
        layer.forward(x), want, call="MaxPool2D(3, stride=1).forward(inputs)", inputs={"inputs": x}
    )
    check_array(
        layer.backward(dv),
        dx,
        call="MaxPool2D(3, stride=1).backward(dvalues)",
        inputs={"inputs": x, "dvalues": dv},
    )


@points(1)
def test_hidden_im2col_col2im_rectangular_kernel(student, oracle):
    """A 2x4 kernel: im2col with stride 1, col2im with stride 2 and padding 1."""
    x, c = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((2, 3, 5, 8)),
            rng.standard_normal((2 * 3 * 4, 3 * 2 * 4)),
        ),
    )
    want, back = oracle.compute(
        "want", lambda: (ref.im2col(x, 2, 4, 1, 0), ref.col2im(c, x.shape, 2, 4, 2, 1))
    )
    check_array(
        student.im2col(x, 2, 4, 1, 0),
        want,
        call="im2col(x, 2, 4, stride=1, padding=0)",
        inputs={"x": x},
    )
    check_array(
        student.col2im(c, x.shape, 2, 4, 2, 1),
        back,
        call="col2im(c, x.shape, 2, 4, stride=2, padding=1)",
        inputs={"c": c},
    )
