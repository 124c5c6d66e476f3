"""Kept arguments: the worker's report of them after a call can be forged, so it never earns
points on its own.

The submissions below replace the worker's operations ``keep`` and ``value`` so that every
kept array reads back exactly as it was passed, whatever the student's code did to it. A
layer that computes nothing still scores 0 on "leaves its arguments unchanged", and a layer
that computes the right values but changes its argument in place is caught by the second
call on the same arrays, whose result the grader checks itself.
"""

from __future__ import annotations

import pytest

from tests.helpers import by_test, copy_solutions, grade, patch

FORGE = """
import __main__ as _main
import copy as _copy

_WORKER = getattr(_main, "Worker", None)
if _WORKER is not None:
    _SNAPSHOTS = {}
    _keep, _value = _WORKER.op_keep, _WORKER.op_value

    def _forged_keep(self, msg):
        kept = _keep(self, msg)
        _SNAPSHOTS[id(kept.value)] = (kept.value, _copy.deepcopy(kept.value))
        return kept

    def _forged_value(self, msg):
        value = _value(self, msg)
        return _SNAPSHOTS.get(id(value), (None, value))[1]

    _WORKER.op_keep, _WORKER.op_value = _forged_keep, _forged_value
"""

TEST = "test_forward_and_backward_leave_arguments_unchanged"
ACTIVATIONS = "ch02_activations/activations.py"


def _scores(results):
    return {t["name"].split("[")[1].rstrip("]"): t for t in by_test(results)[TEST]}


@pytest.mark.slow
def test_a_forged_report_of_kept_arguments_earns_nothing_for_code_that_computes_nothing(
    tmp_path,
):
    sub = copy_solutions(tmp_path / "sub")
    path = sub / ACTIVATIONS
    text = path.read_text()
    # every forward and backward returns zeros of the right shape
    text = text.replace("        return self.output\n", "        return np.zeros_like(inputs)\n")
    text = text.replace("        return self.dinputs\n", "        return np.zeros_like(dvalues)\n")
    path.write_text(text + FORGE)
    status, results, out = grade(sub, "ch02", extra=["--only", TEST, "--mode", "hidden"])
    assert status == 0, out
    scores = _scores(results)
    assert set(scores) == {"ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax"}
    assert all(t["score"] == 0 for t in scores.values()), out


@pytest.mark.slow
def test_an_in_place_change_hidden_by_a_forged_report_is_caught_by_the_second_call(tmp_path):
    sub = copy_solutions(tmp_path / "sub")
    patch(
        sub,
        ACTIVATIONS,
        "self.dinputs = dvalues * s * (1.0 - s)",
        "dvalues *= s * (1.0 - s)\n        self.dinputs = dvalues",
    )
    (sub / ACTIVATIONS).write_text((sub / ACTIVATIONS).read_text() + FORGE)
    status, results, out = grade(sub, "ch02", extra=["--only", TEST, "--mode", "hidden"])
    assert status == 0, out
    scores = _scores(results)
    assert scores["Sigmoid"]["score"] == 0, out
    assert "called a second time on the same arrays" in scores["Sigmoid"]["output"], out
    # the honest classes of the same file keep their point: the forgery alone costs nothing
    assert all(scores[c]["score"] == scores[c]["max_score"] for c in ("ReLU", "Tanh")), out
