"""The diagnoses of grader/check.py name the bug when the error has a known shape."""

import numpy as np
import pytest

from grader.check import GradeFailure, check_array, check_gradient, check_scalar

RNG = np.random.default_rng(0)
WANT = RNG.normal(size=(4, 3))


def summary_of(got, want=WANT, **kw):
    with pytest.raises(GradeFailure) as info:
        check_array(got, want, call="f(x)", **kw)
    return info.value.summary + "\n" + info.value.details


def test_exact_match_passes():
    check_array(WANT.copy(), WANT, call="f(x)")


@pytest.mark.parametrize("got,phrase", [
    (-WANT, "sign flip"),
    (WANT * 4, "4 times too large: divide by the batch size N = 4"),
    (WANT / 4, "4 times too small"),
    (WANT * 2, "2 times the expected value"),
    (WANT.T, "transposed"),
    (WANT + 0.5, "off by the same constant"),
    (None, "forget a `return`"),
    (np.zeros_like(WANT), "all your values are zero"),
])
def test_known_shapes_of_errors_are_diagnosed(got, phrase):
    assert phrase in summary_of(got, batch=4)


def test_bias_gradient_not_summed_over_batch():
    want = np.ones((1, 3))
    assert "sum over the batch" in summary_of(np.ones((5, 3)), want)
    assert "keepdims=True" in summary_of(np.ones(3), want)


def test_nan_is_reported_with_the_hint():
    got = WANT.copy()
    got[1, 2] = np.nan
    assert "subtract the max" in summary_of(got, nonfinite_hint="subtract the max")


def test_listed_known_bug_wins():
    bad = WANT.copy()
    bad[0] = 0
    assert "first row is dropped" in summary_of(bad, known_bugs=[("the first row is dropped", bad)])


def test_scalar_must_be_one_number():
    with pytest.raises(GradeFailure, match="expected a single number"):
        check_scalar(np.ones(3), 1.0, call="loss")


def test_gradient_check_reports_relative_error():
    with pytest.raises(GradeFailure, match="relative error"):
        check_gradient(WANT * 2, WANT, call="backward")
    assert check_gradient(WANT + 1e-12, WANT, call="backward") < 1e-6


def test_gradient_check_ignores_rounding_noise_on_near_zero_entries():
    numeric = np.array([1.0, -0.5, 3e-11, 0.25])
    analytic = numeric + np.array([0, 0, 1e-10, 0])  # relative error 0.8 on the tiny entry alone
    assert check_gradient(analytic, numeric, call="backward") < 1e-6
    with pytest.raises(GradeFailure):
        check_gradient(numeric * np.array([1, 1, 1, -1]), numeric, call="backward")
