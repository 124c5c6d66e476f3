"""Comparisons that explain themselves.

Every check raises :class:`GradeFailure` with a one-line summary (shown in the score
table) and details (shown below it and in results.json): the call that was graded,
the input shapes, a few expected-vs-got entries, and a diagnosis when the error has a
known shape (a constant factor such as a missing 1/N, a sign flip, a transpose or
another permutation of the axes, a bias gradient not summed over the batch, NaN from an
overflow, or one of the known wrong answers a test lists).
"""

from __future__ import annotations

import itertools

import numpy as np

from .sandbox import Remote


class GradeFailure(AssertionError):
    def __init__(self, summary, details=""):
        super().__init__(summary)
        self.summary = summary
        self.details = details


def fail(summary, details=""):
    raise GradeFailure(summary, details)


def _fmt_shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def describe_inputs(inputs):
    """'inputs (4, 3), dvalues (4, 5)' from a dict of name -> value."""
    if not inputs:
        return ""
    parts = []
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{name} of shape {_fmt_shape(value.shape)}")
        elif isinstance(value, (list, tuple)):
            parts.append(f"{name} of length {len(value)}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def _fmt(x):
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.6g}"


def as_array(got, call, want_shape=None, what="output"):
    """Check that ``got`` is numeric array-like and return it as a float64/int array."""
    expect = (
        f"a numpy array of shape {_fmt_shape(want_shape)}"
        if want_shape is not None
        else "a numpy array"
    )
    if got is None:
        fail(
            f"{call} returned None instead of its {what}",
            f"Expected {expect}. Did you forget a `return` statement?",
        )
    if isinstance(got, Remote):
        fail(f"{call} returned a {got.type_name} instead of its {what}", f"Expected {expect}.")
    if isinstance(got, dict):
        fail(f"{call} returned a dict instead of its {what}", f"Expected {expect}.")
    try:
        arr = np.asarray(got)
    except (ValueError, TypeError):
        fail(
            f"{call} returned a ragged or mixed value instead of its {what}", f"Expected {expect}."
        )
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        fail(
            f"{call} returned values of type {arr.dtype} instead of numbers", f"Expected {expect}."
        )
    return arr


MAX_PERMUTED_AXES = 6  # 720 orders at most; results have far fewer axes


def axis_permutation(got, want, *, rtol=1e-6, atol=1e-8):
    """The order of axes ``p`` (a tuple, never the identity) for which ``got`` is
    ``np.transpose(want, p)``, entry for entry to the tolerance, or None.

    Only a certain answer is given: exactly one order of the axes matches, and ``want``
    varies along every axis that order moves (an array constant along an axis looks the
    same whichever way that axis is put, so the values would not show the permutation).
    """
    got, want = np.asarray(got), np.asarray(want)
    if (
        want.ndim < 2
        or want.ndim > MAX_PERMUTED_AXES
        or got.ndim != want.ndim
        or got.size != want.size
        or want.size < 2
        or got.dtype.kind not in "biuf"
        or want.dtype.kind not in "biuf"
    ):
        return None
    identity = tuple(range(want.ndim))
    if sorted(got.shape) != sorted(want.shape):
        return None
    matches = [
        p
        for p in itertools.permutations(identity)
        if p != identity
        and tuple(want.shape[i] for i in p) == got.shape
        and np.allclose(got, np.transpose(want, p), rtol=rtol, atol=atol)
    ]
    if len(matches) != 1:
        return None
    p = matches[0]
    wf = want.astype(np.float64)
    for j, i in enumerate(p):
        if i != j and want.shape[i] > 1 and np.allclose(np.diff(wf, axis=i), 0, rtol=0, atol=atol):
            return None
    return p


def _fmt_axes(names):
    return "(" + ", ".join(str(n) for n in names) + ")"


def permutation_hint(p, want_shape, axes=None):
    """Words for a result whose axes are ``want`` 's in the order ``p``. ``axes``: names of
    the expected axes (``"NCHW"``, ``("N", "T", "H")``), to name the layouts."""
    got_shape = tuple(want_shape[i] for i in p)
    moved = [j for j, i in enumerate(p) if i != j]
    if axes is not None and len(axes) == len(p):
        names = list(axes)
        return (
            f"the axes are in the wrong order: your result is laid out {_fmt_axes(names[i] for i in p)}, "
            f"the expected one {_fmt_axes(names)} (check transposes, reshapes and which axis is which)"
        )
    if len(moved) == 2:
        a, b = moved
        what = f"axes {a} and {b} are swapped"
    else:
        what = f"its axes are the expected ones in the order {_fmt_axes(p)}"
    return (
        f"the axes are in the wrong order: {what} (your shape {_fmt_shape(got_shape)}, expected "
        f"{_fmt_shape(want_shape)}; check transposes, reshapes and which axis is which)"
    )


