"""Chapter 10: Conv2D (weights (F, C, K, K), biases (F,)), forward and backward."""

import time

from hypothesis import example, given
from hypothesis import strategies as st

from grader.api import (
    Rng,
    StudentError,
    as_array,
    check_array,
    check_gradient,
    check_true,
    fail,
    np,
    numeric_gradient,
    points,
    pytest,
    reference,
)
from grader.suites.common import check_skipped_dinputs

ref = reference("ch10_convnets")

H_LINEAR = (
    1e-5  # the convolution is linear in x, W and b: central differences are exact up to rounding
)


def _conv(student, C, F, K, stride, padding, W, b):
    layer = student.Conv2D(C, F, K, stride, padding, Rng(0))
    layer.weights, layer.biases = W, b
    return layer


def _draw(rng, N, C, H, Wd, F, K, stride, padding):
    """x, weights, biases (not zero, so a missing bias shows), and an upstream gradient."""
    x = rng.standard_normal((N, C, H, Wd))
    W = rng.standard_normal((F, C, K, K)) / np.sqrt(C * K * K)
    b = rng.standard_normal(F)
    oh, ow = (H + 2 * padding - K) // stride + 1, (Wd + 2 * padding - K) // stride + 1
    return x, W, b, rng.standard_normal((N, F, oh, ow))


def _call(C, F, K, stride, padding):
    return f"Conv2D({C}, {F}, {K}, stride={stride}, padding={padding})"


# ------------------------------------------------------------------------ construction


@points(2)
@pytest.mark.parametrize("C,F,K", [(1, 6, 5), (3, 4, 3)])
def test_conv2d_init_he_weights_and_zero_biases(student, oracle, C, F, K):
    """weights = sqrt(2 / (C K K)) * rng.standard_normal((F, C, K, K)); biases zeros (F,)."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute(
        "want",
        lambda: (
            np.sqrt(2.0 / (C * K * K)) * np.random.default_rng(seed).standard_normal((F, C, K, K))
        ),
    )
    call = f"Conv2D({C}, {F}, {K}, rng=default_rng({seed}))"
    layer = student.Conv2D(C, F, K, rng=Rng(seed))
    raw = want / np.sqrt(2.0 / (C * K * K))
    check_array(
        layer.weights,
        want,
        call=call,
        what="weights",
        rtol=1e-9,
        known_bugs=[
            (
                "the He scale uses the channels only; a filter has C * K * K inputs: sqrt(2 / (C * K * K))",
                raw * np.sqrt(2.0 / C),
            ),
            (
                "the scale is sqrt(1 / (C * K * K)); He initialisation (for ReLU) is sqrt(2 / (C * K * K))",
                want / np.sqrt(2.0),
            ),
            (
                "the weights are not scaled: He initialisation multiplies by sqrt(2 / (C * K * K))",
                raw,
            ),
        ],
    )
    check_array(layer.biases, np.zeros(F), call=call, what="biases")
    check_true(bool(layer.trainable) is True, f"{call}: trainable must start as True")


@points(1)
def test_conv2d_init_weight_scale_argument(student, oracle):
    """weight_scale replaces He's scale; without an rng the layer draws from default_rng(0)."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want, default = oracle.compute(
        "want",
        lambda: (
            0.05 * np.random.default_rng(seed).standard_normal((3, 2, 3, 3)),
            np.sqrt(2.0 / 18) * np.random.default_rng(0).standard_normal((3, 2, 3, 3)),
        ),
    )
    layer = student.Conv2D(2, 3, 3, rng=Rng(seed), weight_scale=0.05)
    check_array(
        layer.weights,
        want,
        call=f"Conv2D(2, 3, 3, rng=default_rng({seed}), weight_scale=0.05)",
        what="weights",
        rtol=1e-9,
    )
    layer = student.Conv2D(2, 3, 3)
    check_array(
        layer.weights,
        default,
        call="Conv2D(2, 3, 3) (no rng: np.random.default_rng(0))",
        what="weights",
        rtol=1e-9,
    )


# ----------------------------------------------------------------------------- forward

# (N, C, H, W, F, K, stride, padding)
FORWARD_CASES = [
    (2, 3, 4, 4, 3, 4, 2, 1),
    (2, 2, 5, 7, 4, 3, 1, 0),
    (1, 3, 6, 5, 2, 3, 2, 1),
    (3, 1, 8, 8, 2, 5, 1, 2),
]
FORWARD_IDS = ["4x4-k4-s2-p1", "5x7-k3", "batch-of-one-6x5-k3-s2-p1", "8x8-k5-p2"]


