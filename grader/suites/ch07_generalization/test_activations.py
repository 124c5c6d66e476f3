"""Chapter 07: the activations accept forward(inputs, training=...)."""

from grader.api import check_array, np, points, reference

ref02 = reference("ch02_activations")
REF_NAMES = {"LeakyReLU": "leaky_relu"}

NAMES = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Linear"]


@points(1)
def test_activations_accept_training_keyword(student, oracle):
    """Every activation computes the same output with training=True, training=False and
    without the keyword (chapter 08's Model calls every layer the same way)."""
    x = oracle.random("x", lambda rng: rng.normal(size=(4, 5)))
    for name in NAMES:
        layer = getattr(student, name)()
        short = REF_NAMES.get(name, name.lower())
        want = oracle.compute(f"want-{name}", lambda: getattr(ref02, f"{short}_forward")(x))
        # The right values first: a layer returning its input (or zeros) in every mode would
        # otherwise pass, and this test counts only with chapter 02's correct activations.
        plain = check_array(
            layer.forward(x), want, call=f"{name}().forward(inputs)", inputs={"inputs": x}
        ).astype(np.float64)
        for training in (True, False):
            check_array(
                layer.forward(x, training=training),
                plain,
                call=f"{name}().forward(inputs, training={training})",
                inputs={"inputs": x},
                what="output (the same as forward(inputs))",
            )
