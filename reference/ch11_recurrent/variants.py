"""Known wrong versions of chapter 11's layers, for the grader's diagnoses only.

Each function computes what a submission with one specific bug returns, so that the grader
can recognise the bug from the values and name it. Nothing here is a correct implementation
of anything; the correct ones are in ``__init__``.
"""

import itertools

import numpy as np

from . import (
    _f64,
    gru_forward,
    gru_step_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_forward,
    rnn_step_backward,
    sigmoid,
)

LSTM_GATES = "ifgo"
GRU_GATES = "rzn"


def _reorder(W, order, gates, H):
    """The weights a reader of the blocks in ``order`` effectively uses: the block it reads
    as gate G is the block the course stores at G's position."""
    W = _f64(W)
    out = np.empty_like(W)
    for j, gate in enumerate(order):
        k = gates.index(gate)
        out[..., k * H : (k + 1) * H] = W[..., j * H : (j + 1) * H]
    return out


def gate_orders(gates):
    """Every order of the gate letters but the course's."""
    return ["".join(p) for p in itertools.permutations(gates) if "".join(p) != gates]


def permuted(params, order, gates, H):
    """The parameters dict re-cut as a reader of the blocks in ``order`` sees them."""
    return {name: _reorder(p, order, gates, H) for name, p in params.items()}


def lstm_step_variant(x, h_prev, c_prev, Wx, Wh, b, bug):
    """(h, c) of one LSTM step with ``bug`` in: "h_o_times_c" (h = o * c),
    "tanh_i" / "tanh_f" / "tanh_o" (that gate squashed by tanh), "sigmoid_g"."""
    x, h_prev, c_prev = _f64(x), _f64(h_prev), _f64(c_prev)
    H = h_prev.shape[1]
    a = x @ _f64(Wx) + h_prev @ _f64(Wh) + _f64(b)
    act = {"i": sigmoid, "f": sigmoid, "g": np.tanh, "o": sigmoid}
    if bug.startswith("tanh_"):
        act[bug[-1]] = np.tanh
    if bug == "sigmoid_g":
        act["g"] = sigmoid
    i, f, g, o = (act[k](a[:, j * H : (j + 1) * H]) for j, k in enumerate("ifgo"))
    c = f * c_prev + i * g
    h = o * c if bug == "h_o_times_c" else o * np.tanh(c)
    return h, c


def lstm_forward_variant(x, h0, c0, Wx, Wh, b, bug):
    x = _f64(x)
    h, c, hs = _f64(h0), _f64(c0), []
    for t in range(x.shape[1]):
        h, c = lstm_step_variant(x[:, t], h, c, Wx, Wh, b, bug)
        hs.append(h)
    return np.stack(hs, axis=1)


def gru_step_variant(x, h_prev, Wx, Wh, bx, bh, bug):
    """h of one GRU step with ``bug`` in: "z_swapped" (h = z n + (1 - z) h_prev),
    "reset_before_matmul" (n = tanh(x Wx_n + bx_n + (r h_prev) Wh_n + bh_n)),
    "reset_skips_bias" (n = tanh(x Wx_n + bx_n + r (h_prev Wh_n) + bh_n)),
    "tanh_r" / "tanh_z" (that gate squashed by tanh)."""
    x, h_prev = _f64(x), _f64(h_prev)
    H = h_prev.shape[1]
    Wx, Wh, bx, bh = _f64(Wx), _f64(Wh), _f64(bx), _f64(bh)
    ax = x @ Wx + bx
    ah = h_prev @ Wh + bh
    gate_r = np.tanh if bug == "tanh_r" else sigmoid
    gate_z = np.tanh if bug == "tanh_z" else sigmoid
    r = gate_r(ax[:, :H] + ah[:, :H])
    z = gate_z(ax[:, H : 2 * H] + ah[:, H : 2 * H])
    if bug == "reset_before_matmul":
        n = np.tanh(ax[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :] + bh[:, 2 * H :])
    elif bug == "reset_skips_bias":
        n = np.tanh(ax[:, 2 * H :] + r * (h_prev @ Wh[:, 2 * H :]) + bh[:, 2 * H :])
    else:
        n = np.tanh(ax[:, 2 * H :] + r * ah[:, 2 * H :])
    if bug == "z_swapped":
        return z * n + (1.0 - z) * h_prev
    return (1.0 - z) * n + z * h_prev


