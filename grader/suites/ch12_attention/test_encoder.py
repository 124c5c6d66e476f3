"""Chapter 12: the pre-LN encoder block, forward against the reference and backward
against the reference's analytic backward (central differences through a whole block
are too noisy to grade on), stacking, and permutation equivariance."""

from grader.api import check_array, check_true, np, points, pytest
from grader.suites.ch12_attention.common import (
    block_shapes,
    check_forward_first,
    gradients_of,
    make_block,
    random_block_params,
    ref,
    variants,
)

BLOCK_BUGS = [
    (
        "post_ln",
        "the layer norms come after the residual sums (post-LN, LN(x + sublayer(x))): the chapter's block is "
        "pre-LN, h = x + attn(ln1(x)), out = h + ff(ln2(h))",
    ),
    (
        "residual_from_normalized",
        "the residual adds the normalized input: h = x + attn(ln1(x)) adds the block's "
        "input x itself, not ln1(x)",
    ),
    (
        "residual_inside",
        "the residual is added before the sub-layer (attn(ln1(x) + x)): add it after, "
        "h = x + attn(ln1(x))",
    ),
    (
        "no_residual",
        "the residual connections are missing: h = x + attn(ln1(x)), out = h + ff(ln2(h))",
    ),
]
E, F = 8, 12


def _case(oracle, N, T, h, mask_kind):
    x, params = oracle.random(
        "inputs", lambda rng: (rng.standard_normal((N, T, E)), random_block_params(rng, E, F))
    )
    mask = None
    if mask_kind == "padding":
        mask = np.ones((N, T, T), dtype=bool)
        mask[0, :, -1] = False
    return x, params, mask


@points(2)
@pytest.mark.parametrize(
    "N,T,h,causal,mask_kind",
    [(2, 5, 2, False, None), (1, 4, 4, True, None), (2, 4, 2, False, "padding")],
    ids=["2-heads", "causal-4-heads-batch-of-one", "padding-mask"],
)
def test_encoder_block_forward_matches_reference(student, oracle, N, T, h, causal, mask_kind):
    x, params, mask = _case(oracle, N, T, h, mask_kind)
    want = oracle.compute(
        "want", lambda: ref.block_forward(x, params, h, mask=mask, causal=causal)[0]
    )
    known = oracle.compute(
        "bugs",
        lambda: (
            [
                (d, variants.block_variant(x, params, h, b, mask=mask, causal=causal))
                for b, d in BLOCK_BUGS
            ]
            + (
                [
                    (
                        "the mask is not passed on: the block's attention must receive mask=mask "
                        "(the output is the one without a mask)",
                        ref.block_forward(x, params, h, causal=causal)[0],
                    )
                ]
                if mask is not None
                else []
            )
        ),
    )
    block = make_block(student, E, h, F, params, causal=causal)
    call = (
        f"EncoderBlock({E}, n_heads={h}, d_ff={F}{', causal=True' if causal else ''}).forward(inputs"
        + (", mask=mask)" if mask is not None else ")")
    )
    got = block.forward(x, mask=mask) if mask is not None else block.forward(x)
    check_array(
        got, want, call=call, inputs={"inputs": x}, what="output (N, T, d_model)", known_bugs=known
    )


@points(3)
@pytest.mark.parametrize("causal", [False, True], ids=["encoder", "causal"])
def test_encoder_block_backward_matches_reference(student, oracle, causal):
    """dinputs and every parameter gradient against the reference's analytic backward (rtol 1e-6)."""
    N, T, h = 2, 4, 2
    x, params, _ = _case(oracle, N, T, h, None)
    dout = oracle.random("dout", lambda rng: rng.standard_normal((N, T, E)))

    def expected():
        out, cache = ref.block_forward(x, params, h, causal=causal)
        dx, grads = ref.block_backward(dout, cache)
        return out, dx, grads

    want, dx, grads = oracle.compute("want", expected)
    block = make_block(student, E, h, F, params, causal=causal)
    fcall = f"EncoderBlock({E}, n_heads={h}, d_ff={F}{', causal=True' if causal else ''}).forward(inputs)"
    check_forward_first(
        block.forward(x), want, fcall, "test_encoder_block_forward_matches_reference"
    )
    call = "EncoderBlock.backward(dvalues)"
    inputs = {"inputs": x, "dvalues": dout}
    check_array(
        block.backward(dout), dx, call=call, inputs=inputs, what="dinputs (the returned value)"
    )
    names = tuple(block_shapes(E, F))
    got = gradients_of(block, names, call)
    for name in names:
        check_array(got[name], grads[name], call=call, inputs=inputs, what=f"gradient of {name}")


@points(2)
def test_stacked_encoder_blocks_match_reference(student, oracle):
    """Two blocks in chapter 11's Stack: block 2 reads block 1's output; backward through both."""
    N, T, h = 2, 4, 2
    x, p1, p2, dout = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, T, E)),
            random_block_params(rng, E, F),
            random_block_params(rng, E, F),
            rng.standard_normal((N, T, E)),
        ),
    )

    def expected():
        o1, c1 = ref.block_forward(x, p1, h)
        o2, c2 = ref.block_forward(o1, p2, h)
        d1, _ = ref.block_backward(dout, c2)
        return o2, ref.block_backward(d1, c1)[0]

    want, dx = oracle.compute("want", expected)
    stack = student.Stack([make_block(student, E, h, F, p1), make_block(student, E, h, F, p2)])
    check_array(
        stack.forward(x),
        want,
        call="Stack([EncoderBlock, EncoderBlock]).forward(inputs)",
        inputs={"inputs": x},
        what="output (N, T, d_model)",
    )
    check_array(
        stack.backward(dout),
        dx,
        call="Stack([EncoderBlock, EncoderBlock]).backward(dvalues)",
        inputs={"dvalues": dout},
        what="dinputs",
    )


@points(1)
def test_encoder_block_permutation_equivariant_without_positions(student, oracle):
    N, T, h = 2, 5, 2
    x, params, perm = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, T, E)),
            random_block_params(rng, E, F),
            rng.permutation(T),
        ),
    )
    if np.all(perm == np.arange(T)):
        perm = np.roll(perm, 1)
    block = make_block(student, E, h, F, params)
    call = f"EncoderBlock({E}, n_heads={h}, d_ff={F}).forward"
    # The right output first: a block returning its inputs (or zeros) is equivariant too.
    want = oracle.compute("want", lambda: ref.block_forward(x, params, h)[0])
    out = check_array(
        block.forward(x),
        want,
        call=call + "(inputs)",
        inputs={"inputs": x},
        what="output (this test counts only with the right output)",
    )
    out_p = check_array(
        block.forward(x[:, perm]),
        np.zeros((N, T, E)),
        call=call + "(inputs[:, perm])",
        what="output",
        atol=np.inf,
    )
    check_true(
        np.allclose(out_p, out[:, perm], rtol=1e-6, atol=1e-9),
        f"{call}: permuting the tokens did not permute the outputs the same way (without positions and "
        "masks, every sub-layer treats the positions alike: is a statistic taken over the positions?)",
        f"perm = {list(map(int, perm))}; largest difference {np.max(np.abs(out_p - out[:, perm])):.3g}",
    )
