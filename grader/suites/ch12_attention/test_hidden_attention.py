"""Chapter 12, hidden tests: attention and multi-head attention on held-back shapes (five
heads, longer sequences, causal and not), run only in hidden (instructor) mode."""

from grader.api import check_array, check_gradient, hidden, np, points, pytest
from grader.suites.ch12_attention.common import (
    H_STEP,
    MHA_NAMES,
    check_forward_first,
    gradients_of,
    make_mha,
    random_mha_params,
    ref,
)

pytestmark = hidden


@points(1)
@pytest.mark.parametrize("causal", [False, True], ids=["plain", "causal"])
def test_hidden_mha_forward_other_shapes(student, oracle, causal):
    N, T, E, h = 3, 11, 20, 5
    x, p = oracle.random(
        "inputs", lambda rng: (rng.standard_normal((N, T, E)), random_mha_params(rng, E, 0.3))
    )
    want = oracle.compute("want", lambda: ref.mha_forward(x, p, h, causal=causal)[0])
    layer = make_mha(student, E, h, p, causal=causal)
    check_array(
        layer.forward(x),
        want,
        call=f"MultiHeadAttention({E}, n_heads={h}"
        f"{', causal=True' if causal else ''}).forward(inputs)",
        inputs={"inputs": x},
    )


@points(1)
def test_hidden_mha_backward_other_shapes(student, oracle):
    N, T, E, h = 1, 3, 6, 3
    x, p, dout = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, T, E)),
            random_mha_params(rng, E),
            rng.standard_normal((N, T, E)),
        ),
    )
    want = oracle.compute("forward", lambda: ref.mha_forward(x, p, h, causal=True)[0])

    def numeric():
        def loss(**c):
            q = {n: c.get(n, p[n]) for n in MHA_NAMES}
            return float(np.sum(ref.mha_forward(c.get("x", x), q, h, causal=True)[0] * dout))

        out = {"inputs": ref.numerical_gradient(lambda v: loss(x=v), x, H_STEP)}
        for n in ("Wq", "Wv", "Wo"):
            out[n] = ref.numerical_gradient(lambda v, n=n: loss(**{n: v}), p[n], H_STEP)
        return out

    num = oracle.compute("numeric", numeric)
    layer = make_mha(student, E, h, p, causal=True)
    check_forward_first(
        layer.forward(x),
        want,
        f"MultiHeadAttention({E}, n_heads={h}, causal=True).forward(inputs)",
        "test_hidden_mha_forward_other_shapes",
    )
    call = "MultiHeadAttention.backward(dvalues)"
    check_gradient(
        layer.backward(dout), num["inputs"], call=call, what="dinputs", inputs={"inputs": x}
    )
    got = gradients_of(layer, MHA_NAMES, call)
    for n in ("Wq", "Wv", "Wo"):
        check_gradient(got[n], num[n], call=call, what=f"gradient of {n}", inputs={"inputs": x})


@points(1)
def test_hidden_attention_forward_long_sequence(student, oracle):
    q, k, v, mask = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((2, 31, 8)),
            rng.standard_normal((2, 31, 8)),
            rng.standard_normal((2, 31, 4)),
            rng.random((2, 31, 31)) < 0.5,
        ),
    )
    want_out, want_w = oracle.compute("want", lambda: ref.attention_forward(q, k, v, mask))
    out, w = student.attention_forward(q, k, v, mask)
    check_array(
        w,
        want_w,
        call="attention_forward(q, k, v, mask)",
        what="weights",
        inputs={"q": q, "mask": mask},
    )
    check_array(
        out, want_out, call="attention_forward(q, k, v, mask)", what="output", inputs={"q": q}
    )