def _forward_bugs(x, W, b, stride, padding):
    F, C, K, _ = W.shape
    cols = ref.im2col(x, K, K, stride, padding)
    N = x.shape[0]
    oh, ow = (
        (x.shape[2] + 2 * padding - K) // stride + 1,
        (x.shape[3] + 2 * padding - K) // stride + 1,
    )
    flat = cols @ W.reshape(F, -1).T + b
    return [
        (
            "the kernel is flipped (a true convolution): Conv2D computes a cross-correlation, "
            "sum of W[f, c, p, q] * x[n, c, oh*s + p, ow*s + q], with no flip",
            ref.conv_forward(x, W, b, stride, padding, bug="flipped"),
        ),
        (
            "the biases are not added (one per filter, broadcast over the batch and the positions)",
            ref.conv_forward(x, W, b, stride, padding, bug="no_bias"),
        ),
        (
            "im2col's columns are in the order (kernel row, kernel column, channel), which does not match "
            "W.reshape(F, -1): both must be in the order (channel, kernel row, kernel column)",
            (ref.im2col(x, K, K, stride, padding, bug="kernel_first") @ W.reshape(F, -1).T + b)
            .reshape(N, oh, ow, F)
            .transpose(0, 3, 1, 2),
        ),
        (
            "the product (N*OH*OW, F) is reshaped straight to (N, F, OH, OW): reshape to (N, OH, OW, F) first, "
            "then move the filter axis (transpose(0, 3, 1, 2))",
            flat.reshape(N, F, oh, ow),
        ),
    ]


@points(3)
@pytest.mark.parametrize("N,C,H,W,F,K,stride,padding", FORWARD_CASES, ids=FORWARD_IDS)
def test_conv2d_forward_matches_reference(student, oracle, N, C, H, W, F, K, stride, padding):
    x, Wt, b, _ = oracle.random("inputs", lambda rng: _draw(rng, N, C, H, W, F, K, stride, padding))
    want = oracle.compute("want", lambda: ref.conv_forward(x, Wt, b, stride, padding))
    bugs = oracle.compute("bugs", lambda: _forward_bugs(x, Wt, b, stride, padding))
    layer = _conv(student, C, F, K, stride, padding, Wt, b)
    got = layer.forward(x)
    check_array(
        got,
        want,
        call=f"{_call(C, F, K, stride, padding)}.forward(inputs)",
        inputs={"inputs": x, "weights": Wt},
        known_bugs=[tuple(bug) for bug in bugs],
    )


# ---------------------------------------------------------------------------- backward

# (N, C, H, W, F, K, stride, padding): overlapping windows (stride 1 < K) with padding,
# stride 2, a batch of one without padding, padding larger than 1
BACKWARD_CASES = [
    (2, 3, 5, 5, 2, 3, 1, 1),
    (2, 3, 5, 5, 2, 3, 2, 1),
    (1, 2, 6, 4, 3, 3, 1, 0),
    (2, 1, 4, 5, 2, 2, 1, 2),
]
BACKWARD_IDS = ["k3-s1-p1", "k3-s2-p1", "batch-of-one-6x4-k3", "4x5-k2-p2"]


def _dinputs_bugs(x, Wt, dv, stride, padding):
    F, C, K, _ = Wt.shape
    dcols = dv.transpose(0, 2, 3, 1).reshape(-1, F) @ Wt.reshape(F, -1)
    return [
        ref.col2im(dcols, x.shape, K, K, stride, padding, bug="assign"),
        ref.col2im(dcols, x.shape, K, K, stride, padding, bug="no_crop"),
    ]


