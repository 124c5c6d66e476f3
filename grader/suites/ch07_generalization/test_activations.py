"""Chapter 07: the activations accept forward(inputs, training=...)."""

from grader.api import check_array, np, points

NAMES = ["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "Linear"]


@points(1)
def test_activations_accept_training_keyword(student, oracle):
    """Every activation computes the same output with training=True, training=False and
    without the keyword (chapter 08's Model calls every layer the same way)."""
    x = oracle.random("x", lambda rng: rng.normal(size=(4, 5)))
    for name in NAMES:
        layer = getattr(student, name)()
        plain = np.asarray(layer.forward(x), dtype=np.float64)
        for training in (True, False):
            check_array(
                layer.forward(x, training=training),
                plain,
                call=f"{name}().forward(inputs, training={training})",
                inputs={"inputs": x},
                what="output (the same as forward(inputs))",
            )
