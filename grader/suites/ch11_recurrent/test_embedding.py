"""Chapter 11: the Embedding layer (token ids to vectors)."""

from grader.api import Rng, check_array, check_true, np, points, pytest, reference

ref = reference("ch11_recurrent")


def _draw(rng, V, E, shape, repeats):
    W = rng.standard_normal((V, E))
    ids = rng.integers(0, V, size=shape)
    if repeats:
        ids.flat[: max(2, ids.size // 2)] = ids.flat[0]  # the same id many times
    return W, ids, rng.standard_normal((*shape, E))


def _layer(student, W):
    layer = student.Embedding(W.shape[0], W.shape[1], Rng(0))
    layer.weights = W
    return layer


@points(1)
@pytest.mark.parametrize(
    "V,E,shape",
    [(7, 3, (2, 5)), (4, 6, (1, 1)), (10, 2, (6,))],
    ids=["2x5-ids", "one-id", "flat-ids"],
)
def test_embedding_forward_matches_reference(student, oracle, V, E, shape):
    W, ids, _ = oracle.random("inputs", lambda rng: _draw(rng, V, E, shape, False))
    want = oracle.compute("want", lambda: ref.embedding_forward(ids, W))
    got = _layer(student, W).forward(ids)
    check_array(
        got,
        want,
        call="Embedding.forward(ids)",
        what=f"vectors {want.shape}",
        inputs={"ids": ids, "weights": W},
        known_bugs=[
            (
                "the ids are used as if they started at 1: token id k reads row k of the table "
                "(ids start at 0), weights[ids]",
                W[ids - 1],
            )
        ],
    )


@points(2)
@pytest.mark.parametrize(
    "V,E,shape", [(7, 3, (3, 4)), (5, 2, (1, 6))], ids=["3x4-ids", "one-sequence"]
)
def test_embedding_backward_adds_up_repeated_ids(student, oracle, V, E, shape):
    """An id used at several positions gets the sum of their gradients; unused rows get 0."""
    W, ids, dv = oracle.random("inputs", lambda rng: _draw(rng, V, E, shape, True))
    want = oracle.compute("want", lambda: ref.embedding_backward(dv, ids, V))
    last = np.zeros((V, E))
    last[ids.reshape(-1)] = dv.reshape(-1, E)  # what a fancy-index assignment or += keeps
    layer = _layer(student, W)
    layer.forward(ids)
    returned = layer.backward(dv)
    check_true(
        returned is None,
        f"Embedding.backward(dvalues) returned a {type(returned).__name__}, expected None",
        "Token ids are not differentiable: dinputs is None (an Embedding is the first layer).",
    )
    got = layer.gradients()
    check_true(
        isinstance(got, dict) and "weights" in got,
        "Embedding.gradients() must be a dict with the key 'weights'",
    )
    check_array(
        got["weights"],
        want,
        call="Embedding.backward(dvalues)",
        what="dweights (n_tokens, n_dims)",
        inputs={"ids": ids, "dvalues": dv},
        known_bugs=[
            (
                "an id that occurs several times keeps only one of its gradients: dweights[ids] += dvalues "
                "does not add up repeated indices; use np.add.at(self.dweights, ids, dvalues) (or a loop)",
                last,
            )
        ],
    )
