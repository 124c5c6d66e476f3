"""Cross-check of the chapter 03 reference (losses) against PyTorch, in float64.

PyTorch reduces differently from the course: its losses return either a per-element
tensor (``reduction="none"``) or one mean over every element. The course's forward
functions return a per-sample loss, averaged over the K outputs of each sample, so
those are compared with torch's per-element values averaged over dim 1. Gradients are
those of the course's *mean* loss, which for an (N, K) input is the mean over all
N * K elements, i.e. torch's ``reduction="mean"``.

The reference clips probabilities to [1e-7, 1 - 1e-7] and torch does not, so the
random inputs are kept well inside that interval (asserted by ``_unclipped``).
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)
F = torch.nn.functional

from reference import ch03_losses as ref  # noqa: E402

RTOL = 1e-10
ATOL = 1e-12

CLASS_SHAPES = [(1, 2), (1, 5), (3, 3), (8, 4), (16, 10), (64, 7)]
OUTPUT_SHAPES = [(1, 1), (1, 4), (5, 1), (8, 3), (32, 6)]
SEEDS = [0, 1, 2]


def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


def _close(actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    np.testing.assert_allclose(actual, np.asarray(expected), rtol=RTOL, atol=ATOL)


def _unclipped(p):
    """The probabilities are far enough from 0 and 1 that clipping does nothing."""
    assert np.all(p > 1e-6) and np.all(p < 1 - 1e-6)
    return p


def _classification(shape, seed):
    """Logits (N, C), their softmax, integer labels (N,) and one-hot labels (N, C)."""
    n, c = shape
    rng = np.random.default_rng(seed)
    logits = 2.0 * rng.standard_normal((n, c))
    probs = torch.softmax(_t(logits), dim=1).numpy()
    labels = rng.integers(0, c, size=n)
    onehot = F.one_hot(torch.tensor(labels), c).double().numpy()
    return logits, _unclipped(probs), labels, onehot


def _binary(shape, seed):
    """Probabilities (N, K) in (0.02, 0.98) and 0/1 targets (N, K)."""
    rng = np.random.default_rng(1000 + seed)
    p = rng.uniform(0.02, 0.98, size=shape)
    y = rng.integers(0, 2, size=shape).astype(np.float64)
    return _unclipped(p), y


def _regression(shape, seed):
    rng = np.random.default_rng(2000 + seed)
    return rng.standard_normal(shape), rng.standard_normal(shape)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_to_one_hot(shape, seed):
    _, _, labels, onehot = _classification(shape, seed)
    _close(ref.to_one_hot(labels, shape[1]), onehot)
    _close(ref.to_one_hot(onehot, shape[1]), onehot)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_cce_forward(shape, seed):
    logits, probs, labels, onehot = _classification(shape, seed)
    expected = F.nll_loss(torch.log(_t(probs)), torch.tensor(labels), reduction="none").numpy()
    _close(ref.cce_forward(probs, labels), expected)
    _close(ref.cce_forward(probs, onehot), expected)
    # the same value from the logits, through torch's own log-softmax
    from_logits = F.cross_entropy(_t(logits), torch.tensor(labels), reduction="none").numpy()
    _close(ref.cce_forward(probs, labels), from_logits)
    # cross_entropy also accepts class probabilities as targets (here one-hot rows)
    soft_targets = F.cross_entropy(_t(logits), _t(onehot), reduction="none").numpy()
    _close(ref.cce_forward(probs, onehot), soft_targets)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_cce_backward(shape, seed):
    _, probs, labels, onehot = _classification(shape, seed)
    p = _t(probs).requires_grad_()
    F.nll_loss(torch.log(p), torch.tensor(labels), reduction="mean").backward()
    _close(ref.cce_backward(probs, labels), p.grad.numpy())
    _close(ref.cce_backward(probs, onehot), p.grad.numpy())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_softmax_ce_forward(shape, seed):
    logits, _, labels, onehot = _classification(shape, seed)
    expected_loss = F.cross_entropy(_t(logits), torch.tensor(labels), reduction="mean").item()
    expected_probs = torch.softmax(_t(logits), dim=1).numpy()
    for y in (labels, onehot):
        loss, probs = ref.softmax_ce_forward(logits, y)
        assert isinstance(loss, float)
        _close(loss, expected_loss)
        _close(probs, expected_probs)


def test_softmax_ce_forward_large_logits():
    # logits whose exp overflows float64 without the max shift; no clipping is active
    logits = np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -999.5]])
    labels = np.array([1, 2])
    loss, probs = ref.softmax_ce_forward(logits, labels)
    _unclipped(probs)
    _close(loss, F.cross_entropy(_t(logits), torch.tensor(labels)).item())
    _close(probs, torch.softmax(_t(logits), dim=1).numpy())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_softmax_ce_backward(shape, seed):
    logits, _, labels, onehot = _classification(shape, seed)
    z = _t(logits).requires_grad_()
    F.cross_entropy(z, torch.tensor(labels), reduction="mean").backward()
    _, probs = ref.softmax_ce_forward(logits, labels)
    _close(ref.softmax_ce_backward(probs, labels), z.grad.numpy())
    _close(ref.softmax_ce_backward(probs, onehot), z.grad.numpy())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", OUTPUT_SHAPES)
def test_bce_forward(shape, seed):
    p, y = _binary(shape, seed)
    expected = F.binary_cross_entropy(_t(p), _t(y), reduction="none").mean(dim=1).numpy()
    _close(ref.bce_forward(p, y), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", OUTPUT_SHAPES)
def test_bce_backward(shape, seed):
    p, y = _binary(shape, seed)
    pt = _t(p).requires_grad_()
    F.binary_cross_entropy(pt, _t(y), reduction="mean").backward()
    _close(ref.bce_backward(p, y), pt.grad.numpy())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", OUTPUT_SHAPES)
def test_mse_forward(shape, seed):
    p, y = _regression(shape, seed)
    expected = F.mse_loss(_t(p), _t(y), reduction="none").mean(dim=1).numpy()
    _close(ref.mse_forward(p, y), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", OUTPUT_SHAPES)
def test_mse_backward(shape, seed):
    p, y = _regression(shape, seed)
    pt = _t(p).requires_grad_()
    F.mse_loss(pt, _t(y), reduction="mean").backward()
    _close(ref.mse_backward(p, y), pt.grad.numpy())


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", OUTPUT_SHAPES)
def test_mae_forward(shape, seed):
    p, y = _regression(shape, seed)
    expected = F.l1_loss(_t(p), _t(y), reduction="none").mean(dim=1).numpy()
    _close(ref.mae_forward(p, y), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", OUTPUT_SHAPES)
def test_mae_backward(shape, seed):
    p, y = _regression(shape, seed)
    p[0, 0] = y[0, 0]  # one exact tie: both take the subgradient 0 there
    pt = _t(p).requires_grad_()
    F.l1_loss(pt, _t(y), reduction="mean").backward()
    _close(ref.mae_backward(p, y), pt.grad.numpy())
    assert ref.mae_backward(p, y)[0, 0] == 0.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", CLASS_SHAPES)
def test_accuracy(shape, seed):
    logits, probs, labels, onehot = _classification(shape, seed)
    # make about half the labels the predicted class, so the accuracy is not trivially 0 or 1
    rng = np.random.default_rng(3000 + seed)
    labels = np.where(rng.random(shape[0]) < 0.5, logits.argmax(axis=1), labels)
    onehot = F.one_hot(torch.tensor(labels), shape[1]).double().numpy()
    expected = (torch.argmax(_t(logits), dim=1) == torch.tensor(labels)).double().mean().item()
    for scores in (logits, probs):
        _close(ref.accuracy(scores, labels), expected)
        _close(ref.accuracy(scores, onehot), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", OUTPUT_SHAPES)
def test_binary_accuracy(shape, seed):
    p, y = _binary(shape, seed)
    expected = ((_t(p) > 0.5).double() == _t(y)).double().mean().item()
    _close(ref.binary_accuracy(p, y), expected)
