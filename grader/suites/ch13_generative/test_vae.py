"""Chapter 13: the variational autoencoder: the reparameterization, the KL term and their
gradients, the VAE's encoder, decoder and backward pass, and a training run whose negative
ELBO the grader computes itself on held-out images."""

from grader.api import Rng, check_array, check_gradient, check_true, fail, np, points, pytest
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

VARIANCE_BUG = (
    "z uses exp(logvar) * eps: that is the variance (or logvar read as log sigma); the standard "
    "deviation is exp(logvar / 2) = exp(0.5 * logvar)"
)


def _mu_logvar_eps(rng, N, K):
    return (
        rng.standard_normal((N, K)),
        0.8 * rng.standard_normal((N, K)),
        rng.standard_normal((N, K)),
    )


SHAPES = [(4, 3), (1, 5), (6, 1)]
IDS = ["4x3", "batch-of-one", "one-latent"]

# ------------------------------------------------------------------ reparameterization


@points(2)
@pytest.mark.parametrize("N,K", SHAPES, ids=IDS)
def test_reparameterize_matches_formula(student, oracle, N, K):
    """z = mu + exp(logvar / 2) * eps, with the eps given."""
    mu, logvar, eps = oracle.random("inputs", lambda rng: _mu_logvar_eps(rng, N, K))
    want, variance, no_noise = oracle.compute(
        "want",
        lambda: (
            ref.reparameterize(mu, logvar, eps),
            ref.reparameterize(mu, logvar, eps, bug="variance"),
            ref.reparameterize(mu, logvar, eps, bug="no_noise"),
        ),
    )
    got = student.reparameterize(mu, logvar, eps)
    check_array(
        got,
        want,
        call="reparameterize(mu, logvar, eps)",
        inputs={"mu": mu, "logvar": logvar, "eps": eps},
        known_bugs=[
            (VARIANCE_BUG, variance),
            ("z = mu: the noise eps * exp(logvar / 2) is not added", no_noise),
        ],
    )


@points(2)
def test_reparameterize_is_deterministic_given_eps(student, oracle):
    """The same (mu, logvar, eps) twice give the same z; eps = 0 gives z = mu."""
    mu, logvar, eps = oracle.random("inputs", lambda rng: _mu_logvar_eps(rng, 3, 4))
    call = "reparameterize(mu, logvar, eps)"
    first = student.reparameterize(mu, logvar, eps)
    second = student.reparameterize(mu, logvar, eps)
    first = check_array(first, np.zeros((3, 4)), call=call, atol=np.inf, inputs={"mu": mu})
    if not np.array_equal(np.asarray(first), np.asarray(second)):
        fail(
            f"{call} returned different values for the same arguments: eps is drawn inside the function",
            "The noise must be the eps passed in, never drawn inside: a gradient check evaluates the function "
            "many times and needs the same noise every time.",
        )
    check_array(
        student.reparameterize(mu, logvar, np.zeros_like(eps)),
        mu,
        call=call + " with eps = 0",
        inputs={"mu": mu},
    )
    moved = np.abs(np.asarray(first) - mu) > 1e-9
    check_true(
        bool(np.all(moved)),
        f"{call} returns mu where eps is not 0: z = mu + exp(logvar / 2) * eps "
        "must move with the noise",
        f"mu of shape {mu.shape}; z == mu at {int(np.sum(~moved))} entries",
    )


@points(2)
@pytest.mark.parametrize("N,K", SHAPES[:2], ids=IDS[:2])
def test_reparameterize_backward_matches_reference(student, oracle, N, K):
    mu, logvar, eps = oracle.random("inputs", lambda rng: _mu_logvar_eps(rng, N, K))
    dz = oracle.random("dz", lambda rng: rng.standard_normal((N, K)))
    want, no_half = oracle.compute(
        "want",
        lambda: (
            ref.reparameterize_backward(dz, logvar, eps),
            ref.reparameterize_backward(dz, logvar, eps, bug="no_half"),
        ),
    )
    got = student.reparameterize_backward(dz, logvar, eps)
    call = "reparameterize_backward(dz, logvar, eps)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return the pair (dmu, dlogvar)", f"got {type(got).__name__}")
    inputs = {"dz": dz, "logvar": logvar, "eps": eps}
    check_array(got[0], want[0], call=call, what="dmu", inputs=inputs)
    check_array(
        got[1],
        want[1],
        call=call,
        what="dlogvar",
        inputs=inputs,
        known_bugs=[
            (
                "dlogvar misses the factor 1/2 of d/dlogvar exp(logvar / 2) = exp(logvar / 2) / 2",
                no_half[1],
            )
        ],
    )