@points(3)
@pytest.mark.parametrize("N,C,H,W,F,K,stride,padding", BACKWARD_CASES, ids=BACKWARD_IDS)
def test_conv2d_backward_dinputs_gradient_check(student, oracle, N, C, H, W, F, K, stride, padding):
    """dinputs against central differences of your own forward."""
    x, Wt, b, dv = oracle.random(
        "inputs", lambda rng: _draw(rng, N, C, H, W, F, K, stride, padding)
    )
    assign, no_crop = oracle.compute("bugs", lambda: _dinputs_bugs(x, Wt, dv, stride, padding))
    out = oracle.compute("forward", lambda: ref.conv_forward(x, Wt, b, stride, padding))
    layer = _conv(student, C, F, K, stride, padding, Wt, b)
    # The central differences are taken of your forward: it must be right first.
    check_array(
        layer.forward(x),
        out,
        call=f"{_call(C, F, K, stride, padding)}.forward(inputs)",
        inputs={"inputs": x},
        what="output (checked before the gradient)",
    )
    numeric = numeric_gradient(layer.forward, x, dout=dv, h=H_LINEAR)
    layer.forward(x)
    got = layer.backward(dv)
    call = f"{_call(C, F, K, stride, padding)}.backward(dvalues)"
    shape = np.shape(got) if isinstance(got, np.ndarray) else None
    if padding and shape == no_crop.shape:
        fail(
            f"{call}: dinputs has the padded shape {shape}: crop the padding, dinputs has the inputs' shape "
            f"{x.shape}",
            f"{call} with inputs of shape {x.shape}, padding={padding}",
        )
    bugs = [(ASSIGN, assign)] if stride < K else []
    check_gradient(
        got,
        numeric,
        call=call,
        what="dinputs",
        inputs={"inputs": x, "weights": Wt, "dvalues": dv},
        known_bugs=bugs,
    )


ASSIGN = (
    "col2im writes each window over the previous ones instead of adding it: where windows overlap "
    "(stride < kernel) a pixel's gradient is the sum over every window that covers it"
)


def _parameter_gradients(x, Wt, b, dv, stride, padding):
    def loss(W_, b_):
        return float(np.sum(ref.conv_forward(x, W_, b_, stride, padding) * dv))

    num_W = ref.numerical_gradient(lambda v: loss(v, b), Wt, h=H_LINEAR)
    num_b = ref.numerical_gradient(lambda v: loss(Wt, v), b, h=H_LINEAR)
    F = Wt.shape[0]
    cols = ref.im2col(x, Wt.shape[2], Wt.shape[3], stride, padding)
    unmoved = (dv.reshape(-1, F).T @ cols).reshape(
        Wt.shape
    )  # dvalues reshaped without moving F last
    first = ref.conv_backward(dv[:1], x[:1], Wt, stride, padding)[1]
    return num_W, num_b, unmoved, first


@points(3)
@pytest.mark.parametrize("N,C,H,W,F,K,stride,padding", BACKWARD_CASES[:3], ids=BACKWARD_IDS[:3])
def test_conv2d_backward_parameter_gradient_check(
    student, oracle, N, C, H, W, F, K, stride, padding
):
    """dweights and dbiases against central differences of sum(conv(x, W, b) * dvalues)."""
    x, Wt, b, dv = oracle.random(
        "inputs", lambda rng: _draw(rng, N, C, H, W, F, K, stride, padding)
    )
    num_W, num_b, unmoved, first = oracle.compute(
        "numeric", lambda: _parameter_gradients(x, Wt, b, dv, stride, padding)
    )
    layer = _conv(student, C, F, K, stride, padding, Wt, b)
    layer.forward(x)
    layer.backward(dv)
    call = f"{_call(C, F, K, stride, padding)}.backward(dvalues)"
    inputs = {"inputs": x, "weights": Wt, "dvalues": dv}
    db = layer.dbiases
    db_shape = np.shape(db) if isinstance(db, np.ndarray) else None
    if db_shape is not None and db_shape != (F,):
        fail(
            f"{call}: dbiases has shape {db_shape}, expected ({F},): sum dvalues over the batch and both spatial "
            "axes, axis=(0, 2, 3)",
            f"{call} with dvalues of shape {dv.shape}",
        )
    bugs = [
        (
            "dvalues (N, F, OH, OW) is reshaped to (N*OH*OW, F) without moving the filter axis last first: "
            "use dvalues.transpose(0, 2, 3, 1).reshape(-1, F)",
            unmoved,
        ),
        (
            "dweights is averaged over the batch: the loss already divided by N, so sum over the samples",
            num_W / N,
        ),
    ]
    if N > 1:
        bugs.append(
            ("dweights holds only the first sample's gradient: sum over the whole batch", first)
        )
    check_gradient(
        layer.dweights, num_W, call=call, what="dweights", inputs=inputs, batch=N, known_bugs=bugs
    )
    check_gradient(db, num_b, call=call, what="dbiases", inputs=inputs, batch=N)


