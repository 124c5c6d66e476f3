"""Chapter 13: the U-Net's pieces (2x upsampling, the skip concatenation and its gradient
routing, the per-pixel softmax cross-entropy), the whole U-Net forward and backward, and a
training run on generated shapes judged by the foreground IoU."""

from grader.api import Rng, check_array, check_gradient, check_true, fail, np, points, pytest
from grader.suites.ch13_generative.cases import (
    check_exact_gradient,
    check_keys,
    check_named_gradients,
    gradients_dict,
    perturbed,
    ref,
    returned_model,
    set_params,
    shapes_data,
    train_or_fail,
    check_history,
)

UP = "Upsample2D()"
SHAPES = [(2, 3, 2, 3), (1, 1, 3, 3), (2, 2, 4, 1)]
IDS = ["2x3-channels-2x3", "batch-of-one-3x3", "4x1"]

# ------------------------------------------------------------------ upsampling


@points(2)
@pytest.mark.parametrize("N,C,H,W", SHAPES, ids=IDS)
def test_upsample_forward_copies_into_2x2_blocks(student, oracle, N, C, H, W):
    x = oracle.random("x", lambda rng: rng.standard_normal((N, C, H, W)))
    want = oracle.compute("want", lambda: ref.upsample_forward(x))
    check_array(
        student.Upsample2D().forward(x),
        want,
        call=f"{UP}.forward(inputs)",
        inputs={"inputs": x},
        axes="NCHW",
    )


@points(3)
@pytest.mark.parametrize("N,C,H,W", SHAPES, ids=IDS)
def test_upsample_backward_sums_each_block(student, oracle, N, C, H, W):
    x = oracle.random("x", lambda rng: rng.standard_normal((N, C, H, W)))
    dv = oracle.random("dv", lambda rng: rng.standard_normal((N, C, 2 * H, 2 * W)))
    want, top_left, mean = oracle.compute(
        "want",
        lambda: (
            ref.upsample_backward(dv),
            ref.upsample_backward(dv, bug="top_left"),
            ref.upsample_backward(dv, bug="mean"),
        ),
    )
    layer = student.Upsample2D()
    layer.forward(x)
    check_array(
        layer.backward(dv),
        want,
        call=f"{UP}.backward(dvalues)",
        inputs={"inputs": x, "dvalues": dv},
        known_bugs=[
            (
                "only one gradient of each 2 x 2 block is kept: each input was copied to four outputs, "
                "so its gradient is the SUM of the four",
                top_left,
            ),
            (
                "each 2 x 2 block is averaged: the four copies each pass their whole gradient back, "
                "so sum them (no division by 4)",
                mean,
            ),
        ],
    )


# ------------------------------------------------------------------ concatenation

SWAPPED = (
    "the channels are in the other order: concat_channels(skip, up) puts the skip's channels FIRST, "
    "then the upsampled ones"
)


@points(2)
@pytest.mark.parametrize("Cs,Cu", [(2, 3), (1, 1)], ids=["2+3-channels", "1+1-channels"])
def test_concat_channels_puts_the_skip_first(student, oracle, Cs, Cu):
    skip, up = oracle.random(
        "x", lambda rng: (rng.standard_normal((2, Cs, 3, 4)), rng.standard_normal((2, Cu, 3, 4)))
    )
    want, swapped = oracle.compute(
        "want", lambda: (ref.concat_forward(skip, up), ref.concat_forward(up, skip))
    )
    check_array(
        student.concat_channels(skip, up),
        want,
        call="concat_channels(skip, up)",
        inputs={"skip": skip, "up": up},
        known_bugs=[(SWAPPED, swapped)],
    )


