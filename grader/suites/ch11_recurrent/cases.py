"""The test bodies that the RNN, LSTM and GRU tests share (each test file names its own
tests and chooses the shapes)."""

from grader.api import check_array, check_gradient, fail, np, numeric_gradient
from grader.suites.ch11_recurrent.common import (
    GATES,
    H_STEP,
    KINDS,
    attr,
    check_forward_first,
    check_named_gradients,
    fixed_inputs,
    fixed_params,
    gate_order_bugs,
    gradients_of,
    make_cell,
    make_layer,
    random_params,
    ref,
    variants,
)

CELL_STEP = {"rnn": "rnn_step_forward", "lstm": "lstm_step_forward", "gru": "gru_step_forward"}


def _ref_step(kind, x, h, c, p):
    """The reference cell's output: h (rnn, gru) or the pair (h, c) (lstm)."""
    if kind == "rnn":
        return ref.rnn_step_forward(x, h, p["weights_x"], p["weights_h"], p["biases"])[0]
    if kind == "lstm":
        h_next, c_next, _ = ref.lstm_step_forward(
            x, h, c, p["weights_x"], p["weights_h"], p["biases"]
        )
        return np.stack([h_next, c_next])
    return ref.gru_step_forward(x, h, p["weights_x"], p["weights_h"], p["biases_x"], p["biases_h"])[
        0
    ]


def _step_variant(kind, x, h, c, p, bug):
    if kind == "lstm":
        return np.stack(
            variants.lstm_step_variant(x, h, c, p["weights_x"], p["weights_h"], p["biases"], bug)
        )
    return variants.gru_step_variant(
        x, h, p["weights_x"], p["weights_h"], p["biases_x"], p["biases_h"], bug
    )


LSTM_BUGS = [
    (
        "h_o_times_c",
        "h_next = o * c_next: the output gate multiplies tanh(c_next), h_next = o * tanh(c_next)",
    ),
    (
        "tanh_i",
        "the input gate i is squashed with tanh: i, f and o are gates in (0, 1), use sigmoid",
    ),
    (
        "tanh_f",
        "the forget gate f is squashed with tanh: i, f and o are gates in (0, 1), use sigmoid",
    ),
    (
        "tanh_o",
        "the output gate o is squashed with tanh: i, f and o are gates in (0, 1), use sigmoid",
    ),
    ("sigmoid_g", "the candidate g is squashed with sigmoid: g is a value in (-1, 1), use tanh"),
]
GRU_BUGS = [
    (
        "z_swapped",
        "z and 1 - z are swapped: the course (and PyTorch) keep the old state with z, "
        "h_next = (1 - z) * n + z * h_prev",
    ),
    (
        "reset_before_matmul",
        "the reset gate is applied to h_prev before the matrix product, "
        "(r * h_prev) @ Wh_n; the course (PyTorch) applies it after the product and its "
        "bias: r * (h_prev @ Wh_n + bh_n)",
    ),
    (
        "reset_skips_bias",
        "the reset gate multiplies h_prev @ Wh_n but not the bias bh_n: n = tanh(ax_n + "
        "r * (h_prev @ Wh_n + bh_n))",
    ),
    ("tanh_r", "the reset gate r is squashed with tanh: r and z are gates in (0, 1), use sigmoid"),
    ("tanh_z", "the update gate z is squashed with tanh: r and z are gates in (0, 1), use sigmoid"),
]


def _rnn_cell_bugs(x, h, p):
    a = x @ p["weights_x"] + h @ p["weights_h"] + p["biases"]
    return [
        ("tanh is missing: h_next = tanh(inputs @ weights_x + h_prev @ weights_h + biases)", a),
        (
            "weights_h is used transposed: h_prev @ weights_h, with weights_h (H, H) indexed [from, to]",
            np.tanh(x @ p["weights_x"] + h @ p["weights_h"].T + p["biases"]),
        ),
    ]