def _diagnose_shape(got_shape, want_shape):
    if len(want_shape) == 2 and got_shape == want_shape[::-1] and want_shape[0] != want_shape[1]:
        return "the result is transposed (check the order of the operands and any .T)"
    if (
        len(want_shape) == 2
        and want_shape[0] == 1
        and len(got_shape) == 2
        and got_shape[1:] == want_shape[1:]
    ):
        return "it keeps one row per sample: sum over the batch (axis=0, keepdims=True)"
    if len(want_shape) == 2 and want_shape[0] == 1 and got_shape == want_shape[1:]:
        return "the batch axis was dropped: use keepdims=True so the shape stays (1, n)"
    if len(got_shape) + 1 == len(want_shape) and got_shape == want_shape[:-1]:
        return "the last axis was reduced away"
    if len(got_shape) == len(want_shape) + 1 and got_shape[:-1] == want_shape:
        if got_shape[-1] == 1:
            return "an extra axis of length 1: drop keepdims=True (or reshape)"
        return "one value per entry was expected, not a vector: reduce over the last axis"
    if int(np.prod(got_shape)) == int(np.prod(want_shape)):
        return "the right number of entries in the wrong shape"
    return ""


def _shape_hint(got, want, axes, *, rtol, atol):
    """Why ``got`` has another shape than ``want``: an N-d axis permutation when the values
    prove it, else what the shapes alone say."""
    if want.ndim >= 3:
        p = axis_permutation(got, want, rtol=rtol, atol=atol)
        if p is not None:
            return permutation_hint(p, want.shape, axes)
    return _diagnose_shape(got.shape, want.shape)


def _diagnose_values(got, want, batch, axes=None, rtol=1e-6, atol=1e-8):
    """A short explanation when got relates to want in a known way, else ''."""
    if got.shape != want.shape or want.size == 0:
        return ""
    g, w = got.astype(np.float64), want.astype(np.float64)
    scale = max(np.max(np.abs(w)), 1e-12)
    if np.allclose(g, 0, atol=1e-12 * scale) and not np.allclose(w, 0):
        return "all your values are zero"
    # A ratio between one returned number and one expected number always exists: a constant
    # factor is a diagnosis only when it holds across several non-zero entries. (A factor of
    # exactly the batch size N, or -1, is specific enough to name on a single number.)
    several = int(np.count_nonzero(np.abs(w) > 1e-12 * scale)) >= 2
    if np.allclose(g, -w, rtol=1e-5, atol=1e-9 * scale):
        if several:
            return "every value has the wrong sign (a sign flip)"
        return "your value has the wrong sign (a sign flip)"
    denom = float(np.sum(w * w))
    if denom > 0:
        c = float(np.sum(g * w) / denom)
        if abs(c - 1) > 1e-3 and c != 0 and np.allclose(g, c * w, rtol=1e-5, atol=1e-9 * scale):
            every = "every value is" if several else "your value is"
            if batch and batch > 1 and abs(c - batch) / batch < 1e-4:
                return f"{every} {batch} times too large: divide by the batch size N = {batch}"
            if batch and batch > 1 and abs(c * batch - 1) < 1e-4:
                return f"{every} {batch} times too small: divide by the batch size N = {batch} only once"
            if several:
                return f"every value is {c:.4g} times the expected value (a constant factor)"
    if (
        g.ndim == 2
        and g.shape[0] == g.shape[1]
        and g.shape[0] > 1
        and np.allclose(g, w.T, rtol=1e-5)
    ):
        return "the result is transposed (check the order of the operands and any .T)"
    if g.ndim >= 3:
        p = axis_permutation(g, w, rtol=rtol, atol=atol)
        if p is not None:
            return permutation_hint(p, w.shape, axes)
    diff = g - w
    if diff.size > 1 and np.allclose(diff, diff.flat[0], rtol=1e-6, atol=1e-9 * scale):
        return f"every value is off by the same constant {diff.flat[0]:.4g}"
    return ""


