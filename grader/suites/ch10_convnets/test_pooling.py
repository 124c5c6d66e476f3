"""Chapter 10: MaxPool2D (tie rule: the first maximum in reading order takes the gradient)
and Flatten (channels first)."""

from grader.api import (
    check_array,
    check_gradient,
    fail,
    np,
    numeric_gradient,
    points,
    pytest,
    reference,
)

ref = reference("ch10_convnets")

# (N, C, H, W, kernel, stride): side by side, overlapping (stride < kernel), gaps (stride >
# kernel is not used), stride != kernel with a remainder, odd sizes (a row and column left out)
POOL_CASES = [(2, 3, 4, 6, 2, None), (1, 2, 7, 5, 3, 2), (2, 1, 5, 5, 2, 1), (2, 2, 5, 7, 2, None)]
POOL_IDS = ["4x6-k2", "batch-of-one-7x5-k3-s2", "5x5-k2-s1", "5x7-k2-odd"]


def _pool(student, k, stride):
    return student.MaxPool2D(k) if stride is None else student.MaxPool2D(k, stride)


def _call(k, stride):
    return f"MaxPool2D({k})" if stride is None else f"MaxPool2D({k}, stride={stride})"


def _no_parameters(layer, call):
    for method in ("parameters", "gradients"):
        got = getattr(layer, method)()
        if got != {}:
            fail(f"{call}.{method}() must return {{}} (a layer without parameters)", f"got {got!r}")


@points(2)
@pytest.mark.parametrize("N,C,H,W,k,stride", POOL_CASES, ids=POOL_IDS)
def test_maxpool_forward_matches_reference(student, oracle, N, C, H, W, k, stride):
    x = oracle.random("x", lambda rng: ref.tie_free(rng, (N, C, H, W)))
    want = oracle.compute("want", lambda: ref.maxpool_forward(x, k, stride))
    s = k if stride is None else stride
    mean = oracle.compute(
        "mean", lambda: ref.windows(x, k, k, s).mean(axis=(4, 5)).transpose(0, 3, 1, 2)
    )
    layer = _pool(student, k, stride)
    got = layer.forward(x)
    call = f"{_call(k, stride)}.forward(inputs)"
    check_array(
        got,
        want,
        call=call,
        inputs={"inputs": x},
        known_bugs=[("each output is the mean of its window: max pooling takes the maximum", mean)],
    )
    _no_parameters(layer, _call(k, stride))


@points(3)
@pytest.mark.parametrize("N,C,H,W,k,stride", POOL_CASES, ids=POOL_IDS)
def test_maxpool_backward_gradient_check(student, oracle, N, C, H, W, k, stride):
    """dinputs against central differences of your forward, on inputs without ties (no two
    entries closer than 0.005, far more than the step 1e-5)."""
    x = oracle.random("x", lambda rng: ref.tie_free(rng, (N, C, H, W)))
    s = k if stride is None else stride
    dv = oracle.random(
        "dvalues", lambda rng: rng.standard_normal(ref.maxpool_forward(x, k, s).shape)
    )
    wrong_window = oracle.compute(
        "bug", lambda: ref.maxpool_backward(dv, x, k, s, ties="stride_as_kernel")
    )
    out = oracle.compute("forward", lambda: ref.maxpool_forward(x, k, s))
    layer = _pool(student, k, stride)
    # The central differences are taken of your forward: it must be right first.
    check_array(
        layer.forward(x),
        out,
        call=f"{_call(k, stride)}.forward(inputs)",
        inputs={"inputs": x},
        what="output (checked before the gradient)",
    )
    numeric = numeric_gradient(layer.forward, x, dout=dv, h=1e-5)
    layer.forward(x)
    got = layer.backward(dv)
    bugs = []
    if s != k:
        bugs.append(
            (
                f"the gradient goes to the wrong window: window (oh, ow) starts at (oh * stride, ow * stride) "
                f"with stride {s}, not at (oh * {k}, ow * {k})",
                wrong_window,
            )
        )
    check_gradient(
        got,
        numeric,
        call=f"{_call(k, stride)}.backward(dvalues)",
        what="dinputs",
        inputs={"inputs": x, "dvalues": dv},
        known_bugs=bugs,
    )


