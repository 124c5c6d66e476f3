"""Chapter 11: two properties every recurrent layer has, whatever its weights.

- **Causal**: the hidden state after step t depends only on steps 0..t, so running the layer
  on the first k steps gives the first k hidden states of the whole run.
- **Batch-independent**: each sequence is processed on its own, so running one sequence
  alone gives the same hidden states as running it inside a batch.
"""

from hypothesis import example, given
from hypothesis import strategies as st

from grader.api import GradeFailure, StudentError, check_array, fail, np, points
from grader.suites.ch11_recurrent.cases import ref_sequence
from grader.suites.ch11_recurrent.common import (
    KINDS,
    fixed_inputs,
    fixed_params,
    make_layer,
    random_params,
)
from grader.suites.common import correct_first


def _values_first(student, oracle, kind):
    """Both properties hold for a layer that returns its inputs or zeros: once a property
    holds (a failing one gives its own diagnosis), the test counts only with the layer's
    right hidden states (fixed weights and inputs, h0 = zeros)."""

    def check():
        N, T, D, H = 2, 3, 3, 4
        x, p = fixed_inputs(N, T, D), fixed_params(kind, D, H)
        zeros = np.zeros((N, H))
        want = oracle.compute(f"{kind}-values", lambda: ref_sequence(kind, x, zeros, zeros, p))
        name = KINDS[kind][0]
        check_array(
            make_layer(student, kind, D, H, p).forward(x),
            want,
            call=f"{name}.forward(inputs)",
            inputs={"inputs": x},
            what="hidden states",
        )

    correct_first(oracle, check, fix=f"test_{kind}_forward_matches_reference")


def _layer_and_inputs(student, kind, N, T, seed):
    rng = np.random.default_rng(seed)
    D, H = 3, 4
    params = random_params(rng, kind, D, H)
    x = rng.standard_normal((N, T, D))
    return make_layer(student, kind, D, H, params), x


@points(2)
@given(
    kind=st.sampled_from(["rnn", "lstm", "gru"]),
    N=st.integers(1, 3),
    T=st.integers(2, 6),
    cut=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
@example(kind="rnn", N=2, T=5, cut=2, seed=0)
@example(kind="lstm", N=2, T=5, cut=3, seed=1)
def test_sequence_layers_are_causal(student, oracle, kind, N, T, cut, seed):
    cut = min(cut, T - 1)
    layer, x = _layer_and_inputs(student, kind, N, T, seed)
    name = KINDS[kind][0]
    whole = np.asarray(layer.forward(x), dtype=np.float64)
    prefix = layer.forward(x[:, :cut])
    call = f"{name}.forward(inputs[:, :{cut}]) against {name}.forward(inputs)[:, :{cut}]"
    try:
        check_array(
            prefix,
            whole[:, :cut],
            call=call,
            inputs={"inputs": x},
            what="hidden states of the first steps",
        )
    except GradeFailure as exc:
        hint = (
            "the first hidden states change when later steps are added: the steps run in the wrong order, or a "
            "state is kept from an earlier call (h_t may only depend on steps 0..t: run t = 0, 1, ..., T - 1 "
            "from h0, or zeros, on every call)"
        )
        fail(f"{call}: {hint}", f"{exc.details}\n  diagnosis: {hint}")
    _values_first(student, oracle, kind)


@points(1)
@given(
    kind=st.sampled_from(["rnn", "lstm", "gru"]),
    N=st.integers(2, 4),
    T=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
@example(kind="gru", N=3, T=3, seed=0)
@example(kind="lstm", N=3, T=3, seed=1)
def test_sequence_layers_treat_each_sequence_alone(student, oracle, kind, N, T, seed):
    layer, x = _layer_and_inputs(student, kind, N, T, seed)
    name = KINDS[kind][0]
    whole = np.asarray(layer.forward(x), dtype=np.float64)
    n = N - 1
    try:
        alone = layer.forward(x[n : n + 1])
    except StudentError as exc:
        if exc.kind == "not_implemented":
            raise
        hint = (
            "it runs on a batch of N sequences but fails on one sequence: the axes are (N, T, D), so step t "
            "of every sequence is inputs[:, t], not inputs[t]"
        )
        fail(
            f"{name}.forward(inputs[{n}:{n + 1}]) raised {exc.summary}; {hint}",
            f"{exc.details}\n  diagnosis: {hint}",
        )
    check_array(
        alone,
        whole[n : n + 1],
        call=f"{name}.forward(inputs[{n}:{n + 1}]) against row {n} of {name}.forward(inputs)",
        inputs={"inputs": x},
        what="hidden states of one sequence",
    )
    _values_first(student, oracle, kind)