def _known_bug(got, known_bugs, *, rtol, atol):
    """The description of the known bug whose wrong value ``got`` matches; when several
    different bugs give these very values (a batch of one often cannot tell them apart),
    all of them, as possibilities, so that the feedback never asserts the wrong one."""
    found = []
    for desc, bad in known_bugs:
        bad = np.asarray(bad)
        if (
            bad.shape == got.shape
            and bad.dtype.kind in "biufc"
            and np.allclose(got, bad, rtol=rtol, atol=atol, equal_nan=True)
            and desc not in found
        ):
            found.append(desc)
    if len(found) <= 1:
        return found[0] if found else ""
    return (
        "these inputs cannot tell apart "
        + str(len(found))
        + " mistakes that give exactly these values (a larger case can): "
        + "; or ".join(found)
    )


def _small_values(inputs, limit=12):
    """Lines with the values of the small inputs: for a wrong single number, the inputs
    themselves say more than their shapes."""
    lines = []
    for name, value in (inputs or {}).items():
        try:
            arr = np.asarray(value) if isinstance(value, (np.ndarray, list, tuple)) else None
        except (ValueError, TypeError):
            arr = None
        if arr is not None and arr.dtype.kind in "biuf" and 0 < arr.size <= limit:
            text = np.array2string(arr, precision=6, separator=", ").replace("\n", "")
            lines.append(f"  {name} = {text}")
    return lines