def cell_forward(student, oracle, kind, N, D, H, fixed):
    """The cell's output on one step against the reference, with the known wrong versions."""
    if fixed:
        x, h, c = (
            fixed_inputs(N, D),
            fixed_inputs(N, H, lo=-0.4, hi=0.3),
            fixed_inputs(N, H, lo=0.6, hi=-0.8),
        )
        p = fixed_params(kind, D, H)
    else:
        x, h, c, p = oracle.random(
            "inputs",
            lambda rng: (
                rng.standard_normal((N, D)),
                rng.standard_normal((N, H)),
                rng.standard_normal((N, H)),
                random_params(rng, kind, D, H),
            ),
        )
    want = oracle.compute("want", lambda: _ref_step(kind, x, h, c, p))

    def bugs():
        if kind == "rnn":
            return _rnn_cell_bugs(x, h, p)
        out = [
            (desc, _step_variant(kind, x, h, c, p, bug))
            for bug, desc in (LSTM_BUGS if kind == "lstm" else GRU_BUGS)
        ]
        return out + gate_order_bugs(kind, H, lambda re: _ref_step(kind, x, h, c, re(p)))

    known = oracle.compute("bugs", bugs)
    cell = make_cell(student, kind, D, H, p)
    name = KINDS[kind][1]
    if kind == "lstm":
        call = f"{name}.forward(inputs, h_prev, c_prev)"
        got = cell.forward(x, h, c)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"{call} must return the pair (h_next, c_next)", f"got a {type(got).__name__}")
        got = (
            np.stack([np.asarray(g, dtype=np.float64) for g in got])
            if all(np.shape(g) == (N, H) for g in got)
            else got[0]
        )
        what = "(h_next, c_next)"
    else:
        call = f"{name}.forward(inputs, h_prev)"
        got = cell.forward(x, h)
        what = "h_next"
    check_array(
        got,
        want,
        call=call,
        inputs={"inputs": x, "h_prev": h}
        | ({"c_prev": c} if kind == "lstm" else {})
        | {name_: v for name_, v in p.items()},
        what=what,
        known_bugs=known,
    )


