"""Reference for chapter 13: autoencoder, variational autoencoder and a small U-Net, as
plain float64 functions on dicts of parameters.

Networks are dicts ``{name: array}`` whose names match the chapter's ``parameters()``
(``encoder0.weights``, ``down.weights``, ...). Forward passes return a cache that the
backward passes read. A few functions take a ``bug`` option that computes a common wrong
answer, so that the grader can name it when a submission returns exactly that.
"""

import numpy as np

from ..ch04_backprop import numerical_gradient  # noqa: F401  (re-exported for the suite)
from ..ch05_optimizers import adam_step
from ..ch10_convnets import conv_backward, conv_forward, maxpool_backward, maxpool_forward


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def sigmoid(x):
    """1 / (1 + exp(-x)) without overflow for any x."""
    x = _f64(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# ------------------------------------------------------------------ the VAE's pieces


def reparameterize(mu, logvar, eps, bug=None):
    """z = mu + exp(logvar / 2) * eps. bug 'variance': exp(logvar) * eps (the variance, or
    log-variance read as log sigma); 'no_noise': z = mu."""
    mu, logvar, eps = _f64(mu), _f64(logvar), _f64(eps)
    if bug == "variance":
        return mu + np.exp(logvar) * eps
    if bug == "no_noise":
        return mu
    return mu + np.exp(0.5 * logvar) * eps


def reparameterize_backward(dz, logvar, eps, bug=None):
    """(dmu, dlogvar) for z = reparameterize(mu, logvar, eps). bug 'no_half': dlogvar
    without the factor 1/2."""
    dz, logvar, eps = _f64(dz), _f64(logvar), _f64(eps)
    factor = 1.0 if bug == "no_half" else 0.5
    return dz.copy(), dz * factor * np.exp(0.5 * logvar) * eps


def kl_divergence(mu, logvar, bug=None):
    """(N,): KL(N(mu, exp(logvar)) || N(0, I)) per sample, summed over the latent axis:
    -1/2 sum(1 + logvar - mu^2 - exp(logvar)).

    bug: 'sign' (the sign flipped), 'no_half' (without the 1/2), 'log_sigma' (logvar read
    as log sigma: the variance taken as exp(2 logvar)), 'mean' (averaged over the latent
    axis instead of summed)."""
    mu, logvar = _f64(mu), _f64(logvar)
    if bug == "log_sigma":
        terms = 1.0 + 2.0 * logvar - mu**2 - np.exp(2.0 * logvar)
    else:
        terms = 1.0 + logvar - mu**2 - np.exp(logvar)
    per = terms.mean(axis=1) if bug == "mean" else terms.sum(axis=1)
    if bug == "sign":
        return 0.5 * per
    if bug == "no_half":
        return -per
    return -0.5 * per


def kl_backward(mu, logvar, bug=None):
    """(dmu, dlogvar), both (N, K): the gradient of mean(kl_divergence(mu, logvar)).
    bug 'no_batch_mean': not divided by N."""
    mu, logvar = _f64(mu), _f64(logvar)
    n = 1 if bug == "no_batch_mean" else len(mu)
    return mu / n, 0.5 * (np.exp(logvar) - 1.0) / n


def bce_logits(logits, targets, bug=None):
    """(N,): binary cross-entropy of sigmoid(logits) against targets in [0, 1], summed
    over the features of each sample, in the stable form
    max(l, 0) - l t + log(1 + exp(-|l|)). bug 'mean': averaged over the features."""
    l, t = _f64(logits).reshape(len(logits), -1), _f64(targets).reshape(len(targets), -1)
    per = np.maximum(l, 0.0) - l * t + np.log1p(np.exp(-np.abs(l)))
    return per.mean(axis=1) if bug == "mean" else per.sum(axis=1)


def bce_logits_backward(logits, targets, bug=None):
    """The gradient of mean(bce_logits(logits, targets)): (sigmoid(l) - t) / N.
    bug 'mean': also divided by the number of features."""
    l, t = _f64(logits), _f64(targets)
    d = (sigmoid(l) - t) / len(l)
    if bug == "mean":
        d = d / (l.size // len(l))
    return d


# ------------------------------------------------------------------ MLPs


def mlp_init(rng, sizes, prefix):
    """He-scaled Dense layers in order (weights (a, b), biases (1, b) zeros), named
    prefix{2i}.weights (index 2i: a ReLU sits between two Dense layers)."""
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        params[f"{prefix}{2 * i}.weights"] = np.sqrt(2.0 / a) * rng.standard_normal((a, b))
        params[f"{prefix}{2 * i}.biases"] = np.zeros((1, b))
    return params


def _n_dense(params, prefix):
    return len([k for k in params if k.startswith(prefix) and k.endswith(".weights")])


def mlp_forward(params, prefix, x):
    """Dense, ReLU, Dense, ..., Dense (no activation after the last): (output, cache)."""
    n = _n_dense(params, prefix)
    h, cache = _f64(x), []
    for i in range(n):
        W, b = params[f"{prefix}{2 * i}.weights"], params[f"{prefix}{2 * i}.biases"]
        z = h @ W + b
        cache.append((h, z))
        h = np.maximum(z, 0.0) if i < n - 1 else z
    return h, cache


def mlp_backward(params, prefix, cache, d):
    """(gradients {name: array}, dinputs)."""
    grads, n = {}, len(cache)
    for i in reversed(range(n)):
        h, z = cache[i]
        if i < n - 1:
            d = d * (z > 0)
        grads[f"{prefix}{2 * i}.weights"] = h.T @ d
        grads[f"{prefix}{2 * i}.biases"] = d.sum(axis=0, keepdims=True)
        d = d @ params[f"{prefix}{2 * i}.weights"].T
    return grads, d


# ------------------------------------------------------------------ autoencoder


def ae_init(rng, n_inputs, n_hidden, n_latent):
    """Encoder n_inputs-n_hidden-n_latent then decoder n_latent-n_hidden-n_inputs, drawn in
    that order."""
    params = mlp_init(rng, (n_inputs, n_hidden, n_latent), "encoder")
    params.update(mlp_init(rng, (n_latent, n_hidden, n_inputs), "decoder"))
    return params


def ae_forward(params, x):
    """(codes, logits, caches)."""
    codes, ce = mlp_forward(params, "encoder", x)
    logits, cd = mlp_forward(params, "decoder", codes)
    return codes, logits, (ce, cd)


def ae_backward(params, caches, dlogits):
    """(gradients, dinputs) from the gradient at the logits."""
    ce, cd = caches
    grads, dcodes = mlp_backward(params, "decoder", cd, dlogits)
    g, dx = mlp_backward(params, "encoder", ce, dcodes)
    grads.update(g)
    return grads, dx


# ------------------------------------------------------------------ VAE


def vae_init(rng, n_inputs, n_hidden, n_latent):
    """Encoder n_inputs-n_hidden-2 n_latent (mu then logvar), decoder n_latent-n_hidden-n_inputs."""
    params = mlp_init(rng, (n_inputs, n_hidden, 2 * n_latent), "encoder")
    params.update(mlp_init(rng, (n_latent, n_hidden, n_inputs), "decoder"))
    return params


def vae_encode(params, x):
    """(mu, logvar, cache): the encoder's output split in two halves, mu first."""
    out, cache = mlp_forward(params, "encoder", x)
    k = out.shape[1] // 2
    return out[:, :k], out[:, k:], cache


def vae_decode(params, z):
    """(logits, cache)."""
    return mlp_forward(params, "decoder", z)


def vae_forward(params, x, eps):
    mu, logvar, ce = vae_encode(params, x)
    z = reparameterize(mu, logvar, eps)
    logits, cd = vae_decode(params, z)
    return logits, (mu, logvar, z, ce, cd)


def vae_loss(params, x, eps, kl_weight=1.0):
    """float: the negative ELBO averaged over the batch (reconstruction BCE on logits
    summed over pixels + KL), with eps fixed."""
    logits, (mu, logvar, *_rest) = vae_forward(params, x, eps)
    return float(np.mean(bce_logits(logits, x) + kl_weight * kl_divergence(mu, logvar)))


def vae_backward(params, cache, x, eps, bug=None):
    """(gradients, dinputs) of vae_loss, the inputs seen as encoder inputs only (the
    targets held fixed). bug: 'no_kl' (the KL gradient left out), 'no_reparam_half',
    'kl_sign' (the KL gradient subtracted)."""
    logits, (mu, logvar, z, ce, cd) = cache
    grads, dz = mlp_backward(params, "decoder", cd, bce_logits_backward(logits, x))
    dmu, dlogvar = reparameterize_backward(
        dz, logvar, eps, bug="no_half" if bug == "no_reparam_half" else None
    )
    kmu, klv = kl_backward(mu, logvar)
    if bug == "kl_sign":
        kmu, klv = -kmu, -klv
    if bug != "no_kl":
        dmu, dlogvar = dmu + kmu, dlogvar + klv
    g, dx = mlp_backward(params, "encoder", ce, np.concatenate([dmu, dlogvar], axis=1))
    grads.update(g)
    return grads, dx


def vae_gradients(params, x, eps, bug=None):
    logits, cache = vae_forward(params, x, eps)
    return vae_backward(params, (logits, cache), x, eps, bug=bug)


def negative_elbo(mu, logvar, logits, x):
    """(N,) per-sample negative ELBO from the encoder's mu, logvar and the decoder's logits
    (the logits of z = mu + exp(logvar / 2) eps for the eps the caller fixed)."""
    return bce_logits(logits, x) + kl_divergence(mu, logvar)


# ------------------------------------------------------------------ U-Net pieces


def upsample_forward(x):
    """(N, C, 2H, 2W): every entry copied into a 2 x 2 block (nearest neighbour)."""
    return _f64(x).repeat(2, axis=2).repeat(2, axis=3)


def upsample_backward(d, bug=None):
    """(N, C, H, W): the sum of each 2 x 2 block. bug 'top_left' keeps one entry per
    block; 'mean' averages the block."""
    d = _f64(d)
    N, C, H2, W2 = d.shape
    if bug == "top_left":
        return d[:, :, ::2, ::2].copy()
    blocks = d.reshape(N, C, H2 // 2, 2, W2 // 2, 2)
    return blocks.mean(axis=(3, 5)) if bug == "mean" else blocks.sum(axis=(3, 5))


def concat_forward(skip, up):
    """(N, Cs + Cu, H, W): the skip's channels first, then the upsampled ones."""
    return np.concatenate([_f64(skip), _f64(up)], axis=1)


def concat_backward(d, n_skip):
    """(dskip, dup): the first n_skip channels, the rest."""
    d = _f64(d)
    return d[:, :n_skip].copy(), d[:, n_skip:].copy()


def pixel_softmax(logits):
    """Softmax over the class axis (1) of (N, K, H, W) scores, stable."""
    z = _f64(logits)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def pixel_cross_entropy(logits, labels):
    """(N,): per image, the mean over its pixels of -log p[label] (p = pixel_softmax)."""
    z = _f64(logits)
    logp = z - z.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    labels = np.asarray(labels)
    picked = np.take_along_axis(logp, labels[:, None], axis=1)[:, 0]
    return -picked.reshape(len(z), -1).mean(axis=1)


def pixel_cross_entropy_backward(logits, labels):
    """The gradient of mean(pixel_cross_entropy): (softmax - one_hot) / (N H W)."""
    p = pixel_softmax(logits)
    N, K, H, W = p.shape
    onehot = np.moveaxis(np.eye(K)[np.asarray(labels)], -1, 1)
    return (p - onehot) / (N * H * W)


# ------------------------------------------------------------------ U-Net

UNET_LAYERS = ("down", "bottom", "up", "head")


def unet_init(rng, in_channels, channels, n_classes, skips=True):
    """Conv weights (F, C, K, K) He-scaled, biases zeros, drawn in the order down (C_in -> c,
    3x3), bottom (c -> 2c, 3x3), up (3c -> c, 3x3; 2c -> c without skips), head (c -> K,
    1x1)."""
    c = channels
    shapes = {
        "down": (c, in_channels, 3, 3),
        "bottom": (2 * c, c, 3, 3),
        "up": (c, 3 * c if skips else 2 * c, 3, 3),
        "head": (n_classes, c, 1, 1),
    }
    params = {}
    for name in UNET_LAYERS:
        shape = shapes[name]
        params[name + ".weights"] = np.sqrt(2.0 / np.prod(shape[1:])) * rng.standard_normal(shape)
        params[name + ".biases"] = np.zeros(shape[0])
    return params


def unet_forward(params, x, skips="concat", bug=None):
    """(logits (N, K, H, W), cache). skips: 'concat' (the chapter's net), 'zeros' (the skip
    replaced by zeros: a U-Net whose skips are not wired), 'none' (no skip channels).
    bug 'swapped': the concatenation in the other order (upsampled first)."""
    x = _f64(x)
    P = params
    z1 = conv_forward(x, P["down.weights"], P["down.biases"], 1, 1)
    a1 = np.maximum(z1, 0)
    p1 = maxpool_forward(a1, 2)
    z2 = conv_forward(p1, P["bottom.weights"], P["bottom.biases"], 1, 1)
    a2 = np.maximum(z2, 0)
    u = upsample_forward(a2)
    if skips == "none":
        cat = u
    else:
        s = a1 if skips == "concat" else np.zeros_like(a1)
        cat = concat_forward(u, s) if bug == "swapped" else concat_forward(s, u)
    z3 = conv_forward(cat, P["up.weights"], P["up.biases"], 1, 1)
    a3 = np.maximum(z3, 0)
    logits = conv_forward(a3, P["head.weights"], P["head.biases"], 1, 0)
    return logits, dict(x=x, z1=z1, a1=a1, p1=p1, z2=z2, a2=a2, cat=cat, z3=z3, a3=a3, skips=skips)


def unet_backward(params, cache, dlogits, bug=None):
    """(gradients {name: array}, dinputs). bug 'skip_not_added': the skip's gradient is
    dropped (the encoder branch receives only the gradient through the pooling);
    'upsample_top_left': the upsampling's backward keeps one entry per block."""
    P, c = params, cache
    g = {}
    d, g["head.weights"], g["head.biases"] = conv_backward(
        dlogits, c["a3"], P["head.weights"], 1, 0
    )
    d = d * (c["z3"] > 0)
    d, g["up.weights"], g["up.biases"] = conv_backward(d, c["cat"], P["up.weights"], 1, 1)
    n_skip = c["a1"].shape[1]
    if c["skips"] == "none":
        dskip, du = np.zeros_like(c["a1"]), d
    else:
        dskip, du = concat_backward(d, n_skip)
    if c["skips"] == "zeros" or bug == "skip_not_added":
        dskip = np.zeros_like(dskip)
    d = upsample_backward(du, bug="top_left" if bug == "upsample_top_left" else None) * (
        c["z2"] > 0
    )
    d, g["bottom.weights"], g["bottom.biases"] = conv_backward(
        d, c["p1"], P["bottom.weights"], 1, 1
    )
    d = maxpool_backward(d, c["a1"], 2) + dskip
    d = d * (c["z1"] > 0)
    dx, g["down.weights"], g["down.biases"] = conv_backward(d, c["x"], P["down.weights"], 1, 1)
    return g, dx


def unet_gradients(params, x, labels, skips="concat", bug=None):
    logits, cache = unet_forward(params, x, skips)
    return unet_backward(params, cache, pixel_cross_entropy_backward(logits, labels), bug=bug)


# ------------------------------------------------------------------ data


def make_shapes(n, size, rng):
    """(images (n, 1, size, size) float64, masks (n, size, size) int64): each image holds
    1-3 filled discs or squares (centre uniform in the image, radius 2..size//4 inclusive),
    drawn one image at a time in the order: count, then per shape kind, centre row, centre
    column, radius; the mask is their union (1 foreground, 0 background); the image is
    the mask plus Gaussian noise of standard deviation 0.3 (drawn last, per image)."""
    rows, cols = np.mgrid[0:size, 0:size]
    images = np.empty((n, 1, size, size))
    masks = np.zeros((n, size, size), dtype=np.int64)
    for i in range(n):
        for _ in range(int(rng.integers(1, 4))):
            kind = int(rng.integers(0, 2))
            r0, c0 = rng.integers(0, size, size=2)
            radius = int(rng.integers(2, size // 4 + 1))
            if kind == 0:
                inside = (rows - r0) ** 2 + (cols - c0) ** 2 <= radius**2
            else:
                inside = (np.abs(rows - r0) <= radius) & (np.abs(cols - c0) <= radius)
            masks[i][inside] = 1
        images[i, 0] = masks[i] + 0.3 * rng.standard_normal((size, size))
    return images, masks


def foreground_iou(pred, true):
    """|pred & true| / |pred | true| over all pixels of all images (1.0 when both are empty)."""
    pred, true = np.asarray(pred) == 1, np.asarray(true) == 1
    union = np.logical_or(pred, true).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, true).sum() / union)


# ------------------------------------------------------------------ training runs


def _adam_update(params, grads, states, lr, t):
    for k in params:
        params[k] = adam_step(params[k], grads[k], states.setdefault(k, {}), lr, t)


def ae_fit(X, seed, n_hidden, n_latent, epochs, batch_size, lr):
    """An autoencoder trained from default_rng(seed) (the parameters, then one permutation
    per epoch) with Adam on the mean BCE-with-logits summed over pixels. Returns params."""
    rng = np.random.default_rng(seed)
    X = _f64(X)
    params = ae_init(rng, X.shape[1], n_hidden, n_latent)
    states, t = {}, 0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            xb = X[order[start : start + batch_size]]
            _, logits, caches = ae_forward(params, xb)
            grads, _ = ae_backward(params, caches, bce_logits_backward(logits, xb))
            t += 1
            _adam_update(params, grads, states, lr, t)
    return params


def vae_fit(X, seed, n_hidden, n_latent, epochs, batch_size, lr, variant=None):
    """A VAE trained from default_rng(seed): the parameters, then per epoch one permutation
    and, per batch, eps = rng.standard_normal((batch, n_latent)). Adam on vae_loss.
    variant: None, or a vae_backward bug ('no_kl', 'kl_sign', ...) to train a broken one."""
    rng = np.random.default_rng(seed)
    X = _f64(X)
    params = vae_init(rng, X.shape[1], n_hidden, n_latent)
    states, t = {}, 0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            xb = X[order[start : start + batch_size]]
            eps = rng.standard_normal((len(xb), n_latent))
            grads, _ = vae_gradients(params, xb, eps, bug=variant)
            t += 1
            _adam_update(params, grads, states, lr, t)
    return params


def unet_fit(X, Y, seed, channels, epochs, batch_size, lr, skips="concat"):
    """A U-Net trained from default_rng(seed) (parameters, then one permutation per epoch)
    with Adam on the mean pixel cross-entropy. Returns params."""
    rng = np.random.default_rng(seed)
    X = _f64(X)
    params = unet_init(rng, X.shape[1], channels, 2, skips=skips != "none")
    states, t = {}, 0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            idx = order[start : start + batch_size]
            grads, _ = unet_gradients(params, X[idx], Y[idx], skips)
            t += 1
            _adam_update(params, grads, states, lr, t)
    return params


def unet_predict(params, X, skips="concat"):
    """(N, H, W) int: the class of highest probability at each pixel."""
    return np.argmax(unet_forward(params, X, skips)[0], axis=1)
