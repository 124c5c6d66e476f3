"""Cross-check of the chapter 07 reference against PyTorch, in float64.

Batch normalization. ``torch.nn.functional.batch_norm`` and the course normalise a
training batch the same way (the biased variance, divided by N), but they keep the
running statistics differently:

- torch's ``momentum`` is the weight of the *new* batch, the course's the weight of the
  *old* running value: torch momentum = 1 - course momentum;
- torch moves ``running_var`` towards the *unbiased* batch variance (divided by N - 1),
  the course towards the biased one. So torch's new running variance is
  ``m * old + (1 - m) * var * N / (N - 1)``; the tests undo that factor before comparing.

L2 regularization. ``torch.optim.SGD(weight_decay=wd)`` adds ``wd * W`` to the gradient.
The course's penalty ``l2 * sum(W**2)`` adds ``2 * l2 * W``, so ``l2 = wd / 2`` gives the
same step. L1: autograd of ``l1 * |W|.sum()`` is ``l1 * sign(W)`` (0 at W == 0).

Dropout and initialisation draw from torch's own generator, so only their semantics
(scaling, masks, variances) can be compared, not their exact values.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)
F = torch.nn.functional

from reference import ch07_generalization as ref  # noqa: E402

RTOL = 1e-10
ATOL = 1e-12
EPS = 1e-5

BN_SHAPES = [(2, 1), (3, 4), (8, 3), (32, 10), (100, 6)]


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _bn_inputs(seed, N, D):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)) * rng.uniform(0.3, 4.0, size=(1, D)) + rng.normal(
        scale=3.0, size=(1, D)
    )
    gamma = rng.uniform(0.5, 2.0, size=(1, D)) * rng.choice([-1.0, 1.0], size=(1, D))
    beta = rng.normal(size=(1, D))
    r_mean = rng.normal(size=(1, D))
    r_var = rng.uniform(0.2, 3.0, size=(1, D))
    dout = rng.normal(size=(N, D))
    return x, gamma, beta, r_mean, r_var, dout


@pytest.mark.parametrize("momentum", [0.9, 0.5])
@pytest.mark.parametrize("N,D", BN_SHAPES)
def test_batchnorm_train_forward_backward_and_running_stats(N, D, momentum):
    x, gamma, beta, r_mean, r_var, dout = _bn_inputs(70 + N + D, N, D)

    xt, gt, bt = _t(x, True), _t(gamma[0], True), _t(beta[0], True)
    rm_t, rv_t = _t(r_mean[0]), _t(r_var[0])
    out_t = F.batch_norm(xt, rm_t, rv_t, gt, bt, training=True, momentum=1 - momentum, eps=EPS)
    out_t.backward(_t(dout))

    out, new_mean, new_var, cache = ref.batchnorm_forward_train(
        x, gamma, beta, r_mean, r_var, momentum, EPS
    )
    dx, dgamma, dbeta = ref.batchnorm_backward(dout, cache)

    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=1e-11)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(dgamma[0], gt.grad.numpy(), rtol=RTOL, atol=1e-11)
    np.testing.assert_allclose(dbeta[0], bt.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(new_mean[0], rm_t.numpy(), rtol=RTOL, atol=ATOL)
    # torch: m * old + (1 - m) * unbiased; undo N / (N - 1) to get the course's biased update.
    torch_batch_var = (rv_t.numpy() - momentum * r_var[0]) / (1 - momentum) * (N - 1) / N
    np.testing.assert_allclose(
        new_var[0], momentum * r_var[0] + (1 - momentum) * torch_batch_var, rtol=1e-9, atol=ATOL
    )


def test_batchnorm_running_stats_over_several_batches():
    """Four training batches in a row: the running mean agrees with torch's; the running
    variance agrees after each batch's unbiased factor is undone."""
    D, momentum = 4, 0.8
    rng = np.random.default_rng(7)
    gamma, beta = np.ones((1, D)), np.zeros((1, D))
    mean, var = np.zeros((1, D)), np.ones((1, D))
    rm_t, rv_t = torch.zeros(D, dtype=torch.float64), torch.ones(D, dtype=torch.float64)
    var_biased_torch = np.ones(D)  # the course's update, rebuilt from torch's batches
    for k, N in enumerate([5, 9, 3, 16]):
        x = rng.normal(size=(N, D)) * (k + 1) + k
        F.batch_norm(_t(x), rm_t, rv_t, None, None, training=True, momentum=1 - momentum, eps=EPS)
        _, mean, var, _ = ref.batchnorm_forward_train(x, gamma, beta, mean, var, momentum, EPS)
        # torch's step used x.var(ddof=1); times (N - 1) / N it is the biased x.var().
        var_biased_torch = momentum * var_biased_torch + (1 - momentum) * x.var(axis=0)
    np.testing.assert_allclose(mean[0], rm_t.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(var[0], var_biased_torch, rtol=RTOL, atol=ATOL)
    # And torch's own running_var is the unbiased version of the same recursion.
    rng = np.random.default_rng(7)
    unbiased = np.ones(D)
    for k, N in enumerate([5, 9, 3, 16]):
        x = rng.normal(size=(N, D)) * (k + 1) + k
        unbiased = momentum * unbiased + (1 - momentum) * x.var(axis=0, ddof=1)
    np.testing.assert_allclose(rv_t.numpy(), unbiased, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("N,D", BN_SHAPES)
def test_batchnorm_eval_forward_and_backward(N, D):
    x, gamma, beta, r_mean, r_var, dout = _bn_inputs(170 + N + D, N, D)
    xt, gt, bt = _t(x, True), _t(gamma[0], True), _t(beta[0], True)
    rm_t, rv_t = _t(r_mean[0]), _t(r_var[0])
    out_t = F.batch_norm(xt, rm_t, rv_t, gt, bt, training=False, eps=EPS)
    out_t.backward(_t(dout))
    np.testing.assert_allclose(
        ref.batchnorm_forward_eval(x, gamma, beta, r_mean, r_var, EPS),
        out_t.detach().numpy(),
        rtol=RTOL,
        atol=1e-11,
    )
    np.testing.assert_allclose(
        ref.batchnorm_backward_eval(dout, gamma, r_var, EPS), xt.grad.numpy(), rtol=RTOL, atol=ATOL
    )
    # Inference leaves torch's running statistics alone, as it does the course's.
    np.testing.assert_array_equal(rm_t.numpy(), r_mean[0])
    np.testing.assert_array_equal(rv_t.numpy(), r_var[0])


@pytest.mark.parametrize("wd", [0.0, 1e-3, 0.1])
@pytest.mark.parametrize("N,n_in,n_out", [(1, 3, 2), (8, 5, 4), (32, 10, 3)])
def test_l2_gradient_is_torch_weight_decay(N, n_in, n_out, wd):
    """One SGD step with torch's weight_decay=wd equals a step with the course's
    regularized gradient for l2 = wd / 2 (weights and biases alike)."""
    rng = np.random.default_rng(700 + N + n_in + int(wd * 1000))
    X, W, b, dout = (
        rng.normal(size=(N, n_in)),
        rng.normal(size=(n_in, n_out)),
        rng.normal(size=(1, n_out)),
        rng.normal(size=(N, n_out)),
    )
    lr = 0.05
    Wt, bt = _t(W, True), _t(b, True)
    opt = torch.optim.SGD([Wt, bt], lr=lr, weight_decay=wd)
    (_t(X) @ Wt + bt).backward(_t(dout))
    opt.step()

    _, dW, db = ref.dense_backward_regularized(X, W, b, dout, l2_w=wd / 2, l2_b=wd / 2)
    np.testing.assert_allclose(W - lr * dW, Wt.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(b - lr * db, bt.detach().numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "l1_w,l2_w,l1_b,l2_b", [(0.0, 0.1, 0.0, 0.0), (0.05, 0.0, 0.0, 0.0), (0.01, 0.2, 0.03, 0.4)]
)
def test_penalty_and_gradient_match_autograd(l1_w, l2_w, l1_b, l2_b):
    """regularization_loss and dense_backward_regularized against autograd of
    (the data term) + (the penalty), with some weights exactly 0 (sign 0)."""
    rng = np.random.default_rng(77)
    X, W, b, dout = (
        rng.normal(size=(6, 4)),
        rng.normal(size=(4, 3)),
        rng.normal(size=(1, 3)),
        rng.normal(size=(6, 3)),
    )
    W[0, 0] = 0.0
    b[0, 1] = 0.0
    Wt, bt = _t(W, True), _t(b, True)
    penalty = (
        l1_w * Wt.abs().sum() + l2_w * (Wt**2).sum() + l1_b * bt.abs().sum() + l2_b * (bt**2).sum()
    )
    total = ((_t(X) @ Wt + bt) * _t(dout)).sum() + penalty
    total.backward()

    assert ref.regularization_loss(W, b, l1_w, l2_w, l1_b, l2_b) == pytest.approx(
        penalty.item(), rel=RTOL
    )
    _, dW, db = ref.dense_backward_regularized(X, W, b, dout, l1_w, l2_w, l1_b, l2_b)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_given_torch_mask_matches_torch(rate):
    """With torch's own mask, the reference forward and backward equal torch's: the
    same inverted scaling 1 / (1 - rate), the same mask in backward."""
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 40)) + 3.0  # no zeros, so the mask can be read off the output
    dout = rng.normal(size=x.shape)
    xt = _t(x, True)
    out_t = F.dropout(xt, p=rate, training=True)
    out_t.backward(_t(dout))
    mask = out_t.detach().numpy() / x
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1.0 / (1.0 - rate), rtol=1e-12)

    out, mask_used = ref.dropout_forward(x, rate, mask=mask)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(
        ref.dropout_backward(dout, mask_used), xt.grad.numpy(), rtol=RTOL, atol=ATOL
    )
    # At inference both are the identity.
    np.testing.assert_array_equal(
        F.dropout(_t(x), p=rate, training=False).numpy(),
        ref.dropout_forward(x, rate, training=False)[0],
    )
    # The reference's own masks have the same scaling.
    ref_mask = ref.dropout_mask((200, 300), rate, np.random.default_rng(2))
    assert set(np.unique(ref_mask)) <= {0.0, 1.0 / (1.0 - rate)}


@pytest.mark.parametrize(
    "kind,torch_init",
    [
        ("xavier", lambda w: torch.nn.init.xavier_normal_(w)),
        ("he", lambda w: torch.nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")),
    ],
)
def test_init_variance_matches_torch(kind, torch_init):
    """torch's xavier_normal_ and kaiming_normal_ (fan_in, relu) use the variances
    2 / (fan_in + fan_out) and 2 / fan_in. torch stores a weight as (fan_out, fan_in),
    the course as (fan_in, fan_out)."""
    fan_in, fan_out = 500, 400
    torch.manual_seed(3)
    w = torch_init(torch.empty(fan_out, fan_in, dtype=torch.float64)).numpy()
    want = ref.init_std(kind, fan_in, fan_out) ** 2
    ours = ref.init_weights(kind, fan_in, fan_out, np.random.default_rng(3))
    assert ours.shape == (fan_in, fan_out)
    se = want * np.sqrt(2.0 / (w.size - 1))
    assert abs(w.var() - want) < 5 * se
    assert abs(ours.var() - want) < 5 * se
