"""Cross-check of the chapter 11 reference against PyTorch, in float64.

Layouts. torch stores a recurrent layer's weights as ``weight_ih_l0`` (G*H, D) and
``weight_hh_l0`` (G*H, H) with two biases ``bias_ih_l0`` and ``bias_hh_l0`` (G*H,); the course
multiplies ``inputs @ weights``, so ``weights_x = weight_ih.T`` and ``weights_h = weight_hh.T``.
The blocks are in the same order (LSTM i, f, g, o; GRU r, z, n). For the RNN and the LSTM
the two torch biases only ever appear as a sum, the course's single ``biases``; for the GRU
they are kept apart (``biases_x = bias_ih``, ``biases_h = bias_hh``) because torch's reset
gate multiplies ``W_hn h + b_hn`` but not ``b_in``, exactly as the course defines it.

The layer tests compare the whole hidden sequence and the gradients of the inputs, the
initial state(s) and every parameter, with a random gradient on every step. Then the pieces
the training runs add: the embedding, clipping by global norm, softmax cross-entropy over
every step, the whole adding-problem network's gradients and the character model's logits.
"""

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch", reason="PyTorch is an optional dev dependency: pip install torch==2.13.0 (CPU)"
)

from reference import ch11_recurrent as ref  # noqa: E402

RTOL = 1e-9
ATOL = 1e-11
SHAPES = [(1, 1, 1, 1), (2, 5, 3, 4), (3, 10, 4, 6), (4, 7, 6, 2)]  # N, T, D, H
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), dtype=torch.float64, requires_grad=grad)


def _torch_layer(kind, D, H, seed):
    torch.manual_seed(seed)
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    layer = cls(D, H, batch_first=True).double()
    with torch.no_grad():  # larger weights than torch's default, so the gates saturate sometimes
        for p in layer.parameters():
            p.mul_(2.5)
    return layer


def _course_params(kind, layer):
    W_ih, W_hh = layer.weight_ih_l0.detach().numpy(), layer.weight_hh_l0.detach().numpy()
    b_ih, b_hh = layer.bias_ih_l0.detach().numpy(), layer.bias_hh_l0.detach().numpy()
    p = {"weights_x": W_ih.T.copy(), "weights_h": W_hh.T.copy()}
    if kind == "gru":
        p["biases_x"], p["biases_h"] = b_ih[None, :].copy(), b_hh[None, :].copy()
    else:
        p["biases"] = (b_ih + b_hh)[None, :]
    return p


