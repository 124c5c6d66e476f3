"""Chapter 11: the global norm of all gradients, and clipping by it (in place, through the
parameter protocol)."""

from grader.api import Rng, check_array, check_scalar, check_true, np, points, pytest, reference

ref = reference("ch11_recurrent")

# Two layers with known gradients: an RNN (3 -> 4) and a GRU (4 -> 2).
LAYERS = (
    ("RNN", 3, 4, ("weights_x", "weights_h", "biases"), 1),
    ("GRU", 4, 2, ("weights_x", "weights_h", "biases_x", "biases_h"), 3),
)


def _grads(rng, scale):
    out = []
    for _, d, h, names, g in LAYERS:
        shapes = {"weights_x": (d, g * h), "weights_h": (h, g * h)}
        grads = {n: scale * rng.standard_normal(shapes.get(n, (1, g * h))) for n in names}
        for value in grads.values():
            value.flat[0] = 3.0 * scale  # an entry above max_norm in every array when clipping
        out.append(grads)
    return out


def _layers(student, grads, frozen=()):
    layers = []
    for k, ((cls, d, h, names, _), g) in enumerate(zip(LAYERS, grads)):
        layer = getattr(student, cls)(d, h, Rng(k))
        layer.grads = {n: np.array(g[n]) for n in names}
        if k in frozen:
            layer.trainable = False
        layers.append(layer)
    return layers


def _flat(grads):
    return [layer[n] for layer in grads for n in sorted(layer)]


@points(1)
@pytest.mark.parametrize("frozen", [(), (1,)], ids=["both-trainable", "second-frozen"])
def test_global_norm_matches_reference(student, oracle, frozen):
    """A layer whose trainable is False is left out."""
    grads = oracle.random("grads", lambda rng: _grads(rng, 1.0))
    want = oracle.compute(
        "want", lambda: ref.global_norm(_flat([g for k, g in enumerate(grads) if k not in frozen]))
    )
    everything = oracle.compute("everything", lambda: ref.global_norm(_flat(grads)))
    got = student.global_norm(_layers(student, grads, frozen))
    check_scalar(
        got,
        want,
        call="global_norm(layers)",
        known_bugs=[("a layer with trainable = False was counted: skip it", everything)]
        if frozen
        else [("the norm is squared: take the square root of the sum of squares", want**2)],
    )


@points(2)
@pytest.mark.parametrize(
    "scale,max_norm,frozen",
    [(1.0, 1.5, ()), (0.1, 5.0, ()), (1.0, 1.5, (1,))],
    ids=["clipped", "below-max-unchanged", "second-frozen-left-alone"],
)
def test_clip_grad_norm_scales_by_global_norm(student, oracle, scale, max_norm, frozen):
    """Every gradient times max_norm / norm when the global norm is larger (all by the same
    factor), unchanged otherwise; the norm before clipping is returned. The arrays that
    gradients() returns are the ones clipped (in place). A frozen layer (trainable False)
    is neither counted nor scaled."""
    grads = oracle.random("grads", lambda rng: _grads(rng, scale))

    def expected():
        trainable = [g for k, g in enumerate(grads) if k not in frozen]
        clipped, norm = ref.clip_by_global_norm(_flat(trainable), max_norm)
        out, it = [], iter(clipped)
        for k, g in enumerate(grads):
            out += [g[n] if k in frozen else next(it) for n in sorted(g)]
        return out, norm

    clipped, norm = oracle.compute("want", expected)
    layers = _layers(student, grads, frozen)
    call = f"clip_grad_norm(layers, max_norm={max_norm})"
    got_norm = student.clip_grad_norm(layers, max_norm)
    check_scalar(got_norm, norm, call=call, what="returned norm (before clipping)")
    k = 0
    for (cls, *_), g, layer in zip(LAYERS, grads, layers):
        after = layer.gradients()
        for name in sorted(g):
            bugs = [
                (
                    "each entry was clipped to [-max_norm, max_norm] on its own: clipping by global norm scales "
                    "every gradient by the same factor max_norm / norm",
                    np.clip(g[name], -max_norm, max_norm),
                ),
                (
                    "the gradients were not changed in place: scale the arrays gradients() returns (g *= scale), "
                    "so that the optimizer sees the clipped values",
                    g[name],
                ),
            ]
            frozen_bug = (
                [
                    (
                        "the frozen layer's gradients were scaled too: skip layers whose trainable is False",
                        g[name] * max_norm / norm,
                    )
                ]
                if k >= 3 and frozen
                else []
            )
            check_array(
                after[name],
                clipped[k],
                call=call,
                what=f"{cls} layer's gradient {name} after clipping",
                known_bugs=(bugs if norm > max_norm else []) + frozen_bug,
            )
            k += 1
    if norm > max_norm:
        total = np.sqrt(
            sum(
                np.sum(np.asarray(layer.gradients()[n]) ** 2)
                for k, (layer, g) in enumerate(zip(layers, grads))
                if k not in frozen
                for n in g
            )
        )
        check_true(
            abs(total - max_norm) < 1e-6 * max_norm,
            f"{call}: the global norm after clipping is {total:.6g}, expected max_norm = {max_norm}",
        )