@points(2)
@pytest.mark.parametrize(
    "N,C,H,W,F,K,stride,padding",
    [(2, 1, 6, 6, 3, 3, 1, 1), (1, 2, 5, 4, 2, 2, 2, 0)],
    ids=["first-layer-k3-p1", "batch-of-one-k2-s2"],
)
def test_conv2d_backward_skips_dinputs_when_input_gradient_is_false(
    student, oracle, N, C, H, W, F, K, stride, padding
):
    """With ``input_gradient = False`` (the first layer of a network: nothing reads the
    images' gradient) backward still sets dweights and dbiases, sets self.dinputs to None
    and returns None."""
    x, Wt, b, dv = oracle.random(
        "inputs", lambda rng: _draw(rng, N, C, H, W, F, K, stride, padding)
    )
    _, dW, db = oracle.compute("want", lambda: ref.conv_backward(dv, x, Wt, stride, padding))
    layer = _conv(student, C, F, K, stride, padding, Wt, b)
    layer.input_gradient = False
    layer.forward(x)
    returned = layer.backward(dv)
    check_skipped_dinputs(
        layer,
        returned,
        {"dweights": dW, "dbiases": db},
        call=f"{_call(C, F, K, stride, padding)}.backward(dvalues) with self.input_gradient = False",
        inputs={"inputs": x, "weights": Wt, "dvalues": dv},
        batch=N,
        trained="the first layer's filters are trained",
        skip="When self.input_gradient is False nothing reads this layer's dinputs (its inputs are the "
        "images): set self.dinputs = None and return None instead of computing the product and col2im.",
    )


@points(2)
@given(
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(0, 1),
    st.integers(0, 2**31 - 1),
)
@example(3, 2, 2, 1, 1, 0)  # tried first: most bugs fail here at once
def test_conv2d_backward_batch_is_sum_of_samples_property(student, N, C, F, stride, padding, seed):
    """Backward on a batch: dweights and dbiases are the sums of the per-sample gradients, and
    dinputs stacks the per-sample gradients (5 x 4 images, 3 x 3 kernels)."""
    x, Wt, b, dv = _draw(np.random.default_rng(seed), N, C, 5, 4, F, 3, stride, padding)
    layer = _conv(student, C, F, 3, stride, padding, Wt, b)
    layer.forward(x)
    dx = as_array(layer.backward(dv), "Conv2D.backward(dvalues)", x.shape, "dinputs").astype(
        np.float64
    )
    dW = as_array(layer.dweights, "Conv2D.backward(dvalues)", Wt.shape, "dweights").astype(
        np.float64
    )
    db = as_array(layer.dbiases, "Conv2D.backward(dvalues)", b.shape, "dbiases").astype(np.float64)
    if not (np.any(dx) and np.any(dW)):
        fail(
            f"{_call(C, F, 3, stride, padding)}.backward(dvalues): dinputs or dweights is all zeros",
            "With random inputs and dvalues, neither gradient can be zero.",
        )
    sum_W, sum_b, rows = 0.0, 0.0, []
    for n in range(N):
        layer.forward(x[n : n + 1])
        rows.append(np.asarray(layer.backward(dv[n : n + 1]), dtype=np.float64))
        sum_W = sum_W + np.asarray(layer.dweights, dtype=np.float64)
        sum_b = sum_b + np.asarray(layer.dbiases, dtype=np.float64)
    call = f"{_call(C, F, 3, stride, padding)}.backward on a batch of {N} vs. sample by sample"
    inputs = {"inputs": x, "dvalues": dv}
    mean = "is the mean of the per-sample {0}, not their sum: Conv2D must not divide by N (the loss did)"
    check_array(
        dW,
        sum_W,
        call=call,
        inputs=inputs,
        what="dweights (the sum of the per-sample dweights)",
        rtol=1e-9,
        known_bugs=[(f"the batch's dweights {mean.format('dweights')}", sum_W / N)],
    )
    check_array(
        db,
        sum_b,
        call=call,
        inputs=inputs,
        what="dbiases (the sum of the per-sample dbiases)",
        rtol=1e-9,
        known_bugs=[(f"the batch's dbiases {mean.format('dbiases')}", sum_b / N)],
    )
    check_array(
        dx,
        np.concatenate(rows, axis=0),
        call=call,
        inputs=inputs,
        what="dinputs (sample n: the dinputs of sample n alone)",
        rtol=1e-9,
    )