def gru_forward_variant(x, h0, Wx, Wh, bx, bh, bug):
    x = _f64(x)
    h, hs = _f64(h0), []
    for t in range(x.shape[1]):
        h = gru_step_variant(x[:, t], h, Wx, Wh, bx, bh, bug)
        hs.append(h)
    return np.stack(hs, axis=1)


def lstm_cell_backward_variant(x, h_prev, c_prev, Wx, Wh, b, dh, dc, bug):
    """dx, dh_prev, dc_prev, dWx, dWh, db of one step with ``bug``: "dc_next_ignored"
    (the gradient arriving at c_next is dropped) or "dc_prev_without_f" (dc_prev = dc)."""
    _, _, cache = lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    if bug == "dc_next_ignored":
        return lstm_step_backward(dh, np.zeros_like(_f64(dc)), cache)
    out = list(lstm_step_backward(dh, dc, cache))
    f = cache[6]
    out[2] = out[2] / f
    return tuple(out)


def sequence_backward_variant(kind, x, h0, params, dhs, bug, c0=None):
    """(dx, {"h0": ..., ["c0": ...], name: gradient}) of a sequence layer with ``bug``:

    - "no_h_carry": the gradient at h_t is dhs[:, t] only (dh_prev of step t + 1 dropped);
    - "no_c_carry" (LSTM): the cell-state gradient is not carried from step t + 1;
    - "not_summed": each parameter gradient is the last one computed (that of step 0);
    - "mean_over_steps": each parameter gradient is the sum divided by T.
    """
    p = {k: _f64(v) for k, v in params.items()}
    dhs = _f64(dhs)
    N, T, H = dhs.shape
    if kind == "rnn":
        _, caches = rnn_forward(x, h0, p["weights_x"], p["weights_h"], p["biases"])
        names = ["weights_x", "weights_h", "biases"]
    elif kind == "lstm":
        _, caches = lstm_forward(x, h0, c0, p["weights_x"], p["weights_h"], p["biases"])
        names = ["weights_x", "weights_h", "biases"]
    else:
        _, caches = gru_forward(x, h0, p["weights_x"], p["weights_h"], p["biases_x"], p["biases_h"])
        names = ["weights_x", "weights_h", "biases_x", "biases_h"]
    grads = {n: np.zeros_like(p[n]) for n in names}
    dx = np.zeros((N, T, p["weights_x"].shape[0]))
    dh_next, dc_next = np.zeros((N, H)), np.zeros((N, H))
    for t in reversed(range(T)):
        dh = dhs[:, t] if bug == "no_h_carry" else dhs[:, t] + dh_next
        if kind == "rnn":
            dx[:, t], dh_next, *g = rnn_step_backward(dh, caches[t])
        elif kind == "lstm":
            dx[:, t], dh_next, dc_next, *g = lstm_step_backward(dh, dc_next, caches[t])
            if bug == "no_c_carry":
                dc_next = np.zeros_like(dc_next)
        else:
            dx[:, t], dh_next, *g = gru_step_backward(dh, caches[t])
        for n, gn in zip(names, g):
            grads[n] = gn if bug == "not_summed" else grads[n] + gn
    if bug == "mean_over_steps":
        grads = {n: g / T for n, g in grads.items()}
    out = {"h0": dh_next, **grads}
    if kind == "lstm":
        out["c0"] = dc_next
    return dx, out
