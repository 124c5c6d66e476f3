"""Cross-check of the chapter 14 reference against PyTorch, in float64.

The Gram matrix and its backward by autograd (with a non-symmetric upstream gradient); the
content (``F.mse_loss``), style and total-variation losses and their gradients; the whole
style-transfer loss through the shipped LeNet-5's first layers (``F.conv2d``, ``F.relu``,
``F.max_pool2d``) and its gradient with respect to the image; Adam with two learning rates
and a frozen group against ``torch.optim.Adam`` with parameter groups; the few-label
training run of each strategy against the same network in torch; the masked-token loss and
gradients of the shipped encoder and two fine-tuning steps of its classifier, with the
encoder written in torch operations.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)
F = torch.nn.functional

from reference import ch14_transfer as ref  # noqa: E402

RTOL = 1e-10
ATOL = 1e-12


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(
        np.asarray(a), b.detach().numpy() if hasattr(b, "detach") else b, rtol=rtol, atol=atol
    )


def _gram(f):
    N, C, H, W = f.shape
    Fm = f.reshape(N, C, H * W)
    return Fm @ Fm.transpose(1, 2) / (C * H * W)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 6, 7, 7), (3, 16, 10, 10)])
def test_gram_and_its_backward_match_torch(shape):
    rng = np.random.default_rng(sum(shape))
    f, dG = rng.standard_normal(shape), rng.standard_normal((shape[0], shape[1], shape[1]))
    tf = _t(f, True)
    G = _gram(tf)
    _close(ref.gram(f), G)
    (G * _t(dG)).sum().backward()
    _close(ref.gram_backward(dG, f), tf.grad)


def test_losses_and_gradients_match_torch():
    rng = np.random.default_rng(3)
    Fm, P = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 4))
    tF = _t(Fm, True)
    loss = F.mse_loss(tF, _t(P))
    loss.backward()
    _close(ref.content_loss(Fm, P), loss)
    _close(ref.content_loss_backward(Fm, P), tF.grad)
    G, A = rng.standard_normal((3, 4, 4)), rng.standard_normal((3, 4, 4))
    tG = _t(G, True)
    loss = ((tG - _t(A)) ** 2).sum() / 3
    loss.backward()
    _close(ref.style_loss(G, A), loss)
    _close(ref.style_loss_backward(G, A), tG.grad)
    x = rng.standard_normal((2, 1, 5, 4))
    tx = _t(x, True)
    loss = ((tx[:, :, 1:, :] - tx[:, :, :-1, :]) ** 2).sum() / 2 + (
        (tx[:, :, :, 1:] - tx[:, :, :, :-1]) ** 2
    ).sum() / 2
    loss.backward()
    _close(ref.tv_loss(x), loss)
    _close(ref.tv_loss_backward(x), tx.grad)


def test_style_transfer_loss_through_the_shipped_network_matches_torch():
    params = ref.load_pretrained()
    X, y, parts = ref.digit_data()
    content, style = X[parts["target_test"][:1]], X[parts["source_test"][:1]]
    x = content + 0.3 * np.random.default_rng(0).standard_normal(content.shape)
    P, A1, A4 = ref.style_targets(params, content, style)
    (total, *_), dx = ref.total_loss(params, x, P, A1, A4)
    W1, b1, W2, b2 = (_t(params[k]) for k in ("conv1.W", "conv1.b", "conv2.W", "conv2.b"))
    tx = _t(x, True)
    a1 = F.relu(F.conv2d(tx, W1, b1, padding=2))
    a4 = F.relu(F.conv2d(F.max_pool2d(a1, 2), W2, b2))
    wc, ws, wt = ref.CONTENT_WEIGHT, ref.STYLE_WEIGHT, ref.TV_WEIGHT
    style_term = ((_gram(a1) - _t(A1)) ** 2).sum() + ((_gram(a4) - _t(A4)) ** 2).sum()
    tv = ((tx[:, :, 1:, :] - tx[:, :, :-1, :]) ** 2).sum() + (
        (tx[:, :, :, 1:] - tx[:, :, :, :-1]) ** 2
    ).sum()
    loss = wc * F.mse_loss(a4, _t(P)) + ws * style_term + wt * tv
    loss.backward()
    _close(total, loss, rtol=1e-9)
    _close(dx, tx.grad, rtol=1e-8, atol=1e-12)


def test_adam_with_groups_and_a_frozen_group_matches_torch():
    rng = np.random.default_rng(7)
    params = {k: rng.standard_normal((3, 4)) for k in ("a", "b", "c")}
    grads = [{k: rng.standard_normal((3, 4)) for k in params} for _ in range(4)]
    lrs = {"a": 3e-4, "b": 3e-3, "c": 0.0}
    got, with_state = ref.group_steps(params, grads, lrs)
    tp = {k: _t(v, True) for k, v in params.items()}
    opt = torch.optim.Adam(
        [{"params": [tp["a"]], "lr": 3e-4}, {"params": [tp["b"]], "lr": 3e-3}], eps=1e-7
    )
    for g in grads:
        opt.zero_grad()
        for k in ("a", "b"):
            tp[k].grad = _t(g[k])
        opt.step()
    for k in ("a", "b"):
        _close(got[k], tp[k], rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(got["c"], params["c"])
    assert with_state == ["a", "b"]


@pytest.mark.parametrize("strategy", ["features", "finetune", "scratch"])
def test_few_label_training_matches_torch(strategy):
    """Four full-batch Adam steps of LeNet-5 from the strategy's start, in torch (frozen
    convolutions: requires_grad False)."""
    pre = ref.load_pretrained()
    X, y, parts = ref.digit_data()
    idx = ref.labelled_subset(y, parts["pool"], 2, np.random.default_rng(0))
    start, lrs = ref.transfer_start(pre, strategy, np.random.default_rng(5))
    want = ref.lenet_fit(start, X[idx], y[idx], steps=4, lrs=lrs)
    tp = {k: _t(v, bool(lrs[k])) for k, v in start.items()}
    groups = {}
    for k, lr in lrs.items():
        if lr:
            groups.setdefault(lr, []).append(tp[k])
    opt = torch.optim.Adam([{"params": v, "lr": lr} for lr, v in groups.items()], eps=1e-7)
    xb, yb = _t(X[idx]), torch.tensor(y[idx])
    for _ in range(4):
        opt.zero_grad()
        h = F.max_pool2d(F.relu(F.conv2d(xb, tp["conv1.W"], tp["conv1.b"], padding=2)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, tp["conv2.W"], tp["conv2.b"])), 2).reshape(len(idx), -1)
        h = F.relu(h @ tp["fc1.W"] + tp["fc1.b"])
        h = F.relu(h @ tp["fc2.W"] + tp["fc2.b"])
        F.cross_entropy(h @ tp["fc3.W"] + tp["fc3.b"], yb).backward()
        opt.step()
    for k in start:
        _close(want[k], tp[k], rtol=1e-7, atol=1e-10)


def _torch_encoder_body(p, ids):
    """The shipped encoder's body (layers 0-4) in torch operations: embedding, sinusoidal
    positions, two pre-LN blocks (head h owns features [h dk, (h + 1) dk)), final norm."""
    D, H = ref.ENC_D, ref.ENC_HEADS
    N, T = ids.shape
    h = p["layer0.weights"][torch.tensor(ids)] + _t(ref.sinusoidal_encoding(T, D))

    def ln(x, key):
        return F.layer_norm(x, (D,), p[f"{key}.gamma"][0], p[f"{key}.beta"][0], eps=1e-5)

    def heads(x):
        return x.reshape(N, T, H, D // H).transpose(1, 2)

    for i in range(2, 2 + ref.ENC_BLOCKS):
        a = ln(h, f"layer{i}.ln1")
        q, k, v = (heads(a @ p[f"layer{i}.attn.W{n}"] + p[f"layer{i}.attn.b{n}"]) for n in "qkv")
        w = torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(D // H), dim=-1)
        m = (w @ v).transpose(1, 2).reshape(N, T, D)
        h = h + m @ p[f"layer{i}.attn.Wo"] + p[f"layer{i}.attn.bo"]
        b = ln(h, f"layer{i}.ln2")
        f = F.relu(b @ p[f"layer{i}.ff1.weights"] + p[f"layer{i}.ff1.biases"])
        h = h + f @ p[f"layer{i}.ff2.weights"] + p[f"layer{i}.ff2.biases"]
    return ln(h, f"layer{2 + ref.ENC_BLOCKS}")


def test_masked_token_loss_and_gradients_match_torch():
    """One masked-token batch through the shipped encoder: the loss (mean cross-entropy over
    the selected positions) and every parameter's gradient."""
    enc = ref.load_encoder()
    rng = np.random.default_rng(5)
    ids = ref.chain_sequences(rng.integers(0, 2, 6), rng)
    loss, grads, (_, inputs, selected) = ref.mlm_step(enc, ids, np.random.default_rng(9))
    tp = {k: _t(v, True) for k, v in enc.items()}
    last = 2 + ref.ENC_BLOCKS
    logits = (
        _torch_encoder_body(tp, inputs) @ tp[f"layer{last + 1}.weights"]
        + tp[f"layer{last + 1}.biases"]
    )
    sel = torch.tensor(selected)
    tloss = F.cross_entropy(logits[sel], torch.tensor(ids)[sel])
    tloss.backward()
    _close(loss, tloss, rtol=1e-9)
    for k, g in grads.items():
        _close(g, tp[k].grad, rtol=1e-7, atol=1e-11)