def _tied(rng, shape):
    """Small integers: most windows hold two or more equal maxima; one window all zeros."""
    x = rng.integers(0, 3, size=shape).astype(np.float64)
    x[0, 0, :2, :2] = 0.0
    return x


@points(3)
@pytest.mark.parametrize(
    "N,C,H,W,k,stride", [(2, 2, 4, 6, 2, None), (1, 2, 5, 5, 3, 1)], ids=["k2", "k3-s1"]
)
def test_maxpool_backward_ties_go_to_first_maximum(student, oracle, N, C, H, W, k, stride):
    """The stated rule: in a window with several equal maxima, only the first in reading
    order (row by row, top-left first; np.argmax of the flattened window) gets the gradient."""
    x = oracle.random("x", lambda rng: _tied(rng, (N, C, H, W)))
    s = k if stride is None else stride
    dv = oracle.random(
        "dvalues", lambda rng: rng.standard_normal(ref.maxpool_forward(x, k, s).shape)
    )
    want, every, last, split = oracle.compute(
        "want",
        lambda: [
            ref.maxpool_backward(dv, x, k, s, ties=t) for t in ("first", "all", "last", "split")
        ],
    )
    layer = _pool(student, k, stride)
    layer.forward(x)
    got = layer.backward(dv)
    check_array(
        got,
        want,
        call=f"{_call(k, stride)}.backward(dvalues) on inputs with ties",
        inputs={"inputs": x, "dvalues": dv},
        known_bugs=[
            (
                "the gradient goes to every tied maximum of a window (a mask x == max); the rule gives it "
                "only to the first maximum in reading order (np.argmax of the flattened window)",
                every,
            ),
            (
                "the gradient goes to the last tied maximum; the rule is the first in reading order "
                "(np.argmax of the flattened window)",
                last,
            ),
            (
                "the gradient is split among the tied maxima; the rule gives all of it to the first in "
                "reading order (np.argmax of the flattened window)",
                split,
            ),
        ],
    )


# ------------------------------------------------------------------------------ Flatten


@points(2)
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 2, 3, 3)], ids=["2x3x4x5", "batch-of-one"])
def test_flatten_forward_channels_first(student, oracle, shape):
    x = oracle.random("x", lambda rng: rng.standard_normal(shape))
    want = oracle.compute("want", lambda: ref.flatten_forward(x))
    last = oracle.compute("bug", lambda: ref.flatten_forward(x, bug="channels_last"))
    layer = student.Flatten()
    check_array(
        layer.forward(x),
        want,
        call="Flatten.forward(inputs)",
        inputs={"inputs": x},
        known_bugs=[
            (
                "the values are in channels-last order (h, w, c); keep NCHW's order: out[n, (c * H + i) * W + j] = "
                "inputs[n, c, i, j], a plain reshape(N, -1)",
                last,
            )
        ],
    )
    _no_parameters(layer, "Flatten()")


@points(2)
@pytest.mark.parametrize(
    "shape", [(2, 3, 4, 5), (1, 16, 5, 5)], ids=["2x3x4x5", "lenet-batch-of-one"]
)
def test_flatten_backward_round_trip(student, oracle, shape):
    """backward(dvalues) puts every value back where forward took it from."""
    x, dv = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal(shape),
            rng.standard_normal((shape[0], int(np.prod(shape[1:])))),
        ),
    )
    want = oracle.compute("want", lambda: ref.flatten_backward(dv, x.shape))
    last = oracle.compute(
        "bug", lambda: np.moveaxis(dv.reshape(shape[0], shape[2], shape[3], shape[1]), -1, 1)
    )
    layer = student.Flatten()
    layer.forward(x)
    check_array(
        layer.backward(dv),
        want,
        call="Flatten.backward(dvalues) after forward(inputs)",
        inputs={"inputs": x, "dvalues": dv},
        known_bugs=[
            (
                "dinputs is unflattened in channels-last order; undo forward's reshape exactly: "
                "dvalues.reshape(inputs.shape)",
                last,
            )
        ],
    )