@points(3)
@pytest.mark.parametrize("Cs,Cu", [(2, 3), (3, 1)], ids=["2+3-channels", "3+1-channels"])
def test_split_channels_routes_each_gradient_back(student, oracle, Cs, Cu):
    """split_channels(dvalues, Cs) is the backward of concat_channels: the first Cs
    channels go to the skip, the rest to the upsampled branch."""
    dv = oracle.random("dv", lambda rng: rng.standard_normal((2, Cs + Cu, 3, 2)))
    (dskip, dup), wrong = oracle.compute(
        "want", lambda: (ref.concat_backward(dv, Cs), ref.concat_backward(dv, Cu))
    )
    got = student.split_channels(dv, Cs)
    call = f"split_channels(dvalues, {Cs})"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return the pair (dskip, dup)", f"got {type(got).__name__}")
    inputs = {"dvalues": dv}
    check_array(
        got[0], dskip, call=call, what="dskip", inputs=inputs, known_bugs=[(SWAPPED, wrong[1])]
    )
    check_array(got[1], dup, call=call, what="dup", inputs=inputs, known_bugs=[(SWAPPED, wrong[0])])


# ------------------------------------------------------------------ per-pixel softmax


@points(2)
def test_pixel_softmax_over_the_class_axis(student, oracle):
    """Softmax over axis 1 at every pixel; logits up to 1000 stay finite."""
    z = oracle.random("z", lambda rng: 3.0 * rng.standard_normal((2, 3, 4, 5)))
    z = z.copy()
    z[0, 0, 0, 0], z[1, 2, 3, 4] = 1000.0, -1000.0
    want, last = oracle.compute(
        "want",
        lambda: (
            ref.pixel_softmax(z),
            np.exp(z - z.max(axis=-1, keepdims=True))
            / np.exp(z - z.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True),
        ),
    )
    check_array(
        student.pixel_softmax(z),
        want,
        call="pixel_softmax(logits)",
        inputs={"logits": z},
        axes="NCHW",
        known_bugs=[
            (
                "the softmax is taken over the last axis (the image width): the classes are axis 1",
                last,
            )
        ],
        nonfinite_hint="subtract each pixel's maximum logit (over axis 1) before exp",
    )


@points(2)
@pytest.mark.parametrize(
    "N,K,H,W", [(2, 2, 3, 4), (1, 3, 2, 2)], ids=["2-classes", "batch-of-one-3-classes"]
)
def test_pixel_cross_entropy_forward_and_backward(student, oracle, N, K, H, W):
    z, y = oracle.random(
        "inputs",
        lambda rng: (2.0 * rng.standard_normal((N, K, H, W)), rng.integers(0, K, (N, H, W))),
    )
    want, numeric = oracle.compute(
        "want",
        lambda: (
            ref.pixel_cross_entropy(z, y),
            ref.numerical_gradient(lambda v: float(np.mean(ref.pixel_cross_entropy(v, y))), z),
        ),
    )
    loss = student.PixelCrossEntropy()
    inputs = {"logits": z, "labels": y}
    check_array(
        loss.forward(z, y),
        want,
        call="PixelCrossEntropy.forward(logits, labels)",
        inputs=inputs,
        known_bugs=[
            (
                "the per-pixel losses are summed over each image: take their mean over the H x W "
                "pixels",
                want * H * W,
            )
        ],
    )
    check_gradient(
        loss.backward(z, y),
        numeric,
        call="PixelCrossEntropy.backward(logits, labels)",
        inputs=inputs,
        batch=N,
        known_bugs=[
            (
                "the gradient is divided by N only: the loss averages over the N * H * W pixels",
                numeric * H * W,
            )
        ],
    )


# ------------------------------------------------------------------ the U-Net

C_IN, CHANNELS, CLASSES = 1, 2, 2


def _unet(student, oracle, channels=CHANNELS, c_in=C_IN):
    params = oracle.random(
        "params", lambda rng: perturbed(rng, ref.unet_init(rng, c_in, channels, CLASSES), 0.2)
    )
    net = student.UNet(c_in, channels, CLASSES, Rng(0))
    set_params(net, params)
    return net, params


@points(1)
def test_unet_init_conv_shapes_in_order(student, oracle):
    """down (c, C_in, 3, 3), bottom (2c, c, 3, 3), up (c, 3c, 3, 3), head (K, c, 1, 1):
    He-scaled draws in that order; parameters() by name."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute("want", lambda: ref.unet_init(np.random.default_rng(seed), 1, 3, 2))
    call = f"UNet(1, 3, 2, rng=default_rng({seed}))"
    params = student.UNet(1, 3, 2, Rng(seed)).parameters()
    check_keys(params, want, call, "parameters()")
    for name, value in want.items():
        check_true(
            np.shape(params[name]) == value.shape,
            f"{call}: parameters()[{name!r}] has shape {np.shape(params[name])}, expected {value.shape}",
        )
        check_array(params[name], value, call=call, what=f"parameters()[{name!r}]", rtol=1e-9)


@points(3)
@pytest.mark.parametrize("N,H,W", [(2, 4, 6), (1, 8, 8)], ids=["2x4x6", "batch-of-one-8x8"])
def test_unet_forward_matches_reference(student, oracle, N, H, W):
    net, params = _unet(student, oracle)
    x = oracle.random("x", lambda rng: rng.standard_normal((N, C_IN, H, W)))
    want, swapped, zeros = oracle.compute(
        "want",
        lambda: (
            ref.unet_forward(params, x)[0],
            ref.unet_forward(params, x, bug="swapped")[0],
            ref.unet_forward(params, x, skips="zeros")[0],
        ),
    )
    check_array(
        net.forward(x),
        want,
        call=f"UNet({C_IN}, {CHANNELS}, {CLASSES}).forward(inputs)",
        inputs={"inputs": x},
        axes="NCHW",
        known_bugs=[
            (SWAPPED, swapped),
            (
                "the skip connection carries nothing: concatenate the first block's ReLU output a1",
                zeros,
            ),
        ],
    )


@points(4)
@pytest.mark.parametrize("N,H,W", [(2, 8, 8), (1, 4, 6)], ids=["2x8x8", "batch-of-one-4x6"])
def test_unet_backward_gradient_check(student, oracle, N, H, W):
    """The whole U-Net: every parameter's gradient and dinputs of the mean pixel
    cross-entropy, against the reference's backward pass (exact gradients, checked against
    central differences and PyTorch: central differences through ReLUs and max-pooling on
    random inputs cross a kink now and then)."""
    net, params = _unet(student, oracle)
    x, y = oracle.random(
        "x", lambda rng: (rng.standard_normal((N, C_IN, H, W)), rng.integers(0, CLASSES, (N, H, W)))
    )

    def expected():
        logits = ref.unet_forward(params, x)[0]
        dlogits = ref.pixel_cross_entropy_backward(logits, y)
        numeric, dx = ref.unet_gradients(params, x, y)
        bugs = [
            (text, ref.unet_gradients(params, x, y, bug=bug)[0])
            for text, bug in (
                (
                    "the skip's share of the gradient is not added to the encoder branch: the first block's output a1 "
                    "feeds both the pooling and the concatenation, so its gradient is the SUM of both",
                    "skip_not_added",
                ),
                (
                    "Upsample2D.backward keeps one gradient per 2 x 2 block instead of summing the four",
                    "upsample_top_left",
                ),
            )
        ]
        return dlogits, numeric, dx, bugs

    dlogits, numeric, dx, bugs = oracle.compute("want", expected)
    call = f"UNet({C_IN}, {CHANNELS}, {CLASSES}).backward(dvalues)"
    inputs = {"inputs": x, "dvalues": dlogits}
    net.forward(x, training=True)
    got_dx = net.backward(dlogits)
    check_named_gradients(
        gradients_dict(net, call),
        numeric,
        call=call,
        inputs=inputs,
        known_bugs=[tuple(b) for b in bugs],
    )
    check_exact_gradient(got_dx, dx, call=call, what="dinputs", inputs=inputs)


# ------------------------------------------------------------------ training on shapes

SIZE, N_TRAIN, N_TEST, DATA_SEED, TEST_SEED, TRAIN_SEED, EPOCHS = (
    16,
    800,
    200,
    1,
    2,
    0,
    3,
)  # EPOCHS: UNET_EPOCHS
IOU_BAR = 0.915  # see docs/benchmarks.md (chapter 13)
IOU_MEASURED = "0.939-0.957 (training seeds 0-9)"
IOU_NO_SKIP = "0.849-0.890"


@points(8)
@pytest.mark.call_timeout(90)
def test_unet_foreground_iou_reaches_bar(student, oracle):
    """train_unet (its default settings) on 800 generated 16 x 16 images of shapes; on 200
    new images the foreground IoU of predict() must reach the bar. The grader makes the
    images (make_shapes' rule, with fixed seeds) and keeps the test masks; model.history
    must hold one mean training loss per epoch."""
    X, Y = shapes_data(N_TRAIN, SIZE, DATA_SEED)
    Xt, Yt = shapes_data(N_TEST, SIZE, TEST_SEED)
    call = f"train_unet(X ({N_TRAIN}, 1, {SIZE}, {SIZE}), masks, rng=default_rng({TRAIN_SEED}))"
    model = returned_model(
        train_or_fail(lambda: student.train_unet(X, Y, Rng(TRAIN_SEED)), "train_unet", "4 s"), call
    )
    pred = np.asarray(
        check_array(
            model.predict(Xt),
            np.asarray(Yt),
            call=call + ", then predict(X_test)",
            atol=np.inf,
            what="predicted classes",
        )
    )
    pred = np.asarray(pred).astype(np.int64)
    iou = ref_free_iou(pred, np.asarray(Yt))
    if iou >= IOU_BAR:
        check_history(model, EPOCHS, call)
        return
    fail(
        f"U-Net: foreground IoU {iou:.3f} on 200 new images, below the bar {IOU_BAR}",
        f"{call}\nThe reference reaches {IOU_MEASURED}; the same network with its skip connection carrying "
        f"nothing reaches {IOU_NO_SKIP}: check that a1 is concatenated (forward) and that its gradient is "
        "added back (the gradient tests).",
    )


def ref_free_iou(pred, true):
    """Foreground IoU over all pixels (the grader's own formula, no reference needed)."""
    p, t = pred == 1, true == 1
    union = np.logical_or(p, t).sum()
    return 1.0 if union == 0 else float(np.logical_and(p, t).sum() / union)


@points(2)
def test_train_unet_honours_its_arguments(student, oracle):
    """The docstring: train_unet(X, masks, rng, channels, epochs, batch_size, learning_rate)
    draws the weights, then one permutation per epoch, from rng. A small run (24 images of
    8 x 8, 2 epochs of 10, 4 channels, learning rate 0.01) must give the reference run's
    logits."""
    X, Y = shapes_data(30, 8, 21)
    Xt, Yt, Xs = X[:24], Y[:24], X[24:]
    seed = 2
    want = oracle.compute(
        "want", lambda: ref.unet_forward(ref.unet_fit(Xt, Yt, seed, 4, 2, 10, 0.01), Xs)[0]
    )
    call = (
        f"train_unet(X (24, 1, 8, 8), masks, rng=default_rng({seed}), channels=4, epochs=2, "
        "batch_size=10, learning_rate=0.01)"
    )
    model = returned_model(
        student.train_unet(
            Xt, Yt, Rng(seed), channels=4, epochs=2, batch_size=10, learning_rate=0.01
        ),
        call,
    )
    check_array(
        model.forward(Xs),
        want,
        call=call + ", then forward(X (6, 1, 8, 8))",
        what="logits of the trained model (check that every argument is used, and that rng "
        "draws the weights, then one permutation per epoch)",
        rtol=1e-6,
        atol=1e-9,
    )