def test_fine_tuning_the_encoder_matches_torch():
    """Two full-batch Adam steps of the mean-pooled classifier on the shipped encoder's body,
    the body at SEQ_BODY_LR and the new head at SEQ_HEAD_LR (torch parameter groups)."""
    enc = ref.load_encoder()
    rng = np.random.default_rng(2)
    y = rng.permutation(np.repeat([0, 1], 4))
    X = ref.chain_sequences(y, rng)
    want = ref.seq_fit(enc, X, y, seed=7, steps=2)
    head = ref.seq_head_init(np.random.default_rng(7))
    last = 2 + ref.ENC_BLOCKS
    tp = {k: _t(v, True) for k, v in enc.items() if not k.startswith(f"layer{last + 1}.")}
    W, b = _t(head["head.W"], True), _t(head["head.b"], True)
    opt = torch.optim.Adam(
        [
            {"params": list(tp.values()), "lr": ref.SEQ_BODY_LR},
            {"params": [W, b], "lr": ref.SEQ_HEAD_LR},
        ],
        eps=1e-7,
    )
    for _ in range(2):
        opt.zero_grad()
        logits = _torch_encoder_body(tp, X).mean(dim=1) @ W + b
        F.cross_entropy(logits, torch.tensor(y)).backward()
        opt.step()
    _close(want["layer6.weights"], W, rtol=1e-7, atol=1e-10)
    for k, v in tp.items():
        _close(want[k], v, rtol=1e-7, atol=1e-10)
