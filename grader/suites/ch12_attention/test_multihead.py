"""Chapter 12: multi-head attention with fixed weights (self-, masked and cross-attention,
several head counts, a batch of one), its gradients, and permutation equivariance."""

from grader.api import check_array, check_gradient, check_true, np, points, pytest
from grader.suites.ch12_attention.common import (
    H_STEP,
    MHA_NAMES,
    MASK_RULE,
    attr,
    check_forward_first,
    check_named_gradients,
    fixed_inputs,
    fixed_mha_params,
    gradients_of,
    make_mha,
    random_mha_params,
    ref,
    variants,
)

MHA_BUGS = [
    (
        "split_by_reshape",
        "the heads are split (or merged) by a reshape alone, which mixes positions: reshape to "
        "(N, T, n_heads, dk) and transpose(0, 2, 1, 3) (and back when merging)",
    ),
    ("no_scale", "the scores are not scaled: divide them by sqrt(dk), dk = d_model // n_heads"),
    (
        "scale_by_d_model",
        "the scores are divided by sqrt(d_model): the scale is 1/sqrt(dk) with dk = d_model // "
        "n_heads, the size of one head",
    ),
]


def _check_mha(student, oracle, N, Tq, Tk, E, h, *, cross, mask_kind, causal):
    x = fixed_inputs(N, Tq, E)
    ctx = fixed_inputs(N, Tk, E, lo=0.7, hi=-0.6) if cross else None
    p = fixed_mha_params(E)
    mask = None
    if mask_kind == "padding":
        mask = np.ones((N, Tq, Tk), dtype=bool)
        mask[0, :, -2:] = False  # the first sequence's last two keys are padding
    want = oracle.compute(
        "want", lambda: ref.mha_forward(x, p, h, context=ctx, mask=mask, causal=causal)[0]
    )
    if (
        mask is not None and N == h
    ):  # a (N, Tq, Tk) mask broadcast against (N, h, Tq, Tk) lines N up with h
        bugs = [
            (
                "mask_not_expanded_per_head",
                "a mask (N, Tq, Tk) was broadcast against the scores (N, n_heads, Tq, "
                "Tk) as it is, so sequence n's mask went to head n: give it a head axis, mask[:, None], so that "
                "it applies to every head of its own sequence",
            )
        ]
    else:
        bugs = []
    bugs = (
        bugs
        + MHA_BUGS
        + (
            [
                (
                    "causal_ignored",
                    "causal=True is ignored: a causal layer hides the keys after each "
                    "query (causal_mask(T), combined with any mask given)",
                )
            ]
            if causal
            else []
        )
        + (
            [
                (
                    "keys_values_from_inputs",
                    "the keys and values come from the inputs: in cross-attention they come "
                    "from the context (K = context @ Wk + bk, V = context @ Wv + bv)",
                )
            ]
            if cross and Tq == Tk
            else []
        )
    )
    known = oracle.compute(
        "bugs",
        lambda: [
            (d, variants.mha_variant(x, p, h, b, context=ctx, mask=mask, causal=causal))
            for b, d in bugs
        ],
    )
    layer = make_mha(student, E, h, p, causal=causal)
    kwargs = {}
    if cross:
        kwargs["context"] = ctx
    if mask is not None:
        kwargs["mask"] = mask
    args = ", ".join(["inputs"] + [f"{k}={k}" for k in kwargs])
    call = (
        f"MultiHeadAttention({E}, n_heads={h}{', causal=True' if causal else ''}).forward({args})"
    )
    got = layer.forward(x, **kwargs)
    check_array(
        got,
        want,
        call=call,
        what=f"output (N, Tq, d_model) = {want.shape}",
        inputs={"inputs": x}
        | ({"context": ctx} if cross else {})
        | ({"mask": mask} if mask is not None else {}),
        known_bugs=known,
        axes=("N", "T", "d_model"),
    )
    weights = attr(
        layer, "attention", call, "forward must keep the attention weights (N, n_heads, Tq, Tk)"
    )
    want_w = oracle.compute(
        "want_weights", lambda: ref.mha_weights(x, p, h, context=ctx, mask=mask, causal=causal)
    )
    check_array(weights, want_w, call=call, what="self.attention (N, n_heads, Tq, Tk)")


@points(2)
@pytest.mark.parametrize(
    "N,T,E,h",
    [(1, 3, 8, 2), (2, 5, 8, 1), (2, 4, 8, 4), (1, 1, 6, 3)],
    ids=["batch-of-one-2-heads", "1-head", "4-heads", "one-token-3-heads"],
)
def test_mha_self_attention_matches_reference(student, oracle, N, T, E, h):
    _check_mha(student, oracle, N, T, T, E, h, cross=False, mask_kind=None, causal=False)


