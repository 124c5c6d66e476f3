"""Reference for chapter 11: embeddings, recurrent cells (vanilla RNN, LSTM, GRU), their
sequence layers with backpropagation through time, stacking, clipping by global norm, and
the adding problem.

Plain float64 functions, no classes, no state. Shapes: a batch of N sequences of T steps
of D features, H hidden units. Weight layout (the course's, ``inputs @ weights``):

- RNN:  Wx (D, H),  Wh (H, H),  b (1, H);  h = tanh(x Wx + h_prev Wh + b)
- LSTM: Wx (D, 4H), Wh (H, 4H), b (1, 4H); column blocks in the order i, f, g, o
        (PyTorch's order); c = f c_prev + i g, h = o tanh(c)
- GRU:  Wx (D, 3H), Wh (H, 3H), bx (1, 3H), bh (1, 3H); blocks r, z, n (PyTorch's);
        n = tanh(x Wx_n + bx_n + r (h_prev Wh_n + bh_n)), h = (1 - z) n + z h_prev

The cross-check against ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (tests/crosscheck) maps
torch's ``weight_ih`` (G*H, D) to ``Wx = weight_ih.T`` and so on.
"""

import numpy as np


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def sigmoid(x):
    """1 / (1 + exp(-x)), written as (1 + tanh(x / 2)) / 2: the same function, without
    overflow for large negative x."""
    return 0.5 * (1.0 + np.tanh(0.5 * _f64(x)))


# --------------------------------------------------------------------------- embedding


def embedding_forward(ids, W):
    """(N, T) int ids, W (V, E) -> (N, T, E)."""
    return _f64(W)[np.asarray(ids)]