@points(2)
def test_conv2d_parameters_and_gradients_by_name(student, oracle):
    """The parameter protocol: parameters() and gradients() by name, the same arrays as
    weights/biases and dweights/dbiases."""
    x, Wt, b, dv = oracle.random("inputs", lambda rng: _draw(rng, 2, 2, 5, 4, 3, 3, 1, 1))
    dx, dW, db = oracle.compute("want", lambda: ref.conv_backward(dv, x, Wt, 1, 1))
    layer = _conv(student, 2, 3, 3, 1, 1, Wt, b)
    call = "Conv2D(2, 3, 3, stride=1, padding=1)"
    params = layer.parameters()
    if not isinstance(params, dict) or sorted(params) != ["biases", "weights"]:
        fail(
            f"{call}.parameters() must return a dict with the keys 'weights' and 'biases'",
            f"got {type(params).__name__}"
            + (f" with keys {sorted(params)}" if isinstance(params, dict) else ""),
        )
    check_array(params["weights"], Wt, call=f"{call}.parameters()", what="entry 'weights'")
    check_array(params["biases"], b, call=f"{call}.parameters()", what="entry 'biases'")
    layer.forward(x)
    layer.backward(dv)
    grads = layer.gradients()
    if not isinstance(grads, dict) or sorted(grads) != ["biases", "weights"]:
        fail(
            f"{call}.gradients() must return a dict with the keys 'weights' and 'biases' after backward"
        )
    check_array(
        grads["weights"], dW, call=f"{call}.gradients() after backward", what="entry 'weights'"
    )
    check_array(
        grads["biases"], db, call=f"{call}.gradients() after backward", what="entry 'biases'"
    )


# ---------------------------------------------------------------------------- speed

SPEED_BATCH = 64
SPEED_LIMIT = 0.5  # seconds for one forward on a quiet machine: im2col about 0.03 s, loops over 1 s
SPEED_FACTOR = 10  # ... or this many times a fixed numpy workload timed just before, on a busy one


def _calibration():
    """Best of three timings of a fixed numpy workload (sorting 500,000 numbers, about as long
    as an im2col forward of the speed test): how fast this machine is right now."""
    values = np.random.default_rng(0).random(500_000)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        np.sort(values)
        best = min(best, time.perf_counter() - start)
    return best


def _timed_forward(layer, x, call):
    start = time.perf_counter()
    try:
        got = layer.forward(x)
    except StudentError as exc:
        if exc.kind == "timeout":
            fail(
                f"{call} did not finish within 30 s: far too slow for training; vectorise it with im2col",
                "One matrix product, im2col(inputs) @ weights.reshape(F, -1).T, replaces the loops over pixels.",
            )
        raise
    return got, time.perf_counter() - start


@points(2)
@pytest.mark.call_timeout(30)
def test_conv2d_forward_is_vectorised(student, oracle):
    """LeNet's first convolution on a batch of 64 images must take under half a second (on a
    busy machine, under ten times a fixed numpy workload timed just before). The inputs are
    fixed (not per student); a corner of the first output is checked too."""
    x = np.random.default_rng(10).standard_normal((SPEED_BATCH, 1, 28, 28))
    Wt, b = oracle.random(
        "params", lambda rng: (rng.standard_normal((6, 1, 5, 5)) / 5, rng.standard_normal(6))
    )
    want = oracle.compute("want", lambda: ref.conv_forward(x[:1], Wt, b, 1, 2)[:, :, :8, :8])
    layer = _conv(student, 1, 6, 5, 1, 2, Wt, b)
    call = f"Conv2D(1, 6, 5, padding=2).forward(inputs of shape {x.shape})"
    limit = max(SPEED_LIMIT, SPEED_FACTOR * _calibration())
    got, elapsed = _timed_forward(layer, x, call)
    got = check_array(got, np.zeros((SPEED_BATCH, 6, 28, 28)), call=call, atol=np.inf)
    check_array(
        got[:1, :, :8, :8],
        want,
        call=call,
        what="output of the first image (top-left 8 x 8 corner)",
    )
    if limit < elapsed < 3 * limit:  # once more, in case the machine was busy for a moment
        limit = max(SPEED_LIMIT, SPEED_FACTOR * _calibration())
        elapsed = min(elapsed, _timed_forward(layer, x, call)[1])
    if elapsed > limit:
        fail(
            f"{call} took {elapsed:.2f} s, more than {limit:.2g} s: vectorise it with im2col",
            "Python loops over the pixels are far too slow to train a network (the im2col form is about 0.03 s "
            "here on a quiet machine): one matrix product, im2col(inputs) @ weights.reshape(F, -1).T, replaces "
            "them.",
        )
