"""Reference for chapter 12: attention, multi-head attention, layer normalization,
positional encodings and the pre-LN encoder block.

Plain float64 functions, no classes, no state. Conventions (the chapter's):

- masks are bool, True = may attend; a query with no allowed key gets zero weights and a
  zero output;
- multi-head attention: x (N, Tq, E), context c (N, Tk, E); Q = x Wq + bq, K = c Wk + bk,
  V = c Wv + bv with W (E, E) and b (1, E); head h owns features [h dk, (h + 1) dk);
  output = merge(attention) Wo + bo;
- layer norm over the last axis, biased variance, epsilon inside the square root;
- sinusoidal encoding: sin on even columns, cos on odd ones, frequency 10000^(-2i/E).

The cross-check against ``torch.nn.MultiheadAttention`` and ``torch.nn.LayerNorm``
(tests/crosscheck) maps torch's ``in_proj_weight`` (3E, E) to ``Wq, Wk, Wv`` (its row
blocks, transposed) and ``out_proj.weight`` to ``Wo.T``.
"""

import numpy as np

PARAM_NAMES = ("Wq", "Wk", "Wv", "Wo", "bq", "bk", "bv", "bo")


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def causal_mask(T):
    """(T, T) bool, True where key j <= query i."""
    i, j = np.indices((T, T))
    return j <= i


# ------------------------------------------------------------------------- attention


def attention_forward(q, k, v, mask=None):
    """(..., Tq, d), (..., Tk, d), (..., Tk, dv), mask broadcasting to (..., Tq, Tk)
    -> output (..., Tq, dv), weights (..., Tq, Tk)."""
    q, k, v = _f64(q), _f64(k), _f64(v)
    scores = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
    keep = (
        np.ones(scores.shape, bool)
        if mask is None
        else np.broadcast_to(np.asarray(mask, bool), scores.shape)
    )
    weights = np.zeros_like(scores)
    flat_s, flat_k, flat_w = (
        scores.reshape(-1, scores.shape[-1]),
        keep.reshape(-1, scores.shape[-1]),
        weights.reshape(-1, scores.shape[-1]),
    )
    for r in range(flat_s.shape[0]):
        allowed = flat_k[r]
        if allowed.any():
            s = flat_s[r, allowed]
            e = np.exp(s - s.max())
            flat_w[r, allowed] = e / e.sum()
    return np.einsum("...qk,...kd->...qd", weights, v), weights


def attention_backward(dout, q, k, v, weights):
    """-> dq, dk, dv."""
    dout, q, k, v, w = _f64(dout), _f64(q), _f64(k), _f64(v), _f64(weights)
    dv = np.einsum("...qk,...qd->...kd", w, dout)
    dw = np.einsum("...qd,...kd->...qk", dout, v)
    ds = w * dw - w * np.sum(w * dw, axis=-1, keepdims=True)
    ds = ds / np.sqrt(q.shape[-1])
    return np.einsum("...qk,...kd->...qd", ds, k), np.einsum("...qk,...qd->...kd", ds, q), dv


def split_heads(x, n_heads):
    """(N, T, E) -> (N, h, T, E / h): head h gets features [h dk, (h + 1) dk)."""
    x = _f64(x)
    N, T, E = x.shape
    dk = E // n_heads
    return np.stack([x[:, :, h * dk : (h + 1) * dk] for h in range(n_heads)], axis=1)


def merge_heads(x):
    """(N, h, T, dk) -> (N, T, h dk)."""
    x = _f64(x)
    return np.concatenate([x[:, h] for h in range(x.shape[1])], axis=-1)


# ------------------------------------------------------------------ multi-head attention


def full_mask(mask, causal, Tq, Tk):
    """The mask of every head, broadcasting to (N, h, Tq, Tk), or None."""
    m = None
    if mask is not None:
        m = np.asarray(mask, bool)
        m = m[:, None] if m.ndim == 3 else m
    if causal:
        c = causal_mask(max(Tq, Tk))[:Tq, :Tk]
        m = c if m is None else (m & c)
    return m


def mha_forward(x, params, n_heads, context=None, mask=None, causal=False):
    """-> output (N, Tq, E), cache."""
    x = _f64(x)
    c = x if context is None else _f64(context)
    p = {k: _f64(v) for k, v in params.items()}
    Q, K, V = x @ p["Wq"] + p["bq"], c @ p["Wk"] + p["bk"], c @ p["Wv"] + p["bv"]
    Qh, Kh, Vh = split_heads(Q, n_heads), split_heads(K, n_heads), split_heads(V, n_heads)
    A, w = attention_forward(Qh, Kh, Vh, full_mask(mask, causal, x.shape[1], c.shape[1]))
    M = merge_heads(A)
    out = M @ p["Wo"] + p["bo"]
    return out, (x, c, context is None, p, Qh, Kh, Vh, w, M, n_heads)


def mha_weights(x, params, n_heads, context=None, mask=None, causal=False):
    """The attention weights (N, h, Tq, Tk) of ``mha_forward``."""
    return mha_forward(x, params, n_heads, context, mask, causal)[1][7]


