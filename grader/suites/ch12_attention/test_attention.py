"""Chapter 12: scaled dot-product attention (forward with and without masks, fully masked
rows, its properties and its backward), the causal mask, and splitting into heads."""

from grader.api import check_array, check_gradient, check_true, fail, np, points, pytest
from grader.suites.ch12_attention.common import (
    H_STEP,
    MASK_RULE,
    check_forward_first,
    fixed_inputs,
    pair,
    ref,
    variants,
)

SCALE_BUGS = [
    ("no_scale", "the scores are not scaled: divide q @ k^T by sqrt(dk) (dk = the last axis of q)"),
    ("scale_dk", "the scores are divided by dk: divide them by sqrt(dk)"),
]
MASK_BUGS = [
    (
        "mask_after_softmax",
        "the mask is applied after the softmax (the weights of a row no longer sum to 1): hide "
        "the masked keys before normalizing, so the allowed keys share all the weight",
    ),
    (
        "mask_multiply",
        "the mask multiplies the scores (a hidden key gets score 0, not minus infinity, and still gets "
        "weight): exclude the hidden keys from the softmax",
    ),
    ("mask_inverted", "the mask is inverted: " + MASK_RULE),
    (
        "mask_transposed",
        "the mask is transposed: mask[i, j] says whether query i may attend to key j (rows are "
        "queries, columns keys)",
    ),
]


def _draw(rng, lead, Tq, Tk, d, dv):
    return (
        rng.standard_normal((*lead, Tq, d)),
        rng.standard_normal((*lead, Tk, d)),
        rng.standard_normal((*lead, Tk, dv)),
    )


def _check_attention(student, oracle, q, k, v, mask, bug_names, call, what_extra=""):
    want_out, want_w = oracle.compute("want", lambda: ref.attention_forward(q, k, v, mask))
    known = oracle.compute(
        "bugs",
        lambda: (
            [(desc, variants.attention_variant(q, k, v, mask, bug)) for bug, desc in bug_names]
            + (
                [
                    (
                        "the mask is ignored: every query attends to every key (hide the keys "
                        "where mask is False before the softmax)",
                        ref.attention_forward(q, k, v, None),
                    )
                ]
                if mask is not None and not np.all(mask)
                else []
            )
        ),
    )
    out, w = pair(student.attention_forward(q, k, v, mask), call)
    inputs = {"q": q, "k": k, "v": v} | ({"mask": mask} if mask is not None else {})
    hint = "a query whose keys are all hidden must get zero weights and a zero output (no division by zero)"
    check_array(
        w,
        want_w,
        call=call,
        what="weights (..., Tq, Tk)" + what_extra,
        inputs=inputs,
        known_bugs=[(d, b[1]) for d, b in known],
        nonfinite_hint=hint,
    )
    check_array(
        out,
        want_out,
        call=call,
        what="output (..., Tq, dv)" + what_extra,
        inputs=inputs,
        known_bugs=[(d, b[0]) for d, b in known],
        nonfinite_hint=hint,
    )


@points(1)
@pytest.mark.parametrize("T", [1, 4], ids=["T1", "T4"])
def test_causal_mask_matches_reference(student, oracle, T):
    want = oracle.compute("want", lambda: ref.causal_mask(T))
    got = student.causal_mask(T)
    check_array(
        np.asarray(got, dtype=np.float64),
        want.astype(np.float64),
        call=f"causal_mask({T})",
        what="mask (T, T)",
        known_bugs=[
            (
                "the mask is transposed or inverted (True above the diagonal): query t may attend to keys "
                "0..t, so row t is True in columns 0..t",
                np.triu(np.ones((T, T))),
            ),
            (
                "the diagonal is hidden: query t may attend to its own position t",
                np.tril(np.ones((T, T)), -1),
            ),
        ],
    )
    check_true(
        np.asarray(got).dtype == bool,
        f"causal_mask({T}) must return a bool array",
        f"got dtype {np.asarray(got).dtype}; {MASK_RULE}",
    )