# ------------------------------------------------------------------ KL


def _kl_bugs(mu, logvar):
    return [
        (
            "the sign is flipped: KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar)) is never negative",
            ref.kl_divergence(mu, logvar, bug="sign"),
        ),
        (
            "the factor 1/2 is missing: KL = -1/2 * sum(1 + logvar - mu^2 - exp(logvar))",
            ref.kl_divergence(mu, logvar, bug="no_half"),
        ),
        (
            "logvar is read as log sigma (variance exp(2 logvar)); it is the log-variance: variance exp(logvar)",
            ref.kl_divergence(mu, logvar, bug="log_sigma"),
        ),
        (
            "the KL is averaged over the latent dimensions: sum it over them (axis 1); only the batch is averaged",
            ref.kl_divergence(mu, logvar, bug="mean"),
        ),
    ]


@points(3)
@pytest.mark.parametrize("N,K", SHAPES, ids=IDS)
def test_kl_divergence_matches_closed_form(student, oracle, N, K):
    mu, logvar, _ = oracle.random("inputs", lambda rng: _mu_logvar_eps(rng, N, K))
    want, bugs = oracle.compute(
        "want", lambda: (ref.kl_divergence(mu, logvar), _kl_bugs(mu, logvar))
    )
    got = student.kl_divergence(mu, logvar)
    check_array(
        got,
        want,
        call="kl_divergence(mu, logvar)",
        inputs={"mu": mu, "logvar": logvar},
        known_bugs=[tuple(b) for b in bugs if K > 1 or "averaged" not in b[0]],
    )


@points(1)
def test_kl_divergence_zero_at_prior_and_never_negative(student, oracle):
    """KL(N(0, I) || N(0, I)) = 0 for every sample; on random mu, logvar (not the prior)
    every value is > 0."""
    mu, logvar, _ = oracle.random("inputs", lambda rng: _mu_logvar_eps(rng, 5, 3))
    call = "kl_divergence(mu, logvar)"
    check_array(
        student.kl_divergence(np.zeros((2, 3)), np.zeros((2, 3))),
        np.zeros(2),
        call=call + " with mu = 0 and logvar = 0",
        atol=1e-12,
    )
    got = np.asarray(
        check_array(student.kl_divergence(mu, logvar), np.zeros(5), call=call, atol=np.inf)
    )
    check_true(
        bool(np.all(got >= 0)),
        f"{call} returned negative values {np.round(got[got < 0][:3], 4)}: "
        "a KL divergence is never negative (is the sign flipped?)",
    )
    check_true(
        bool(np.all(got > 0)),
        f"{call} returned 0 for a distribution that is not the prior",
        f"mu of shape {mu.shape} with mu != 0: the KL is 0 only when mu = 0 and logvar = 0",
    )


@points(2)
@pytest.mark.parametrize("N,K", SHAPES[:2], ids=IDS[:2])
def test_kl_divergence_backward_gradient_check(student, oracle, N, K):
    """(dmu, dlogvar) of mean(kl_divergence(mu, logvar)) against central differences."""
    mu, logvar, _ = oracle.random("inputs", lambda rng: _mu_logvar_eps(rng, N, K))
    num_mu, num_lv = oracle.compute(
        "want",
        lambda: (
            ref.numerical_gradient(lambda v: float(np.mean(ref.kl_divergence(v, logvar))), mu),
            ref.numerical_gradient(lambda v: float(np.mean(ref.kl_divergence(mu, v))), logvar),
        ),
    )
    got = student.kl_divergence_backward(mu, logvar)
    call = "kl_divergence_backward(mu, logvar)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return the pair (dmu, dlogvar)", f"got {type(got).__name__}")
    inputs = {"mu": mu, "logvar": logvar}
    check_gradient(got[0], num_mu, call=call, what="dmu", inputs=inputs, batch=N)
    check_gradient(got[1], num_lv, call=call, what="dlogvar", inputs=inputs, batch=N)


# ------------------------------------------------------------------ the VAE

SIZES = (7, 5, 3)  # n_inputs, n_hidden, n_latent


def _vae(student, oracle):
    params = oracle.random("params", lambda rng: perturbed(rng, ref.vae_init(rng, *SIZES)))
    net = student.VAE(*SIZES, Rng(0))
    set_params(net, params)
    return net, params


