"""Wrong versions of the chapter's operations: the values that the classic mistakes
produce, so that feedback can name the mistake when a submission's output matches one.
Used by the grader's diagnoses only; never an expected value."""

import numpy as np

from . import (
    PARAM_NAMES,
    _f64,
    attention_backward,
    attention_forward,
    causal_mask,
    layernorm_forward,
    mha_forward,
)


def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_variant(q, k, v, mask, bug):
    """Output and weights of attention with one classic bug."""
    q, k, v = _f64(q), _f64(k), _f64(v)
    dk = q.shape[-1]
    raw = q @ np.swapaxes(k, -1, -2)
    scores = raw / np.sqrt(dk)
    keep = None if mask is None else np.broadcast_to(np.asarray(mask, bool), scores.shape)
    if bug == "no_scale":
        return _masked(raw, keep, v)
    if bug == "scale_dk":
        return _masked(raw / dk, keep, v)
    if bug == "mask_after_softmax":
        w = _softmax(scores) * keep
        return w @ v, w
    if bug == "mask_multiply":
        w = _softmax(scores * keep)
        return w @ v, w
    if bug == "mask_inverted":
        return _masked(scores, ~keep, v)
    if bug == "mask_transposed":
        return _masked(scores, np.swapaxes(keep, -1, -2), v)
    if bug == "fill_large_negative":
        w = _softmax(np.where(keep, scores, -1e9))
        return w @ v, w
    raise ValueError(bug)


def _masked(scores, keep, v):
    """Softmax over the allowed keys (zero rows where none), then the weighted values."""
    if keep is None:
        w = _softmax(scores)
    else:
        e = np.where(
            keep,
            np.exp(
                np.where(keep, scores, -np.inf)
                - np.max(np.where(keep, scores, -np.inf), axis=-1, keepdims=True, initial=-1e300)
            ),
            0.0,
        )
        total = e.sum(axis=-1, keepdims=True)
        w = e / np.where(total > 0, total, 1.0)
    return w @ _f64(v), w


def attention_backward_variant(dout, q, k, v, weights, bug):
    """(dq, dk, dv) with one classic backward bug."""
    dout, q, k, v, w = _f64(dout), _f64(q), _f64(k), _f64(v), _f64(weights)
    if bug == "softmax_jacobian_diagonal_only":
        ds = w * (dout @ np.swapaxes(v, -1, -2)) / np.sqrt(q.shape[-1])
        return ds @ k, np.swapaxes(ds, -1, -2) @ q, np.swapaxes(w, -1, -2) @ dout
    if bug == "no_scale_in_backward":
        dq, dk, dv = attention_backward(dout, q, k, v, w)
        s = np.sqrt(q.shape[-1])
        return dq * s, dk * s, dv
    raise ValueError(bug)