def cell_backward(student, oracle, kind, N, D, H, test_forward):
    """One step's backward against central differences of the reference step."""
    x, h, c, p, dh, dc = oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, D)),
            rng.standard_normal((N, H)),
            rng.standard_normal((N, H)),
            random_params(rng, kind, D, H),
            rng.standard_normal((N, H)),
            rng.standard_normal((N, H)),
        ),
    )
    dout = np.stack([dh, dc]) if kind == "lstm" else dh
    names = KINDS[kind][3]

    def numeric():
        def loss(**change):
            q = dict(p, **{k: v for k, v in change.items() if k in p})
            out = _ref_step(kind, change.get("x", x), change.get("h", h), change.get("c", c), q)
            return float(np.sum(out * dout))

        out = {
            "inputs": ref.numerical_gradient(lambda v: loss(x=v), x, H_STEP),
            "h_prev": ref.numerical_gradient(lambda v: loss(h=v), h, H_STEP),
        }
        if kind == "lstm":
            out["c_prev"] = ref.numerical_gradient(lambda v: loss(c=v), c, H_STEP)
        for name in names:
            out[name] = ref.numerical_gradient(
                lambda v, name=name: loss(**{name: v}), p[name], H_STEP
            )
        return out

    want_forward = oracle.compute("forward", lambda: _ref_step(kind, x, h, c, p))
    num = oracle.compute("numeric", numeric)
    bugs = []
    if kind == "lstm":

        def lstm_bugs():
            out = []
            for bug, desc in (
                (
                    "dc_next_ignored",
                    "the gradient arriving at c_next (dc_next) is dropped: the "
                    "gradient at c_next is dc_next + dvalues * o * (1 - tanh(c_next)**2)",
                ),
                (
                    "dc_prev_without_f",
                    "dc_prev is missing the factor f: c_next = f * c_prev + i * g, "
                    "so dc_prev = (gradient at c_next) * f",
                ),
            ):
                v = variants.lstm_cell_backward_variant(
                    x, h, c, p["weights_x"], p["weights_h"], p["biases"], dh, dc, bug
                )
                out.append(
                    (
                        desc,
                        {
                            "inputs": v[0],
                            "h_prev": v[1],
                            "c_prev": v[2],
                            "weights_x": v[3],
                            "weights_h": v[4],
                            "biases": v[5],
                        },
                    )
                )
            return out

        bugs = oracle.compute("bugs", lstm_bugs)
    if kind == "rnn":

        def rnn_bugs():
            # The local derivative of tanh dropped: the gradient goes through as if
            # h_next = a (the pre-activation) instead of tanh(a).
            da = dh
            return [
                (
                    "the derivative of tanh is missing: the gradient at the pre-activation is "
                    "dvalues * (1 - h_next**2), with h_next the cell's output",
                    {
                        "inputs": da @ p["weights_x"].T,
                        "h_prev": da @ p["weights_h"].T,
                        "weights_x": x.T @ da,
                        "weights_h": h.T @ da,
                        "biases": da.sum(axis=0, keepdims=True),
                    },
                )
            ]

        bugs = oracle.compute("bugs", rnn_bugs)
    name = KINDS[kind][1]
    cell = make_cell(student, kind, D, H, p)
    if kind == "lstm":
        fcall, bcall = (
            f"{name}.forward(inputs, h_prev, c_prev)",
            f"{name}.backward(dvalues, dc_next)",
        )
        got = cell.forward(x, h, c)
        got = (
            np.stack([np.asarray(g, dtype=np.float64) for g in got])
            if isinstance(got, (tuple, list))
            and len(got) == 2
            and all(np.shape(g) == (N, H) for g in got)
            else None
        )
        check_forward_first(got, want_forward, fcall, test_forward)
        dx = cell.backward(dh, dc)
    else:
        fcall, bcall = f"{name}.forward(inputs, h_prev)", f"{name}.backward(dvalues)"
        check_forward_first(cell.forward(x, h), want_forward, fcall, test_forward)
        dx = cell.backward(dh)
    inputs = {"inputs": x, "h_prev": h, "dvalues": dh} | ({"dc_next": dc} if kind == "lstm" else {})
    check_gradient(
        dx,
        num["inputs"],
        call=bcall,
        what="dinputs (the returned value)",
        inputs=inputs,
        known_bugs=[(d, v["inputs"]) for d, v in bugs],
    )
    check_gradient(
        attr(cell, "dh_prev", bcall),
        num["h_prev"],
        call=bcall,
        what="self.dh_prev",
        inputs=inputs,
        known_bugs=[(d, v["h_prev"]) for d, v in bugs],
    )
    if kind == "lstm":
        check_gradient(
            attr(cell, "dc_prev", bcall),
            num["c_prev"],
            call=bcall,
            what="self.dc_prev",
            inputs=inputs,
            known_bugs=[(d, v["c_prev"]) for d, v in bugs],
        )
    check_named_gradients(gradients_of(cell, names, bcall), num, names, bcall, inputs, bugs)


# ------------------------------------------------------------------- sequence layers


def ref_sequence(kind, x, h0, c0, p):
    return ref.sequence_forward(kind, x, h0, p, c0=c0)


def _sequence_call(kind, with_h0):
    name = KINDS[kind][0]
    if not with_h0:
        return f"{name}.forward(inputs)"
    return f"{name}.forward(inputs, h0, c0)" if kind == "lstm" else f"{name}.forward(inputs, h0)"


def _run(layer, kind, x, h0, c0, with_h0=True):
    if not with_h0:
        return layer.forward(x)
    return layer.forward(x, h0, c0) if kind == "lstm" else layer.forward(x, h0)