def check_array(
    got,
    want,
    *,
    call,
    inputs=None,
    rtol=1e-6,
    atol=1e-8,
    known_bugs=(),
    what="output",
    batch=None,
    nonfinite_hint=None,
    dtype_kind=None,
    axes=None,
):
    """Compare a student's array with the expected one; explain any difference.

    call:       how the student's code was called, e.g. ``"ReLU.backward(dvalues)"``
    inputs:     name -> input value, to print their shapes
    known_bugs: (description, wrong_value) pairs: if the student's output matches a
                wrong value, the description is the diagnosis
    batch:      the batch size N, to recognise a missing or extra 1/N
    axes:       names of the expected array's axes (``"NCHW"``, ``("N", "T", "H")``), to name
                the layouts when the result is the expected one with its axes permuted
    """
    want = np.asarray(want)
    got = as_array(got, call, want.shape, what)
    where = describe_inputs(inputs)
    head = f"{call}" + (f" with {where}" if where else "")
    if dtype_kind and got.dtype.kind not in dtype_kind:
        fail(f"{call}: {what} has dtype {got.dtype}, expected {want.dtype}", head)
    if got.shape != want.shape:
        hint = _shape_hint(got, want, axes, rtol=rtol, atol=atol)
        for desc, bad in known_bugs:
            if np.shape(bad) == got.shape and np.allclose(
                got, bad, rtol=1e-5, atol=1e-8, equal_nan=True
            ):
                hint = desc
                break
        fail(
            f"{call}: {what} has shape {_fmt_shape(got.shape)}, expected {_fmt_shape(want.shape)}"
            + (f" ({hint})" if hint else ""),
            head,
        )
    gf = got.astype(np.float64)
    wf = want.astype(np.float64)
    bad_finite = ~np.isfinite(gf) & np.isfinite(wf)
    if bad_finite.any():
        hint = nonfinite_hint or "an overflow or a division by zero?"
        idx = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        fail(
            f"{call}: {what} contains NaN or inf in {int(bad_finite.sum())} entries ({hint})",
            f"{head}\n  at {list(idx)}: expected {_fmt(wf[idx])}, got {gf[idx]}",
        )
    close = np.isclose(gf, wf, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return got
    diagnosis = _known_bug(gf, known_bugs, rtol=max(rtol, 1e-6), atol=atol)
    diagnosis = diagnosis or _diagnose_values(gf, wf, batch, axes, rtol=rtol, atol=atol)
    n_bad = int((~close).sum())
    lines = [head]
    if got.size == 1:
        lines += _small_values(inputs)
    for idx in np.argwhere(~close)[:4]:
        idx = tuple(int(i) for i in idx)
        lines.append(f"  at {list(idx)}: expected {_fmt(wf[idx])}, got {_fmt(gf[idx])}")
    err = np.abs(gf - wf)
    lines.append(f"  {n_bad} of {got.size} entries differ; largest difference {np.nanmax(err):.3g}")
    if diagnosis:
        lines.append(f"  diagnosis: {diagnosis}")
    summary = f"{call}: {what} is wrong"
    summary += f" ({diagnosis})" if diagnosis else f" ({n_bad} of {got.size} entries differ)"
    fail(summary, "\n".join(lines))


def check_scalar(
    got,
    want,
    *,
    call,
    inputs=None,
    rtol=1e-6,
    atol=1e-8,
    known_bugs=(),
    what="value",
    batch=None,
    nonfinite_hint=None,
):
    """Like check_array for a single number (a Python float or a 0-d/1-element array)."""
    arr = as_array(got, call, (), what)
    if arr.size != 1:
        fail(
            f"{call} returned an array of shape {_fmt_shape(arr.shape)}, expected a single number",
            "Reduce it to one value (the mean over the batch?).",
        )
    check_array(
        arr.reshape(()),
        np.asarray(want, dtype=np.float64).reshape(()),
        call=call,
        inputs=inputs,
        rtol=rtol,
        atol=atol,
        known_bugs=known_bugs,
        what=what,
        batch=batch,
        nonfinite_hint=nonfinite_hint,
    )
    return float(arr.reshape(()))


def rel_error(a, b):
    """max |a - b| / max(1e-8, |a| + |b|), the relative error used by gradient checks."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


def gradient_error(analytic, numeric):
    """Relative error for gradient checks: per entry |a - n| / (|a| + |n|), with the
    denominator floored at 1e-3 of the gradient's largest entry, so that entries near
    zero (where central differences carry rounding noise of about 1e-10) do not decide
    the result on their own."""
    a, n = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if a.size == 0:
        return 0.0
    floor = max(1e-8, 1e-3 * float(np.max(np.abs(n))))
    return float(np.max(np.abs(a - n) / np.maximum(floor, np.abs(a) + np.abs(n))))


# Entries of an analytic gradient and central differences that agree to this are the same
# value (central differences carry errors of about 1e-7 relative).
GRADIENT_RTOL, GRADIENT_ATOL = 1e-4, 1e-7


def check_gradient(
    analytic,
    numeric,
    *,
    call,
    inputs=None,
    threshold=1e-6,
    batch=None,
    what="gradient",
    known_bugs=(),
    axes=None,
):
    """Gradient check: the student's analytic gradient against central differences
    (``axes``: names of the gradient's axes, as for check_array)."""
    numeric = np.asarray(numeric, dtype=np.float64)
    got = as_array(analytic, call, numeric.shape, what)
    head = f"{call}" + (f" with {describe_inputs(inputs)}" if inputs else "")
    if got.shape != numeric.shape:
        hint = _shape_hint(got, numeric, axes, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL)
        fail(
            f"{call}: {what} has shape {_fmt_shape(got.shape)}, expected {_fmt_shape(numeric.shape)}"
            + (f" ({hint})" if hint else ""),
            head,
        )
    gf = got.astype(np.float64)
    if not np.all(np.isfinite(gf)):
        fail(f"{call}: {what} contains NaN or inf", head)
    err = gradient_error(gf, numeric)
    if err <= threshold:
        return err
    diagnosis = _known_bug(gf, known_bugs, rtol=1e-5, atol=1e-8)
    diagnosis = diagnosis or _diagnose_values(
        gf, numeric, batch, axes, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL
    )
    lines = [
        head,
        f"  relative error {err:.2e} against central differences (must be below {threshold:.0e})",
    ]
    close = np.isclose(gf, numeric, rtol=GRADIENT_RTOL, atol=GRADIENT_ATOL)
    for idx in np.argwhere(~close)[:3]:
        idx = tuple(int(i) for i in idx)
        lines.append(f"  at {list(idx)}: numerical {_fmt(numeric[idx])}, yours {_fmt(gf[idx])}")
    if diagnosis:
        lines.append(f"  diagnosis: {diagnosis}")
    fail(
        f"{call}: {what} fails the gradient check (relative error {err:.1e}"
        + (f"; {diagnosis})" if diagnosis else ")"),
        "\n".join(lines),
    )


def check_true(condition, summary, details=""):
    if not condition:
        fail(summary, details)