@points(2)
@pytest.mark.parametrize(
    "lead,Tq,Tk,d,dv",
    [((2,), 3, 3, 4, 4), ((1,), 3, 5, 8, 6), ((2, 2), 4, 4, 4, 3), ((1,), 1, 1, 2, 2)],
    ids=["self-2x3x4", "cross-non-square", "batch-and-heads", "batch-of-one-T1"],
)
def test_attention_forward_matches_reference(student, oracle, lead, Tq, Tk, d, dv):
    q, k, v = oracle.random("inputs", lambda rng: _draw(rng, lead, Tq, Tk, d, dv))
    _check_attention(student, oracle, q, k, v, None, SCALE_BUGS, "attention_forward(q, k, v)")


def _masks(rng, kind, lead, Tq, Tk):
    if kind == "causal":
        return np.tril(np.ones((Tq, Tk), dtype=bool))
    # padding: the last keys of some sequences are hidden from every query, shape (N, 1, Tk)
    lengths = rng.integers(1, Tk + 1, size=lead[0])
    lengths[0] = Tk - 1
    return (np.arange(Tk)[None, None, :] < lengths[:, None, None]).reshape(
        lead[0], *(1,) * (len(lead) - 1), 1, Tk
    )


@points(2)
@pytest.mark.parametrize(
    "kind,lead,Tq,Tk",
    [("causal", (2,), 4, 4), ("padding", (3,), 3, 5), ("causal", (1, 2), 5, 5)],
    ids=["causal", "padding-cross", "causal-heads"],
)
def test_attention_forward_with_mask_matches_reference(student, oracle, kind, lead, Tq, Tk):
    q, k, v, mask = oracle.random(
        "inputs", lambda rng: (*_draw(rng, lead, Tq, Tk, 4, 3), _masks(rng, kind, lead, Tq, Tk))
    )
    bugs = [b for b in MASK_BUGS if b[0] != "mask_transposed" or Tq == Tk] + SCALE_BUGS
    _check_attention(
        student, oracle, q, k, v, mask, bugs, f"attention_forward(q, k, v, mask) ({kind} mask)"
    )


@points(2)
def test_attention_fully_masked_row_gives_zeros_not_nan(student, oracle):
    """Query 1 of the first sequence may attend to no key: its weights and output are 0."""
    q, k, v = oracle.random("inputs", lambda rng: _draw(rng, (2,), 3, 4, 4, 3))
    mask = np.ones((2, 3, 4), dtype=bool)
    mask[0, 1] = False
    mask[1, 2, :2] = False
    _check_attention(
        student,
        oracle,
        q,
        k,
        v,
        mask,
        [
            (
                "fill_large_negative",
                (
                    "a query with no allowed key got uniform weights (a large negative fill such as -1e9 gives every hidden key "
                    "the same weight when all are hidden): give such a row zero weights and a zero output"
                ),
            )
        ]
        + [b for b in MASK_BUGS if b[0] != "mask_transposed"],
        "attention_forward(q, k, v, mask) with a fully masked row",
    )


@points(2)
@pytest.mark.parametrize("shape", [(2, 4, 5, 3), (1, 3, 6, 2)], ids=["2x4x5", "batch-of-one"])
def test_attention_weights_are_distributions_over_allowed_keys(student, oracle, shape):
    """Weights are >= 0, exactly 0 on hidden keys and sum to 1 over the allowed keys of each
    query (huge scores included)."""
    N, Tq, Tk, d = shape
    q, k, v, mask = oracle.random(
        "inputs",
        lambda rng: (
            30 * rng.standard_normal((N, Tq, d)),
            30 * rng.standard_normal((N, Tk, d)),
            rng.standard_normal((N, Tk, 2)),
            rng.random((N, Tq, Tk)) < 0.6,
        ),
    )
    mask[..., 0] = True  # every query may attend to at least one key
    call = "attention_forward(q, k, v, mask) with scores of size about 100"
    _, w = pair(student.attention_forward(q, k, v, mask), call)
    w = check_array(
        w,
        np.zeros((N, Tq, Tk)),
        call=call,
        what="weights",
        atol=np.inf,
        nonfinite_hint="exponentiate scores minus the row's largest allowed score",
    )
    details = f"{call}; mask (N, Tq, Tk) = {mask.shape}; {MASK_RULE}"
    check_true(np.all(w >= 0), f"{call}: some weights are negative", details)
    hidden = w[~mask]
    check_true(
        np.all(hidden == 0),
        f"{call}: hidden keys got weight (largest {np.max(np.abs(hidden)):.3g}); "
        "they must get exactly 0",
        details,
    )
    sums = w.sum(axis=-1)
    check_true(
        np.allclose(sums, 1.0, atol=1e-9),
        f"{call}: the weights of a query do not sum to 1 "
        f"(sums between {sums.min():.4g} and {sums.max():.4g})",
        details,
    )