@points(1)
def test_vae_init_layers_and_he_weights(student, oracle):
    """encoder Dense(7, 5), ReLU, Dense(5, 2 * 3); decoder Dense(3, 5), ReLU, Dense(5, 7);
    He-scaled draws in that order; parameters() by name."""
    seed = int(oracle.random("seed", lambda rng: rng.integers(0, 2**31)))
    want = oracle.compute("want", lambda: ref.vae_init(np.random.default_rng(seed), *SIZES))
    call = f"VAE(7, 5, 3, rng=default_rng({seed}))"
    params = student.VAE(*SIZES, Rng(seed)).parameters()
    check_keys(params, want, call, "parameters()")
    for name, value in want.items():
        check_array(params[name], value, call=call, what=f"parameters()[{name!r}]", rtol=1e-9)


@points(2)
@pytest.mark.parametrize("N", [4, 1], ids=["batch-of-4", "batch-of-one"])
def test_vae_encode_gives_mu_then_logvar(student, oracle, N):
    """The encoder's last output, 2 K columns: mu the first K, logvar the last K."""
    net, params = _vae(student, oracle)
    x = oracle.random("x", lambda rng: rng.random((N, SIZES[0])))
    mu, logvar = oracle.compute("want", lambda: ref.vae_encode(params, x)[:2])
    got = net.encode(x)
    call = "VAE.encode(inputs)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call} must return the pair (mu, logvar)", f"got {type(got).__name__}")
    swapped = "mu and logvar are swapped: mu is the first n_latent columns of the encoder's output, logvar the last"
    check_array(
        got[0], mu, call=call, what="mu", inputs={"inputs": x}, known_bugs=[(swapped, logvar)]
    )
    check_array(
        got[1], logvar, call=call, what="logvar", inputs={"inputs": x}, known_bugs=[(swapped, mu)]
    )


@points(2)
def test_vae_forward_decodes_the_reparameterized_code(student, oracle):
    net, params = _vae(student, oracle)
    x, eps = oracle.random(
        "x", lambda rng: (rng.random((4, SIZES[0])), rng.standard_normal((4, SIZES[2])))
    )

    def expected():
        mu, logvar, _ = ref.vae_encode(params, x)
        return (
            ref.vae_forward(params, x, eps)[0],
            ref.vae_decode(params, ref.reparameterize(mu, logvar, eps, bug="variance"))[0],
            ref.vae_decode(params, mu)[0],
        )

    want, variance, no_noise = oracle.compute("want", expected)
    check_array(
        net.forward(x, eps),
        want,
        call="VAE.forward(inputs, eps)",
        inputs={"inputs": x, "eps": eps},
        what="logits",
        known_bugs=[
            (VARIANCE_BUG, variance),
            ("the decoder is given mu, not z = mu + exp(logvar / 2) * eps", no_noise),
        ],
    )


@points(4)
def test_vae_backward_gradient_check(student, oracle):
    """After forward(x, eps) and backward(dlogits of the mean reconstruction loss), every
    parameter's gradient is that of the mean negative ELBO (reconstruction + KL), with eps
    fixed; dinputs likewise (x seen as the encoder's input). Compared with the reference's
    backward pass (exact gradients, checked against central differences and PyTorch)."""
    net, params = _vae(student, oracle)
    x, eps = oracle.random(
        "x", lambda rng: (rng.random((4, SIZES[0])), rng.standard_normal((4, SIZES[2])))
    )

    def expected():
        logits = ref.vae_forward(params, x, eps)[0]
        numeric, dx = ref.vae_gradients(params, x, eps)
        bugs = [
            (text, ref.vae_gradients(params, x, eps, bug=bug)[0])
            for text, bug in (
                (
                    "the KL term's gradient is not added: backward must add kl_divergence_backward(mu, logvar) to "
                    "(dmu, dlogvar) before the encoder's backward",
                    "no_kl",
                ),
                (
                    "the KL term's gradient is subtracted: the loss is reconstruction PLUS KL",
                    "kl_sign",
                ),
                ("dlogvar misses the factor 1/2 of the reparameterization", "no_reparam_half"),
            )
        ]
        return ref.bce_logits_backward(logits, x), numeric, dx, bugs

    dlogits, numeric, dx, bugs = oracle.compute("want", expected)
    call = "VAE.backward(dvalues)"
    inputs = {"inputs": x, "eps": eps, "dvalues": dlogits}
    net.forward(x, eps, training=True)
    got_dx = net.backward(dlogits)
    check_named_gradients(
        gradients_dict(net, call),
        numeric,
        call=call,
        inputs=inputs,
        known_bugs=[tuple(b) for b in bugs],
    )
    check_exact_gradient(got_dx, dx, call=call, what="dinputs", inputs=inputs)


# ------------------------------------------------------------------ training on MNIST

