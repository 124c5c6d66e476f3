"""Cross-check of the chapter 13 reference against PyTorch, in float64.

BCE on logits against ``F.binary_cross_entropy_with_logits`` (extreme logits included); the
KL term against ``torch.distributions.kl_divergence`` of two ``Normal``s; the
reparameterization's gradients by autograd; upsampling against ``F.interpolate`` (nearest);
the pixel cross-entropy against ``F.cross_entropy`` on (N, K, H, W) logits; and whole
networks (autoencoder, VAE with a fixed eps, U-Net with ``torch.cat`` of the skip first)
written with torch operations, their parameter gradients by autograd.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)
F = torch.nn.functional

from reference import ch13_generative as ref  # noqa: E402

RTOL = 1e-10
ATOL = 1e-12


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _close(a, b):
    np.testing.assert_allclose(
        np.asarray(a), b.detach().numpy() if hasattr(b, "detach") else b, rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize("N,D,scale", [(4, 6, 3.0), (1, 9, 1.0), (3, 5, 60.0), (2, 4, 1000.0)])
def test_bce_with_logits_matches_torch(N, D, scale):
    rng = np.random.default_rng(N * 10 + D)
    logits, t = scale * rng.standard_normal((N, D)), rng.random((N, D))
    tl = _t(logits, True)
    per = F.binary_cross_entropy_with_logits(tl, _t(t), reduction="none").sum(dim=1)
    _close(ref.bce_logits(logits, t), per)
    per.mean().backward()
    _close(ref.bce_logits_backward(logits, t), tl.grad)


@pytest.mark.parametrize("N,K", [(4, 3), (1, 5), (7, 12)])
def test_kl_and_reparameterization_match_torch(N, K):
    rng = np.random.default_rng(N + K)
    mu, logvar, eps = (
        rng.standard_normal((N, K)),
        rng.uniform(-3, 2, (N, K)),
        rng.standard_normal((N, K)),
    )
    tmu, tlv = _t(mu, True), _t(logvar, True)
    std = torch.exp(0.5 * tlv)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(tmu, std),
        torch.distributions.Normal(torch.zeros_like(tmu), torch.ones_like(tmu)),
    )
    _close(ref.kl_divergence(mu, logvar), kl.sum(dim=1))
    kl.sum(dim=1).mean().backward()
    dmu, dlv = ref.kl_backward(mu, logvar)
    _close(dmu, tmu.grad)
    _close(dlv, tlv.grad)
    tmu, tlv = _t(mu, True), _t(logvar, True)
    z = tmu + torch.exp(0.5 * tlv) * _t(eps)
    _close(ref.reparameterize(mu, logvar, eps), z)
    dz = rng.standard_normal((N, K))
    z.backward(_t(dz))
    dmu, dlv = ref.reparameterize_backward(dz, logvar, eps)
    _close(dmu, tmu.grad)
    _close(dlv, tlv.grad)


@pytest.mark.parametrize("shape", [(2, 3, 2, 3), (1, 1, 3, 3), (3, 2, 5, 2)])
def test_upsample_matches_interpolate_nearest(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    tx = _t(x, True)
    out = F.interpolate(tx, scale_factor=2, mode="nearest")
    _close(ref.upsample_forward(x), out)
    d = rng.standard_normal(out.shape)
    out.backward(_t(d))
    _close(ref.upsample_backward(d), tx.grad)


@pytest.mark.parametrize("N,K,H,W", [(2, 2, 3, 4), (1, 3, 2, 2), (3, 4, 5, 1)])
def test_pixel_softmax_and_cross_entropy_match_torch(N, K, H, W):
    rng = np.random.default_rng(N * K * H * W)
    z, y = 3 * rng.standard_normal((N, K, H, W)), rng.integers(0, K, (N, H, W))
    tz = _t(z, True)
    _close(ref.pixel_softmax(z), torch.softmax(tz, dim=1))
    per = F.cross_entropy(tz, torch.tensor(y), reduction="none").reshape(N, -1).mean(dim=1)
    _close(ref.pixel_cross_entropy(z, y), per)
    per.mean().backward()
    _close(ref.pixel_cross_entropy_backward(z, y), tz.grad)


def _torch_mlp(tp, prefix, h):
    n = len([k for k in tp if k.startswith(prefix) and k.endswith(".weights")])
    for i in range(n):
        h = h @ tp[f"{prefix}{2 * i}.weights"] + tp[f"{prefix}{2 * i}.biases"]
        if i < n - 1:
            h = torch.relu(h)
    return h


def _perturbed(params, rng):
    return {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}


def test_autoencoder_gradients_match_autograd():
    rng = np.random.default_rng(5)
    params = _perturbed(ref.ae_init(rng, 12, 7, 3), rng)
    x = rng.random((5, 12))
    tp = {k: _t(v, True) for k, v in params.items()}
    logits = _torch_mlp(tp, "decoder", _torch_mlp(tp, "encoder", _t(x)))
    F.binary_cross_entropy_with_logits(logits, _t(x), reduction="none").sum(dim=1).mean().backward()
    _, want_logits, caches = ref.ae_forward(params, x)
    _close(want_logits, logits)
    grads, _ = ref.ae_backward(params, caches, ref.bce_logits_backward(want_logits, x))
    for k in params:
        _close(grads[k], tp[k].grad)


def test_vae_gradients_match_autograd():
    rng = np.random.default_rng(6)
    params = _perturbed(ref.vae_init(rng, 10, 6, 3), rng)
    x, eps = rng.random((4, 10)), rng.standard_normal((4, 3))
    tp = {k: _t(v, True) for k, v in params.items()}
    tx = _t(x, True)
    out = _torch_mlp(tp, "encoder", tx)
    mu, logvar = out[:, :3], out[:, 3:]
    logits = _torch_mlp(tp, "decoder", mu + torch.exp(0.5 * logvar) * _t(eps))
    kl = -0.5 * torch.sum(1 + logvar - mu**2 - torch.exp(logvar), dim=1)
    loss = (
        F.binary_cross_entropy_with_logits(logits, _t(x), reduction="none").sum(dim=1) + kl
    ).mean()
    loss.backward()
    assert abs(ref.vae_loss(params, x, eps) - loss.item()) <= 1e-10 * abs(loss.item())
    grads, dx = ref.vae_gradients(params, x, eps)
    for k in params:
        _close(grads[k], tp[k].grad)
    # dinputs: x as the encoder's input only (the target held fixed)
    tx2 = _t(x, True)
    out = _torch_mlp({k: v.detach() for k, v in tp.items()}, "encoder", tx2)
    mu, logvar = out[:, :3], out[:, 3:]
    logits = _torch_mlp(
        {k: v.detach() for k, v in tp.items()}, "decoder", mu + torch.exp(0.5 * logvar) * _t(eps)
    )
    kl = -0.5 * torch.sum(1 + logvar - mu**2 - torch.exp(logvar), dim=1)
    (
        F.binary_cross_entropy_with_logits(logits, _t(x), reduction="none").sum(dim=1) + kl
    ).mean().backward()
    _close(dx, tx2.grad)


@pytest.mark.parametrize(
    "N,C_in,c,K,H,W", [(2, 1, 2, 2, 8, 8), (1, 2, 3, 3, 4, 6), (3, 1, 4, 2, 16, 16)]
)
def test_unet_forward_and_gradients_match_autograd(N, C_in, c, K, H, W):
    rng = np.random.default_rng(N * 100 + H)
    params = _perturbed(ref.unet_init(rng, C_in, c, K), rng)
    x, y = rng.standard_normal((N, C_in, H, W)), rng.integers(0, K, (N, H, W))
    tp = {k: _t(v, True) for k, v in params.items()}
    tx = _t(x, True)
    a1 = torch.relu(F.conv2d(tx, tp["down.weights"], tp["down.biases"], padding=1))
    a2 = torch.relu(
        F.conv2d(F.max_pool2d(a1, 2), tp["bottom.weights"], tp["bottom.biases"], padding=1)
    )
    cat = torch.cat([a1, F.interpolate(a2, scale_factor=2, mode="nearest")], dim=1)
    a3 = torch.relu(F.conv2d(cat, tp["up.weights"], tp["up.biases"], padding=1))
    logits = F.conv2d(a3, tp["head.weights"], tp["head.biases"])
    _close(ref.unet_forward(params, x)[0], logits)
    F.cross_entropy(logits, torch.tensor(y)).backward()
    grads, dx = ref.unet_gradients(params, x, y)
    for k in params:
        _close(grads[k], tp[k].grad)
    _close(dx, tx.grad)