def sequence_forward(student, oracle, kind, N, T, D, H, fixed, with_h0):
    """The layer's hidden sequence against the reference (fixed or random weights)."""
    if fixed:
        x = fixed_inputs(N, T, D)
        h0, c0 = fixed_inputs(N, H, lo=-0.4, hi=0.3), fixed_inputs(N, H, lo=0.6, hi=-0.8)
        p = fixed_params(kind, D, H)
    else:
        x, h0, c0, p = oracle.random(
            "inputs",
            lambda rng: (
                rng.standard_normal((N, T, D)),
                rng.standard_normal((N, H)),
                rng.standard_normal((N, H)),
                random_params(rng, kind, D, H),
            ),
        )
    if not with_h0:
        h0, c0 = np.zeros((N, H)), np.zeros((N, H))
    want = oracle.compute("want", lambda: ref_sequence(kind, x, h0, c0, p))

    def bugs():
        out = []
        if with_h0:
            z = np.zeros((N, H))
            out.append(
                (
                    "h0 is ignored: the first step must start from the h0 passed in (zeros only when h0 is None)",
                    ref_sequence(kind, x, z, c0, p),
                )
            )
            if kind == "lstm":
                out.append(
                    (
                        "c0 is ignored: the first step must start from the c0 passed in",
                        ref_sequence(kind, x, h0, z, p),
                    )
                )
        if T > 1:
            every = np.stack(
                [ref_sequence(kind, x[:, t : t + 1], h0, c0, p)[:, 0] for t in range(T)], axis=1
            )
            out.append(
                (
                    "every step starts from h0: step t must start from the state step t - 1 returned",
                    every,
                )
            )
        if kind != "rnn":
            out += gate_order_bugs(kind, H, lambda re: ref_sequence(kind, x, h0, c0, re(p)))
        return out

    known = oracle.compute("bugs", bugs)
    layer = make_layer(student, kind, D, H, p)
    got = _run(layer, kind, x, h0, c0, with_h0)
    check_array(
        got,
        want,
        call=_sequence_call(kind, with_h0),
        what="hidden states (N, T, H)",
        inputs={"inputs": x} | ({"h0": h0} if with_h0 else {}),
        known_bugs=known,
    )


def _sequence_inputs(oracle, kind, N, T, D, H):
    return oracle.random(
        "inputs",
        lambda rng: (
            rng.standard_normal((N, T, D)),
            rng.standard_normal((N, H)),
            rng.standard_normal((N, H)),
            random_params(rng, kind, D, H),
            rng.standard_normal((N, T, H)),
        ),
    )


def _sequence_numeric(kind, x, h0, c0, p, dhs, what):
    def loss(**change):
        q = dict(p, **{k: v for k, v in change.items() if k in p})
        out = ref_sequence(kind, change.get("x", x), change.get("h0", h0), change.get("c0", c0), q)
        return float(np.sum(out * dhs))

    out = {}
    if "inputs" in what:
        out["inputs"] = ref.numerical_gradient(lambda v: loss(x=v), x, H_STEP)
        out["h0"] = ref.numerical_gradient(lambda v: loss(h0=v), h0, H_STEP)
        if kind == "lstm":
            out["c0"] = ref.numerical_gradient(lambda v: loss(c0=v), c0, H_STEP)
    if "params" in what:
        for name in KINDS[kind][3]:
            out[name] = ref.numerical_gradient(
                lambda v, name=name: loss(**{name: v}), p[name], H_STEP
            )
    return out


SEQ_BUGS = {
    "no_h_carry": "the hidden-state gradient is not carried from step t + 1: the gradient at h_t is dvalues[:, t] "
    "plus the dh_prev that step t + 1 sent back",
    "no_c_carry": "the cell-state gradient is not carried from step t + 1: pass the cell's dc_prev of step t + 1 "
    "as dc_next of step t (the cell-state path)",
    "not_summed": "the parameter gradients are not summed over the steps: each step's gradients must be added "
    "(+=) to the layer's, not assigned (only step 0's remain)",
    "mean_over_steps": "the parameter gradients are divided by T: the weights are shared by every step, so their "
    "gradient is the plain sum over the steps",
}