def mha_backward(dout, cache):
    """-> dx (N, Tq, E), dcontext (N, Tk, E) or None (self-attention: folded into dx),
    grads {name: array}."""
    x, c, is_self, p, Qh, Kh, Vh, w, M, n_heads = cache
    dout = _f64(dout)
    E = x.shape[-1]
    g = {
        "Wo": M.reshape(-1, E).T @ dout.reshape(-1, E),
        "bo": dout.reshape(-1, E).sum(0, keepdims=True),
    }
    dA = split_heads(dout @ p["Wo"].T, n_heads)
    dQh, dKh, dVh = attention_backward(dA, Qh, Kh, Vh, w)
    dQ, dK, dV = merge_heads(dQh), merge_heads(dKh), merge_heads(dVh)
    for name, inp, d in (("q", x, dQ), ("k", c, dK), ("v", c, dV)):
        g["W" + name] = inp.reshape(-1, E).T @ d.reshape(-1, E)
        g["b" + name] = d.reshape(-1, E).sum(0, keepdims=True)
    dx = dQ @ p["Wq"].T
    dc = dK @ p["Wk"].T + dV @ p["Wv"].T
    if is_self:
        return dx + dc, None, {n: g[n] for n in PARAM_NAMES}
    return dx, dc, {n: g[n] for n in PARAM_NAMES}


# ------------------------------------------------------------------------ layer norm


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """-> out (same shape), cache. Normalises over the last axis."""
    x = _f64(x)
    mu = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    return _f64(gamma) * xhat + _f64(beta), (xhat, var, _f64(gamma), eps)


def layernorm_backward(dout, cache):
    """-> dx, dgamma (1, D), dbeta (1, D)."""
    xhat, var, gamma, eps = cache
    dout = _f64(dout)
    D = xhat.shape[-1]
    dxhat = dout * gamma
    dx = (
        D * dxhat - dxhat.sum(-1, keepdims=True) - xhat * (dxhat * xhat).sum(-1, keepdims=True)
    ) / (D * np.sqrt(var + eps))
    return (
        dx,
        (dout * xhat).reshape(-1, D).sum(0, keepdims=True),
        dout.reshape(-1, D).sum(0, keepdims=True),
    )


# ------------------------------------------------------------------------ positions


def sinusoidal_encoding(T, d):
    """(T, d): PE[t, j] = sin(t w_j) for even j, cos(t w_j) for odd j, w_j = 10000^(-2 floor(j/2) / d)."""
    pe = np.zeros((T, d))
    for t in range(T):
        for j in range(d):
            w = 10000.0 ** (-(2 * (j // 2)) / d)
            pe[t, j] = np.sin(t * w) if j % 2 == 0 else np.cos(t * w)
    return pe


def position_embedding_backward(dout, max_len):
    """dweights (max_len, d): rows 0..T-1 are dout summed over the batch."""
    dout = _f64(dout)
    dW = np.zeros((max_len, dout.shape[-1]))
    dW[: dout.shape[1]] = dout.sum(axis=0)
    return dW


# ----------------------------------------------------------------------- encoder block
#
# Block parameters are a dict with the block's names: "ln1.gamma", "ln1.beta", "attn.Wq",
# ..., "ln2.gamma", "ln2.beta", "ff1.weights", "ff1.biases", "ff2.weights", "ff2.biases".


def block_forward(x, params, n_heads, mask=None, causal=False):
    """-> out (N, T, E), cache: h = x + MHA(LN1(x)); out = h + FF(LN2(h))."""
    x = _f64(x)
    p = {k: _f64(v) for k, v in params.items()}
    a, c1 = layernorm_forward(x, p["ln1.gamma"], p["ln1.beta"])
    att, c2 = mha_forward(
        a, {n: p["attn." + n] for n in PARAM_NAMES}, n_heads, mask=mask, causal=causal
    )
    h = x + att
    b, c3 = layernorm_forward(h, p["ln2.gamma"], p["ln2.beta"])
    z = b @ p["ff1.weights"] + p["ff1.biases"]
    r = np.maximum(z, 0.0)
    out = h + r @ p["ff2.weights"] + p["ff2.biases"]
    return out, (p, c1, c2, c3, b, z, r)


def block_backward(dout, cache):
    """-> dx, grads {name: array} with the block's parameter names."""
    p, c1, c2, c3, b, z, r = cache
    dout = _f64(dout)
    E, F = p["ff1.weights"].shape
    g = {
        "ff2.weights": r.reshape(-1, F).T @ dout.reshape(-1, E),
        "ff2.biases": dout.reshape(-1, E).sum(0, keepdims=True),
    }
    dz = (dout @ p["ff2.weights"].T) * (z > 0)
    g["ff1.weights"] = b.reshape(-1, E).T @ dz.reshape(-1, F)
    g["ff1.biases"] = dz.reshape(-1, F).sum(0, keepdims=True)
    db = dz @ p["ff1.weights"].T
    dh_ln, g["ln2.gamma"], g["ln2.beta"] = layernorm_backward(db, c3)
    dh = dout + dh_ln
    da, _, ga = mha_backward(dh, c2)
    g.update({"attn." + n: v for n, v in ga.items()})
    dx_ln, g["ln1.gamma"], g["ln1.beta"] = layernorm_backward(da, c1)
    return dh + dx_ln, g


# ------------------------------------------------------------------------------ tasks


def reversal_data(n, T, n_tokens, rng):
    X = rng.integers(0, n_tokens, size=(n, T))
    return X, np.flip(X, axis=1).copy()


def sort_data(n, length, n_tokens, rng):
    prompt = rng.integers(0, n_tokens, size=(n, length))
    S = np.concatenate([prompt, np.sort(prompt, axis=1)], axis=1)
    return S[:, :-1], S[:, length:]


def numerical_gradient(f, x, h=1e-5):
    """Central differences of the scalar function f at x (x is not modified)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f(x.copy())
        x[idx] = old - h
        minus = f(x.copy())
        x[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad
