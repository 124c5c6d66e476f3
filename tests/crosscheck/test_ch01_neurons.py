"""Cross-check the chapter 01 reference against PyTorch (float64)."""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)

from reference import ch01_neurons as ref  # noqa: E402


@pytest.mark.parametrize("n,k,m", [(1, 1, 1), (3, 5, 2), (16, 10, 7)])
def test_matmul_matches_torch(n, k, m):
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    a, b = rng.normal(size=(n, k)), rng.normal(size=(k, m))
    want = torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(ref.matmul(a.tolist(), b.tolist()), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("N,n_in,n_out", [(1, 3, 2), (8, 4, 5), (32, 16, 10)])
def test_dense_forward_matches_torch_linear(N, n_in, n_out):
    rng = np.random.default_rng(N + n_in + n_out)
    X, W, b = (
        rng.normal(size=(N, n_in)),
        rng.normal(size=(n_in, n_out)),
        rng.normal(size=(1, n_out)),
    )
    # torch.nn.functional.linear computes X @ weight.T + bias with weight (n_out, n_in).
    want = torch.nn.functional.linear(
        torch.from_numpy(X), torch.from_numpy(W.T.copy()), torch.from_numpy(b[0])
    ).numpy()
    np.testing.assert_allclose(ref.dense_forward(X, W, b), want, rtol=1e-12, atol=1e-12)


def test_layer_output_matches_torch_matvec():
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=4), rng.normal(size=(3, 4)), rng.normal(size=3)
    want = (torch.from_numpy(W) @ torch.from_numpy(x) + torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(ref.layer_output(x, W, b), want, rtol=1e-12)
    assert ref.neuron_output(x, W[0], b[0]) == pytest.approx(float(want[0]), rel=1e-12)
