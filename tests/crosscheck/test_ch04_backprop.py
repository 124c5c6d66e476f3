"""Cross-check of reference/ch04_backprop against PyTorch autograd, in float64."""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)
F = torch.nn.functional

from reference import ch04_backprop as ref  # noqa: E402

RTOL = 1e-12
ATOL = 1e-12

DENSE_SHAPES = [(1, 1, 1), (1, 4, 3), (5, 3, 7), (16, 8, 4), (64, 20, 10)]
NET_SHAPES = [(1, 2, 3, 2), (4, 3, 5, 3), (10, 6, 8, 4), (32, 10, 16, 10)]


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("n, n_inputs, n_neurons", DENSE_SHAPES)
def test_dense_backward_matches_autograd(n, n_inputs, n_neurons):
    rng = np.random.default_rng(400 + n * 7 + n_inputs)
    X = rng.standard_normal((n, n_inputs))
    W = rng.standard_normal((n_inputs, n_neurons))
    b = rng.standard_normal((1, n_neurons))
    dout = rng.standard_normal((n, n_neurons))

    Xt, Wt, bt = _t(X), _t(W), _t(b)
    (Xt @ Wt + bt).backward(torch.from_numpy(dout))

    dX, dW, db = ref.dense_backward(X, W, dout)
    assert dX.shape == X.shape and dW.shape == W.shape and db.shape == b.shape
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=RTOL, atol=ATOL)


def _two_layer_params(rng, n, d, h, c):
    # Weights scaled by 1 / sqrt(fan-in) keep the scores moderate, so the probability
    # of each true class stays inside [1e-7, 1 - 1e-7], where the clipped loss and
    # torch's unclipped cross-entropy are the same function.
    X = rng.standard_normal((n, d))
    y = rng.integers(0, c, size=n)
    W1 = rng.standard_normal((d, h)) / np.sqrt(d)
    b1 = 0.1 * rng.standard_normal((1, h))
    W2 = rng.standard_normal((h, c)) / np.sqrt(h)
    b2 = 0.1 * rng.standard_normal((1, c))
    return X, y, {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


@pytest.mark.parametrize("n, d, h, c", NET_SHAPES)
def test_two_layer_loss_and_grads_matches_autograd(n, d, h, c):
    rng = np.random.default_rng(4000 + n * 13 + d * 5 + h)
    X, y, params = _two_layer_params(rng, n, d, h, c)

    tp = {k: _t(v) for k, v in params.items()}
    scores = torch.relu(torch.from_numpy(X) @ tp["W1"] + tp["b1"]) @ tp["W2"] + tp["b2"]
    picked = torch.softmax(scores, dim=1).detach().numpy()[np.arange(n), y]
    assert picked.min() > 1e-7 and picked.max() < 1 - 1e-7, "scores too large: clipping would apply"
    loss_t = F.cross_entropy(scores, torch.from_numpy(y))
    loss_t.backward()

    loss, grads = ref.two_layer_loss_and_grads(X, y, **params)
    assert isinstance(loss, float)
    assert loss == pytest.approx(loss_t.item(), rel=RTOL, abs=ATOL)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    for k, v in params.items():
        assert grads[k].shape == v.shape, k
        expected = tp[k].grad.numpy()
        np.testing.assert_allclose(grads[k], expected, rtol=1e-10, atol=ATOL, err_msg=k)


def _smooth_numpy(x):
    return float(np.sum(np.sin(x) * x**2) + np.log1p(np.sum(x**2)) + np.prod(np.cos(x / 3)))


def _smooth_torch(x):
    return (
        torch.sum(torch.sin(x) * x**2) + torch.log1p(torch.sum(x**2)) + torch.prod(torch.cos(x / 3))
    )


@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (2, 3, 2)])
def test_numerical_gradient_matches_autograd(shape):
    rng = np.random.default_rng(40 + int(np.prod(shape)))
    x = rng.standard_normal(shape)
    x_before = x.copy()

    xt = _t(x)
    _smooth_torch(xt).backward()
    exact = xt.grad.numpy()

    num = ref.numerical_gradient(_smooth_numpy, x)
    assert num.shape == x.shape
    np.testing.assert_array_equal(x, x_before)
    # Central differences with h = 1e-5: truncation ~ h^2, rounding ~ eps / h.
    np.testing.assert_allclose(num, exact, rtol=1e-7, atol=1e-8)
    assert ref.rel_error(num, exact) < 1e-6

    indices = np.stack([rng.integers(0, s, size=6) for s in shape], axis=1)
    errors = ref.relative_errors_at(_smooth_numpy, x, exact, indices)
    assert errors.shape == (6,)
    assert np.all(errors < 1e-6)
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.parametrize("n, d, h, c", NET_SHAPES)
def test_numerical_gradient_of_two_layer_loss_matches_autograd(n, d, h, c):
    rng = np.random.default_rng(7000 + n + d + h + c)
    X, y, params = _two_layer_params(rng, n, d, h, c)
    tp = {k: _t(v) for k, v in params.items()}
    scores = torch.relu(torch.from_numpy(X) @ tp["W1"] + tp["b1"]) @ tp["W2"] + tp["b2"]
    F.cross_entropy(scores, torch.from_numpy(y)).backward()

    for k, v in params.items():

        def loss_of(p, k=k):
            return ref.two_layer_loss_and_grads(X, y, **{**params, k: p})[0]

        num = ref.numerical_gradient(loss_of, v)
        assert ref.rel_error(num, tp[k].grad.numpy()) < 1e-5, k
