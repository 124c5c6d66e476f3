"""Chapter 12: the sinusoidal encoding (sin on even columns, cos on odd ones), the layer
that adds it, and learned position embeddings."""

from grader.api import Rng, check_array, np, points, pytest
from grader.suites.ch12_attention.common import gradients_of, ref, variants

PE_BUGS = [
    (
        "concatenated",
        "the sines and cosines are concatenated (all sines, then all cosines): the chapter interleaves "
        "them, PE[t, 2i] = sin, PE[t, 2i + 1] = cos (row 0 is [0, 1, 0, 1, ...])",
    ),
    (
        "cos_on_even",
        "sin and cos are swapped: even columns hold sin, odd columns cos (row 0 is [0, 1, 0, 1, ...])",
    ),
    (
        "column_index_exponent",
        "the frequency uses the column index j: columns 2i and 2i + 1 share the frequency "
        "1 / 10000 ** (2i / d_model)",
    ),
]


@points(2)
@pytest.mark.parametrize(
    "T,d", [(6, 8), (1, 4), (10, 6), (4, 5)], ids=["6x8", "one-position", "10x6", "odd-width"]
)
def test_sinusoidal_encoding_matches_reference(student, oracle, T, d):
    want = oracle.compute("want", lambda: ref.sinusoidal_encoding(T, d))
    known = oracle.compute(
        "bugs", lambda: [(desc, variants.sinusoidal_variant(T, d, b)) for b, desc in PE_BUGS]
    )
    check_array(
        student.sinusoidal_encoding(T, d),
        want,
        call=f"sinusoidal_encoding({T}, {d})",
        what=f"encoding ({T}, {d})",
        known_bugs=known,
    )


@points(1)
def test_positional_encoding_layer_adds_encoding(student, oracle):
    N, T, d = 2, 5, 6
    x, dout = oracle.random(
        "inputs", lambda rng: (rng.standard_normal((N, T, d)), rng.standard_normal((N, T, d)))
    )
    want = oracle.compute("want", lambda: x + ref.sinusoidal_encoding(T, d))
    layer = student.PositionalEncoding(d)
    check_array(
        layer.forward(x),
        want,
        call=f"PositionalEncoding({d}).forward(inputs)",
        inputs={"inputs": x},
        what="output (N, T, d_model)",
    )
    check_array(
        layer.backward(dout),
        dout,
        call=f"PositionalEncoding({d}).backward(dvalues)",
        inputs={"dvalues": dout},
        what="dinputs (the encoding is a constant: the gradient passes unchanged)",
    )


@points(2)
@pytest.mark.parametrize(
    "N,T,max_len,d", [(3, 4, 6, 5), (1, 6, 6, 3)], ids=["3x4-of-6", "batch-of-one-full"]
)
def test_position_embedding_forward_and_backward(student, oracle, N, T, max_len, d):
    """Row t of the table is added at position t; its gradient is the sum over the batch."""
    W, x, dout = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((max_len, d)),
            rng.standard_normal((N, T, d)),
            rng.standard_normal((N, T, d)),
        ),
    )
    want = oracle.compute("want", lambda: x + W[:T])
    want_dW = oracle.compute("want_dW", lambda: ref.position_embedding_backward(dout, max_len))
    layer = student.PositionEmbedding(max_len, d, Rng(0))
    layer.weights = W
    call = f"PositionEmbedding({max_len}, {d}).forward(inputs)"
    check_array(
        layer.forward(x),
        want,
        call=call,
        inputs={"inputs": x, "weights": W},
        what="output (N, T, d)",
    )
    bcall = f"PositionEmbedding({max_len}, {d}).backward(dvalues)"
    check_array(layer.backward(dout), dout, call=bcall, inputs={"dvalues": dout}, what="dinputs")
    mean = np.zeros((max_len, d))
    mean[:T] = dout.mean(axis=0)
    check_array(
        gradients_of(layer, ("weights",), bcall)["weights"],
        want_dW,
        call=bcall,
        batch=N,
        inputs={"dvalues": dout},
        what="gradient of weights (max_len, d)",
        known_bugs=[
            (
                "the gradient is averaged over the batch: row t gets the sum over the batch of the gradients at "
                "position t (the loss already divided by N)",
                mean,
            )
        ],
    )
