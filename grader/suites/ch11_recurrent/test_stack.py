"""Chapter 11: stacked recurrent layers (layer k + 1 reads layer k's hidden sequence)."""

from grader.api import Rng, check_array, check_gradient, check_true, fail, np, points, pytest
from grader.suites.ch11_recurrent.common import (
    KINDS,
    random_params,
    ref,
    set_params,
)

STACKS = {
    "lstm-gru": (("lstm", "gru"), (3, 5, 4)),
    "rnn-lstm-rnn": (("rnn", "lstm", "rnn"), (2, 3, 4, 2)),
}


def _draw(rng, kinds, sizes, N, T):
    params = [random_params(rng, kind, d, h) for kind, d, h in zip(kinds, sizes[:-1], sizes[1:])]
    return rng.standard_normal((N, T, sizes[0])), params, rng.standard_normal((N, T, sizes[-1]))


def _stack(student, kinds, sizes, params):
    layers = []
    for kind, d, h, p in zip(kinds, sizes[:-1], sizes[1:], params):
        layer = getattr(student, KINDS[kind][0])(d, h, Rng(0))
        set_params(layer.cell, p)
        layers.append(layer)
    return student.Stack(layers)


@points(2)
@pytest.mark.parametrize("case,N,T", [("lstm-gru", 2, 5), ("rnn-lstm-rnn", 1, 4)])
def test_stack_forward_matches_reference(student, oracle, case, N, T):
    kinds, sizes = STACKS[case]
    x, params, _ = oracle.random("inputs", lambda rng: _draw(rng, kinds, sizes, N, T))
    want = oracle.compute("want", lambda: ref.stacked_forward(kinds, x, params))
    first_only = oracle.compute("first_only", lambda: ref.stacked_forward(kinds[:1], x, params[:1]))
    call = f"Stack([{', '.join(KINDS[k][0] for k in kinds)}]).forward(inputs)"
    got = _stack(student, kinds, sizes, params).forward(x)
    check_array(
        got,
        want,
        call=call,
        what="the last layer's hidden states",
        inputs={"inputs": x},
        known_bugs=[("only the first layer ran: feed each layer's output to the next", first_only)],
    )


@points(3)
@pytest.mark.parametrize("case,N,T", [("lstm-gru", 2, 5), ("rnn-lstm-rnn", 2, 3)])
def test_stack_backward_matches_reference(student, oracle, case, N, T):
    """dinputs of the stack and every layer's parameter gradients, under the names
    "{k}.{name}", against the reference's backpropagation through the stack."""
    kinds, sizes = STACKS[case]
    x, params, dhs = oracle.random("inputs", lambda rng: _draw(rng, kinds, sizes, N, T))
    want_forward = oracle.compute("forward", lambda: ref.stacked_forward(kinds, x, params))
    dx, grads = oracle.compute("want", lambda: ref.stacked_backward(kinds, x, params, dhs))
    call = f"Stack([{', '.join(KINDS[k][0] for k in kinds)}]).backward(dvalues)"
    stack = _stack(student, kinds, sizes, params)
    out = stack.forward(x)
    if not np.allclose(np.asarray(out, dtype=np.float64), want_forward, rtol=1e-6, atol=1e-8):
        fail(
            f"{call}: the forward pass is wrong, so its gradients cannot be checked "
            "(fix test_stack_forward_matches_reference first)"
        )
    got_dx = stack.backward(dhs)
    check_gradient(
        got_dx, dx, call=call, what="dinputs (N, T, D)", inputs={"inputs": x, "dvalues": dhs}
    )
    got = stack.gradients()
    check_true(isinstance(got, dict), f"{call}: gradients() must return a dict")
    for k, g in enumerate(grads):
        for name, value in g.items():
            key = f"{k}.{name}"
            check_true(
                key in got, f"{call}: gradients() has no entry {key!r}", f"its keys: {sorted(got)}"
            )
            check_gradient(
                got[key], value, call=call, what=f"gradient {key}", inputs={"dvalues": dhs}
            )