def _sequence_bugs(kind, x, h0, c0, p, dhs, bugs):
    return [
        (SEQ_BUGS[bug], variants.sequence_backward_variant(kind, x, h0, p, dhs, bug, c0=c0))
        for bug in bugs
        if not (bug == "no_c_carry" and kind != "lstm")
    ]


def _backward(student, oracle, kind, N, T, D, H, what, test_forward):
    x, h0, c0, p, dhs = _sequence_inputs(oracle, kind, N, T, D, H)
    want_forward = oracle.compute("forward", lambda: ref_sequence(kind, x, h0, c0, p))
    num = oracle.compute("numeric", lambda: _sequence_numeric(kind, x, h0, c0, p, dhs, what))
    bug_names = ["no_h_carry", "no_c_carry"] + (
        ["not_summed", "mean_over_steps"] if what == "params" else []
    )
    bugs = oracle.compute(
        "bugs",
        lambda: [
            (d, {"inputs": v[0], **v[1]})
            for d, v in _sequence_bugs(kind, x, h0, c0, p, dhs, bug_names)
        ],
    )
    layer = make_layer(student, kind, D, H, p)
    name = KINDS[kind][0]
    check_forward_first(
        _run(layer, kind, x, h0, c0), want_forward, _sequence_call(kind, True), test_forward
    )
    call = f"{name}.backward(dvalues)"
    dx = layer.backward(dhs)
    return (
        layer,
        dx,
        num,
        bugs,
        call,
        {"inputs": x, "h0": h0, "dvalues (a gradient at every step)": dhs},
    )


def sequence_backward_inputs(student, oracle, kind, N, T, D, H, test_forward):
    """dinputs, dh0 (and dc0) with a gradient arriving at every step, against central
    differences of the reference layer."""
    layer, dx, num, bugs, call, inputs = _backward(
        student, oracle, kind, N, T, D, H, "inputs", test_forward
    )
    check_gradient(
        dx,
        num["inputs"],
        call=call,
        what="dinputs (N, T, D)",
        inputs=inputs,
        known_bugs=[(d, v["inputs"]) for d, v in bugs],
    )
    hint = "backward must store the gradient that reaches the initial state"
    check_gradient(
        attr(layer, "dh0", call, hint),
        num["h0"],
        call=call,
        what="self.dh0 (the gradient at h0)",
        inputs=inputs,
        known_bugs=[(d, v["h0"]) for d, v in bugs],
    )
    if kind == "lstm":
        check_gradient(
            attr(layer, "dc0", call, hint),
            num["c0"],
            call=call,
            what="self.dc0 (the gradient at c0)",
            inputs=inputs,
            known_bugs=[(d, v["c0"]) for d, v in bugs],
        )


def sequence_backward_params(student, oracle, kind, N, T, D, H, test_forward):
    """gradients() after backward: the parameter gradients summed over the steps."""
    layer, _, num, bugs, call, inputs = _backward(
        student, oracle, kind, N, T, D, H, "params", test_forward
    )
    names = KINDS[kind][3]
    check_named_gradients(gradients_of(layer, names, call), num, names, call, inputs, bugs)


def numeric_dinputs_own_forward(layer, kind, x, h0, c0, dhs):
    """Central differences of the student's own forward (used by hidden tests)."""
    args = (x, h0, c0) if kind == "lstm" else (x, h0)
    return numeric_gradient(layer.forward, *args, wrt=0, dout=dhs, h=H_STEP)


__all__ = [
    "GATES",
    "cell_backward",
    "cell_forward",
    "sequence_backward_inputs",
    "sequence_backward_params",
    "sequence_forward",
]
