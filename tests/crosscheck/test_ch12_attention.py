"""Cross-check of the chapter 12 reference against PyTorch, in float64.

Layouts. ``torch.nn.MultiheadAttention`` keeps the three input projections stacked in
``in_proj_weight`` (3E, E) and multiplies ``x @ W.T``; the course multiplies ``x @ W``, so
``Wq, Wk, Wv`` are the three row blocks of ``in_proj_weight``, transposed, and ``Wo`` is
``out_proj.weight.T``; the biases are the blocks of ``in_proj_bias`` and ``out_proj.bias``.
torch's ``attn_mask`` is True where attention is *not* allowed (the opposite of the course),
so the course's mask is passed negated; torch's ``key_padding_mask`` is not used.

Attention alone is compared with ``torch.nn.functional.scaled_dot_product_attention``
(whose boolean mask, like the course's, is True where attention is allowed); LayerNorm
with ``torch.nn.LayerNorm``; the encoder block with ``torch.nn.TransformerEncoderLayer``
(``norm_first=True``, ReLU, no dropout), whose sub-layers map onto the block's parameter
names. Forward values and every gradient are compared.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)

from reference import ch12_attention as ref  # noqa: E402

RTOL = 1e-9
ATOL = 1e-11


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _close(a, b, what):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.mark.parametrize(
    "N,Tq,Tk,d,dv,masked", [(1, 3, 3, 4, 4, False), (2, 4, 6, 8, 3, True), (3, 5, 5, 2, 6, True)]
)
def test_attention_matches_scaled_dot_product_attention(N, Tq, Tk, d, dv, masked):
    rng = np.random.default_rng(N * 100 + Tk)
    q, k, v = (
        rng.standard_normal((N, Tq, d)),
        rng.standard_normal((N, Tk, d)),
        rng.standard_normal((N, Tk, dv)),
    )
    mask = rng.random((N, Tq, Tk)) < 0.6 if masked else None
    if mask is not None:
        mask[..., 0] = True  # torch gives NaN on a fully masked row; the course gives zeros
    dout = rng.standard_normal((N, Tq, dv))
    out, w = ref.attention_forward(q, k, v, mask)
    dq, dk, dvv = ref.attention_backward(dout, q, k, v, w)
    tq, tk, tv = _t(q, True), _t(k, True), _t(v, True)
    tout = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=None if mask is None else torch.tensor(mask)
    )
    tout.backward(_t(dout))
    _close(out, tout.detach(), "output")
    _close(dq, tq.grad, "dq")
    _close(dk, tk.grad, "dk")
    _close(dvv, tv.grad, "dv")


def _torch_mha(E, h, seed):
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(E, h, batch_first=True).double()
    with torch.no_grad():
        mha.in_proj_bias.normal_(0, 0.2)
        mha.out_proj.bias.normal_(0, 0.2)
    return mha


def _course_mha_params(mha, E):
    W, b = mha.in_proj_weight.detach().numpy(), mha.in_proj_bias.detach().numpy()
    return {
        "Wq": W[:E].T.copy(),
        "Wk": W[E : 2 * E].T.copy(),
        "Wv": W[2 * E :].T.copy(),
        "Wo": mha.out_proj.weight.detach().numpy().T.copy(),
        "bq": b[None, :E].copy(),
        "bk": b[None, E : 2 * E].copy(),
        "bv": b[None, 2 * E :].copy(),
        "bo": mha.out_proj.bias.detach().numpy()[None, :].copy(),
    }


def _course_mha_grads(mha, E):
    gW, gb = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    return {
        "Wq": gW[:E].T,
        "Wk": gW[E : 2 * E].T,
        "Wv": gW[2 * E :].T,
        "Wo": mha.out_proj.weight.grad.numpy().T,
        "bq": gb[None, :E],
        "bk": gb[None, E : 2 * E],
        "bv": gb[None, 2 * E :],
        "bo": mha.out_proj.bias.grad.numpy()[None, :],
    }


@pytest.mark.parametrize(
    "N,Tq,Tk,E,h,kind",
    [
        (1, 3, 3, 8, 2, "self"),
        (2, 5, 5, 8, 4, "causal"),
        (2, 4, 6, 6, 3, "cross"),
        (3, 4, 4, 10, 5, "padding"),
    ],
)
def test_multihead_attention_matches_torch(N, Tq, Tk, E, h, kind):
    rng = np.random.default_rng(7 + N + E)
    mha = _torch_mha(E, h, seed=E * 10 + h)
    p = _course_mha_params(mha, E)
    x = rng.standard_normal((N, Tq, E))
    ctx = rng.standard_normal((N, Tk, E)) if kind == "cross" else None
    mask, causal = None, kind == "causal"
    if kind == "padding":
        mask = np.ones((N, Tq, Tk), dtype=bool)
        mask[0, :, -2:] = False
    dout = rng.standard_normal((N, Tq, E))
    out, cache = ref.mha_forward(x, p, h, context=ctx, mask=mask, causal=causal)
    dx, dctx, grads = ref.mha_backward(dout, cache)

    tx = _t(x, True)
    tc = _t(ctx, True) if ctx is not None else tx
    allowed = ref.full_mask(mask, causal, Tq, Tk)
    attn_mask = None
    if allowed is not None:
        full = np.broadcast_to(allowed, (N, h, Tq, Tk)).reshape(N * h, Tq, Tk)
        attn_mask = torch.tensor(~full)  # torch: True = not allowed
    tout, tw = mha(tx, tc, tc, attn_mask=attn_mask, need_weights=True, average_attn_weights=False)
    tout.backward(_t(dout))
    _close(out, tout.detach(), "output")
    _close(cache[7], tw.detach(), "attention weights")
    _close(dx, tx.grad, "dinputs")
    if ctx is not None:
        _close(dctx, tc.grad, "dcontext")
    for name, g in _course_mha_grads(mha, E).items():
        _close(grads[name], g, f"gradient of {name}")


@pytest.mark.parametrize("shape", [(2, 5, 8), (1, 1, 3), (4, 6)])
def test_layernorm_matches_torch(shape):
    rng = np.random.default_rng(sum(shape))
    D = shape[-1]
    x = rng.normal(1.0, 3.0, size=shape)
    gamma, beta = 1 + 0.3 * rng.standard_normal((1, D)), 0.2 * rng.standard_normal((1, D))
    dout = rng.standard_normal(shape)
    out, cache = ref.layernorm_forward(x, gamma, beta)
    dx, dg, db = ref.layernorm_backward(dout, cache)
    ln = torch.nn.LayerNorm(D, eps=1e-5).double()
    with torch.no_grad():
        ln.weight.copy_(_t(gamma[0]))
        ln.bias.copy_(_t(beta[0]))
    tx = _t(x, True)
    tout = ln(tx)
    tout.backward(_t(dout))
    _close(out, tout.detach(), "output")
    _close(dx, tx.grad, "dinputs")
    _close(dg, ln.weight.grad[None, :], "dgamma")
    _close(db, ln.bias.grad[None, :], "dbeta")


def test_sinusoidal_encoding_row_zero_and_formula():
    pe = ref.sinusoidal_encoding(50, 16)
    np.testing.assert_array_equal(pe[0], np.tile([0.0, 1.0], 8))
    t = torch.arange(50, dtype=torch.float64)[:, None]
    freq = torch.exp(-torch.arange(0, 16, 2, dtype=torch.float64) * (np.log(10000.0) / 16))
    want = torch.zeros(50, 16, dtype=torch.float64)
    want[:, 0::2], want[:, 1::2] = torch.sin(t * freq), torch.cos(t * freq)
    _close(pe, want, "encoding")


@pytest.mark.parametrize("causal", [False, True])
def test_encoder_block_matches_torch(causal):
    E, h, F, N, T = 8, 2, 12, 2, 5
    torch.manual_seed(3)
    layer = torch.nn.TransformerEncoderLayer(
        E, h, F, dropout=0.0, batch_first=True, norm_first=True
    ).double()
    with torch.no_grad():
        for prm in (layer.norm1.weight, layer.norm2.weight):
            prm.add_(0.3 * torch.randn_like(prm))
        for prm in (layer.norm1.bias, layer.norm2.bias, layer.self_attn.in_proj_bias):
            prm.normal_(0, 0.2)
    p = {
        "ln1.gamma": layer.norm1.weight.detach().numpy()[None, :].copy(),
        "ln1.beta": layer.norm1.bias.detach().numpy()[None, :].copy(),
        "ln2.gamma": layer.norm2.weight.detach().numpy()[None, :].copy(),
        "ln2.beta": layer.norm2.bias.detach().numpy()[None, :].copy(),
        "ff1.weights": layer.linear1.weight.detach().numpy().T.copy(),
        "ff1.biases": layer.linear1.bias.detach().numpy()[None, :].copy(),
        "ff2.weights": layer.linear2.weight.detach().numpy().T.copy(),
        "ff2.biases": layer.linear2.bias.detach().numpy()[None, :].copy(),
    }
    p.update({f"attn.{k}": v for k, v in _course_mha_params(layer.self_attn, E).items()})
    rng = np.random.default_rng(11)
    x, dout = rng.standard_normal((N, T, E)), rng.standard_normal((N, T, E))
    out, cache = ref.block_forward(x, p, h, causal=causal)
    dx, grads = ref.block_backward(dout, cache)
    tx = _t(x, True)
    src_mask = torch.tensor(~ref.causal_mask(T)) if causal else None
    tout = layer(tx, src_mask=src_mask)
    tout.backward(_t(dout))
    _close(out, tout.detach(), "output")
    _close(dx, tx.grad, "dinputs")
    tg = {
        "ln1.gamma": layer.norm1.weight.grad[None, :],
        "ln1.beta": layer.norm1.bias.grad[None, :],
        "ln2.gamma": layer.norm2.weight.grad[None, :],
        "ln2.beta": layer.norm2.bias.grad[None, :],
        "ff1.weights": layer.linear1.weight.grad.T,
        "ff1.biases": layer.linear1.bias.grad[None, :],
        "ff2.weights": layer.linear2.weight.grad.T,
        "ff2.biases": layer.linear2.bias.grad[None, :],
    }
    tg.update({f"attn.{k}": v for k, v in _course_mha_grads(layer.self_attn, E).items()})
    for name, g in tg.items():
        _close(grads[name], np.asarray(g), f"gradient of {name}")