N_TRAIN, N_TEST, TRAIN_SEED, EPS_SEED, EPOCHS, LATENT = (
    3000,
    500,
    0,
    2024,
    4,
    8,
)  # VAE_EPOCHS, VAE_LATENT
ELBO_BAR = 175.0  # nats per image; see docs/benchmarks.md (chapter 13)
ELBO_MEASURED = "162.1-166.4 (training seeds 0-9)"


def negative_elbo(mu, logvar, logits, x):
    """The grader's own formulas: BCE on logits summed over pixels + KL summed over the
    latent dimensions, per image."""
    bce = np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))
    kl = -0.5 * np.sum(1.0 + logvar - mu**2 - np.exp(logvar), axis=1)
    return bce.sum(axis=1) + kl


@points(8)
@pytest.mark.call_timeout(90)
def test_vae_negative_elbo_on_held_out_images(student, oracle):
    """train_vae on 3,000 MNIST images (its default settings); on 500 held-out images the
    grader takes your encode's (mu, logvar), forms z = mu + exp(logvar / 2) * eps with its
    own fixed eps, takes your decode(z)'s logits and computes the negative ELBO itself;
    model.history must hold one mean negative ELBO per epoch."""
    X = mnist_pixels()
    train, test = mnist_split(oracle, N_TRAIN, N_TEST)
    xt = X[test]
    call = f"train_vae(X ({N_TRAIN}, 784), rng=default_rng({TRAIN_SEED}))"
    model = returned_model(
        train_or_fail(lambda: student.train_vae(X[train], Rng(TRAIN_SEED)), "train_vae", "3 s"),
        call,
    )
    got = model.encode(xt)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(
            f"{call}, then encode(X_test) must return the pair (mu, logvar)",
            f"got {type(got).__name__}",
        )
    mu = np.asarray(
        check_array(
            got[0],
            np.zeros((N_TEST, LATENT)),
            call=call + ", then encode(X_test)",
            what="mu",
            atol=np.inf,
            nonfinite_hint="training diverged",
        )
    )
    logvar = np.asarray(
        check_array(
            got[1],
            np.zeros_like(mu),
            call=call + ", then encode(X_test)",
            what="logvar",
            atol=np.inf,
            nonfinite_hint="training diverged",
        )
    )
    eps = np.random.default_rng(EPS_SEED).standard_normal(mu.shape)
    z = mu + np.exp(0.5 * logvar) * eps
    logits = np.asarray(
        check_array(
            model.decode(z),
            xt,
            call=call + ", then decode(z)",
            what="logits",
            atol=np.inf,
            nonfinite_hint="training diverged",
        )
    )
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(np.mean(negative_elbo(mu, logvar, logits, xt)))
        kl = float(np.mean(-0.5 * np.sum(1.0 + logvar - mu**2 - np.exp(logvar), axis=1)))
    if np.isfinite(value) and value <= ELBO_BAR:
        check_history(model, EPOCHS, call)
        return
    fail(
        f"VAE: negative ELBO {value:.1f} nats per held-out image, above the bar {ELBO_BAR:g}",
        f"{call}\nof which KL {kl:.1f}. The reference reaches {ELBO_MEASURED}. A VAE trained without its KL term "
        "reaches 196-219 here (its codes drift far from the prior); a flipped KL sign diverges.\n"
        "Check the KL and gradient tests first.",
    )


@points(2)
def test_train_vae_honours_its_arguments(student, oracle):
    """The docstring: train_vae(X, rng, n_hidden, n_latent, epochs, batch_size,
    learning_rate) draws the weights, then per epoch one permutation and per batch the
    noise eps, all from rng. A small run (48 images, 2 epochs of 20, hidden 16, latent 3,
    learning rate 0.01) must give the reference run's encoder."""
    X = mnist_pixels()
    Xt, Xs = X[:48], X[48:54]
    seed, args = 2, dict(n_hidden=16, n_latent=3, epochs=2, batch_size=20, learning_rate=0.01)
    want = oracle.compute(
        "want",
        lambda: ref.vae_encode(ref.vae_fit(Xt, seed, 16, 3, 2, 20, 0.01), Xs)[0],
    )
    call = (
        f"train_vae(X (48, 784), rng=default_rng({seed}), n_hidden=16, n_latent=3, epochs=2, "
        "batch_size=20, learning_rate=0.01)"
    )
    model = returned_model(student.train_vae(Xt, Rng(seed), **args), call)
    got = model.encode(Xs)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        fail(f"{call}, then encode(X): must return the pair (mu, logvar)")
    check_array(
        got[0],
        want,
        call=call + ", then encode(X (6, 784))",
        what="mu of the trained model (check that every argument is used, and that rng draws "
        "the weights, then per epoch the permutation and per batch eps)",
        rtol=1e-6,
        atol=1e-9,
    )
