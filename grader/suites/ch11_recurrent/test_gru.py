"""Chapter 11: the GRU cell and its sequence layer (backpropagation through time).

Value tests use fixed weights (np.linspace: every entry different) and random ones; the
gradient checks put a random upstream gradient on every time step and on the initial
state, and compare with central differences of the correct forward pass."""

from grader.api import points, pytest
from grader.suites.ch11_recurrent.cases import (
    cell_backward,
    cell_forward,
    sequence_backward_inputs,
    sequence_backward_params,
    sequence_forward,
)


@points(1)
@pytest.mark.parametrize(
    "N,D,H,fixed",
    [(3, 10, 4, True), (1, 3, 2, True), (4, 5, 6, False)],
    ids=["3x10-to-4-fixed", "batch-of-one-fixed", "4x5-to-6-random"],
)
def test_gru_cell_forward_matches_reference(student, oracle, N, D, H, fixed):
    cell_forward(student, oracle, "gru", N, D, H, fixed)


@points(2)
@pytest.mark.parametrize("N,D,H", [(4, 5, 6), (1, 3, 3)], ids=["4x5-to-6", "batch-of-one"])
def test_gru_cell_backward_gradient_check(student, oracle, N, D, H):
    cell_backward(student, oracle, "gru", N, D, H, "test_gru_cell_forward_matches_reference")


@points(1)
@pytest.mark.parametrize(
    "N,T,D,H,fixed,with_h0",
    [
        (2, 3, 4, 5, True, True),
        (1, 4, 3, 2, True, True),
        (3, 5, 2, 4, False, True),
        (2, 4, 3, 3, False, False),
    ],
    ids=["2x3x4-to-5-fixed", "batch-of-one-fixed", "random", "h0-None-is-zeros"],
)
def test_gru_forward_matches_reference(student, oracle, N, T, D, H, fixed, with_h0):
    sequence_forward(student, oracle, "gru", N, T, D, H, fixed, with_h0)


@points(3)
@pytest.mark.parametrize("N,T,D,H", [(2, 10, 3, 5), (1, 4, 2, 3)], ids=["T10", "batch-of-one"])
def test_gru_backward_all_steps_gradient_check(student, oracle, N, T, D, H):
    """dinputs and dh0, with a gradient arriving at every one of the T hidden states."""
    sequence_backward_inputs(
        student, oracle, "gru", N, T, D, H, "test_gru_forward_matches_reference"
    )


@points(2)
@pytest.mark.parametrize("N,T,D,H", [(2, 6, 3, 4)], ids=["T6"])
def test_gru_backward_parameter_gradients_summed_over_steps(student, oracle, N, T, D, H):
    sequence_backward_params(
        student, oracle, "gru", N, T, D, H, "test_gru_forward_matches_reference"
    )