def _numeric(q, k, v, mask, dout):
    def loss(**change):
        out, _ = ref.attention_forward(
            change.get("q", q), change.get("k", k), change.get("v", v), mask
        )
        return float(np.sum(out * dout))

    return {
        "q": ref.numerical_gradient(lambda x: loss(q=x), q, H_STEP),
        "k": ref.numerical_gradient(lambda x: loss(k=x), k, H_STEP),
        "v": ref.numerical_gradient(lambda x: loss(v=x), v, H_STEP),
    }


@points(3)
@pytest.mark.parametrize("masked", [False, True], ids=["no-mask", "causal-mask"])
def test_attention_backward_gradient_check(student, oracle, masked):
    N, T, d, dv = 2, 4, 3, 2
    q, k, v, dout = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, T, d)),
            rng.standard_normal((N, T, d)),
            rng.standard_normal((N, T, dv)),
            rng.standard_normal((N, T, dv)),
        ),
    )
    mask = np.tril(np.ones((T, T), dtype=bool)) if masked else None
    want_out, want_w = oracle.compute("forward", lambda: ref.attention_forward(q, k, v, mask))
    num = oracle.compute("numeric", lambda: _numeric(q, k, v, mask, dout))

    def bugs():
        out = []
        for bug, desc in (
            (
                "softmax_jacobian_diagonal_only",
                "the softmax's backward keeps only w * dw: dscores = w "
                "* (dweights - sum over keys of w * dweights) (every weight depends on every score)",
            ),
            ("no_scale_in_backward", "dq and dk miss the factor 1/sqrt(dk) of the forward pass"),
        ):
            g = variants.attention_backward_variant(dout, q, k, v, want_w, bug)
            out.append((desc, dict(zip("qkv", g))))
        return out

    known = oracle.compute("bugs", bugs)
    fcall = "attention_forward(q, k, v" + (", mask)" if masked else ")")
    out, w = pair(student.attention_forward(q, k, v, mask), fcall)
    check_forward_first(out, want_out, fcall, "test_attention_forward_matches_reference")
    call = "attention_backward(doutput, q, k, v, weights)"
    got = student.attention_backward(dout, q, k, v, w)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        fail(f"{call} must return the triple (dq, dk, dv)", f"got a {type(got).__name__}")
    inputs = {"q": q, "k": k, "v": v, "doutput": dout}
    for name, g in zip("qkv", got):
        check_gradient(
            g,
            num[name],
            call=call,
            what=f"d{name}",
            inputs=inputs,
            known_bugs=[(desc, vals[name]) for desc, vals in known],
        )


@points(1)
@pytest.mark.parametrize(
    "N,T,E,h", [(2, 3, 8, 2), (1, 4, 6, 3)], ids=["2-heads", "3-heads-batch-of-one"]
)
def test_split_and_merge_heads_match_reference(student, oracle, N, T, E, h):
    x = fixed_inputs(N, T, E)
    want = oracle.compute("want", lambda: ref.split_heads(x, h))
    bad = oracle.compute("bad", lambda: variants.split_heads_by_reshape(x, h))
    desc = (
        "the heads are split by a reshape alone, which mixes positions: reshape to (N, T, n_heads, dk), then "
        "move the head axis: transpose(0, 2, 1, 3)"
    )
    got = check_array(
        student.split_heads(x, h),
        want,
        call=f"split_heads(x, {h})",
        inputs={"x": x},
        what="heads (N, n_heads, T, dk)",
        known_bugs=[(desc, bad)],
    )
    back = student.merge_heads(want)
    check_array(
        back,
        x,
        call="merge_heads(heads)",
        inputs={"heads": want},
        what="merged (N, T, E)",
        known_bugs=[
            (
                "the heads are merged by a reshape alone: move the head axis back first, "
                "transpose(0, 2, 1, 3), then reshape to (N, T, E)",
                oracle.compute("bad_merge", lambda: variants.merge_heads_by_reshape(want)),
            )
        ],
    )
    del got
