"""Chapter 13: binary cross-entropy on logits (values, extreme logits, gradient) and the
MLP autoencoder (layers, forward, backward, and a training run judged on held-out images)."""

from grader.api import Rng, StudentError, check_array, check_true, fail, np, points, pytest
from grader.suites.ch13_generative.cases import (
    check_exact_gradient,
    check_keys,
    check_named_gradients,
    gradients_dict,
    mnist_pixels,
    mnist_split,
    perturbed,
    ref,
    returned_model,
    set_params,
    train_or_fail,
    check_history,
)

BCE = "BinaryCrossEntropyWithLogits"
MEAN_BUG = (
    "the loss is averaged over the pixels: this loss is the SUM over the features of each sample "
    "(the average is only over the batch)"
)


def _logits_targets(rng, N, D, scale=3.0):
    return scale * rng.standard_normal((N, D)), rng.random((N, D))


# ------------------------------------------------------------------ BCE with logits


@points(2)
@pytest.mark.parametrize(
    "N,D", [(4, 6), (1, 9), (3, 1)], ids=["4x6", "batch-of-one", "one-feature"]
)
def test_bce_with_logits_forward_matches_reference(student, oracle, N, D):
    logits, t = oracle.random("inputs", lambda rng: _logits_targets(rng, N, D))
    want, mean = oracle.compute(
        "want", lambda: (ref.bce_logits(logits, t), ref.bce_logits(logits, t, bug="mean"))
    )
    got = student.BinaryCrossEntropyWithLogits().forward(logits, t)
    bugs = [(MEAN_BUG, mean)] if D > 1 else []
    check_array(
        got,
        want,
        call=f"{BCE}.forward(logits, targets)",
        inputs={"logits": logits, "targets": t},
        known_bugs=bugs,
    )


@pytest.mark.no_warnings("the text asks for a loss computed from the logits without overflow")
@points(2)
def test_bce_with_logits_extreme_logits_stay_finite(student, oracle):
    """Logits of +-50 and +-1000 with targets 0, 1 and 0.3: the exact losses are 0, 50, 1000,
    ... and must come out finite and right (no log(0), no exp overflow)."""
    logits = np.array(
        [[50.0, -50.0, 1000.0, -1000.0, 50.0, -1000.0], [0.0, 30.0, -30.0, 700.0, -700.0, 1e-3]]
    )
    t = np.array([[1.0, 0.0, 0.0, 1.0, 0.3, 0.3], [0.5, 1.0, 1.0, 0.0, 1.0, 0.0]])
    want = oracle.compute("want", lambda: ref.bce_logits(logits, t))
    got = student.BinaryCrossEntropyWithLogits().forward(logits, t)
    check_array(
        got,
        want,
        call=f"{BCE}.forward(logits, targets) with logits up to +-1000",
        inputs={"logits": logits},
        nonfinite_hint=(
            "sigmoid(1000) is exactly 1.0 in float64, so log(1 - p) is log(0); and exp(1000) overflows. "
            "Use the form max(l, 0) - l * t + log1p(exp(-|l|)), which never takes exp of a positive number"
        ),
    )


@points(2)
@pytest.mark.parametrize("N,D", [(4, 6), (1, 5)], ids=["4x6", "batch-of-one"])
def test_bce_with_logits_backward_gradient_check(student, oracle, N, D):
    logits, t = oracle.random("inputs", lambda rng: _logits_targets(rng, N, D, scale=2.0))
    numeric, mean = oracle.compute(
        "want",
        lambda: (
            ref.numerical_gradient(lambda v: float(np.mean(ref.bce_logits(v, t))), logits),
            ref.bce_logits_backward(logits, t, bug="mean"),
        ),
    )
    loss = student.BinaryCrossEntropyWithLogits()
    got = loss.backward(logits, t)
    bugs = [(MEAN_BUG, mean)] if D > 1 else []
    check_array(
        got,
        numeric,
        call=f"{BCE}.backward(logits, targets)",
        inputs={"logits": logits},
        batch=N,
        known_bugs=bugs,
        rtol=1e-5,
    )


# ------------------------------------------------------------------ the autoencoder