def _course_grads(kind, layer):
    g_ih, g_hh = layer.weight_ih_l0.grad.numpy(), layer.weight_hh_l0.grad.numpy()
    gb_ih, gb_hh = layer.bias_ih_l0.grad.numpy(), layer.bias_hh_l0.grad.numpy()
    g = {"weights_x": g_ih.T, "weights_h": g_hh.T}
    if kind == "gru":
        g["biases_x"], g["biases_h"] = gb_ih[None, :], gb_hh[None, :]
    else:
        # b = b_ih + b_hh: both torch biases get the gradient of the course's one.
        np.testing.assert_allclose(gb_ih, gb_hh, rtol=RTOL, atol=ATOL)
        g["biases"] = gb_ih[None, :]
    return g


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("N,T,D,H", SHAPES)
def test_sequence_layer_matches_torch(kind, N, T, D, H):
    rng = np.random.default_rng(1000 * N + 100 * T + 10 * D + H)
    layer = _torch_layer(kind, D, H, seed=N + T + D + H)
    x, h0, c0 = rng.normal(size=(N, T, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    dhs = rng.normal(size=(N, T, H))

    xt, h0t, c0t = _t(x, True), _t(h0[None], True), _t(c0[None], True)
    out_t, _ = layer(xt, (h0t, c0t)) if kind == "lstm" else layer(xt, h0t)
    out_t.backward(_t(dhs))

    p = _course_params(kind, layer)
    out = ref.sequence_forward(kind, x, h0, p, c0=c0)
    dx, grads = ref.sequence_backward(kind, x, h0, p, dhs, c0=c0)

    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(grads["h0"], h0t.grad.numpy()[0], rtol=1e-8, atol=1e-10)
    if kind == "lstm":
        np.testing.assert_allclose(grads["c0"], c0t.grad.numpy()[0], rtol=1e-8, atol=1e-10)
    for name, g in _course_grads(kind, layer).items():
        np.testing.assert_allclose(grads[name], g, rtol=1e-8, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_one_step_matches_torch_cell(kind):
    """The step functions against torch's cell classes (RNNCell, LSTMCell, GRUCell)."""
    N, D, H = 3, 5, 4
    rng = np.random.default_rng(7)
    torch.manual_seed(3)
    cell = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind](
        D, H
    ).double()
    x, h, c = rng.normal(size=(N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    W_ih, W_hh = cell.weight_ih.detach().numpy(), cell.weight_hh.detach().numpy()
    b_ih, b_hh = cell.bias_ih.detach().numpy()[None], cell.bias_hh.detach().numpy()[None]
    if kind == "rnn":
        want = cell(_t(x), _t(h)).detach().numpy()
        got = ref.rnn_step_forward(x, h, W_ih.T, W_hh.T, b_ih + b_hh)[0]
    elif kind == "lstm":
        h_t, c_t = cell(_t(x), (_t(h), _t(c)))
        h_next, c_next, _ = ref.lstm_step_forward(x, h, c, W_ih.T, W_hh.T, b_ih + b_hh)
        np.testing.assert_allclose(c_next, c_t.detach().numpy(), rtol=RTOL, atol=ATOL)
        want, got = h_t.detach().numpy(), h_next
    else:
        want = cell(_t(x), _t(h)).detach().numpy()
        got = ref.gru_step_forward(x, h, W_ih.T, W_hh.T, b_ih, b_hh)[0]
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def test_two_layer_stack_matches_torch():
    """torch.nn.LSTM(num_layers=2) against the reference stack of two LSTMs."""
    N, T, D, H = 2, 6, 3, 5
    rng = np.random.default_rng(11)
    torch.manual_seed(5)
    lstm = torch.nn.LSTM(D, H, num_layers=2, batch_first=True).double()
    x, dhs = rng.normal(size=(N, T, D)), rng.normal(size=(N, T, H))
    xt = _t(x, True)
    out_t, _ = lstm(xt)
    out_t.backward(_t(dhs))
    params = []
    for k in range(2):
        W_ih, W_hh = getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")
        b = getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
        params.append(
            {
                "weights_x": W_ih.detach().numpy().T.copy(),
                "weights_h": W_hh.detach().numpy().T.copy(),
                "biases": b.detach().numpy()[None].copy(),
            }
        )
    out = ref.stacked_forward(["lstm", "lstm"], x, params)
    dx, grads = ref.stacked_backward(["lstm", "lstm"], x, params, dhs)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-10)
    for k in range(2):
        np.testing.assert_allclose(
            grads[k]["weights_h"],
            getattr(lstm, f"weight_hh_l{k}").grad.numpy().T,
            rtol=1e-8,
            atol=1e-10,
        )


def test_embedding_matches_torch():
    V, E = 7, 3
    rng = np.random.default_rng(2)
    W = rng.normal(size=(V, E))
    ids = np.array([[0, 3, 3, 6], [3, 1, 0, 3]])
    dout = rng.normal(size=(2, 4, E))
    Wt = _t(W, True)
    out_t = torch.nn.functional.embedding(torch.tensor(ids), Wt)
    out_t.backward(_t(dout))
    np.testing.assert_allclose(
        ref.embedding_forward(ids, W), out_t.detach().numpy(), rtol=0, atol=0
    )
    np.testing.assert_allclose(
        ref.embedding_backward(dout, ids, V), Wt.grad.numpy(), rtol=1e-12, atol=1e-14
    )


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 1e3])
def test_clip_by_global_norm_matches_torch(max_norm):
    """torch.nn.utils.clip_grad_norm_ scales by max_norm / (norm + 1e-6) (its small epsilon);
    the course divides by the norm itself, so the two agree to about 1e-6 relative."""
    rng = np.random.default_rng(4)
    arrays = [rng.normal(size=s) for s in [(3, 4), (4, 4), (1, 4), (2,)]]
    params = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in arrays]
    for p, a in zip(params, arrays):
        p.grad = _t(a)
    norm_t = torch.nn.utils.clip_grad_norm_(params, max_norm)
    clipped, norm = ref.clip_by_global_norm(arrays, max_norm)
    np.testing.assert_allclose(norm, float(norm_t), rtol=1e-12)
    for c, p in zip(clipped, params):
        np.testing.assert_allclose(c, p.grad.numpy(), rtol=1e-5, atol=1e-12)


