"""Cross-check the chapter 02 reference against PyTorch (float64, autograd)."""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)

import reference.ch02_activations as ref  # noqa: E402

RTOL = 1e-10
ATOL = 1e-12
SHAPES = [(1, 1), (1, 5), (4, 3), (16, 10), (33, 7)]
ALPHAS = [0.01, 0.2]


def _random(shape, seed, scale=3.0):
    """Random (N, D) float64 input with some exact zeros and repeated values."""
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(shape)
    mask = rng.random(shape) < 0.15
    x[mask] = 0.0
    return x


def _huge():
    """(5, 4) inputs far outside the range where a naive exp is safe."""
    return np.array(
        [
            [1000.0, -1000.0, 0.0, 1.0],
            [1000.0, 1000.0, 1000.0, 1000.0],
            [-1000.0, -1000.0, -999.0, -1000.0],
            [710.0, -710.0, 40.0, -40.0],
            [800.0, 799.0, -800.0, 0.0],
        ]
    )


def _torch_pair(torch_fn, x, dout):
    """(y, x.grad) of torch_fn at x, with y.backward(dout)."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = torch_fn(xt)
    y.backward(torch.tensor(dout, dtype=torch.float64))
    return y.detach().numpy(), xt.grad.numpy()


def _inputs():
    """(id, x) pairs: random inputs of several shapes, huge inputs, all zeros."""
    cases = [(f"{shape[0]}x{shape[1]}", _random(shape, seed=i)) for i, shape in enumerate(SHAPES)]
    cases.append(("huge", _huge()))
    cases.append(("zeros", np.zeros((3, 4))))
    return cases


CASES = _inputs()
IDS = [str(c[0]) for c in CASES]

# (reference forward, reference backward, torch function)
FUNCTIONS = [
    pytest.param(ref.relu_forward, ref.relu_backward, torch.relu, id="relu"),
    pytest.param(ref.sigmoid_forward, ref.sigmoid_backward, torch.sigmoid, id="sigmoid"),
    pytest.param(ref.tanh_forward, ref.tanh_backward, torch.tanh, id="tanh"),
    pytest.param(
        ref.softmax_forward, ref.softmax_backward, lambda t: torch.softmax(t, dim=1), id="softmax"
    ),
    pytest.param(ref.linear_forward, ref.linear_backward, lambda t: t.clone(), id="linear"),
]


def _check(ref_fwd, ref_bwd, torch_fn, x, seed):
    dout = np.random.default_rng(1000 + seed).standard_normal(x.shape)
    y_t, dx_t = _torch_pair(torch_fn, x, dout)
    y_r = ref_fwd(x)
    dx_r = ref_bwd(x, dout)
    assert y_r.dtype == np.float64 and y_r.shape == x.shape
    assert dx_r.dtype == np.float64 and dx_r.shape == x.shape
    assert np.all(np.isfinite(y_r)) and np.all(np.isfinite(dx_r))
    np.testing.assert_allclose(y_r, y_t, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx_r, dx_t, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("ref_fwd,ref_bwd,torch_fn", FUNCTIONS)
@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_matches_torch(ref_fwd, ref_bwd, torch_fn, case):
    _, x = CASES[case]
    _check(ref_fwd, ref_bwd, torch_fn, x, case)


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("case", range(len(CASES)), ids=IDS)
def test_leaky_relu_matches_torch(alpha, case):
    _, x = CASES[case]
    _check(
        lambda a: ref.leaky_relu_forward(a, alpha=alpha),
        lambda a, d: ref.leaky_relu_backward(a, d, alpha=alpha),
        lambda t: torch.nn.functional.leaky_relu(t, negative_slope=alpha),
        x,
        case,
    )


def test_derivative_at_zero_matches_torch():
    """At exactly x == 0: ReLU's slope is 0 and Leaky ReLU's is alpha, as in PyTorch."""
    x = np.zeros((2, 3))
    dout = np.ones((2, 3))
    _, g_relu = _torch_pair(torch.relu, x, dout)
    _, g_leaky = _torch_pair(lambda t: torch.nn.functional.leaky_relu(t, 0.1), x, dout)
    np.testing.assert_array_equal(ref.relu_backward(x, dout), g_relu)
    np.testing.assert_array_equal(ref.relu_backward(x, dout), 0.0)
    np.testing.assert_array_equal(ref.leaky_relu_backward(x, dout, alpha=0.1), g_leaky)
    np.testing.assert_array_equal(ref.leaky_relu_backward(x, dout, alpha=0.1), 0.1)


def test_sigmoid_saturates_exactly():
    """x = +-1000 gives exactly 0 and 1, without overflow (underflow to 0 is expected)."""
    x = np.array([[-1000.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = ref.sigmoid_forward(x)
    np.testing.assert_array_equal(y, [[0.0, 1.0]])
    np.testing.assert_array_equal(y, torch.sigmoid(torch.tensor(x)).numpy())


def test_softmax_jacobian_matches_torch():
    """The explicit per-sample Jacobian equals the one torch.autograd builds."""
    x = _random((3, 5), seed=7)
    J_r = ref.softmax_jacobian(x)
    for n in range(x.shape[0]):
        J_t = torch.autograd.functional.jacobian(
            lambda row: torch.softmax(row, dim=0), torch.tensor(x[n], dtype=torch.float64)
        ).numpy()
        np.testing.assert_allclose(J_r[n], J_t, rtol=RTOL, atol=ATOL)