def embedding_backward(dout, ids, n_tokens):
    """dW (V, E): the rows of dout added into the row of their id (repeats add up)."""
    dout = _f64(dout)
    dW = np.zeros((n_tokens, dout.shape[-1]))
    np.add.at(dW, np.asarray(ids).reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW


# ------------------------------------------------------------------------------ RNN


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step: (N, D), (N, H) -> h (N, H), cache."""
    h = np.tanh(_f64(x) @ _f64(Wx) + _f64(h_prev) @ _f64(Wh) + _f64(b))
    return h, (_f64(x), _f64(h_prev), _f64(Wx), _f64(Wh), h)


def rnn_step_backward(dh, cache):
    """-> dx (N, D), dh_prev (N, H), dWx, dWh, db (1, H)."""
    x, h_prev, Wx, Wh, h = cache
    da = _f64(dh) * (1.0 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0, keepdims=True)


def rnn_forward(x, h0, Wx, Wh, b):
    """(N, T, D), h0 (N, H) -> hs (N, T, H), caches."""
    x = _f64(x)
    h, hs, caches = _f64(h0), [], []
    for t in range(x.shape[1]):
        h, cache = rnn_step_forward(x[:, t], h, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def rnn_backward(dhs, caches):
    """dhs (N, T, H): the gradient arriving at every hidden state ->
    dx (N, T, D), dh0 (N, H), dWx, dWh, db (sums over the steps)."""
    dhs = _f64(dhs)
    T = dhs.shape[1]
    x0, _, Wx, Wh, _ = caches[0]
    dx = np.zeros((dhs.shape[0], T, Wx.shape[0]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros((1, Wh.shape[0]))
    dh_next = np.zeros_like(dhs[:, 0])
    for t in reversed(range(T)):
        dx[:, t], dh_next, gWx, gWh, gb = rnn_step_backward(dhs[:, t] + dh_next, caches[t])
        dWx += gWx
        dWh += gWh
        db += gb
    return dx, dh_next, dWx, dWh, db


# ----------------------------------------------------------------------------- LSTM


def lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b):
    """One step -> h (N, H), c (N, H), cache. Gate blocks i, f, g, o."""
    x, h_prev, c_prev = _f64(x), _f64(h_prev), _f64(c_prev)
    H = h_prev.shape[1]
    a = x @ _f64(Wx) + h_prev @ _f64(Wh) + _f64(b)
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H : 2 * H])
    g, o = np.tanh(a[:, 2 * H : 3 * H]), sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    h = o * tc
    return h, c, (x, h_prev, c_prev, _f64(Wx), _f64(Wh), i, f, g, o, tc)


def lstm_step_backward(dh, dc, cache):
    """dh, dc (N, H) arriving at h and c -> dx, dh_prev, dc_prev, dWx, dWh, db."""
    x, h_prev, c_prev, Wx, Wh, i, f, g, o, tc = cache
    dh, dc = _f64(dh), _f64(dc)
    dc_total = dc + dh * o * (1.0 - tc * tc)
    do = dh * tc
    di, df, dg = dc_total * g, dc_total * c_prev, dc_total * i
    da = np.concatenate(
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1
    )
    return (
        da @ Wx.T,
        da @ Wh.T,
        dc_total * f,
        x.T @ da,
        h_prev.T @ da,
        da.sum(axis=0, keepdims=True),
    )


def lstm_forward(x, h0, c0, Wx, Wh, b):
    """(N, T, D), h0, c0 (N, H) -> hs (N, T, H), caches."""
    x = _f64(x)
    h, c, hs, caches = _f64(h0), _f64(c0), [], []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], h, c, Wx, Wh, b)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def lstm_backward(dhs, caches):
    """dhs (N, T, H) -> dx (N, T, D), dh0, dc0 (N, H), dWx, dWh, db."""
    dhs = _f64(dhs)
    T = dhs.shape[1]
    Wx, Wh = caches[0][3], caches[0][4]
    dx = np.zeros((dhs.shape[0], T, Wx.shape[0]))
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros((1, Wh.shape[1]))
    dh_next = np.zeros_like(dhs[:, 0])
    dc_next = np.zeros_like(dhs[:, 0])
    for t in reversed(range(T)):
        dx[:, t], dh_next, dc_next, gWx, gWh, gb = lstm_step_backward(
            dhs[:, t] + dh_next, dc_next, caches[t]
        )
        dWx += gWx
        dWh += gWh
        db += gb
    return dx, dh_next, dc_next, dWx, dWh, db


# ------------------------------------------------------------------------------ GRU


def gru_step_forward(x, h_prev, Wx, Wh, bx, bh):
    """One step -> h (N, H), cache. Blocks r, z, n; the reset gate multiplies
    (h_prev Wh_n + bh_n); h = (1 - z) n + z h_prev."""
    x, h_prev = _f64(x), _f64(h_prev)
    H = h_prev.shape[1]
    ax = x @ _f64(Wx) + _f64(bx)
    ah = h_prev @ _f64(Wh) + _f64(bh)
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    hn = ah[:, 2 * H :]
    n = np.tanh(ax[:, 2 * H :] + r * hn)
    h = (1.0 - z) * n + z * h_prev
    return h, (x, h_prev, _f64(Wx), _f64(Wh), r, z, n, hn)


def gru_step_backward(dh, cache):
    """-> dx, dh_prev, dWx, dWh, dbx, dbh."""
    x, h_prev, Wx, Wh, r, z, n, hn = cache
    dh = _f64(dh)
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1.0 - n * n)  # gradient at the pre-activation of n
    dr = dan * hn
    dhn = dan * r  # at h_prev Wh_n + bh_n
    dar = dr * r * (1.0 - r)
    daz = dz * z * (1.0 - z)
    dax = np.concatenate([dar, daz, dan], axis=1)
    dah = np.concatenate([dar, daz, dhn], axis=1)
    dh_prev = dh * z + dah @ Wh.T
    return (
        dax @ Wx.T,
        dh_prev,
        x.T @ dax,
        h_prev.T @ dah,
        dax.sum(axis=0, keepdims=True),
        dah.sum(axis=0, keepdims=True),
    )


def gru_forward(x, h0, Wx, Wh, bx, bh):
    x = _f64(x)
    h, hs, caches = _f64(h0), [], []
    for t in range(x.shape[1]):
        h, cache = gru_step_forward(x[:, t], h, Wx, Wh, bx, bh)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), caches


def gru_backward(dhs, caches):
    """dhs (N, T, H) -> dx (N, T, D), dh0, dWx, dWh, dbx, dbh."""
    dhs = _f64(dhs)
    T = dhs.shape[1]
    Wx, Wh = caches[0][2], caches[0][3]
    dx = np.zeros((dhs.shape[0], T, Wx.shape[0]))
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    dbx, dbh = np.zeros((1, Wx.shape[1])), np.zeros((1, Wh.shape[1]))
    dh_next = np.zeros_like(dhs[:, 0])
    for t in reversed(range(T)):
        dx[:, t], dh_next, gWx, gWh, gbx, gbh = gru_step_backward(dhs[:, t] + dh_next, caches[t])
        dWx += gWx
        dWh += gWh
        dbx += gbx
        dbh += gbh
    return dx, dh_next, dWx, dWh, dbx, dbh


# ---------------------------------------------------------------- layers by name


def sequence_forward(kind, x, h0, params, c0=None):
    """hs (N, T, H) of an "rnn", "lstm" or "gru" layer; params is its parameters() dict."""
    p = params
    if kind == "rnn":
        return rnn_forward(x, h0, p["weights_x"], p["weights_h"], p["biases"])[0]
    if kind == "lstm":
        return lstm_forward(x, h0, c0, p["weights_x"], p["weights_h"], p["biases"])[0]
    return gru_forward(x, h0, p["weights_x"], p["weights_h"], p["biases_x"], p["biases_h"])[0]


def sequence_backward(kind, x, h0, params, dhs, c0=None):
    """(dx, {"h0": dh0, ["c0": dc0], name: gradient, ...}) of a sequence layer."""
    p = params
    if kind == "rnn":
        _, caches = rnn_forward(x, h0, p["weights_x"], p["weights_h"], p["biases"])
        dx, dh0, dWx, dWh, db = rnn_backward(dhs, caches)
        return dx, {"h0": dh0, "weights_x": dWx, "weights_h": dWh, "biases": db}
    if kind == "lstm":
        _, caches = lstm_forward(x, h0, c0, p["weights_x"], p["weights_h"], p["biases"])
        dx, dh0, dc0, dWx, dWh, db = lstm_backward(dhs, caches)
        return dx, {"h0": dh0, "c0": dc0, "weights_x": dWx, "weights_h": dWh, "biases": db}
    _, caches = gru_forward(x, h0, p["weights_x"], p["weights_h"], p["biases_x"], p["biases_h"])
    dx, dh0, dWx, dWh, dbx, dbh = gru_backward(dhs, caches)
    return dx, {"h0": dh0, "weights_x": dWx, "weights_h": dWh, "biases_x": dbx, "biases_h": dbh}


def stacked_forward(kinds, x, params_list):
    """A stack of sequence layers, each starting from zero states; layer k + 1 reads layer
    k's hidden sequence. -> the last layer's hs."""
    h = _f64(x)
    for kind, p in zip(kinds, params_list):
        zeros = np.zeros((h.shape[0], p["weights_h"].shape[0]))
        h = sequence_forward(kind, h, zeros, p, c0=zeros)
    return h


def stacked_backward(kinds, x, params_list, dhs):
    """(dx, [gradients dict of each layer])."""
    inputs, h = [], _f64(x)
    for kind, p in zip(kinds, params_list):
        inputs.append(h)
        zeros = np.zeros((h.shape[0], p["weights_h"].shape[0]))
        h = sequence_forward(kind, h, zeros, p, c0=zeros)
    grads = [None] * len(kinds)
    d = _f64(dhs)
    for k in reversed(range(len(kinds))):
        zeros = np.zeros((inputs[k].shape[0], params_list[k]["weights_h"].shape[0]))
        d, g = sequence_backward(kinds[k], inputs[k], zeros, params_list[k], d, c0=zeros)
        grads[k] = {name: v for name, v in g.items() if name not in ("h0", "c0")}
    return d, grads


# ---------------------------------------------------------------------------- clipping


def global_norm(grads):
    """sqrt of the sum of squares of every entry of every array in ``grads`` (a list)."""
    return float(np.sqrt(sum(float(np.sum(_f64(g) ** 2)) for g in grads)))


def clip_by_global_norm(grads, max_norm):
    """(the arrays scaled by max_norm / norm when norm > max_norm, else unchanged; norm)."""
    norm = global_norm(grads)
    scale = max_norm / norm if norm > max_norm else 1.0
    return [_f64(g) * scale for g in grads], norm


# ------------------------------------------------------------------- the adding problem


def adding_data(n, T, rng):
    """The adding problem: X (n, T, 2), y (n, 1).

    Draw, in this order: ``values = rng.uniform(0, 1, (n, T))``, then for each sequence two
    distinct marked positions ``first = rng.integers(0, T // 2, n)`` and
    ``second = rng.integers(T // 2, T, n)``. Channel 0 holds the values, channel 1 is 1.0
    at the two marked positions and 0 elsewhere; y = the sum of the two marked values."""
    values = rng.uniform(0.0, 1.0, size=(n, T))
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    marks = np.zeros((n, T))
    rows = np.arange(n)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    X = np.stack([values, marks], axis=2)
    y = (values[rows, first] + values[rows, second])[:, None]
    return X, y


def numerical_gradient(f, x, h=1e-6):
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


# ------------------------------------------------------------ training on the adding problem


def init_layer(kind, n_inputs, n_hidden, rng):
    """A sequence layer's parameters as the chapter's classes draw them: uniform in
    [-1/sqrt(H), 1/sqrt(H)], weights_x then weights_h (then, for the GRU, biases_x and
    biases_h); RNN and LSTM biases zeros, except the LSTM's forget-gate block, 1."""
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    bound = 1.0 / np.sqrt(n_hidden)
    p = {
        "weights_x": rng.uniform(-bound, bound, size=(n_inputs, G * n_hidden)),
        "weights_h": rng.uniform(-bound, bound, size=(n_hidden, G * n_hidden)),
    }
    if kind == "gru":
        p["biases_x"] = rng.uniform(-bound, bound, size=(1, G * n_hidden))
        p["biases_h"] = rng.uniform(-bound, bound, size=(1, G * n_hidden))
    else:
        p["biases"] = np.zeros((1, G * n_hidden))
        if kind == "lstm":
            p["biases"][:, n_hidden : 2 * n_hidden] = 1.0
    return p


def adam_step(params, grads, state, t, lr, b1=0.9, b2=0.999, eps=1e-7):
    """One Adam step (the course's, chapter 05) on dicts of arrays, in place; t from 1."""
    for name, p in params.items():
        m, v = state.setdefault(name, (np.zeros_like(p), np.zeros_like(p)))
        g = grads[name]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        state[name] = (m, v)
        p -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)


def adding_fit(
    kind, T, rng, steps=300, n_hidden=16, batch_size=32, lr=1e-2, max_norm=5.0, backward=None
):
    """The chapter's adding-problem run, replayed with these functions: a sequence layer,
    its last hidden state, a dense layer to one output (weights 1/sqrt(H) * standard
    normal, bias 0), mean squared error, clipping by global norm, Adam. Each step draws a
    fresh batch with ``adding_data``. -> (params dict, dense (W, b), list of losses).
    ``backward`` replaces ``sequence_backward`` (same signature), to measure a broken one."""
    p = init_layer(kind, 2, n_hidden, rng)
    W = rng.standard_normal((n_hidden, 1)) / np.sqrt(n_hidden)
    b = np.zeros((1, 1))
    head = {"dense.weights": W, "dense.biases": b}
    state, losses = {}, []
    for step in range(1, steps + 1):
        X, y = adding_data(batch_size, T, rng)
        loss, grads = adding_gradients(kind, p, W, b, X, y, backward)
        losses.append(loss)
        clipped, _ = clip_by_global_norm([grads[k] for k in grads], max_norm)
        grads = dict(zip(grads, clipped))
        both = {**p, **head}
        adam_step(both, grads, state, step, lr)
    return p, (W, b), losses


def adding_gradients(kind, p, W, b, X, y, backward=None):
    """(mean squared error, gradients) of the adding network (sequence layer ``p``, last
    state, dense W (H, 1), b (1, 1)) on one batch; the gradients dict has the layer's
    names and "dense.weights", "dense.biases"."""
    X, y = _f64(X), _f64(y)
    n, H = X.shape[0], p["weights_h"].shape[0]
    zeros = np.zeros((n, H))
    hs = sequence_forward(kind, X, zeros, p, c0=zeros)
    last = hs[:, -1]
    out = last @ W + b
    dout = 2.0 * (out - y) / n
    dhs = np.zeros_like(hs)
    dhs[:, -1] = dout @ W.T
    _, g = (backward or sequence_backward)(kind, X, zeros, p, dhs, c0=zeros)
    grads = {name: g[name] for name in p}
    grads["dense.weights"] = last.T @ dout
    grads["dense.biases"] = dout.sum(axis=0, keepdims=True)
    return float(np.mean((out - y) ** 2)), grads


def adding_predict(kind, params, dense, X):
    """(n, 1) predictions of a trained adding network on X (n, T, 2)."""
    X = _f64(X)
    zeros = np.zeros((X.shape[0], params["weights_h"].shape[0]))
    hs = sequence_forward(kind, X, zeros, params, c0=zeros)
    return hs[:, -1] @ dense[0] + dense[1]


# --------------------------------------------------------- the character-level language model


def softmax_cross_entropy(logits, y):
    """(mean loss, gradient of the mean w.r.t. the logits) for rows of logits (M, V) and
    integer targets (M,)."""
    z = _f64(logits) - np.max(logits, axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = float(-np.mean(np.log(np.clip(p[rows, y], 1e-7, 1 - 1e-7))))
    d = p.copy()
    d[rows, y] -= 1.0
    return loss, d / len(y)


def char_batches(ids, T, batch_size, rng):
    """One ``rng.integers(0, len(ids) - T, batch_size)`` of window starts -> X, Y (batch, T):
    the windows and the windows shifted by one character."""
    ids = np.asarray(ids)
    starts = rng.integers(0, len(ids) - T, size=batch_size)
    return ids[starts[:, None] + np.arange(T)], ids[starts[:, None] + np.arange(T) + 1]


def char_forward(params, ids):
    """Embedding -> GRU (from zeros) -> dense at every step: logits (N * T, V), row n * T + t."""
    x = embedding_forward(ids, params["embedding"])
    N, T = np.shape(ids)
    H = params["gru"]["weights_h"].shape[0]
    hs = sequence_forward("gru", x, np.zeros((N, H)), params["gru"])
    return (hs @ params["dense.weights"] + params["dense.biases"]).reshape(N * T, -1)


def char_init(n_tokens, rng, n_embedding=16, n_hidden=64):
    """The chapter's model's parameters, drawn as ``build_char_model`` draws them."""
    emb = rng.standard_normal((n_tokens, n_embedding))
    gru = init_layer("gru", n_embedding, n_hidden, rng)
    W = rng.standard_normal((n_hidden, n_tokens)) / np.sqrt(n_hidden)
    return {
        "embedding": emb,
        "gru": gru,
        "dense.weights": W,
        "dense.biases": np.zeros((1, n_tokens)),
    }


def char_fit(
    ids, n_tokens, rng, steps=200, batch_size=32, T=32, lr=1e-2, max_norm=5.0, backward=None
):
    """The chapter's training run, replayed: random windows (one ``rng.integers`` per step),
    softmax cross-entropy over every step, clipping by global norm, Adam.
    -> (params, losses). ``backward`` replaces ``sequence_backward`` (to measure a broken one)."""
    ids = np.asarray(ids)
    params = char_init(n_tokens, rng)
    state, losses = {}, []
    for step in range(1, steps + 1):
        X, Y = char_batches(ids, T, batch_size, rng)
        Y = Y.reshape(-1)
        x = embedding_forward(X, params["embedding"])
        zeros = np.zeros((batch_size, params["gru"]["weights_h"].shape[0]))
        hs = sequence_forward("gru", x, zeros, params["gru"])
        flat = hs.reshape(batch_size * T, -1)
        loss, dlogits = softmax_cross_entropy(
            flat @ params["dense.weights"] + params["dense.biases"], Y
        )
        losses.append(loss)
        grads = {
            "dense.weights": flat.T @ dlogits,
            "dense.biases": dlogits.sum(axis=0, keepdims=True),
        }
        dhs = (dlogits @ params["dense.weights"].T).reshape(hs.shape)
        dx, g = (backward or sequence_backward)("gru", x, zeros, params["gru"], dhs)
        grads.update({f"gru.{k}": g[k] for k in params["gru"]})
        grads["embedding"] = embedding_backward(dx, X, n_tokens)
        names = ["embedding", *(f"gru.{k}" for k in params["gru"]), "dense.weights", "dense.biases"]
        clipped, _ = clip_by_global_norm([grads[k] for k in names], max_norm)
        flat_params = {
            "embedding": params["embedding"],
            **{f"gru.{k}": v for k, v in params["gru"].items()},
            "dense.weights": params["dense.weights"],
            "dense.biases": params["dense.biases"],
        }
        adam_step(flat_params, dict(zip(names, clipped)), state, step, lr)
    return params, losses


def char_sample(params, prompt_ids, n_chars, rng, temperature=1.0, context=32):
    """The ids ``sample`` writes after ``prompt_ids`` (see the chapter's ``sample``)."""
    ids = [int(i) for i in prompt_ids]
    n_tokens = params["embedding"].shape[0]
    for _ in range(n_chars):
        z = char_forward(params, np.array(ids[-context:])[None, :])[-1] / temperature
        p = np.exp(z - np.max(z))
        p /= p.sum()
        ids.append(int(rng.choice(n_tokens, p=p)))
    return ids[len(ids) - n_chars :]