def test_softmax_cross_entropy_over_steps_matches_torch():
    rng = np.random.default_rng(8)
    logits, y = 3.0 * rng.normal(size=(12, 7)), rng.integers(0, 7, size=12)
    zt = _t(logits, True)
    loss_t = torch.nn.functional.cross_entropy(zt, torch.tensor(y))
    loss_t.backward()
    loss, dz = ref.softmax_cross_entropy(logits, y)
    np.testing.assert_allclose(loss, float(loss_t.detach()), rtol=1e-12)
    np.testing.assert_allclose(dz, zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_adding_network_gradients_match_torch(kind):
    """The whole adding-problem network (layer, last state, dense, mean squared error):
    the loss and every gradient of ``adding_gradients`` against autograd."""
    N, T, H = 5, 7, 4
    rng = np.random.default_rng(9)
    layer = _torch_layer(kind, 2, H, seed=21)
    head = torch.nn.Linear(H, 1).double()
    X, y = ref.adding_data(N, T, rng)
    out, _ = layer(_t(X))
    loss_t = torch.mean((head(out[:, -1]) - _t(y)) ** 2)
    loss_t.backward()
    p = _course_params(kind, layer)
    W, b = head.weight.detach().numpy().T.copy(), head.bias.detach().numpy()[None].copy()
    loss, grads = ref.adding_gradients(kind, p, W, b, X, y)
    np.testing.assert_allclose(loss, float(loss_t.detach()), rtol=1e-12)
    np.testing.assert_allclose(
        grads["dense.weights"], head.weight.grad.numpy().T, rtol=1e-8, atol=1e-12
    )
    np.testing.assert_allclose(
        grads["dense.biases"][0], head.bias.grad.numpy(), rtol=1e-8, atol=1e-12
    )
    for name, g in _course_grads(kind, layer).items():
        np.testing.assert_allclose(grads[name], g, rtol=1e-8, atol=1e-12, err_msg=name)


def test_character_model_forward_matches_torch():
    """Embedding, GRU from zeros, a dense layer at every step: the (N * T, V) logits."""
    V, E, H, N, T = 9, 4, 5, 3, 6
    rng = np.random.default_rng(10)
    torch.manual_seed(2)
    emb, gru, dense = (
        torch.nn.Embedding(V, E).double(),
        torch.nn.GRU(E, H, batch_first=True).double(),
        torch.nn.Linear(H, V).double(),
    )
    ids = rng.integers(0, V, size=(N, T))
    hs, _ = gru(emb(torch.tensor(ids)))
    want = dense(hs).reshape(N * T, V).detach().numpy()
    params = {
        "embedding": emb.weight.detach().numpy().copy(),
        "gru": _course_params("gru", gru),
        "dense.weights": dense.weight.detach().numpy().T.copy(),
        "dense.biases": dense.bias.detach().numpy()[None],
    }
    np.testing.assert_allclose(ref.char_forward(params, ids), want, rtol=RTOL, atol=ATOL)
