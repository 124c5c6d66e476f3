"""Reference for chapter 10: im2col / col2im, convolution, max pooling, flattening and a
LeNet-5 training run, as plain float64 functions on NCHW arrays.

Windows are taken with numpy's ``sliding_window_view`` and scattered back with a
``np.bincount`` over flat pixel indices, a different route from the chapter's loop over kernel positions. A few
functions take a ``bug`` option that computes a common wrong answer, so that the grader
can name it when a submission returns exactly that.
"""

import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..ch04_backprop import numerical_gradient  # noqa: F401  (re-exported for the suite)
from ..ch05_optimizers import adam_step


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def output_size(size, kernel, stride=1, padding=0):
    """Window positions along one axis: floor((size + 2 padding - kernel) / stride) + 1."""
    if size + 2 * padding < kernel:
        raise ValueError("the window does not fit")
    return (size + 2 * padding - kernel) // stride + 1


def _pad(x, padding):
    return np.pad(_f64(x), ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def windows(x, kh, kw, stride=1, padding=0):
    """(N, OH, OW, C, kh, kw): the window of every output position, a view of the padded x."""
    N, C, H, W = np.shape(x)
    oh, ow = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    view = sliding_window_view(_pad(x, padding), (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)
    view = view[:, :, ::stride, ::stride][:, :, :oh, :ow]
    return view.transpose(0, 2, 3, 1, 4, 5)


def im2col(x, kh, kw, stride=1, padding=0, bug=None):
    """(N*OH*OW, C*kh*kw): rows ordered (n, oh, ow), columns (c, p, q).

    bug: 'kernel_first' orders the columns (p, q, c); 'position_first' orders the rows
    (oh, ow, n)."""
    w = windows(x, kh, kw, stride, padding)
    N, oh, ow, C = w.shape[:4]
    if bug == "kernel_first":
        return w.transpose(0, 1, 2, 4, 5, 3).reshape(N * oh * ow, -1)
    if bug == "position_first":
        return w.transpose(1, 2, 0, 3, 4, 5).reshape(N * oh * ow, -1)
    return w.reshape(N * oh * ow, C * kh * kw)


def _index_grid(x_shape, kh, kw, stride, padding):
    """Index arrays (n, c, i, j), each (N, OH, OW, C, kh, kw), into the padded image."""
    N, C, H, W = x_shape
    oh, ow = output_size(H, kh, stride, padding), output_size(W, kw, stride, padding)
    n, a, b, c, p, q = np.ix_(
        np.arange(N), np.arange(oh), np.arange(ow), np.arange(C), np.arange(kh), np.arange(kw)
    )
    shape = (N, oh, ow, C, kh, kw)
    return tuple(np.broadcast_to(v, shape) for v in (n, c, a * stride + p, b * stride + q))


@functools.lru_cache(maxsize=4)
def _flat_index(x_shape, kh, kw, stride, padding):
    """The flat index into the padded image of every entry of cols, in cols' order; kept
    for the last few shapes, since a training run asks for the same ones on every batch."""
    N, C, H, W = x_shape
    padded = (N, C, H + 2 * padding, W + 2 * padding)
    flat = np.ravel_multi_index(_index_grid(x_shape, kh, kw, stride, padding), padded).ravel()
    flat.flags.writeable = False
    return flat


def col2im(cols, x_shape, kh, kw, stride=1, padding=0, bug=None):
    """(N, C, H, W): every entry of cols added onto its pixel, the padding cropped.

    bug: 'assign' writes instead of adding (the last window wins); 'no_crop' returns the
    padded image."""
    N, C, H, W = x_shape
    idx = _index_grid(x_shape, kh, kw, stride, padding)
    oh, ow = idx[0].shape[1:3]
    values = _f64(cols).reshape(N, oh, ow, C, kh, kw)
    out = np.zeros((N, C, H + 2 * padding, W + 2 * padding))
    if (
        bug == "assign"
    ):  # kernel position by kernel position, as a loop over (p, q) writes: the last wins
        for p in range(kh):
            for q in range(kw):
                out[tuple(i[..., p, q] for i in idx)] = values[..., p, q]
    else:  # a scatter-add: np.bincount sums the values that land on the same flat index
        flat = _flat_index(tuple(x_shape), kh, kw, stride, padding)
        out = np.bincount(flat, weights=values.ravel(), minlength=out.size).reshape(out.shape)
    if bug == "no_crop":
        return out
    return out[:, :, padding : padding + H, padding : padding + W]


# ------------------------------------------------------------------------- convolution


def conv_forward(x, W, b, stride=1, padding=0, bug=None):
    """(N, F, OH, OW): b[f] + sum_{c,p,q} W[f, c, p, q] xpad[n, c, oh s + p, ow s + q].

    bug: 'flipped' computes a true convolution (the kernel rotated by 180 degrees);
    'no_bias' leaves the biases out."""
    W = _f64(W)
    if bug == "flipped":
        W = W[:, :, ::-1, ::-1]
    F, C, kh, kw = W.shape
    out = np.einsum("nhwcpq,fcpq->nfhw", windows(x, kh, kw, stride, padding), W, optimize=True)
    if bug != "no_bias":
        out = out + _f64(b).reshape(1, F, 1, 1)
    return out


def conv_backward(dout, x, W, stride=1, padding=0):
    """(dx (N, C, H, W), dW (F, C, kh, kw), db (F,)) of sum(conv_forward(x, W, b) * dout)."""
    dout, W = _f64(dout), _f64(W)
    F, C, kh, kw = W.shape
    win = windows(x, kh, kw, stride, padding)
    dW = np.einsum("nfhw,nhwcpq->fcpq", dout, win, optimize=True)
    db = dout.sum(axis=(0, 2, 3))
    dwin = np.einsum("nfhw,fcpq->nhwcpq", dout, W, optimize=True)
    dx = col2im(dwin, np.shape(x), kh, kw, stride, padding)
    return dx, dW, db


def conv_loops(x, W, b, stride=1, padding=0):
    """conv_forward, one output value at a time (the timing lab's slow form)."""
    xp, W = _pad(x, padding), _f64(W)
    F, C, k, _ = W.shape
    N, _, H, Wd = np.shape(x)
    oh, ow = output_size(H, k, stride, padding), output_size(Wd, k, stride, padding)
    out = np.zeros((N, F, oh, ow))
    for n, f, i, j in np.ndindex(N, F, oh, ow):
        out[n, f, i, j] = (
            np.sum(xp[n, :, i * stride : i * stride + k, j * stride : j * stride + k] * W[f]) + b[f]
        )
    return out


# --------------------------------------------------------------------------- max pooling


def maxpool_forward(x, k, stride=None):
    """(N, C, OH, OW): the maximum of each k x k window (no padding)."""
    stride = k if stride is None else stride
    w = windows(x, k, k, stride)  # (N, OH, OW, C, k, k)
    return w.max(axis=(4, 5)).transpose(0, 3, 1, 2)


def maxpool_backward(dout, x, k, stride=None, ties="first"):
    """(N, C, H, W): each window's gradient routed to its maximum.

    ties: 'first' (the rule: the first maximum in reading order takes it all),
    'last', 'all' (every tied maximum gets the whole gradient), 'split' (shared
    equally). 'stride_as_kernel' puts each gradient at the offset of the window's maximum
    from (oh * k, ow * k) instead of (oh * stride, ow * stride) (the wrong window when
    stride != k; positions beyond the input are dropped)."""
    stride = k if stride is None else stride
    if ties == "stride_as_kernel":
        # the right maximum of each window, put back at the window start (oh * k, ow * k)
        x, dout = _f64(x), _f64(dout)
        N, C, H, W = x.shape
        flat = windows(x, k, k, stride).transpose(0, 3, 1, 2, 4, 5).reshape(*dout.shape, k * k)
        p, q = np.divmod(np.argmax(flat, axis=-1), k)
        n, c, oh, ow = np.indices(dout.shape)
        rows, cols = oh * k + p, ow * k + q
        inside = (rows < H) & (cols < W)
        dx = np.zeros_like(x)
        np.add.at(dx, (n[inside], c[inside], rows[inside], cols[inside]), dout[inside])
        return dx
    x, dout = _f64(x), _f64(dout)
    N, C, H, W = x.shape
    w = windows(x, k, k, stride).transpose(0, 3, 1, 2, 4, 5)  # (N, C, OH, OW, k, k)
    flat = w.reshape(*w.shape[:4], k * k)
    is_max = flat == flat.max(axis=-1, keepdims=True)
    if ties == "first":
        route = np.zeros_like(is_max, dtype=np.float64)
        np.put_along_axis(route, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    elif ties == "last":
        route = np.zeros_like(is_max, dtype=np.float64)
        np.put_along_axis(
            route, (k * k - 1 - np.argmax(flat[..., ::-1], axis=-1))[..., None], 1.0, axis=-1
        )
    elif ties == "all":
        route = is_max.astype(np.float64)
    elif ties == "split":
        route = is_max / is_max.sum(axis=-1, keepdims=True)
    else:
        raise ValueError(ties)
    dwin = (
        (route * dout[..., None]).reshape(w.shape).transpose(0, 2, 3, 1, 4, 5)
    )  # (N, OH, OW, C, k, k)
    return col2im(dwin, x.shape, k, k, stride, 0)


def tie_free(rng, shape, spacing=0.01):
    """Values with no two entries closer than ``spacing`` (a shuffled, jittered arange, centred)."""
    n = int(np.prod(shape))
    values = (np.arange(n) - n / 2) * spacing
    values = values + rng.uniform(-0.2, 0.2, size=n) * spacing
    return rng.permutation(values).reshape(shape)


# ------------------------------------------------------------------------------ flatten


def flatten_forward(x, bug=None):
    """(N, C*H*W) in (c, i, j) order; bug 'channels_last' orders (i, j, c)."""
    x = _f64(x)
    if bug == "channels_last":
        x = np.moveaxis(x, 1, -1)
    return x.reshape(len(x), -1)


def flatten_backward(dout, x_shape):
    return _f64(dout).reshape(x_shape)


# ---------------------------------------------------------------------- LeNet-5 training

LENET_LR, LENET_BATCH = 1e-3, 64


def lenet_init(rng):
    """LeNet-5's parameters drawn in layer order with He scales: conv1 (6, 1, 5, 5),
    conv2 (16, 6, 5, 5), dense 400-120, 120-84, 84-10; biases zero."""
    params = {}
    for name, shape in (("conv1", (6, 1, 5, 5)), ("conv2", (16, 6, 5, 5))):
        params[name + ".W"] = np.sqrt(2.0 / np.prod(shape[1:])) * rng.standard_normal(shape)
        params[name + ".b"] = np.zeros(shape[0])
    for name, (a, b) in (("fc1", (400, 120)), ("fc2", (120, 84)), ("fc3", (84, 10))):
        params[name + ".W"] = np.sqrt(2.0 / a) * rng.standard_normal((a, b))
        params[name + ".b"] = np.zeros((1, b))
    return params


def lenet_forward(params, X):
    """(logits (N, 10), cache) for X (N, 1, 28, 28)."""
    cache = {"x0": X}
    z1 = conv_forward(X, params["conv1.W"], params["conv1.b"], 1, 2)
    a1 = np.maximum(z1, 0)
    p1 = maxpool_forward(a1, 2)
    z2 = conv_forward(p1, params["conv2.W"], params["conv2.b"])
    a2 = np.maximum(z2, 0)
    p2 = maxpool_forward(a2, 2)
    h = flatten_forward(p2)
    cache.update(z1=z1, a1=a1, p1=p1, z2=z2, a2=a2, p2=p2, h0=h)
    for i, name in enumerate(("fc1", "fc2", "fc3")):
        z = h @ params[name + ".W"] + params[name + ".b"]
        cache[f"zf{i}"] = z
        h = np.maximum(z, 0) if i < 2 else z
        cache[f"h{i + 1}"] = h
    return h, cache


def lenet_backward(params, cache, dlogits):
    """Gradients {name: array} of the loss whose gradient at the logits is dlogits."""
    grads, d = {}, dlogits
    for i, name in reversed(list(enumerate(("fc1", "fc2", "fc3")))):
        if i < 2:
            d = d * (cache[f"zf{i}"] > 0)
        h_in = cache[f"h{i}"]
        grads[name + ".W"], grads[name + ".b"] = h_in.T @ d, d.sum(axis=0, keepdims=True)
        d = d @ params[name + ".W"].T
    d = flatten_backward(d, cache["p2"].shape)
    d = maxpool_backward(d, cache["a2"], 2) * (cache["z2"] > 0)
    d, grads["conv2.W"], grads["conv2.b"] = conv_backward(d, cache["p1"], params["conv2.W"])
    d = maxpool_backward(d, cache["a1"], 2) * (cache["z1"] > 0)
    _, grads["conv1.W"], grads["conv1.b"] = conv_backward(d, cache["x0"], params["conv1.W"], 1, 2)
    return grads


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def lenet_fit_predict(
    X_train, y_train, X_test, seed, epochs, batch_size=LENET_BATCH, lr=LENET_LR, frozen=()
):
    """Test probabilities (N_test, 10) of LeNet-5 trained from default_rng(seed): the
    parameters first (lenet_init), then one permutation per epoch; Adam on the fused
    softmax cross-entropy (mean over the batch). Parameters named in ``frozen`` (e.g.
    ('conv1.W', 'conv1.b', 'conv2.W', 'conv2.b')) keep their initial values."""
    rng = np.random.default_rng(seed)
    params = lenet_init(rng)
    states = {k: {} for k in params}
    X_train, y_train = _f64(X_train), np.asarray(y_train)
    n, t = len(X_train), 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            logits, cache = lenet_forward(params, X_train[idx])
            d = _softmax(logits)
            d[np.arange(len(idx)), y_train[idx]] -= 1.0
            grads = lenet_backward(params, cache, d / len(idx))
            t += 1
            for k in params:
                if k not in frozen:
                    params[k] = adam_step(params[k], grads[k], states[k], lr, t)
    return np.concatenate(
        [
            _softmax(lenet_forward(params, X_test[i : i + 500])[0])
            for i in range(0, len(X_test), 500)
        ]
    )
