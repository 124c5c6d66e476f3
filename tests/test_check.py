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


@pytest.mark.parametrize(
    "got,phrase",
    [
        (-WANT, "sign flip"),
        (WANT * 4, "4 times too large: divide by the batch size N = 4"),
        (WANT / 4, "4 times too small"),
        (WANT * 2, "2 times the expected value"),
        (WANT.T, "transposed"),
        (WANT + 0.5, "off by the same constant"),
        (None, "forget a `return`"),
        (np.zeros_like(WANT), "all your values are zero"),
    ],
)
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


# ------------------------------------------------------------------ axis permutations (N-d)

NCHW = RNG.normal(size=(2, 3, 4, 5))


def test_every_order_of_the_axes_is_recognised_exactly():
    import itertools

    from grader.check import axis_permutation

    for p in itertools.permutations(range(4)):
        found = axis_permutation(np.transpose(NCHW, p), NCHW)
        assert found == (None if p == (0, 1, 2, 3) else p)


def test_nhwc_instead_of_nchw_is_named():
    got = NCHW.transpose(0, 2, 3, 1)
    text = summary_of(got, NCHW)
    assert "has shape (2, 4, 5, 3), expected (2, 3, 4, 5)" in text
    assert "axes are in the wrong order" in text and "(0, 2, 3, 1)" in text
    named = summary_of(got, NCHW, axes="NCHW")
    assert "laid out (N, H, W, C), the expected one (N, C, H, W)" in named


def test_time_major_instead_of_batch_major_is_named():
    want = RNG.normal(size=(4, 6, 5))  # (N, T, H)
    text = summary_of(want.transpose(1, 0, 2), want, axes=("N", "T", "H"))
    assert "laid out (T, N, H), the expected one (N, T, H)" in text
    assert "axes 0 and 1 are swapped" in summary_of(want.transpose(1, 0, 2), want)


def test_a_transposed_kernel_of_the_same_shape_is_named():
    want = RNG.normal(size=(4, 3, 3, 3))  # (F, C, kh, kw): kh and kw swapped keeps the shape
    text = summary_of(want.transpose(0, 1, 3, 2), want)
    assert "output is wrong (the axes are in the wrong order: axes 2 and 3 are swapped" in text
    with pytest.raises(GradeFailure, match="axes 2 and 3 are swapped"):
        check_gradient(want.transpose(0, 1, 3, 2), want, call="Conv2D.backward")
    with pytest.raises(GradeFailure, match="has shape .5, 4, 3.* axes 0 and 2 are swapped"):
        check_gradient(NCHW[0].transpose(2, 1, 0), NCHW[0], call="RNN.backward")


def test_no_permutation_is_claimed_when_the_values_do_not_prove_it():
    from grader.check import axis_permutation

    # Off in one entry: not a permutation.
    got = NCHW.transpose(0, 2, 3, 1).copy()
    got[1, 2, 3, 0] += 0.1
    assert axis_permutation(got, NCHW) is None
    assert "wrong order" not in summary_of(got, NCHW)
    # The right shape after a permutation but other values.
    assert "wrong order" not in summary_of(RNG.normal(size=(2, 4, 5, 3)), NCHW)
    # Constant along the moved axes: the values cannot show which way they were put.
    flat = np.broadcast_to(np.arange(2.0)[:, None, None], (2, 3, 4)).copy()
    assert axis_permutation(flat.transpose(0, 2, 1), flat) is None
    assert "wrong order" not in summary_of(flat.transpose(0, 2, 1), flat)
    # Two orders fit (the data is symmetric in two axes): which one the code used is unknown.
    sym = RNG.normal(size=(2, 3, 3))
    sym = sym + sym.transpose(0, 2, 1)
    assert axis_permutation(sym.transpose(1, 2, 0), sym) is None
    # 2-D keeps its own wording.
    assert "transposed" in summary_of(WANT.T)


def test_the_student_fixture_prints_the_same_in_every_run():
    from grader.plugin import ChapterHandle

    assert repr(ChapterHandle(None, "ch01_neurons")) == "<your ch01_neurons package>"


# ------------------------------------------------------------ no diagnosis that says nothing


def test_no_constant_factor_on_a_single_number():
    """A ratio between two numbers always exists: on one number it is no diagnosis; the
    feedback shows the small inputs and the expected and returned values instead."""
    with pytest.raises(GradeFailure) as info:
        check_scalar(3.0, 2.0, call="loss(y_pred, y_true)", inputs={"y_pred": np.array([0.5, 1.5])})
    text = info.value.summary + "\n" + info.value.details
    assert "constant factor" not in text and "times the expected" not in text
    assert "expected 2, got 3" in text
    assert "y_pred = [0.5, 1.5]" in text


def test_no_constant_factor_when_one_entry_is_non_zero():
    want = np.array([[0.0, 2.0, 0.0]])
    assert "constant factor" not in summary_of(want * 3, want)


def test_batch_factor_on_a_single_number_is_still_named():
    with pytest.raises(GradeFailure, match="divide by the batch size N = 8"):
        check_scalar(16.0, 2.0, call="loss", batch=8)


def test_two_known_bugs_with_the_same_values_are_both_named():
    """A batch of one often gives two mistakes the same value: the feedback names both as
    possibilities instead of asserting the first."""
    bad = WANT * 3
    text = summary_of(bad, known_bugs=[("bug A", bad), ("bug B", bad.copy())])
    assert "bug A" in text and "bug B" in text and "cannot tell apart" in text
    assert "bug B" not in summary_of(bad, known_bugs=[("bug A", bad), ("bug B", bad + 1)])