@points(2)
@pytest.mark.parametrize(
    "N,T,E,h,mask_kind,causal",
    [(1, 4, 8, 2, None, True), (2, 5, 8, 2, "padding", False), (2, 4, 6, 3, "padding", True)],
    ids=["causal", "padding", "causal-and-padding"],
)
def test_mha_masked_self_attention_matches_reference(
    student, oracle, N, T, E, h, mask_kind, causal
):
    _check_mha(student, oracle, N, T, T, E, h, cross=False, mask_kind=mask_kind, causal=causal)


@points(2)
@pytest.mark.parametrize(
    "N,Tq,Tk,E,h,mask_kind",
    [(1, 3, 3, 8, 2, None), (2, 3, 5, 8, 2, None), (2, 4, 6, 8, 4, "padding")],
    ids=["batch-of-one-same-length", "longer-context", "padded-context"],
)
def test_mha_cross_attention_matches_reference(student, oracle, N, Tq, Tk, E, h, mask_kind):
    _check_mha(student, oracle, N, Tq, Tk, E, h, cross=True, mask_kind=mask_kind, causal=False)


def _mha_numeric(x, ctx, p, h, causal, dout, wrt):
    def loss(**change):
        q = {n: change.get(n, p[n]) for n in MHA_NAMES}
        out, _ = ref.mha_forward(
            change.get("x", x), q, h, context=change.get("ctx", ctx), causal=causal
        )
        return float(np.sum(out * dout))

    out = {"inputs": ref.numerical_gradient(lambda v: loss(x=v), x, H_STEP)}
    if ctx is not None:
        out["context"] = ref.numerical_gradient(lambda v: loss(ctx=v), ctx, H_STEP)
    if wrt == "params":
        for n in MHA_NAMES:
            out[n] = ref.numerical_gradient(lambda v, n=n: loss(**{n: v}), p[n], H_STEP)
    return out


def _dropped_paths(x, ctx, p, h, dout, causal=False):
    """[(description, wrong gradient)] of a backward that drops the path through the values
    or through the keys: the gradient of the inputs (self-attention) or of the context."""
    _, cache = ref.mha_forward(x, p, h, context=ctx, causal=causal)
    source = "the inputs" if ctx is None else "the context"
    out = []
    for name, path in (("Wv", "values"), ("Wk", "keys")):
        q = dict(cache[3])
        q[name] = np.zeros_like(q[name])  # the path through that projection contributes 0
        dx, dc, _ = ref.mha_backward(dout, cache[:3] + (q,) + cache[4:])
        out.append(
            (
                f"the path through the {path} is missing: {source} make the keys and the values, "
                "so the gradient adds dK @ Wk.T + dV @ Wv.T",
                dx if ctx is None else dc,
            )
        )
    return out


@points(3)
@pytest.mark.parametrize("causal", [False, True], ids=["self", "causal-self"])
def test_mha_backward_gradient_check(student, oracle, causal):
    """dinputs (through the queries, keys and values) and the eight parameter gradients."""
    N, T, E, h = 2, 4, 6, 2
    x, p, dout = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, T, E)),
            random_mha_params(rng, E),
            rng.standard_normal((N, T, E)),
        ),
    )
    want = oracle.compute("forward", lambda: ref.mha_forward(x, p, h, causal=causal)[0])
    num = oracle.compute("numeric", lambda: _mha_numeric(x, None, p, h, causal, dout, "params"))
    query_only = oracle.compute(
        "bug", lambda: variants.mha_dx_query_path_only(x, p, h, dout, causal=causal)
    )
    dropped = oracle.compute("dropped", lambda: _dropped_paths(x, None, p, h, dout, causal))
    layer = make_mha(student, E, h, p, causal=causal)
    fcall = (
        f"MultiHeadAttention({E}, n_heads={h}{', causal=True' if causal else ''}).forward(inputs)"
    )
    check_forward_first(layer.forward(x), want, fcall, "test_mha_self_attention_matches_reference")
    call = "MultiHeadAttention.backward(dvalues) after self-attention"
    inputs = {"inputs": x, "dvalues": dout}
    check_gradient(
        layer.backward(dout),
        num["inputs"],
        call=call,
        what="dinputs (the returned value)",
        inputs=inputs,
        known_bugs=[
            (
                "dinputs has only the path through the queries: in self-attention the inputs also make the "
                "keys and values, so dinputs = dQ @ Wq.T + dK @ Wk.T + dV @ Wv.T",
                query_only,
            )
        ]
        + [tuple(b) for b in dropped],
    )
    got = gradients_of(layer, MHA_NAMES, call)
    # The key bias adds the same q . bk to every score of a query, which the softmax ignores:
    # its gradient is exactly 0 (central differences only see rounding noise there).
    check_named_gradients(got, num, [n for n in MHA_NAMES if n != "bk"], call, inputs)
    check_array(
        got["bk"],
        np.zeros((1, E)),
        call=call,
        inputs=inputs,
        atol=1e-9,
        what="gradient of bk (0: adding the same q . bk to every score of a query changes no weight)",
    )
    dcontext = attr(
        layer, "dcontext", call, "backward sets self.dcontext (None after self-attention)"
    )
    check_true(
        dcontext is None,
        f"{call}: self.dcontext must be None after self-attention (the gradient through "
        "the keys and values is part of dinputs)",
        f"got a {type(dcontext).__name__}",
    )


