"""Chapter 13, hidden tests (instructor mode only): other shapes for the VAE's pieces and
the U-Net."""

from grader.api import Rng, check_array, np, points
from grader.suites.ch13_generative.cases import check_named_gradients, gradients_dict
from grader.suites.ch13_generative.cases import perturbed, ref, set_params


@points(2)
def test_hidden_kl_and_reparameterize_wide_latent(student, oracle):
    """A batch of 7 with 12 latent dimensions and large log-variances."""
    mu, logvar, eps = oracle.random(
        "inputs",
        lambda rng: (
            2 * rng.standard_normal((7, 12)),
            rng.uniform(-4, 3, (7, 12)),
            rng.standard_normal((7, 12)),
        ),
    )
    kl, z = oracle.compute(
        "want", lambda: (ref.kl_divergence(mu, logvar), ref.reparameterize(mu, logvar, eps))
    )
    inputs = {"mu": mu, "logvar": logvar}
    check_array(
        student.kl_divergence(mu, logvar), kl, call="kl_divergence(mu, logvar)", inputs=inputs
    )
    check_array(
        student.reparameterize(mu, logvar, eps),
        z,
        call="reparameterize(mu, logvar, eps)",
        inputs=inputs,
    )


@points(2)
def test_hidden_upsample_round_trip_non_square(student, oracle):
    """Upsample2D on (3, 2, 5, 2) inputs: forward, then backward of ones gives 4 everywhere."""
    x = oracle.random("x", lambda rng: rng.standard_normal((3, 2, 5, 2)))
    want = oracle.compute(
        "want", lambda: (ref.upsample_forward(x), ref.upsample_backward(np.ones((3, 2, 10, 4))))
    )
    layer = student.Upsample2D()
    check_array(
        layer.forward(x), want[0], call="Upsample2D().forward(inputs)", inputs={"inputs": x}
    )
    check_array(
        layer.backward(np.ones((3, 2, 10, 4))),
        want[1],
        call="Upsample2D().backward(ones)",
        inputs={"inputs": x},
    )


@points(3)
def test_hidden_unet_two_input_channels_gradient_check(student, oracle):
    """A U-Net with 2 input channels, 3 base channels and 3 classes on 4 x 4 images."""
    params = oracle.random("params", lambda rng: perturbed(rng, ref.unet_init(rng, 2, 3, 3), 0.2))
    x, y = oracle.random(
        "x", lambda rng: (rng.standard_normal((2, 2, 4, 4)), rng.integers(0, 3, (2, 4, 4)))
    )

    def expected():
        logits = ref.unet_forward(params, x)[0]
        return (
            logits,
            ref.pixel_cross_entropy_backward(logits, y),
            ref.unet_gradients(params, x, y)[0],
        )

    logits, dlogits, numeric = oracle.compute("want", expected)
    net = student.UNet(2, 3, 3, Rng(0))
    set_params(net, params)
    call = "UNet(2, 3, 3)"
    check_array(
        net.forward(x, training=True), logits, call=f"{call}.forward(inputs)", inputs={"inputs": x}
    )
    net.backward(dlogits)
    check_named_gradients(
        gradients_dict(net, f"{call}.backward(dvalues)"),
        numeric,
        call=f"{call}.backward(dvalues)",
        inputs={"inputs": x},
    )
