"""Cross-check of the chapter 10 reference against PyTorch, in float64.

``torch.nn.functional.conv2d`` computes the same cross-correlation as the course (no
kernel flip), with weights (F, C, K, K), biases (F,) and NCHW inputs; autograd gives the
three gradients. ``max_pool2d`` routes each window's gradient to one maximum; on inputs
without ties every rule agrees, so the gradients are compared there, and the tie rule is
checked against torch's ``return_indices`` on inputs with ties (torch picks the first
maximum in reading order on CPU, as the course does). ``F.unfold`` is im2col with the
transposed layout: (N, C*K*K, OH*OW), the same (c, p, q) order of the window entries.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)
F = torch.nn.functional

from reference import ch10_convnets as ref  # noqa: E402

RTOL = 1e-10
ATOL = 1e-12

# (N, C, H, W, F, K, stride, padding)
CONV_CASES = [
    (2, 3, 4, 4, 3, 4, 2, 1),
    (2, 2, 5, 7, 4, 3, 1, 0),
    (1, 3, 6, 5, 2, 3, 2, 1),
    (3, 1, 8, 8, 2, 5, 1, 2),
    (2, 3, 7, 9, 2, 1, 1, 0),
    (3, 2, 9, 6, 3, 3, 3, 2),
    (4, 1, 28, 28, 6, 5, 1, 2),
    (4, 6, 14, 14, 16, 5, 1, 0),
]


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("N,C,H,W,Fo,K,stride,padding", CONV_CASES)
def test_conv_forward_and_backward_match_torch(N, C, H, W, Fo, K, stride, padding):
    rng = np.random.default_rng(N * 1000 + H * 10 + K)
    x, w, b = (
        rng.standard_normal((N, C, H, W)),
        rng.standard_normal((Fo, C, K, K)),
        rng.standard_normal(Fo),
    )
    tx, tw, tb = _t(x, True), _t(w, True), _t(b, True)
    out = F.conv2d(tx, tw, tb, stride=stride, padding=padding)
    want = ref.conv_forward(x, w, b, stride, padding)
    np.testing.assert_allclose(want, out.detach().numpy(), rtol=RTOL, atol=ATOL)
    dout = rng.standard_normal(want.shape)
    out.backward(_t(dout))
    dx, dw, db = ref.conv_backward(dout, x, w, stride, padding)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "N,C,H,W,K,stride,padding",
    [(2, 2, 4, 5, 3, 1, 0), (2, 2, 4, 5, 3, 2, 1), (1, 3, 6, 6, 2, 2, 0)],
)
def test_im2col_and_col2im_match_unfold_and_fold(N, C, H, W, K, stride, padding):
    rng = np.random.default_rng(H * W + K)
    x = rng.standard_normal((N, C, H, W))
    unfolded = F.unfold(_t(x), K, padding=padding, stride=stride)  # (N, C*K*K, OH*OW)
    cols = ref.im2col(x, K, K, stride, padding)
    np.testing.assert_allclose(
        cols, unfolded.permute(0, 2, 1).reshape(-1, C * K * K).numpy(), rtol=0, atol=0
    )
    c = rng.standard_normal(cols.shape)
    tc = _t(c).reshape(N, -1, C * K * K).permute(0, 2, 1)
    folded = F.fold(tc, (H, W), K, padding=padding, stride=stride)
    np.testing.assert_allclose(
        ref.col2im(c, x.shape, K, K, stride, padding), folded.numpy(), rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize(
    "N,C,H,W,K,stride",
    [
        (2, 3, 4, 6, 2, 2),
        (1, 2, 7, 5, 3, 2),
        (2, 1, 5, 5, 2, 1),
        (2, 2, 5, 7, 2, 2),
        (2, 2, 6, 7, 3, 1),
    ],
)
def test_maxpool_matches_torch_on_tie_free_inputs(N, C, H, W, K, stride):
    x = ref.tie_free(np.random.default_rng(H * W), (N, C, H, W))
    tx = _t(x, True)
    out = F.max_pool2d(tx, K, stride)
    np.testing.assert_allclose(
        ref.maxpool_forward(x, K, stride), out.detach().numpy(), rtol=0, atol=0
    )
    dout = np.random.default_rng(1).standard_normal(out.shape)
    out.backward(_t(dout))
    np.testing.assert_allclose(
        ref.maxpool_backward(dout, x, K, stride), tx.grad.numpy(), rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize("K,stride", [(2, 2), (3, 1)])
def test_maxpool_tie_rule_is_torchs_first_index(K, stride):
    x = np.random.default_rng(3).integers(0, 3, size=(2, 2, 6, 6)).astype(np.float64)
    tx = _t(x, True)
    out = F.max_pool2d(tx, K, stride)
    dout = np.random.default_rng(4).standard_normal(out.shape)
    out.backward(_t(dout))
    np.testing.assert_allclose(
        ref.maxpool_backward(dout, x, K, stride, ties="first"),
        tx.grad.numpy(),
        rtol=RTOL,
        atol=ATOL,
    )


def test_flatten_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    np.testing.assert_array_equal(ref.flatten_forward(x), torch.flatten(_t(x), 1).numpy())