@points(2)
def test_mha_cross_backward_gradient_check(student, oracle):
    """Cross-attention: dinputs through the queries only, self.dcontext through the keys and values."""
    N, Tq, Tk, E, h = 2, 3, 4, 4, 2
    x, ctx, p, dout = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, Tq, E)),
            rng.standard_normal((N, Tk, E)),
            random_mha_params(rng, E),
            rng.standard_normal((N, Tq, E)),
        ),
    )
    want = oracle.compute("forward", lambda: ref.mha_forward(x, p, h, context=ctx)[0])
    num = oracle.compute("numeric", lambda: _mha_numeric(x, ctx, p, h, False, dout, "inputs"))
    dropped = oracle.compute("dropped", lambda: _dropped_paths(x, ctx, p, h, dout))
    layer = make_mha(student, E, h, p)
    fcall = f"MultiHeadAttention({E}, n_heads={h}).forward(inputs, context=context)"
    check_forward_first(
        layer.forward(x, context=ctx), want, fcall, "test_mha_cross_attention_matches_reference"
    )
    call = "MultiHeadAttention.backward(dvalues) after cross-attention"
    inputs = {"inputs": x, "context": ctx, "dvalues": dout}
    check_gradient(
        layer.backward(dout),
        num["inputs"],
        call=call,
        what="dinputs (the returned value)",
        inputs=inputs,
    )
    check_gradient(
        attr(layer, "dcontext", call, "backward must store the gradient of the context"),
        num["context"],
        call=call,
        what="self.dcontext",
        inputs=inputs,
        known_bugs=[tuple(b) for b in dropped],
    )


@points(2)
@pytest.mark.parametrize(
    "N,T,E,h", [(2, 5, 8, 2), (1, 4, 6, 3)], ids=["2-heads", "3-heads-batch-of-one"]
)
def test_mha_permutation_equivariant_without_positions(student, oracle, N, T, E, h):
    """Without a mask or positions, permuting the tokens permutes the outputs the same way."""
    x, p, perm = oracle.random(
        "inputs",
        lambda rng: (rng.standard_normal((N, T, E)), random_mha_params(rng, E), rng.permutation(T)),
    )
    if np.all(perm == np.arange(T)):
        perm = np.roll(perm, 1)
    layer = make_mha(student, E, h, p)
    call = f"MultiHeadAttention({E}, n_heads={h}).forward"
    # The right output first: a layer returning its inputs (or zeros) is equivariant too.
    want = oracle.compute("want", lambda: ref.mha_forward(x, p, h)[0])
    out = check_array(
        layer.forward(x),
        want,
        call=call + "(inputs)",
        inputs={"inputs": x},
        what="output (this test counts only with the right output)",
    )
    out_p = check_array(
        layer.forward(x[:, perm]),
        np.zeros((N, T, E)),
        call=call + "(inputs[:, perm])",
        what="output",
        atol=np.inf,
    )
    ok = np.allclose(out_p, out[:, perm], rtol=1e-6, atol=1e-9)
    check_true(
        ok,
        f"{call}: permuting the tokens did not permute the outputs the same way (is a position mixed "
        "into another, e.g. heads split by a reshape alone?)",
        f"perm = {list(map(int, perm))}; forward(inputs[:, perm]) must equal forward(inputs)[:, perm]; "
        f"largest difference {np.max(np.abs(out_p - out[:, perm])):.3g}; {MASK_RULE}",
    )