def split_heads_by_reshape(x, n_heads):
    """(N, T, E) reshaped straight to (N, h, T, dk): positions and heads mixed."""
    x = _f64(x)
    N, T, E = x.shape
    return x.reshape(N, n_heads, T, E // n_heads)


def merge_heads_by_reshape(x):
    x = _f64(x)
    N, h, T, dk = x.shape
    return x.reshape(N, T, h * dk)


def mha_variant(x, params, n_heads, bug, context=None, mask=None, causal=False):
    """The output of multi-head attention with one classic bug."""
    x = _f64(x)
    c = x if context is None else _f64(context)
    p = {k: _f64(v) for k, v in params.items()}
    m = None
    if mask is not None:
        m = np.asarray(mask, bool)
        if m.ndim == 3 and bug != "mask_not_expanded_per_head":
            m = m[:, None]
    if causal and bug != "causal_ignored":
        cm = causal_mask(max(x.shape[1], c.shape[1]))[: x.shape[1], : c.shape[1]]
        m = cm if m is None else m & cm
    split, merge = (
        (split_heads_by_reshape, merge_heads_by_reshape)
        if bug == "split_by_reshape"
        else (None, None)
    )
    from . import merge_heads, split_heads

    split, merge = split or split_heads, merge or merge_heads
    Q, K, V = x @ p["Wq"] + p["bq"], c @ p["Wk"] + p["bk"], c @ p["Wv"] + p["bv"]
    if bug == "keys_values_from_inputs":
        K, V = x @ p["Wk"] + p["bk"], x @ p["Wv"] + p["bv"]
    Qh, Kh, Vh = split(Q, n_heads), split(K, n_heads), split(V, n_heads)
    if bug == "no_scale":
        A, _ = attention_variant(Qh, Kh, Vh, m, "no_scale")
    elif bug == "scale_by_d_model":
        A, _ = attention_forward(Qh * np.sqrt(Qh.shape[-1] / x.shape[-1]), Kh, Vh, m)
    else:
        A, _ = attention_forward(Qh, Kh, Vh, m)
    return merge(A) @ p["Wo"] + p["bo"]


def mha_dx_query_path_only(x, params, n_heads, dout, mask=None, causal=False):
    """dinputs of self-attention with only the query path (the key and value paths dropped)."""
    from . import attention_backward as ab, merge_heads, split_heads

    out, cache = mha_forward(x, params, n_heads, mask=mask, causal=causal)
    _, _, _, p, Qh, Kh, Vh, w, _, _ = cache
    dA = split_heads(_f64(dout) @ p["Wo"].T, n_heads)
    dQh, _, _ = ab(dA, Qh, Kh, Vh, w)
    return merge_heads(dQh) @ p["Wq"].T


def layernorm_variant(x, gamma, beta, bug, eps=1e-5):
    x = _f64(x)
    if bug == "over_positions":  # axis 1 of (N, T, D)
        axes = (1,)
    elif bug == "over_all_but_batch":
        axes = tuple(range(1, x.ndim))
    elif bug == "over_batch":
        axes = (0,)
    else:
        axes = (-1,)
    mu = x.mean(axis=axes, keepdims=True)
    if bug == "unbiased_variance":
        var = x.var(axis=-1, keepdims=True, ddof=1)
        return _f64(gamma) * (x - mu) / np.sqrt(var + eps) + _f64(beta)
    var = x.var(axis=axes, keepdims=True)
    if bug == "epsilon_outside_sqrt":
        return _f64(gamma) * (x - mu) / (np.sqrt(var) + eps) + _f64(beta)
    return _f64(gamma) * (x - mu) / np.sqrt(var + eps) + _f64(beta)


def sinusoidal_variant(T, d, bug):
    t = np.arange(T)[:, None]
    if bug == "concatenated":
        i = np.arange(d // 2)[None, :]
        a = t / 10000.0 ** (2 * i / d)
        return np.concatenate([np.sin(a), np.cos(a)], axis=1)
    j = np.arange(d)[None, :]
    if bug == "cos_on_even":
        a = t / 10000.0 ** (2 * (j // 2) / d)
        return np.where(j % 2 == 0, np.cos(a), np.sin(a))
    if bug == "column_index_exponent":
        a = t / 10000.0 ** (j / d)
        return np.where(j % 2 == 0, np.sin(a), np.cos(a))
    raise ValueError(bug)


def block_variant(x, params, n_heads, bug, mask=None, causal=False):
    """The output of an encoder block wired in a wrong way."""
    x = _f64(x)
    p = {k: _f64(v) for k, v in params.items()}
    ln1 = lambda z: layernorm_forward(z, p["ln1.gamma"], p["ln1.beta"])[0]  # noqa: E731
    ln2 = lambda z: layernorm_forward(z, p["ln2.gamma"], p["ln2.beta"])[0]  # noqa: E731
    attn = lambda z: mha_forward(
        z,
        {n: p["attn." + n] for n in PARAM_NAMES},
        n_heads,
        mask=mask,  # noqa: E731
        causal=causal,
    )[0]
    ff = lambda z: (
        np.maximum(z @ p["ff1.weights"] + p["ff1.biases"], 0) @ p["ff2.weights"] + p["ff2.biases"]
    )  # noqa
    if bug == "post_ln":
        h = ln1(x + attn(x))
        return ln2(h + ff(h))
    if bug == "residual_from_normalized":
        a = ln1(x)
        h = a + attn(a)
        b = ln2(h)
        return b + ff(b)
    if bug == "no_residual":
        h = attn(ln1(x))
        return ff(ln2(h))
    if bug == "residual_inside":  # the residual added before the sub-layer: attn(ln1(x) + x)
        h = attn(ln1(x) + x)
        return ff(ln2(h) + h)
    raise ValueError(bug)