SIZES = (7, 5, 3)  # n_inputs, n_hidden, n_latent for the value tests
SHAPES = {"encoder0": (7, 5), "encoder2": (5, 3), "decoder0": (3, 5), "decoder2": (5, 7)}


def _ae(student, oracle, seed_key="params"):
    params = oracle.random(seed_key, lambda rng: perturbed(rng, ref.ae_init(rng, *SIZES)))
    net = student.Autoencoder(*SIZES, Rng(0))
    set_params(net, params)
    return net, params


@points(2)
def test_autoencoder_init_layers_and_he_weights(student, oracle):
    """encoder Dense-ReLU-Dense and decoder Dense-ReLU-Dense, He-scaled draws in that order."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute("want", lambda: ref.ae_init(np.random.default_rng(seed), *SIZES))
    call = f"Autoencoder(7, 5, 3, rng=default_rng({seed}))"
    net = student.Autoencoder(*SIZES, Rng(seed))
    names = [
        [
            type(layer).__name__
            if not hasattr(layer, "type_name")
            else layer.type_name.rsplit(".", 1)[-1]
            for layer in getattr(net, group)
        ]
        for group in ("encoder", "decoder")
    ]
    check_true(
        names == [["Dense", "ReLU", "Dense"]] * 2,
        f"{call}: encoder and decoder must each be [Dense, ReLU, Dense], got {names}",
    )
    params = net.parameters()
    check_keys(params, want, call, "parameters()")
    for name, value in want.items():
        check_array(
            params[name],
            value,
            call=call,
            what=f"parameters()[{name!r}]",
            rtol=1e-9,
            known_bugs=[
                (
                    "the weights are not He-scaled: multiply the standard normal draws by sqrt(2 / n_inputs of the layer)",
                    value / np.sqrt(2.0 / value.shape[0]),
                )
            ]
            if name.endswith("weights")
            else [],
        )


@points(2)
@pytest.mark.parametrize("N", [4, 1], ids=["batch-of-4", "batch-of-one"])
def test_autoencoder_forward_matches_reference(student, oracle, N):
    net, params = _ae(student, oracle)
    x = oracle.random("x", lambda rng: rng.random((N, SIZES[0])))
    codes, logits, probs = oracle.compute(
        "want", lambda: (*ref.ae_forward(params, x)[:2], ref.sigmoid(ref.ae_forward(params, x)[1]))
    )
    inputs = {"inputs": x}
    check_array(
        net.encode(x),
        codes,
        call="Autoencoder.encode(inputs)",
        inputs=inputs,
        what="codes",
        known_bugs=[
            (
                "a ReLU after the code layer: the encoder ends with its Dense (the codes may be negative)",
                np.maximum(codes, 0),
            )
        ],
    )
    check_array(
        net.forward(x),
        logits,
        call="Autoencoder.forward(inputs)",
        inputs=inputs,
        what="logits",
        known_bugs=[
            (
                "the output went through a sigmoid: forward returns the logits (reconstruct applies "
                "the sigmoid)",
                probs,
            )
        ],
    )
    check_array(
        net.reconstruct(x),
        probs,
        call="Autoencoder.reconstruct(inputs)",
        inputs=inputs,
        known_bugs=[("reconstruct returns the logits: apply the sigmoid", logits)],
    )


@points(3)
def test_autoencoder_backward_gradient_check(student, oracle):
    """Every parameter's gradient and dinputs of the mean BCE-with-logits reconstruction
    loss, against the reference's backward pass (exact gradients, checked against central
    differences and PyTorch)."""
    net, params = _ae(student, oracle)
    x = oracle.random("x", lambda rng: rng.random((4, SIZES[0])))

    def expected():
        _, logits, caches = ref.ae_forward(params, x)
        dlogits = ref.bce_logits_backward(logits, x)
        grads, dx = ref.ae_backward(params, caches, dlogits)
        return dlogits, grads, dx

    dlogits, numeric, dx = oracle.compute("want", expected)
    call = "Autoencoder.backward(dvalues)"
    net.forward(x, training=True)
    got_dx = net.backward(dlogits)
    grads = gradients_dict(net, call)
    check_named_gradients(grads, numeric, call=call, inputs={"inputs": x, "dvalues": dlogits})
    check_exact_gradient(got_dx, dx, call=call, what="dinputs", inputs={"inputs": x})


# ------------------------------------------------------------------ training on MNIST

N_TRAIN, N_TEST, TRAIN_SEED, EPOCHS, LATENT = (
    3000,
    500,
    0,
    4,
    8,
)  # AE_EPOCHS, AE_LATENT: the defaults
AE_BAR = 0.048  # mean squared error per pixel; see docs/benchmarks.md (chapter 13)
AE_MEASURED = "0.0400-0.0437 (training seeds 0-9)"


@points(6)
@pytest.mark.call_timeout(90)
def test_autoencoder_reconstruction_error_reaches_bar(student, oracle):
    """train_autoencoder on 3,000 MNIST images (its default settings); the grader encodes
    500 held-out images to 8-d codes, decodes the codes and applies the sigmoid itself: the
    mean squared error per pixel must be at most the bar, and
    model.history must hold one mean training loss per epoch."""
    X = mnist_pixels()
    train, test = mnist_split(oracle, N_TRAIN, N_TEST)
    call = f"train_autoencoder(X ({N_TRAIN}, 784), rng=default_rng({TRAIN_SEED}))"
    model = returned_model(
        train_or_fail(
            lambda: student.train_autoencoder(X[train], Rng(TRAIN_SEED)), "train_autoencoder", "3 s"
        ),
        call,
    )
    codes = np.asarray(
        check_array(
            model.encode(X[test]),
            np.zeros((N_TEST, LATENT)),
            atol=np.inf,
            what="codes",
            call=call + ", then encode(X_test (500, 784))",
            nonfinite_hint="training diverged",
        )
    )
    logits = check_array(
        model.decode(codes),
        X[test],
        call=call + ", then decode(codes)",
        atol=np.inf,
        what="logits",
        nonfinite_hint="training diverged",
    )
    with np.errstate(over="ignore"):
        out = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
    mse = float(np.mean((out - X[test]) ** 2))
    baseline = float(np.mean((X[test] - X[train].mean(axis=0)) ** 2))
    if mse <= AE_BAR:
        check_history(model, EPOCHS, call)
        return
    fail(
        f"Autoencoder: reconstruction error {mse:.4f} per pixel on held-out images, above the bar {AE_BAR}",
        f"{call}\nThe reference reaches {AE_MEASURED}; predicting the mean image gives {baseline:.4f}.\n"
        "Check the gradient tests first, then that train_autoencoder updates the whole model "
        "(optimizer.update_params(model): parameters() must list the encoder's and the decoder's arrays).",
    )


@points(2)
def test_train_autoencoder_honours_its_arguments(student, oracle):
    """The docstring: train_autoencoder(X, rng, n_hidden, n_latent, epochs, batch_size,
    learning_rate) draws the weights then one permutation per epoch from rng, and keeps one
    mean training loss per epoch in model.history. A small run (48 images, 2 epochs of 20,
    hidden 16, latent 4, learning rate 0.01) must give the reference run's model."""
    X = mnist_pixels()
    Xt, Xs = X[:48], X[48:54]
    seed, args = 2, dict(n_hidden=16, n_latent=4, epochs=2, batch_size=20, learning_rate=0.01)
    want = oracle.compute(
        "want",
        lambda: ref.ae_forward(ref.ae_fit(Xt, seed, 16, 4, 2, 20, 0.01), Xs)[1],
    )
    call = (
        f"train_autoencoder(X (48, 784), rng=default_rng({seed}), n_hidden=16, n_latent=4, "
        "epochs=2, batch_size=20, learning_rate=0.01)"
    )
    model = returned_model(student.train_autoencoder(Xt, Rng(seed), **args), call)
    check_array(
        model.forward(Xs),
        want,
        call=call + ", then forward(X (6, 784))",
        what="logits of the trained model (check that every argument is used: sizes, epochs, "
        "batch_size, learning_rate, and rng for the weights then the permutations)",
        rtol=1e-6,
        atol=1e-9,
    )
    try:
        history = model.history
    except StudentError:
        fail(f"{call} did not keep model.history", "Append each epoch's mean training loss.")
    if not isinstance(history, (list, tuple, np.ndarray)) or len(history) != 2:
        fail(f"{call}: model.history must hold 2 numbers, one mean training loss per epoch")
