"""Chapter 11, hidden tests: the layers on held-back shapes (one step, one hidden unit, a
wide batch), run only in hidden (instructor) mode. No training run here."""

from grader.api import hidden, points, pytest
from grader.suites.ch11_recurrent.cases import sequence_backward_inputs, sequence_forward

pytestmark = hidden

SHAPES = [(5, 1, 3, 2), (3, 7, 2, 1), (8, 3, 4, 3)]
IDS = ["one-step", "one-hidden-unit", "wide-batch"]


@points(1)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("N,T,D,H", SHAPES, ids=IDS)
def test_hidden_sequence_forward_other_shapes(student, oracle, kind, N, T, D, H):
    sequence_forward(student, oracle, kind, N, T, D, H, fixed=False, with_h0=True)


@points(1)
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("N,T,D,H", SHAPES, ids=IDS)
def test_hidden_sequence_backward_other_shapes(student, oracle, kind, N, T, D, H):
    sequence_backward_inputs(
        student, oracle, kind, N, T, D, H, f"test_{kind}_forward_matches_reference"
    )
